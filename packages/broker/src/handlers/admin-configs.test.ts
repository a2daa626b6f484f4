import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AlterConfigsResponse,
  ApiKey,
  type DescribeConfigsResponse,
  ErrorCode,
  type IncrementalAlterConfigsResponse,
} from '@gregor/protocol';
import { BrokerConfig, ConfigSource, loadDynamicBrokerSettings } from '../config/index.js';
import { type AdminTestBroker, createTopic, startAdminTestBroker } from './admin-test-broker.js';
import { ConfigOperation, ConfigResourceType } from './config-resources.js';

const { TOPIC, BROKER } = ConfigResourceType;
const { SET, DELETE, APPEND, SUBTRACT } = ConfigOperation;
const hourMs = 3_600_000;

describe('admin API over a socket: configuration', () => {
  let harness: AdminTestBroker;
  before(async () => {
    harness = await startAdminTestBroker({ 'log.retention.hours': 48 });
    await createTopic(harness.client, { name: 'events', configs: { 'retention.ms': '60000' } });
    await createTopic(harness.client, { name: 'plain' });
  });
  after(async () => {
    await harness.close();
  });

  const describeConfigs = (
    resources: { resourceType: number; resourceName: string; configurationKeys: string[] | null }[],
    options: { version?: number; includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ) =>
    harness.client.request<DescribeConfigsResponse>(ApiKey.DescribeConfigs, options.version ?? 4, {
      resources,
      includeSynonyms: options.includeSynonyms ?? false,
      includeDocumentation: options.includeDocumentation ?? false,
    });

  const incremental = (
    resourceType: number,
    resourceName: string,
    configs: { name: string; configOperation: number; value: string | null }[],
    validateOnly = false,
  ) =>
    harness.client
      .request<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [{ resourceType, resourceName, configs }],
        validateOnly,
      })
      .then((response) => response.responses[0]);

  const topicOverrides = (name: string) => harness.broker.services.topics.get(name)?.configs;
  const liveRetentionMs = (name: string) =>
    harness.broker.services.logs.getLog(name, 0)?.config.retentionMs;

  it('DescribeConfigs shows topic values, sources, synonyms, types and documentation', async () => {
    const response = await describeConfigs(
      [{ resourceType: TOPIC, resourceName: 'events', configurationKeys: null }],
      { includeSynonyms: true, includeDocumentation: true },
    );
    const [result] = response.results;
    assert.equal(result.errorCode, ErrorCode.NONE);
    const byName = new Map(result.configs.map((config) => [config.name, config]));
    assert.ok(byName.size >= 30);
    const retention = byName.get('retention.ms');
    assert.equal(retention?.value, '60000');
    assert.equal(retention?.configSource, ConfigSource.DYNAMIC_TOPIC_CONFIG);
    assert.equal(retention?.configType, 5);
    assert.ok((retention?.documentation ?? '').length > 0);
    assert.deepEqual(
      retention?.synonyms?.map((synonym) => [synonym.name, synonym.value, synonym.source]),
      [
        ['retention.ms', '60000', ConfigSource.DYNAMIC_TOPIC_CONFIG],
        ['log.retention.hours', '48', ConfigSource.STATIC_BROKER_CONFIG],
        ['log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG],
      ],
    );
    const segment = byName.get('segment.bytes');
    assert.deepEqual(
      [segment?.value, segment?.configSource],
      ['1073741824', ConfigSource.DEFAULT_CONFIG],
    );
    const plain = await describeConfigs([
      { resourceType: TOPIC, resourceName: 'plain', configurationKeys: ['retention.ms', 'nope'] },
    ]);
    assert.deepEqual(
      plain.results[0].configs.map((config) => [
        config.name,
        config.value,
        config.configSource,
        config.synonyms,
      ]),
      [['retention.ms', String(48 * hourMs), ConfigSource.STATIC_BROKER_CONFIG, []]],
    );
    assert.equal(plain.results[0].configs[0].documentation, null);
  });

  it('DescribeConfigs v0 reports isDefault; unknown topics and brokers are errors', async () => {
    const response = await describeConfigs(
      [
        {
          resourceType: TOPIC,
          resourceName: 'plain',
          configurationKeys: ['segment.bytes', 'retention.ms'],
        },
        { resourceType: TOPIC, resourceName: 'missing', configurationKeys: null },
        { resourceType: BROKER, resourceName: '999', configurationKeys: null },
        { resourceType: 32, resourceName: 'group', configurationKeys: null },
      ],
      { version: 0 },
    );
    assert.deepEqual(
      response.results[0].configs.map((config) => [config.name, config.isDefault]),
      [
        ['retention.ms', false],
        ['segment.bytes', true],
      ],
    );
    assert.deepEqual(
      response.results.slice(1).map((result) => result.errorCode),
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
    );
  });

  it('DescribeConfigs of the broker marks read-only configs and static sources', async () => {
    const response = await describeConfigs([
      {
        resourceType: BROKER,
        resourceName: String(harness.broker.nodeId),
        configurationKeys: ['num.partitions', 'log.retention.hours', 'log.dirs'],
      },
    ]);
    const byName = new Map(response.results[0].configs.map((config) => [config.name, config]));
    assert.equal(byName.get('num.partitions')?.readOnly, true);
    assert.equal(byName.get('log.retention.hours')?.readOnly, false);
    assert.equal(
      byName.get('log.retention.hours')?.configSource,
      ConfigSource.STATIC_BROKER_CONFIG,
    );
    assert.equal(byName.get('log.dirs')?.value, harness.dataDir);
  });

  it('AlterConfigs replaces every override of a topic and applies it to the live log', async () => {
    const alter = (configs: { name: string; value: string | null }[], validateOnly = false) =>
      harness.client
        .request<AlterConfigsResponse>(ApiKey.AlterConfigs, 2, {
          resources: [{ resourceType: TOPIC, resourceName: 'events', configs }],
          validateOnly,
        })
        .then((response) => response.responses[0]);
    const invalid = await alter([{ name: 'retention.ms', value: 'soon' }]);
    assert.equal(invalid.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(invalid.errorMessage ?? '', /"soon".*retention\.ms.*64-bit integer/);
    assert.deepEqual(topicOverrides('events'), { 'retention.ms': '60000' });
    assert.equal(
      (await alter([{ name: 'segment.ms', value: '1000' }], true)).errorCode,
      ErrorCode.NONE,
    );
    assert.deepEqual(topicOverrides('events'), { 'retention.ms': '60000' });
    assert.equal((await alter([{ name: 'segment.ms', value: '1000' }])).errorCode, ErrorCode.NONE);
    assert.deepEqual(topicOverrides('events'), { 'segment.ms': '1000' });
    assert.equal(liveRetentionMs('events'), 48 * hourMs);
    assert.equal(harness.broker.services.logs.getLog('events', 0)?.config.segmentMs, 1000);
    const nullValue = await alter([{ name: 'retention.ms', value: null }]);
    assert.equal(nullValue.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(nullValue.errorMessage ?? '', /null value .*"retention\.ms"/);
    const repeated = await alter([
      { name: 'retention.ms', value: '1000' },
      { name: 'retention.ms', value: '2000' },
    ]);
    assert.equal(repeated.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(repeated.errorMessage ?? '', /"retention\.ms" appears more than once/);
    // A resource named twice in one request: every occurrence refused, nothing changed.
    const twice = await harness.client.request<AlterConfigsResponse>(ApiKey.AlterConfigs, 2, {
      resources: [
        { resourceType: TOPIC, resourceName: 'events', configs: [] },
        { resourceType: TOPIC, resourceName: 'plain', configs: [] },
        {
          resourceType: TOPIC,
          resourceName: 'events',
          configs: [{ name: 'retention.ms', value: '5' }],
        },
      ],
      validateOnly: false,
    });
    assert.deepEqual(
      twice.responses.map((response) => [response.resourceName, response.errorCode]),
      [
        ['events', ErrorCode.INVALID_REQUEST],
        ['plain', ErrorCode.NONE],
        ['events', ErrorCode.INVALID_REQUEST],
      ],
    );
    assert.deepEqual(topicOverrides('events'), { 'segment.ms': '1000' });
  });

  it('IncrementalAlterConfigs SET, DELETE, APPEND and SUBTRACT topic configs', async () => {
    assert.equal(
      (
        await incremental(TOPIC, 'events', [
          { name: 'retention.ms', configOperation: SET, value: '120000' },
        ])
      ).errorCode,
      ErrorCode.NONE,
    );
    assert.deepEqual(topicOverrides('events'), { 'segment.ms': '1000', 'retention.ms': '120000' });
    assert.equal(liveRetentionMs('events'), 120000);
    await incremental(TOPIC, 'events', [
      { name: 'segment.ms', configOperation: DELETE, value: null },
    ]);
    assert.deepEqual(topicOverrides('events'), { 'retention.ms': '120000' });
    await incremental(TOPIC, 'events', [
      { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' },
    ]);
    assert.equal(topicOverrides('events')?.['cleanup.policy'], 'delete,compact');
    assert.equal(
      harness.broker.services.logs.getLog('events', 0)?.config.cleanupPolicy,
      'compact,delete',
    );
    await incremental(TOPIC, 'events', [
      { name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' },
    ]);
    assert.equal(topicOverrides('events')?.['cleanup.policy'], 'compact');
    const notList = await incremental(TOPIC, 'events', [
      { name: 'retention.ms', configOperation: APPEND, value: '1' },
    ]);
    assert.equal(notList.errorCode, ErrorCode.INVALID_CONFIG);
    const duplicate = await incremental(TOPIC, 'events', [
      { name: 'retention.ms', configOperation: SET, value: '1' },
      { name: 'retention.ms', configOperation: DELETE, value: null },
    ]);
    assert.equal(duplicate.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(topicOverrides('events')?.['retention.ms'], '120000');
    const partlyBad = await incremental(TOPIC, 'events', [
      { name: 'retention.ms', configOperation: SET, value: '5' },
      { name: 'max.message.bytes', configOperation: SET, value: '-3' },
    ]);
    assert.equal(partlyBad.errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal(topicOverrides('events')?.['retention.ms'], '120000');
    const missing = await incremental(TOPIC, 'nothing-here', []);
    assert.equal(missing.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('IncrementalAlterConfigs on the broker changes defaults of every topic and persists them', async () => {
    const readOnly = await incremental(BROKER, '', [
      { name: 'num.partitions', configOperation: SET, value: '9' },
    ]);
    // Kafka answers a broker resource's failed validation with INVALID_REQUEST (the Java admin
    // client's InvalidRequestException), unlike a topic's (INVALID_CONFIG).
    assert.equal(readOnly.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(readOnly.errorMessage ?? '', /read-only/);
    const invalidValue = await incremental(BROKER, '', [
      { name: 'log.retention.ms', configOperation: SET, value: 'soon' },
    ]);
    assert.equal(invalidValue.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(invalidValue.errorMessage ?? '', /"soon".*log\.retention\.ms/);
    const set = await incremental(BROKER, '', [
      { name: 'log.retention.ms', configOperation: SET, value: '7200000' },
    ]);
    assert.equal(set.errorCode, ErrorCode.NONE);
    assert.equal(liveRetentionMs('plain'), 7_200_000);
    assert.equal(liveRetentionMs('events'), 120000);
    const described = await describeConfigs([
      { resourceType: BROKER, resourceName: '', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'plain', configurationKeys: ['retention.ms'] },
    ]);
    assert.deepEqual(
      described.results[0].configs.map((config) => [
        config.name,
        config.value,
        config.configSource,
      ]),
      [['log.retention.ms', '7200000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]],
    );
    assert.equal(
      described.results[1].configs[0].configSource,
      ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    );
    const reloaded = new BrokerConfig();
    await loadDynamicBrokerSettings(reloaded, harness.dataDir);
    assert.equal(reloaded.get('log.retention.ms'), 7_200_000);
    const perBroker = await incremental(BROKER, String(harness.broker.nodeId), [
      { name: 'log.retention.ms', configOperation: SET, value: '3600000' },
    ]);
    assert.equal(perBroker.errorCode, ErrorCode.NONE);
    assert.equal(liveRetentionMs('plain'), hourMs);
    await incremental(BROKER, String(harness.broker.nodeId), [
      { name: 'log.retention.ms', configOperation: DELETE, value: null },
    ]);
    await incremental(BROKER, '', [
      { name: 'log.retention.ms', configOperation: DELETE, value: null },
    ]);
    assert.equal(liveRetentionMs('plain'), 48 * hourMs);
  });

  it('topic overrides and dynamic broker settings survive a restart', async () => {
    const set = await incremental(BROKER, '', [
      { name: 'log.segment.bytes', configOperation: SET, value: '1048576' },
    ]);
    assert.equal(set.errorCode, ErrorCode.NONE);
    await harness.restart();
    assert.equal(harness.broker.config.get('log.segment.bytes'), 1048576);
    assert.equal(
      harness.broker.config.sourceOf('log.segment.bytes'),
      ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    );
    assert.equal(harness.broker.services.logs.getLog('plain', 0)?.config.segmentBytes, 1048576);
    assert.equal(harness.broker.services.topics.get('events')?.configs['retention.ms'], '120000');
    assert.equal(liveRetentionMs('events'), 120000);
    assert.equal(harness.broker.services.logs.getLog('events', 0)?.config.cleanupPolicy, 'compact');
  });
});
