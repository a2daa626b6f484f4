import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { BrokerProcess } from './harness/broker-process.js';
import { runCodecScenario } from './harness/codec-scenario.js';
import {
  GoClient,
  singleBrokerPartitions,
  topicConfigChangeSteps,
  writableConfigEntry,
} from './harness/go-client.js';
import { eventsNamed } from './harness/json-lines-process.js';
import {
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  placedRecordFromEvent,
  uniqueName,
} from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/**
 * The newest segmentio/kafka-go (pinned by go-modules/kafka-go-newest/go.mod). Unlike Debian's
 * 0.2.1 it negotiates Produce v3+ and Fetch v5+ (record batches), so its Writer and Reader move
 * records here: the round trip with a Reader group member, every compression codec, the
 * administration its kafka.Client offers, and two Readers sharing a group.
 */

const kafkaGoVersion = '0.4.51';
/** DescribeConfigs' config sources, as kafka-go reports them (numbers). */
const topicConfigSource = 1;
const defaultConfigSource = 5;

let broker: BrokerProcess;
let kafkaGo: GoClient;
before(async () => {
  kafkaGo = await GoClient.buildModule('kafka-go-newest');
  broker = await BrokerProcess.start({ label: 'broker(kafka-go-newest)' });
  assert.equal(await kafkaGo.libraryVersion(), kafkaGoVersion, 'the kafka-go go.mod pins');
});
after(async () => {
  await broker?.dispose();
  await kafkaGo?.dispose();
});

async function admin(
  steps: readonly Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  return kafkaGo.admin(broker.bootstrap, steps, { timeoutMs: 30_000 });
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  assert.deepEqual(await admin([{ op: 'create-topic', topic, partitions }]), [
    { op: 'create-topic', code: 0 },
  ]);
}

async function produce(options: {
  topic: string;
  partitions: number;
  count: number;
  prefix: string;
  compression?: string;
}): Promise<PlacedRecord[]> {
  return kafkaGo.produce(broker.bootstrap, options);
}

/** ListOffsets' answer for partitions 0..n-1: log start 0, end = the next offset after `records`. */
function expectedOffsets(partitions: number, records: readonly PlacedRecord[]) {
  const ends = endOffsets(records);
  return Array.from({ length: partitions }, (_, partition) => ({
    code: 0,
    partition,
    first: 0,
    last: ends.get(partition) ?? 0,
  }));
}

test(`kafka-go ${kafkaGoVersion}: produce, consume in a group, commit, resume from the commit`, {
  timeout: 90_000,
}, async () => {
  // The Writer's default balancer (round-robin) spreads the records.
  await runRoundTripScenario(kafkaGo.moduleRoundTripClient(broker.bootstrap, createTopic), {
    name: 'kafka-go-newest',
    partitions: 3,
    firstCount: 300,
    secondCount: 90,
  });
});

test(`kafka-go ${kafkaGoVersion}: gzip, snappy, lz4 and zstd batches stored as sent and read back exactly`, {
  timeout: 120_000,
}, async () => {
  await runCodecScenario(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce({ ...options, partitions: 1 }),
      readAll: (options) =>
        kafkaGo.consume(broker.bootstrap, {
          topic: options.topic,
          partitions: Math.max(...options.partitions) + 1,
          expected: options.expected,
        }),
    },
    { name: 'kafka-go-newest', dataDirectory: broker.dataDirectory, count: 200 },
  );
});

test(`kafka-go ${kafkaGoVersion}: kafka.Client creates, describes, grows, configures and deletes topics, and lists, describes and deletes groups`, {
  timeout: 90_000,
}, async () => {
  const topic = uniqueName('kafka-go-newest-admin');
  const configNames = ['cleanup.policy', 'retention.ms', 'segment.bytes'];
  const metadata = (await admin([{ op: 'metadata', topics: [] }]))[0];
  assert.deepEqual(
    {
      brokers: metadata?.brokers,
      controllerId: metadata?.controllerId,
      clusterIdLength: String(metadata?.clusterId).length,
    },
    {
      brokers: [{ id: 1, host: broker.host, port: broker.port }],
      controllerId: 1,
      clusterIdLength: 22,
    },
    'one broker, the controller, with a base64 cluster id',
  );
  assert.deepEqual(
    await admin([
      {
        op: 'create-topic',
        topic,
        partitions: 2,
        configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' },
      },
      { op: 'create-topic', topic, partitions: 2 },
      { op: 'create-partitions', topic, count: 4 },
      { op: 'create-partitions', topic, count: 3 },
      ...topicConfigChangeSteps(topic, configNames),
    ]),
    [
      { op: 'create-topic', code: 0 },
      { op: 'create-topic', code: ErrorCode.TOPIC_ALREADY_EXISTS },
      { op: 'create-partitions', code: 0 },
      { op: 'create-partitions', code: ErrorCode.INVALID_PARTITIONS },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'compact', topicConfigSource),
          writableConfigEntry('retention.ms', '3600000', topicConfigSource),
          writableConfigEntry('segment.bytes', '1073741824', defaultConfigSource),
        ],
      },
      { op: 'incremental-alter-config', code: 0 },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'delete', defaultConfigSource),
          writableConfigEntry('retention.ms', '7200000', topicConfigSource),
          writableConfigEntry('segment.bytes', '1073741824', defaultConfigSource),
        ],
      },
      { op: 'alter-config', code: 0 },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'delete', defaultConfigSource),
          writableConfigEntry('retention.ms', '604800000', defaultConfigSource),
          writableConfigEntry('segment.bytes', '1048576', topicConfigSource),
        ],
      },
    ],
  );
  const described = (await admin([{ op: 'metadata', topics: [topic] }]))[0];
  assert.deepEqual(
    described?.topics,
    [{ topic, code: 0, internal: false, partitions: singleBrokerPartitions(4) }],
    'metadata after growing to 4 partitions',
  );

  const group = uniqueName('kafka-go-newest-admin-group');
  const produced = await produce({ topic, partitions: 4, count: 20, prefix: 'admin' });
  assertSameRecords(
    await kafkaGo.consumeGroup(broker.bootstrap, { topic, group, expected: 20 }),
    produced,
    'the group consumed the topic',
  );
  const ends = endOffsets(produced);
  assert.deepEqual(
    await admin([
      { op: 'list-offsets', topic, partitions: 4 },
      { op: 'group-offsets', group, topic, partitions: 4 },
      { op: 'list-groups', groups: [group] },
      { op: 'describe-groups', groups: [group] },
      { op: 'delete-group', group },
      { op: 'list-groups', groups: [group] },
      { op: 'delete-group', group },
      { op: 'delete-topic', topic },
      { op: 'delete-topic', topic },
    ]),
    [
      { op: 'list-offsets', offsets: expectedOffsets(4, produced) },
      {
        op: 'group-offsets',
        offsets: Array.from({ length: 4 }, (_, partition) => ({
          code: 0,
          partition,
          offset: ends.get(partition) ?? -1,
        })),
      },
      { op: 'list-groups', groups: [{ group, protocolType: 'consumer' }] },
      { op: 'describe-groups', groups: [{ code: 0, group, state: 'Empty', members: [] }] },
      { op: 'delete-group', code: 0 },
      { op: 'list-groups', groups: [] },
      { op: 'delete-group', code: ErrorCode.GROUP_ID_NOT_FOUND },
      { op: 'delete-topic', code: 0 },
      { op: 'delete-topic', code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ],
  );
  const afterDelete = (await admin([{ op: 'metadata', topics: [topic] }]))[0];
  assert.deepEqual(
    ((afterDelete?.topics ?? []) as Record<string, unknown>[]).map(({ topic, code }) => ({
      topic,
      code,
    })),
    [{ topic, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
    'metadata after the delete (kafka-go asks without auto-creation)',
  );
});

test(`kafka-go ${kafkaGoVersion}: two Readers in one group: the range balancer's assignment relayed by SyncGroup, each member consumes its partitions`, {
  timeout: 90_000,
}, async () => {
  const topic = uniqueName('kafka-go-newest-members');
  const partitions = 4;
  await createTopic(topic, partitions);
  const events = await kafkaGo.run(
    'group-members',
    {
      bootstrap: broker.bootstrap,
      topic,
      group: uniqueName('kafka-go-newest-members-group'),
      balancer: 'range',
      members: 2,
      partitions,
      count: 80,
      prefix: 'members',
      timeoutS: 60,
    },
    { timeoutMs: 80_000 },
  );
  const member = (index: number) => `gregor-e2e-kafka-go-member-${index}`;
  const [settled] = eventsNamed(events, 'settled');
  // Member ids start with the client id, so range gives member 0 the lower half.
  assert.deepEqual(
    settled?.assignment,
    { [member(0)]: [0, 1], [member(1)]: [2, 3] },
    'range assignment',
  );
  const produced = eventsNamed(events, 'ack').map(placedRecordFromEvent);
  assert.equal(produced.length, 80, 'every record acknowledged');
  for (const index of [0, 1]) {
    const assigned = ((settled?.assignment ?? {}) as Record<string, number[]>)[member(index)] ?? [];
    assertSameRecords(
      eventsNamed(events, 'record')
        .filter((event) => event.member === index)
        .map(placedRecordFromEvent),
      produced.filter((record) => assigned.includes(record.partition)),
      `member ${index} consumed its partitions`,
    );
  }
});
