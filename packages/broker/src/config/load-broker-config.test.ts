import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BrokerConfig } from './broker-config.js';
import { ConfigError } from './config-error.js';
import { ConfigSource } from './config-types.js';
import { dynamicBrokerConfigPath, saveDynamicBrokerSettings } from './dynamic-broker-store.js';
import {
  brokerConfigFromSources,
  environmentVariableToConfigName,
  loadBrokerConfig,
} from './load-broker-config.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

/** Shaped like the KRaft server.properties Kafka ships (single combined node). */
const kafkaStyleProperties = `
############################# Server Basics #############################
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
#log.flush.interval.messages=10000
#log.flush.interval.ms=1000
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

describe('broker config defaults', () => {
  it("uses Kafka's defaults", () => {
    const config = new BrokerConfig();
    assert.equal(config.get('num.partitions'), 1);
    assert.equal(config.get('default.replication.factor'), 1);
    assert.equal(config.get('auto.create.topics.enable'), true);
    assert.equal(config.get('log.retention.hours'), 168);
    assert.equal(config.get('log.retention.ms'), null);
    assert.equal(config.get('log.segment.bytes'), 1073741824);
    assert.equal(config.get('message.max.bytes'), 1048588);
    assert.equal(config.get('socket.request.max.bytes'), 104857600);
    assert.equal(config.get('offsets.retention.minutes'), 10080);
    assert.equal(config.get('offsets.topic.num.partitions'), 50);
    assert.equal(config.get('group.initial.rebalance.delay.ms'), 3000);
    assert.equal(config.get('group.min.session.timeout.ms'), 6000);
    assert.equal(config.get('group.max.session.timeout.ms'), 1800000);
    assert.equal(config.get('group.consumer.heartbeat.interval.ms'), 5000);
    assert.equal(config.get('group.consumer.session.timeout.ms'), 45000);
    assert.deepEqual(config.get('log.cleanup.policy'), ['delete']);
    assert.equal(config.text('log.flush.interval.messages'), '9223372036854775807');
    assert.equal(config.sourceOf('num.partitions'), ConfigSource.DEFAULT_CONFIG);
  });

  it('listens on every interface at 9092, advertises localhost, stores data in ./data', () => {
    const config = new BrokerConfig();
    assert.equal(config.nodeId, 1);
    assert.deepEqual(config.listeners, [{ name: 'PLAINTEXT', host: '', port: 9092 }]);
    assert.deepEqual(config.advertisedListeners, [
      { name: 'PLAINTEXT', host: 'localhost', port: 9092 },
    ]);
    assert.deepEqual(config.logDirs, ['./data']);
  });
});

describe('brokerConfigFromSources', () => {
  it("loads Kafka's combined-mode server.properties without errors or warnings", () => {
    const config = brokerConfigFromSources({
      fileText: kafkaStyleProperties,
      file: 'server.properties',
    });
    assert.deepEqual(config.listeners, [{ name: 'PLAINTEXT', host: '', port: 9092 }]);
    assert.deepEqual(config.advertisedListeners, [
      { name: 'PLAINTEXT', host: 'localhost', port: 9092 },
    ]);
    assert.deepEqual(config.logDirs, ['/tmp/kraft-combined-logs']);
    assert.equal(config.get('offsets.topic.replication.factor'), 1);
    assert.equal(config.sourceOf('log.segment.bytes'), ConfigSource.STATIC_BROKER_CONFIG);
    assert.deepEqual(
      config.warnings.filter((warning) => !warning.includes('has no effect')),
      [],
    );
  });

  it('applies file < KAFKA_ env < GREGOR_ env < flags < --override < settings', () => {
    const layers = {
      file: 'file',
      kafka: 'KAFKA_',
      gregor: 'GREGOR_',
      flag: '--data-dir',
      override: '--override',
      settings: 'settings',
    };
    const levels = Object.keys(layers);
    // For each level, set log.dirs at that level and every lower one: the level itself must win.
    levels.forEach((winner, index) => {
      const at = (level: string) => levels.indexOf(level) <= index;
      const config = brokerConfigFromSources({
        fileText: at('file') ? 'log.dirs=/from-file' : '',
        env: {
          ...(at('kafka') ? { KAFKA_LOG_DIRS: '/from-kafka' } : {}),
          ...(at('gregor') ? { GREGOR_LOG_DIRS: '/from-gregor' } : {}),
        },
        flags: {
          ...(at('flag') ? { dataDir: '/from-flag' } : {}),
          ...(at('override') ? { overrides: ['log.dirs=/from-override'] } : {}),
        },
        settings: at('settings') ? { 'log.dirs': '/from-settings' } : {},
      });
      assert.deepEqual(config.logDirs, [`/from-${winner}`], `level ${winner}`);
    });
  });

  it('maps --listen, --node-id and --data-dir', () => {
    const config = brokerConfigFromSources({
      flags: { listen: '127.0.0.1:0', nodeId: 7, dataDir: '/var/gregor' },
    });
    assert.equal(config.nodeId, 7);
    assert.deepEqual(config.listeners, [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }]);
    assert.deepEqual(config.advertisedListeners, config.listeners);
    assert.deepEqual(config.logDirs, ['/var/gregor']);
    const ipv6 = brokerConfigFromSources({ flags: { listen: '[::1]:9093' } });
    assert.deepEqual(ipv6.listeners, [{ name: 'PLAINTEXT', host: '::1', port: 9093 }]);
    assert.deepEqual(brokerConfigFromSources({ flags: { listen: '9094' } }).listeners, [
      { name: 'PLAINTEXT', host: '', port: 9094 },
    ]);
  });

  it('maps environment variable names like Kafka container images', () => {
    assert.equal(environmentVariableToConfigName('LOG_RETENTION_HOURS'), 'log.retention.hours');
    assert.equal(environmentVariableToConfigName('SOME__NAME'), 'some_name');
    assert.equal(environmentVariableToConfigName('A___B_C'), 'a-b.c');
    const config = brokerConfigFromSources({
      env: {
        GREGOR_LOG_RETENTION_HOURS: '24',
        KAFKA_NUM_PARTITIONS: '4',
        KAFKA_HOME: '/opt/kafka',
      },
    });
    assert.equal(config.get('log.retention.hours'), 24);
    assert.equal(config.get('num.partitions'), 4);
    assert.deepEqual(config.warnings, []);
    const typo = brokerConfigFromSources({
      env: { GREGOR_NUM_PARTITONS: '4', GREGOR_LOG_LEVEL: 'debug', GREGOR_BENCH_MS: '100' },
    });
    assert.equal(typo.warnings.length, 1);
    assert.match(
      typo.warnings[0],
      /num\.partitons .*GREGOR_NUM_PARTITONS.*did you mean num\.partitions/,
    );
  });

  it('stops on a value of the wrong type, naming key, value, origin and what is allowed', () => {
    const error = configError(() =>
      brokerConfigFromSources({ fileText: 'a=1\nnum.partitions=many', file: 'server.properties' }),
    );
    assert.equal(
      error.message,
      'invalid value "many" for configuration "num.partitions" (from server.properties:2): expected a 32-bit integer',
    );
  });

  it('stops on out-of-range values, unknown choices and integer overflow', () => {
    const error = configError(() =>
      brokerConfigFromSources({
        env: { GREGOR_LOG_SEGMENT_BYTES: '10' },
        flags: {
          overrides: [
            'log.message.timestamp.type=WallClock',
            'message.max.bytes=3000000000',
            'log.cleanup.policy=delete,archive',
            'auto.create.topics.enable=yes',
          ],
        },
      }),
    );
    const byName = new Map(error.problems.map((problem) => [problem.name, problem]));
    assert.equal(byName.get('log.segment.bytes')?.reason, 'expected an integer >= 14');
    assert.equal(byName.get('log.segment.bytes')?.origin, 'environment GREGOR_LOG_SEGMENT_BYTES');
    assert.equal(
      byName.get('log.message.timestamp.type')?.reason,
      'expected one of CreateTime, LogAppendTime',
    );
    assert.equal(byName.get('message.max.bytes')?.reason, 'expected a 32-bit integer');
    assert.match(byName.get('log.cleanup.policy')?.reason ?? '', /unknown: archive/);
    assert.equal(byName.get('auto.create.topics.enable')?.reason, 'expected true or false');
    assert.match(error.message, /^5 configuration problems:/);
  });

  it('rejects unknown keys on the command line (with a suggestion) but only warns for the file', () => {
    const error = configError(() =>
      brokerConfigFromSources({ flags: { overrides: ['log.retention.hour=1'] } }),
    );
    assert.match(
      error.message,
      /unknown broker configuration; did you mean log\.retention\.hours\?/,
    );
    const config = brokerConfigFromSources({ fileText: 'zookeeper.connect=zk:2181\nmy.custom=1' });
    assert.equal(config.warnings.length, 2);
    assert.ok(
      config.warnings.some((warning) => /zookeeper\.connect .*has no effect/.test(warning)),
    );
    assert.ok(config.warnings.some((warning) => /ignoring unknown .*my\.custom/.test(warning)));
  });

  it('warns about configs Gregor accepts but does not act on, only when set to another value', () => {
    const config = brokerConfigFromSources({
      fileText: [
        'queued.max.requests=100',
        'socket.listen.backlog.size=100',
        'log.cleaner.threads=4',
        'background.threads=4',
        // Acted on in cluster mode (the replicas of __consumer_offsets).
        'offsets.topic.replication.factor=1',
      ].join('\n'),
    });
    // socket.listen.backlog.size is acted on; queued.max.requests and the others are not.
    assert.deepEqual(
      config.warnings.map((warning) => warning.split(' ')[0]),
      ['queued.max.requests', 'log.cleaner.threads', 'background.threads'],
    );
    assert.ok(config.warnings.every((warning) => warning.endsWith('has no effect in Gregor')));
  });

  it('treats broker.id as node.id and refuses disagreeing values', () => {
    assert.equal(brokerConfigFromSources({ fileText: 'broker.id=3' }).nodeId, 3);
    const error = configError(() =>
      brokerConfigFromSources({ fileText: 'broker.id=3\nnode.id=4' }),
    );
    assert.match(error.message, /"broker\.id".*must equal node\.id \(4/);
  });

  it('refuses listeners that are not PLAINTEXT and advertised listeners without a listener', () => {
    const ssl = configError(() =>
      brokerConfigFromSources({ settings: { listeners: 'SSL://:9093' } }),
    );
    assert.match(ssl.message, /listener SSL uses SSL; Gregor serves PLAINTEXT listeners only/);
    const unmapped = configError(() =>
      brokerConfigFromSources({ settings: { listeners: 'CLIENT://:9093' } }),
    );
    assert.match(unmapped.message, /CLIENT has no entry in listener\.security\.protocol\.map/);
    const mapped = brokerConfigFromSources({
      settings: {
        listeners: 'CLIENT://:9093',
        'listener.security.protocol.map': 'CLIENT:PLAINTEXT',
      },
    });
    assert.deepEqual(mapped.listeners, [{ name: 'CLIENT', host: '', port: 9093 }]);
    const advertised = configError(() =>
      brokerConfigFromSources({ settings: { 'advertised.listeners': 'OTHER://h:1' } }),
    );
    assert.match(advertised.message, /OTHER:\/\/h:1 names a listener that is not in listeners/);
    const garbled = configError(() =>
      brokerConfigFromSources({ flags: { listen: 'localhost:99999' } }),
    );
    assert.equal(garbled.problems[0].name, '--listen');
  });

  it('checks rules spanning several configs', () => {
    const error = configError(() =>
      brokerConfigFromSources({
        settings: { 'group.min.session.timeout.ms': 10_000, 'group.max.session.timeout.ms': 5000 },
      }),
    );
    assert.match(
      error.message,
      /"group\.min\.session\.timeout\.ms".*<= group\.max\.session\.timeout\.ms/,
    );
  });
});

describe('loadBrokerConfig', () => {
  it('reads the properties file from disk', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-config-'));
    try {
      const file = join(directory, 'server.properties');
      await writeFile(file, 'num.partitions=6\nlog.retention.ms=-1\n');
      const config = await loadBrokerConfig({ file, settings: { 'log.dirs': directory } });
      assert.equal(config.get('num.partitions'), 6);
      assert.equal(config.get('log.retention.ms'), -1);
      const error = await loadBrokerConfig({
        file: join(directory, 'missing.properties'),
        loadDynamicSettings: false,
      }).then(
        () => assert.fail('expected a ConfigError'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /"--config".*cannot read the file/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('persisted dynamic broker settings', () => {
  it('are re-applied by loadBrokerConfig above static settings', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-config-'));
    try {
      const settings = { 'log.dirs': directory, 'log.retention.hours': 24 };
      const first = await loadBrokerConfig({ settings });
      first.replaceDynamicSettings('cluster-default', new Map([['log.retention.hours', '12']]));
      first.replaceDynamicSettings('this-broker', new Map([['message.max.bytes', '2000000']]));
      await saveDynamicBrokerSettings(first, directory);
      const second = await loadBrokerConfig({ settings });
      assert.equal(second.get('log.retention.hours'), 12);
      assert.equal(second.get('message.max.bytes'), 2000000);
      assert.equal(second.sourceOf('message.max.bytes'), ConfigSource.DYNAMIC_BROKER_CONFIG);
      const staticOnly = await loadBrokerConfig({ settings, loadDynamicSettings: false });
      assert.equal(staticOnly.get('log.retention.hours'), 24);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('stop start-up when the stored document is invalid', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-config-'));
    try {
      const path = dynamicBrokerConfigPath(directory);
      await writeFile(
        path,
        '{"version":1,"clusterDefault":{"num.partitions":"4"},"thisBroker":{}}',
      );
      const readOnly = await loadBrokerConfig({ settings: { 'log.dirs': directory } }).catch(
        (error: unknown) => error,
      );
      assert.ok(readOnly instanceof ConfigError);
      assert.match(readOnly.message, /num\.partitions.*read-only/);
      await writeFile(path, 'not json');
      const garbled = await loadBrokerConfig({ settings: { 'log.dirs': directory } }).catch(
        (error: unknown) => error,
      );
      assert.ok(garbled instanceof ConfigError);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('dynamic broker settings', () => {
  it('layers this-broker over cluster-default over static settings and notifies listeners', () => {
    const config = brokerConfigFromSources({ fileText: 'log.retention.hours=24' });
    const changes: string[][] = [];
    config.onChange((names) => changes.push([...names]));
    config.replaceDynamicSettings('cluster-default', new Map([['log.retention.hours', '12']]));
    assert.equal(config.get('log.retention.hours'), 12);
    assert.equal(
      config.sourceOf('log.retention.hours'),
      ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    );
    config.replaceDynamicSettings('this-broker', new Map([['log.retention.hours', '6']]));
    assert.equal(config.get('log.retention.hours'), 6);
    assert.deepEqual(
      config.settingsOf('log.retention.hours').map((level) => [level.source, level.text]),
      [
        [ConfigSource.DYNAMIC_BROKER_CONFIG, '6'],
        [ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, '12'],
        [ConfigSource.STATIC_BROKER_CONFIG, '24'],
        [ConfigSource.DEFAULT_CONFIG, '168'],
      ],
    );
    config.replaceDynamicSettings('this-broker', new Map());
    assert.equal(config.get('log.retention.hours'), 12);
    assert.deepEqual(changes, [
      ['log.retention.hours'],
      ['log.retention.hours'],
      ['log.retention.hours'],
    ]);
  });

  it('refuses read-only, unknown, invalid and inconsistent dynamic settings without changing anything', () => {
    const config = new BrokerConfig();
    const problems = config.checkDynamicSettings(
      'cluster-default',
      new Map([
        ['num.partitions', '3'],
        ['no.such.config', '1'],
        ['log.segment.bytes', 'big'],
        ['advertised.listeners', 'PLAINTEXT://h:1'],
      ]),
    );
    assert.deepEqual(
      problems.map((problem) => [problem.name, problem.reason]),
      [
        ['num.partitions', 'read-only: it cannot be changed at run time'],
        ['no.such.config', 'unknown broker configuration'],
        ['log.segment.bytes', 'expected a 32-bit integer'],
        ['advertised.listeners', 'read-only: it cannot be changed at run time'],
      ],
    );
    assert.throws(
      () => config.replaceDynamicSettings('this-broker', new Map([['log.segment.bytes', 'big']])),
      ConfigError,
    );
    assert.equal(config.get('log.segment.bytes'), 1073741824);
  });
});
