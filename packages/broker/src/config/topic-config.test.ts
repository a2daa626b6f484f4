import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultLogConfig } from '@gregor/storage';
import { BrokerConfig } from './broker-config.js';
import { ConfigSource } from './config-types.js';
import { describeBrokerConfigs, describeTopicConfigs } from './describe.js';
import { brokerConfigFromSources } from './load-broker-config.js';
import { checkTopicConfigOverrides, logConfigFor, resolveTopicConfig } from './topic-config.js';

const hourMs = 3_600_000;

describe('resolveTopicConfig', () => {
  it("gives storage's defaults on a default broker", () => {
    assert.deepEqual(logConfigFor(new BrokerConfig()), { ...defaultLogConfig });
  });

  it('takes retention from log.retention.ms, then .minutes, then .hours', () => {
    const retention = (fileText: string) =>
      resolveTopicConfig(brokerConfigFromSources({ fileText })).get('retention.ms');
    assert.equal(retention(''), 168 * hourMs);
    assert.equal(retention('log.retention.hours=2'), 2 * hourMs);
    assert.equal(retention('log.retention.hours=2\nlog.retention.minutes=3'), 3 * 60_000);
    assert.equal(
      retention('log.retention.hours=2\nlog.retention.minutes=3\nlog.retention.ms=5'),
      5,
    );
    assert.equal(retention('log.retention.hours=-1'), -1);
    assert.equal(retention('log.retention.minutes=-1'), -1);
    assert.equal(
      resolveTopicConfig(brokerConfigFromSources({ fileText: 'log.roll.hours=1' })).get(
        'segment.ms',
      ),
      hourMs,
    );
  });

  it('lets topic overrides win and reports sources and synonyms in precedence order', () => {
    const broker = brokerConfigFromSources({
      fileText: 'log.retention.hours=24\nlog.segment.bytes=4096',
    });
    const resolved = resolveTopicConfig(broker, {
      'retention.ms': '1000',
      'cleanup.policy': 'compact',
    });
    const entries = resolved.entries;
    assert.equal(resolved.get('retention.ms'), 1000);
    assert.equal(entries.get('retention.ms')?.source, ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assert.deepEqual(entries.get('retention.ms')?.synonyms, [
      { name: 'retention.ms', text: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
      { name: 'log.retention.hours', text: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', text: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    assert.equal(entries.get('segment.bytes')?.text, '4096');
    assert.equal(entries.get('segment.bytes')?.source, ConfigSource.STATIC_BROKER_CONFIG);
    assert.equal(entries.get('max.message.bytes')?.source, ConfigSource.DEFAULT_CONFIG);
    const logConfig = logConfigFor(broker, { 'cleanup.policy': 'delete,compact' });
    assert.equal(logConfig.cleanupPolicy, 'compact,delete');
    assert.equal(logConfig.retentionMs, 24 * hourMs);
    assert.equal(logConfig.segmentBytes, 4096);
  });

  it('follows dynamic broker defaults', () => {
    const broker = new BrokerConfig();
    broker.replaceDynamicSettings('cluster-default', new Map([['log.retention.ms', '60000']]));
    const entry = resolveTopicConfig(broker).entries.get('retention.ms');
    assert.equal(entry?.value, 60000);
    assert.equal(entry?.source, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  });

  it('sets aside overrides that do not parse instead of applying them', () => {
    const resolved = resolveTopicConfig(new BrokerConfig(), {
      'segment.bytes': 'x',
      'no.such': '1',
    });
    assert.equal(resolved.get('segment.bytes'), 1073741824);
    assert.deepEqual(
      resolved.invalidOverrides.map((problem) => problem.name),
      ['segment.bytes', 'no.such'],
    );
  });
});

describe('checkTopicConfigOverrides', () => {
  it('names unknown configs, null values and invalid values', () => {
    const problems = checkTopicConfigOverrides([
      ['retention.ms', '-2'],
      ['log.retention.ms', '1'],
      ['cleanup.policy', null],
      ['min.cleanable.dirty.ratio', '1.5'],
      ['compression.type', 'brotli'],
      ['segment.bytes', '1048576'],
      ['remote.storage.enable', 'true'],
    ]);
    assert.deepEqual(
      problems.map((problem) => [problem.name, problem.reason]),
      [
        ['retention.ms', 'expected an integer >= -1'],
        ['log.retention.ms', 'unknown topic configuration'],
        ['cleanup.policy', 'a null value is not supported for topic configurations'],
        ['min.cleanable.dirty.ratio', 'expected a number in [0, 1]'],
        ['compression.type', 'expected one of uncompressed, zstd, lz4, snappy, gzip, producer'],
        ['remote.storage.enable', 'expected false (tiered storage is not supported by Gregor)'],
      ],
    );
  });
});

describe('describe', () => {
  it('marks static-only broker configs read-only and lists retention synonyms', () => {
    const broker = brokerConfigFromSources({ fileText: 'log.retention.minutes=30' });
    const described = new Map(describeBrokerConfigs(broker).map((entry) => [entry.name, entry]));
    assert.equal(described.get('num.partitions')?.readOnly, true);
    assert.equal(described.get('log.retention.ms')?.readOnly, false);
    assert.equal(described.get('log.retention.ms')?.value, null);
    assert.deepEqual(
      described.get('log.retention.ms')?.synonyms.map((synonym) => synonym.name),
      ['log.retention.minutes', 'log.retention.hours'],
    );
    assert.equal(described.get('log.retention.minutes')?.source, ConfigSource.STATIC_BROKER_CONFIG);
    assert.equal(described.get('log.retention.minutes')?.isDefault, false);
    assert.equal(described.get('log.retention.hours')?.isDefault, true);
  });

  it('reports topic configs with type codes and documentation', () => {
    const described = describeTopicConfigs(
      resolveTopicConfig(new BrokerConfig(), { 'retention.ms': '5' }),
    );
    const retention = described.find((entry) => entry.name === 'retention.ms');
    assert.equal(retention?.value, '5');
    assert.equal(retention?.configType, 5);
    assert.equal(retention?.readOnly, false);
    assert.ok((retention?.documentation ?? '').length > 0);
    assert.ok(described.every((entry) => entry.value !== null));
  });
});
