import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import facade from '@gregor/client/kafkajs';
import kafkajs from 'kafkajs';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type KafkajsImplementation,
  readTopic,
  runKafkajsExample,
  runKafkajsExampleUntil,
} from './harness/kafkajs-examples.js';
import { uniqueName } from './harness/records.js';

/**
 * `@gregor/client/kafkajs` against kafkajs 2.2.4 itself: the same exports, the same partitions for
 * the same keys (both partitioners), and kafkajs's documented examples run twice against one
 * broker, once as written (importing the facade) and once with the import turned back into
 * kafkajs: the same printed results and the same records in the topics.
 */

let broker: BrokerProcess;

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(kafkajs-facade)',
    extraArguments: [
      '--override',
      'group.initial.rebalance.delay.ms=0',
      '--override',
      'offsets.topic.num.partitions=4',
      '--override',
      'transaction.state.log.num.partitions=4',
    ],
  });
});
after(async () => {
  await broker?.dispose();
});

test('the facade exports every name kafkajs 2.2.4 exports, errors with the same names', () => {
  const ours = new Map<string, unknown>(Object.entries(facade));
  const theirs = new Map<string, unknown>(Object.entries(kafkajs));
  const missing = [...theirs.keys()].filter((name) => !ours.has(name));
  assert.deepEqual(missing, []);
  for (const [name, value] of theirs)
    if (ours.has(name)) assert.equal(typeof ours.get(name), typeof value, name);
  const make = (value: unknown) => {
    assert.equal(typeof value, 'function');
    return Reflect.construct(value as (message: string) => Error, ['m']) as Error;
  };
  for (const name of ['KafkaJSError', 'KafkaJSNonRetriableError', 'KafkaJSConnectionError'])
    assert.equal(make(ours.get(name)).name, make(theirs.get(name)).name, name);
  assert.deepEqual(facade.logLevel, kafkajs.logLevel);
  assert.deepEqual(facade.CompressionTypes, kafkajs.CompressionTypes);
  assert.deepEqual(facade.ConfigResourceTypes, kafkajs.ConfigResourceTypes);
  assert.deepEqual(facade.AclResourceTypes, kafkajs.AclResourceTypes);
  assert.deepEqual(facade.AclOperationTypes, kafkajs.AclOperationTypes);
  assert.deepEqual(facade.AclPermissionTypes, kafkajs.AclPermissionTypes);
  assert.deepEqual(facade.ResourcePatternTypes, kafkajs.ResourcePatternTypes);
  assert.deepEqual(facade.ConfigSource, kafkajs.ConfigSource);
});

test('DefaultPartitioner and LegacyPartitioner pick the partitions kafkajs picks', () => {
  const keys: (string | Buffer)[] = [];
  for (let length = 0; length < 40; length++) {
    for (let sample = 0; sample < 25; sample++) keys.push(randomBytes(length));
  }
  for (let index = 0; index < 500; index++) keys.push(`key-${index}`, `ключ-${index}-✓`);
  for (const name of ['DefaultPartitioner', 'LegacyPartitioner'] as const) {
    const ours = facade.Partitioners[name]();
    const theirs = kafkajs.Partitioners[name]();
    for (const partitionCount of [1, 3, 7, 32, 100]) {
      const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
      }));
      const differing = keys.filter((key) => {
        const message = { key, value: 'v' };
        const args = { topic: 't', partitionMetadata, message };
        return ours(args) !== theirs(args);
      });
      assert.equal(differing.length, 0, `${name}, ${partitionCount} partitions`);
    }
  }
});

type Runs = Record<KafkajsImplementation, { prefix: string; lines: string[] }>;

async function runBoth(
  name: string,
  setUp: (prefix: string) => Promise<void> = async () => {},
  until?: (line: string) => boolean,
): Promise<Runs> {
  const runs: Partial<Runs> = {};
  for (const implementation of ['kafkajs', 'facade'] as const) {
    const prefix = `${uniqueName(implementation)}-`;
    await setUp(prefix);
    const options = { implementation, bootstrap: broker.bootstrap, topicPrefix: prefix };
    const lines =
      until === undefined
        ? await runKafkajsExample(name, { ...options, timeoutMs: 60_000 })
        : await runKafkajsExampleUntil(name, { ...options, until, timeoutMs: 60_000 });
    runs[implementation] = {
      prefix,
      // Committed offsets' empty metadata reads back as null at kafkajs's OffsetFetch version.
      lines: lines.map((line) =>
        line.replaceAll(prefix, 'PREFIX-').replaceAll('"metadata":""', '"metadata":null'),
      ),
    };
  }
  assert.ok(runs.kafkajs !== undefined && runs.facade !== undefined);
  return { kafkajs: runs.kafkajs, facade: runs.facade };
}

async function createTopic(name: string, partitions: number): Promise<void> {
  const admin = new facade.Kafka({
    brokers: [broker.bootstrap],
    logLevel: facade.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

test('kafkajs documentation, producing: the same results and the same records as kafkajs', {
  timeout: 120_000,
}, async () => {
  const runs = await runBoth('producing', (prefix) => createTopic(`${prefix}topic-name`, 4));
  assert.equal(runs.facade.lines.length, 7);
  assert.deepEqual(runs.facade.lines, runs.kafkajs.lines);
  for (const topic of ['topic-name', 'topic-a', 'topic-b', 'topic-c']) {
    const [theirs, ours] = await Promise.all(
      [runs.kafkajs.prefix, runs.facade.prefix].map((prefix) =>
        readTopic(broker.bootstrap, `${prefix}${topic}`),
      ),
    );
    assert.ok(ours.length > 0, topic);
    assert.deepEqual(ours, theirs, topic);
  }
});

test('kafkajs admin example and documentation: the same results as kafkajs', {
  timeout: 120_000,
}, async () => {
  const runs = await runBoth('admin');
  assert.equal(runs.facade.lines.length, 16);
  assert.deepEqual(runs.facade.lines, runs.kafkajs.lines);
});

test('kafkajs documentation, transactions: the same results and committed records as kafkajs', {
  timeout: 120_000,
}, async () => {
  const runs = await runBoth('transactions');
  assert.deepEqual(runs.facade.lines, runs.kafkajs.lines);
  const [theirs, ours] = await Promise.all(
    [runs.kafkajs.prefix, runs.facade.prefix].map((prefix) =>
      readTopic(broker.bootstrap, `${prefix}transactions`, { readCommitted: true }),
    ),
  );
  assert.deepEqual(
    ours.map((record) => record.value),
    ['committed 1', 'committed 2', 'with offsets'],
  );
  assert.deepEqual(
    ours.map(({ key, value, headers }) => ({ key, value, headers })),
    theirs.map(({ key, value, headers }) => ({ key, value, headers })),
  );
});

test('kafkajs documentation, getting started: the message comes back through a group', {
  timeout: 120_000,
}, async () => {
  const runs = await runBoth('getting-started', undefined, (line) =>
    line.includes('Hello KafkaJS user!'),
  );
  assert.deepEqual(runs.facade.lines, ["{ value: 'Hello KafkaJS user!' }"]);
  assert.deepEqual(runs.facade.lines, runs.kafkajs.lines);
});

test('kafkajs documentation, consuming: eachBatch, eachMessage, commitOffsets as kafkajs does', {
  timeout: 120_000,
}, async () => {
  const produce = async (prefix: string) => {
    await createTopic(`${prefix}topic-A`, 2);
    const producer = new facade.Kafka({
      brokers: [broker.bootstrap],
      logLevel: facade.logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({
      topic: `${prefix}topic-A`,
      messages: [0, 1, 2, 3, 4, 5].map((index) => ({
        partition: index % 2,
        key: `key-${index}`,
        value: `value-${index}`,
        headers: { 'correlation-id': `id-${index}`, repeated: ['a', 'b'] },
      })),
    });
    await producer.disconnect();
  };
  const runs = await runBoth('consuming', produce);
  // Partitions may come back in either order: compare the printed lines as sets.
  const sorted = (lines: string[]) => [...lines].sort();
  assert.equal(runs.facade.lines.at(-1), 'done');
  assert.ok(runs.facade.lines.some((line) => line.includes("'value-5'")));
  assert.deepEqual(sorted(runs.facade.lines), sorted(runs.kafkajs.lines));
});
