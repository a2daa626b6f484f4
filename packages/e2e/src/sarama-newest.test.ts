import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
import { type ClientEvent, eventsNamed } from './harness/json-lines-process.js';
import {
  assertContiguousOffsets,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  placedRecordFromEvent,
  uniqueName,
} from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/**
 * The newest sarama (github.com/IBM/sarama, pinned by go-modules/sarama-newest/go.mod) with
 * `Config.Version = sarama.MaxVersion`, so it picks the highest request versions both sides know:
 * the round trip, every compression codec, ClusterAdmin, the idempotent and the transactional
 * producer, and its consumer group with the range, sticky and cooperative-sticky (KIP-429,
 * incremental rebalancing) balance strategies.
 */

const saramaVersion = '1.62.0';

let broker: BrokerProcess;
let sarama: GoClient;
before(async () => {
  sarama = await GoClient.buildModule('sarama-newest');
  broker = await BrokerProcess.start({ label: 'broker(sarama-newest)' });
  assert.equal(await sarama.libraryVersion(), saramaVersion, 'the sarama go.mod pins');
});
after(async () => {
  await broker?.dispose();
  await sarama?.dispose();
});

function acks(events: readonly ClientEvent[]): PlacedRecord[] {
  return eventsNamed(events, 'ack').map(placedRecordFromEvent);
}

function records(events: readonly ClientEvent[]): PlacedRecord[] {
  return eventsNamed(events, 'record').map(placedRecordFromEvent);
}

async function admin(
  steps: readonly Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  return sarama.admin(broker.bootstrap, steps, { timeoutMs: 30_000 });
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  assert.deepEqual(await admin([{ op: 'create-topic', topic, partitions }]), [
    { op: 'create-topic' },
  ]);
}

/** `partition → offset` entries for partitions 0..n-1, `fallback` where `offsets` has none. */
function perPartition(
  partitions: number,
  offsets: ReadonlyMap<number, number>,
  fallback: number,
): { partition: number; offset: number }[] {
  return Array.from({ length: partitions }, (_, partition) => ({
    partition,
    offset: offsets.get(partition) ?? fallback,
  }));
}

async function produce(options: {
  topic: string;
  partitions: number;
  count: number;
  prefix: string;
  compression?: string;
  idempotent?: boolean;
}): Promise<PlacedRecord[]> {
  return sarama.produce(broker.bootstrap, options);
}

async function consume(options: {
  topic: string;
  partitions: number;
  expected: number;
  isolation?: 'read_committed' | 'read_uncommitted';
  fetchBytes?: number;
}): Promise<PlacedRecord[]> {
  return sarama.consume(broker.bootstrap, options);
}

test(`sarama ${saramaVersion}: produce, consume in a group, commit, resume from the commit`, {
  timeout: 90_000,
}, async () => {
  await runRoundTripScenario(sarama.moduleRoundTripClient(broker.bootstrap, createTopic), {
    name: 'sarama-newest',
    partitions: 3,
    firstCount: 300,
    secondCount: 90,
  });
});

test(`sarama ${saramaVersion}: gzip, snappy, lz4 and zstd batches stored as sent and read back exactly, through 64-byte fetch limits`, {
  timeout: 120_000,
}, async () => {
  await runCodecScenario(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce({ ...options, partitions: 1 }),
      // Each fetch may carry 64 bytes of a partition, less than any batch: the broker must still
      // hand out whole batches (KIP-74), or sarama would stall growing its fetch size.
      readAll: (options) =>
        consume({
          topic: options.topic,
          partitions: Math.max(...options.partitions) + 1,
          expected: options.expected,
          fetchBytes: 64,
        }),
    },
    { name: 'sarama-newest', dataDirectory: broker.dataDirectory, count: 200 },
  );
});

test(`sarama ${saramaVersion}: headers and timestamps: CreateTime kept as sent and found by ListOffsets, LogAppendTime stamped by the broker, on plain and gzip batches`, {
  timeout: 90_000,
}, async () => {
  // An hour ago: well inside the 7-day retention, which would delete older records at its next
  // pass. The gzip batches are stamped a second later than the plain ones.
  const createTimeMs = Date.now() - 3_600_000;
  const firstCreateTimeMs = { none: createTimeMs, gzip: createTimeMs + 1_000 };
  /** What a record carries besides its place and content, as acks and reads report it. */
  const detail = (event: ClientEvent) => ({
    ...placedRecordFromEvent(event),
    timestampMs: event.timestampMs,
    headers: event.headers,
  });
  const byPlace = (a: { partition: number; offset: number }, b: typeof a) =>
    a.partition - b.partition || a.offset - b.offset;
  for (const timestampType of ['CreateTime', 'LogAppendTime']) {
    const topic = uniqueName(`sarama-newest-${timestampType}`);
    assert.deepEqual(
      await admin([
        {
          op: 'create-topic',
          topic,
          partitions: 2,
          configs: { 'message.timestamp.type': timestampType },
        },
      ]),
      [{ op: 'create-topic' }],
    );
    const startedMs = Date.now();
    const acknowledged: ReturnType<typeof detail>[] = [];
    for (const compression of ['none', 'gzip'] as const) {
      const events = await sarama.run(
        'produce',
        {
          bootstrap: broker.bootstrap,
          topic,
          partitions: 2,
          count: 20,
          prefix: compression,
          compression,
          timestampMs: firstCreateTimeMs[compression],
          headers: true,
        },
        { timeoutMs: 30_000 },
      );
      for (const ack of eventsNamed(events, 'ack').map(detail)) {
        const index = Number(ack.key?.split('-').at(-1));
        assert.deepEqual(
          ack.headers,
          [
            ['index', String(index)],
            ['prefix', compression],
          ],
          `${timestampType} ${compression}: headers as sent`,
        );
        acknowledged.push(ack);
      }
    }
    const endedMs = Date.now();
    for (const ack of acknowledged) {
      const index = Number(ack.key?.split('-').at(-1));
      if (timestampType === 'CreateTime') {
        const compression = ack.key?.startsWith('gzip') ? 'gzip' : 'none';
        assert.equal(
          ack.timestampMs,
          firstCreateTimeMs[compression] + index,
          `${ack.key}: the create time sent`,
        );
      } else {
        const stamped = Number(ack.timestampMs);
        assert.ok(
          stamped >= startedMs && stamped <= endedMs,
          `${ack.key}: the broker's append time ${stamped} (produced between ${startedMs} and ${endedMs})`,
        );
      }
    }
    const events = await sarama.run(
      'consume',
      { bootstrap: broker.bootstrap, topic, partitions: 2, expected: 40, timeoutS: 30 },
      { timeoutMs: 45_000 },
    );
    assert.deepEqual(
      eventsNamed(events, 'record').map(detail).sort(byPlace),
      acknowledged.sort(byPlace),
      `${timestampType}: read back with the acknowledged timestamps and the headers`,
    );
    if (timestampType === 'CreateTime') {
      // The first offset stamped at or after each time, inside a plain batch, inside a gzip
      // batch, and past the end (-1).
      for (const targetMs of [createTimeMs + 5, createTimeMs + 1_005, createTimeMs + 2_000]) {
        const expected = [0, 1].map((partition) => {
          const offsets = acknowledged
            .filter((ack) => ack.partition === partition && Number(ack.timestampMs) >= targetMs)
            .map((ack) => ack.offset);
          return { partition, offset: offsets.length > 0 ? Math.min(...offsets) : -1 };
        });
        assert.deepEqual(
          await admin([
            { op: 'list-offsets', topic, partitions: 2, at: 'timestamp', timestampMs: targetMs },
          ]),
          [{ op: 'list-offsets', offsets: expected }],
          `ListOffsets for ${targetMs - createTimeMs} ms after the first create time`,
        );
      }
    }
  }
});

test(`sarama ${saramaVersion}: ClusterAdmin creates, describes, grows, configures, sizes, truncates and deletes topics`, {
  timeout: 90_000,
}, async () => {
  const topic = uniqueName('sarama-newest-admin');
  const configNames = ['cleanup.policy', 'retention.ms', 'segment.bytes'];
  assert.deepEqual(
    await admin([
      {
        op: 'create-topic',
        topic,
        partitions: 2,
        configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' },
      },
      { op: 'create-topic', topic, partitions: 2 },
      { op: 'list-topics', topics: [topic], names: configNames },
      { op: 'describe-topics', topics: [topic] },
      { op: 'create-partitions', topic, count: 4 },
      { op: 'create-partitions', topic, count: 3 },
      { op: 'describe-topics', topics: [topic] },
      ...topicConfigChangeSteps(topic, configNames),
      {
        op: 'describe-config',
        resource: 'broker',
        name: '1',
        names: ['log.retention.hours', 'num.partitions'],
      },
      { op: 'describe-cluster' },
    ]),
    [
      { op: 'create-topic' },
      { op: 'create-topic', code: ErrorCode.TOPIC_ALREADY_EXISTS },
      {
        op: 'list-topics',
        topics: [
          {
            topic,
            partitions: 2,
            replicationFactor: 1,
            configs: { 'cleanup.policy': 'compact', 'retention.ms': '3600000' },
          },
        ],
      },
      {
        op: 'describe-topics',
        topics: [{ topic, code: 0, internal: false, partitions: singleBrokerPartitions(2) }],
      },
      { op: 'create-partitions' },
      { op: 'create-partitions', code: ErrorCode.INVALID_PARTITIONS },
      {
        op: 'describe-topics',
        topics: [{ topic, code: 0, internal: false, partitions: singleBrokerPartitions(4) }],
      },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'compact', 'Topic'),
          writableConfigEntry('retention.ms', '3600000', 'Topic'),
          writableConfigEntry('segment.bytes', '1073741824', 'Default'),
        ],
      },
      { op: 'incremental-alter-config' },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'delete', 'Default'),
          writableConfigEntry('retention.ms', '7200000', 'Topic'),
          writableConfigEntry('segment.bytes', '1073741824', 'Default'),
        ],
      },
      { op: 'alter-config' },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('cleanup.policy', 'delete', 'Default'),
          writableConfigEntry('retention.ms', '604800000', 'Default'),
          writableConfigEntry('segment.bytes', '1048576', 'Topic'),
        ],
      },
      {
        op: 'describe-config',
        entries: [
          writableConfigEntry('log.retention.hours', '168', 'Default'),
          {
            name: 'num.partitions',
            value: '1',
            source: 'Default',
            readOnly: true,
            sensitive: false,
          },
        ],
      },
      {
        op: 'describe-cluster',
        brokers: [{ id: 1, address: broker.bootstrap }],
        controllerId: 1,
      },
    ],
  );

  const produced = await produce({ topic, partitions: 4, count: 40, prefix: 'admin' });
  const segmentBytes = async (partition: number) => {
    const folder = join(broker.dataDirectory, `${topic}-${partition}`);
    const logs = (await readdir(folder)).filter((name) => name.endsWith('.log'));
    const sizes = await Promise.all(
      logs.map(async (name) => (await stat(join(folder, name))).size),
    );
    return sizes.reduce((sum, size) => sum + size, 0);
  };
  const [logDirs] = await admin([{ op: 'describe-log-dirs', topics: [topic] }]);
  const [dir] = (logDirs?.dirs ?? []) as Record<string, unknown>[];
  assert.deepEqual(
    { path: dir?.path, code: dir?.code, partitions: dir?.partitions },
    {
      path: broker.dataDirectory,
      code: 0,
      partitions: await Promise.all(
        [0, 1, 2, 3].map(async (partition) => ({
          topic,
          partition,
          size: await segmentBytes(partition),
          offsetLag: 0,
          temporary: false,
        })),
      ),
    },
    'DescribeLogDirs: the data dir, each partition the size of its segment files',
  );
  assert.deepEqual(
    await admin([
      {
        op: 'delete-records',
        topic,
        offsets: [
          { partition: 0, offset: 4 },
          { partition: 2, offset: 10 },
        ],
      },
      { op: 'list-offsets', topic, partitions: 4, at: 'earliest' },
      { op: 'list-offsets', topic, partitions: 4, at: 'latest' },
      { op: 'delete-topic', topic },
      { op: 'describe-topics', topics: [topic] },
      { op: 'list-topics', topics: [topic], names: [] },
      { op: 'delete-topic', topic },
    ]),
    [
      { op: 'delete-records' },
      {
        op: 'list-offsets',
        offsets: perPartition(
          4,
          new Map([
            [0, 4],
            [2, 10],
          ]),
          0,
        ),
      },
      { op: 'list-offsets', offsets: perPartition(4, endOffsets(produced), 0) },
      { op: 'delete-topic' },
      {
        op: 'describe-topics',
        topics: [
          { topic, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, internal: false, partitions: [] },
        ],
      },
      { op: 'list-topics', topics: [] },
      { op: 'delete-topic', code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ],
  );
});

test(`sarama ${saramaVersion}: ClusterAdmin lists, describes, re-offsets and deletes a consumer group`, {
  timeout: 90_000,
}, async () => {
  const topic = uniqueName('sarama-newest-groups');
  const group = uniqueName('sarama-newest-group');
  const partitions = 3;
  await createTopic(topic, partitions);
  const produced = await produce({ topic, partitions, count: 30, prefix: 'group' });
  const events = await sarama.run(
    'consume-group',
    { bootstrap: broker.bootstrap, topic, group, expected: 30, timeoutS: 30 },
    { timeoutMs: 45_000 },
  );
  assertSameRecords(records(events), produced, 'the group consumed the topic');
  const committed = perPartition(partitions, endOffsets(produced), -1);
  assert.deepEqual(
    await admin([
      { op: 'list-groups', groups: [group] },
      { op: 'describe-groups', groups: [group] },
      { op: 'group-offsets', group, topic, partitions },
      { op: 'alter-group-offsets', group, topic, offsets: [{ partition: 0, offset: 3 }] },
      { op: 'delete-group-offset', group, topic, partition: 2 },
      { op: 'group-offsets', group, topic, partitions },
      { op: 'delete-group', group },
      { op: 'list-groups', groups: [group] },
      { op: 'group-offsets', group, topic, partitions },
      { op: 'delete-group', group },
    ]),
    [
      { op: 'list-groups', groups: [{ group, protocolType: 'consumer' }] },
      {
        op: 'describe-groups',
        groups: [
          { group, code: 0, state: 'Empty', protocolType: 'consumer', protocol: '', members: [] },
        ],
      },
      { op: 'group-offsets', offsets: committed },
      { op: 'alter-group-offsets' },
      { op: 'delete-group-offset' },
      {
        op: 'group-offsets',
        offsets: [{ partition: 0, offset: 3 }, committed[1], { partition: 2, offset: -1 }],
      },
      { op: 'delete-group' },
      { op: 'list-groups', groups: [] },
      { op: 'group-offsets', offsets: perPartition(partitions, new Map(), -1) },
      { op: 'delete-group', code: ErrorCode.GROUP_ID_NOT_FOUND },
    ],
  );
});

test(`sarama ${saramaVersion}: static membership (KIP-345): a restarted member gets its partitions back in the same generation; RemoveMemberFromConsumerGroup removes it`, {
  timeout: 90_000,
}, async () => {
  const topic = uniqueName('sarama-newest-static');
  const group = uniqueName('sarama-newest-static-group');
  const instanceId = 'sarama-static-a';
  const partitions = 4;
  await createTopic(topic, partitions);
  const run = async (expected: number) => {
    const events = await sarama.run(
      'consume-group',
      { bootstrap: broker.bootstrap, topic, group, expected, instanceId, timeoutS: 30 },
      { timeoutMs: 45_000 },
    );
    const [assigned] = eventsNamed(events, 'assigned');
    return { assigned, consumed: records(events) };
  };
  const first = await produce({ topic, partitions, count: 40, prefix: 'static-first' });
  const firstRun = await run(40);
  assertSameRecords(firstRun.consumed, first, 'the first run');
  // The member closed without LeaveGroup; the next process with the same instance id comes back
  // well within the 10 s session.
  const second = await produce({ topic, partitions, count: 20, prefix: 'static-second' });
  const secondRun = await run(20);
  assertSameRecords(secondRun.consumed, second, 'the restarted member resumed from the commits');
  assert.notEqual(secondRun.assigned?.memberId, firstRun.assigned?.memberId, 'a new member id');
  assert.deepEqual(
    [secondRun.assigned?.generationId, secondRun.assigned?.claims],
    [firstRun.assigned?.generationId, { [topic]: [0, 1, 2, 3] }],
    'the same generation and assignment: no rebalance',
  );
  assert.deepEqual(
    await admin([
      { op: 'describe-groups', groups: [group] },
      { op: 'remove-members', group, instanceIds: [instanceId] },
      { op: 'describe-groups', groups: [group] },
      { op: 'remove-members', group, instanceIds: [instanceId] },
    ]),
    [
      {
        op: 'describe-groups',
        groups: [
          {
            group,
            code: 0,
            state: 'Stable',
            protocolType: 'consumer',
            protocol: 'range',
            members: [
              {
                clientId: 'gregor-e2e-sarama-consumer',
                instanceId,
                assignment: { [topic]: [0, 1, 2, 3] },
              },
            ],
          },
        ],
      },
      { op: 'remove-members', code: 0, members: [{ instanceId, code: 0 }] },
      {
        op: 'describe-groups',
        groups: [
          { group, code: 0, state: 'Empty', protocolType: 'consumer', protocol: '', members: [] },
        ],
      },
      {
        op: 'remove-members',
        code: 0,
        members: [{ instanceId, code: ErrorCode.UNKNOWN_MEMBER_ID }],
      },
    ],
  );
});

test(`sarama ${saramaVersion}: the idempotent producer's records land once; DescribeProducers shows its sequences`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('sarama-newest-idempotent');
  const partitions = 3;
  await createTopic(topic, partitions);
  const produced = await produce({
    topic,
    partitions,
    count: 150,
    prefix: 'idempotent',
    idempotent: true,
  });
  assertContiguousOffsets(produced, { from: 0, what: 'idempotent offsets' });
  assertSameRecords(
    await consume({ topic, partitions, expected: 150 }),
    produced,
    'idempotent records read back',
  );
  const [described] = await admin([{ op: 'describe-producers', topic, partitions }]);
  const answers = described?.partitions as {
    partition: number;
    code: number;
    producers: {
      producerId: number;
      producerEpoch: number;
      lastSequence: number;
      currentTxnStartOffset: number;
    }[];
  }[];
  const producerId = answers[0]?.producers[0]?.producerId;
  assert.ok(typeof producerId === 'number' && producerId >= 0, 'a producer id was assigned');
  assert.deepEqual(
    answers,
    Array.from({ length: partitions }, (_, partition) => ({
      partition,
      code: 0,
      // 50 records per partition from sequence 0; no transaction.
      producers: [{ producerId, producerEpoch: 0, lastSequence: 49, currentTxnStartOffset: -1 }],
    })),
    'one producer per partition, at sequence 49',
  );
});

test(`sarama ${saramaVersion}: transactions (zstd, lz4 and plain batches): read_committed skips the aborted one, offsets commit with the transaction, a new producer fences the old`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('sarama-newest-txn');
  const group = uniqueName('sarama-newest-txn-group');
  const transactionalId = uniqueName('sarama-newest-txn-id');
  const partitions = 3;
  const count = 6;
  await createTopic(topic, partitions);
  const transaction = async (options: {
    prefix: string;
    outcome: 'commit' | 'abort';
    offsets: { partition: number; offset: number }[];
    compression: string;
  }): Promise<PlacedRecord[]> => {
    const events = await sarama.run(
      'transaction',
      { bootstrap: broker.bootstrap, transactionalId, topic, partitions, count, group, ...options },
      { timeoutMs: 45_000 },
    );
    assert.deepEqual(
      eventsNamed(events, 'ended').map((event) => [event.outcome, event.status]),
      [[options.outcome, 'ProducerTxnStateReady']],
      `${options.prefix} ended`,
    );
    return acks(events);
  };
  const committedFirst = await transaction({
    prefix: 'committed-first',
    outcome: 'commit',
    offsets: [{ partition: 0, offset: 11 }],
    compression: 'zstd',
  });
  const aborted = await transaction({
    prefix: 'aborted',
    outcome: 'abort',
    offsets: [
      { partition: 0, offset: 99 },
      { partition: 2, offset: 99 },
    ],
    compression: 'lz4',
  });
  const committedSecond = await transaction({
    prefix: 'committed-second',
    outcome: 'commit',
    offsets: [{ partition: 1, offset: 22 }],
    compression: 'none',
  });
  // Each partition: 2 records and the marker per transaction, so the aborted records (and any
  // reader that missed a marker) sit before the second committed transaction's records.
  assert.deepEqual(
    await admin([
      { op: 'list-offsets', topic, partitions },
      { op: 'group-offsets', group, topic, partitions },
    ]),
    [
      { op: 'list-offsets', offsets: perPartition(partitions, new Map(), 9) },
      {
        op: 'group-offsets',
        offsets: [
          { partition: 0, offset: 11 },
          { partition: 1, offset: 22 },
          { partition: 2, offset: -1 },
        ],
      },
    ],
    'end offsets count the markers; only committed transactions moved the group offsets',
  );
  assertSameRecords(
    await consume({ topic, partitions, expected: 2 * count, isolation: 'read_committed' }),
    [...committedFirst, ...committedSecond],
    'read_committed',
  );
  assertSameRecords(
    await consume({ topic, partitions, expected: 3 * count, isolation: 'read_uncommitted' }),
    [...committedFirst, ...aborted, ...committedSecond],
    'read_uncommitted',
  );

  const fenceEvents = await sarama.run(
    'fence',
    {
      bootstrap: broker.bootstrap,
      transactionalId,
      topic,
      partitions,
      count,
      prefix: 'after-fence',
    },
    { timeoutMs: 45_000 },
  );
  assert.deepEqual(
    eventsNamed(fenceEvents, 'fenced-commit').map((event) => [event.committed, event.code]),
    [[false, ErrorCode.PRODUCER_FENCED]],
    'the fenced producer cannot commit',
  );
  const afterFence = acks(fenceEvents).filter((record) =>
    record.value?.startsWith('after-fence-value'),
  );
  assert.equal(afterFence.length, count, 'the new producer committed its records');
  assertSameRecords(
    await consume({ topic, partitions, expected: 3 * count, isolation: 'read_committed' }),
    [...committedFirst, ...committedSecond, ...afterFence],
    'read_committed after the fence: the fenced transaction was aborted',
  );
  const [described] = await admin([
    { op: 'describe-transactions', transactionalIds: [transactionalId] },
  ]);
  const [state] = (described?.transactions ?? []) as Record<string, unknown>[];
  assert.deepEqual(
    { state: state?.state, code: state?.code, timeoutMs: state?.timeoutMs, topics: state?.topics },
    { state: 'CompleteCommit', code: 0, timeoutMs: 20_000, topics: {} },
    'DescribeTransactions after the last commit',
  );
});

/** One group-strategy run: members join one by one, then records are produced and consumed. */
async function groupStrategyRun(strategy: 'range' | 'sticky' | 'cooperative-sticky'): Promise<{
  settled: Record<string, number[]>[];
  produced: PlacedRecord[];
  consumedBy: Map<number, PlacedRecord[]>;
  /** `member/partition` of every claim a member started (ConsumeClaim), in order. */
  claimsStarted: string[];
}> {
  const topic = uniqueName(`sarama-newest-${strategy}`);
  const partitions = 6;
  await createTopic(topic, partitions);
  const events = await sarama.run(
    'group-strategy',
    {
      bootstrap: broker.bootstrap,
      topic,
      group: uniqueName(`sarama-newest-${strategy}-group`),
      strategy,
      members: 3,
      partitions,
      count: 120,
      prefix: strategy,
      timeoutS: 60,
    },
    { timeoutMs: 80_000 },
  );
  const consumedBy = new Map<number, PlacedRecord[]>();
  for (const event of eventsNamed(events, 'record')) {
    const member = Number(event.member);
    consumedBy.set(member, [...(consumedBy.get(member) ?? []), placedRecordFromEvent(event)]);
  }
  return {
    settled: eventsNamed(events, 'settled').map(
      (event) => event.assignment as Record<string, number[]>,
    ),
    produced: acks(events),
    consumedBy,
    claimsStarted: eventsNamed(events, 'claim')
      .filter((event) => event.started === true)
      .map((event) => `${event.member}/${event.partition}`),
  };
}

/** Each member consumed exactly the produced records of the partitions it was assigned last. */
function assertConsumedAsAssigned(
  run: Awaited<ReturnType<typeof groupStrategyRun>>,
  what: string,
): void {
  const final = run.settled.at(-1) ?? {};
  assert.equal(run.produced.length, 120, `${what}: every record acknowledged`);
  for (const [member, assigned] of Object.entries(final)) {
    assertSameRecords(
      run.consumedBy.get(Number(member)) ?? [],
      run.produced.filter((record) => assigned.includes(record.partition)),
      `${what}: member ${member}`,
    );
  }
}

test(`sarama ${saramaVersion}: consumer group with the range strategy: three members join one by one, each consumes what range assigned it`, {
  timeout: 100_000,
}, async () => {
  const run = await groupStrategyRun('range');
  // Member ids start with the client id (…-member-<n>-), so range orders members by index.
  assert.deepEqual(
    run.settled,
    [
      { 0: [0, 1, 2, 3, 4, 5] },
      { 0: [0, 1, 2], 1: [3, 4, 5] },
      { 0: [0, 1], 1: [2, 3], 2: [4, 5] },
    ],
    'range assignments as the group grew',
  );
  assertConsumedAsAssigned(run, 'range');
});

/** Balanced at every stage, and the first two members kept partitions they had. */
function assertStickyAssignments(
  run: Awaited<ReturnType<typeof groupStrategyRun>>,
  what: string,
): void {
  const [alone, two, three] = run.settled;
  assert.deepEqual(alone, { 0: [0, 1, 2, 3, 4, 5] }, `${what}: the first member takes everything`);
  assert.deepEqual(
    Object.values(two ?? {}).map((assigned) => assigned.length),
    [3, 3],
    `${what}: two members, three partitions each`,
  );
  assert.deepEqual(
    Object.values(three ?? {}).map((assigned) => assigned.length),
    [2, 2, 2],
    `${what}: three members, two partitions each`,
  );
  for (const member of ['0', '1']) {
    const kept = three?.[member] ?? [];
    assert.ok(
      kept.every((partition) => two?.[member]?.includes(partition)),
      `${what}: member ${member} kept its partitions (${two?.[member]} → ${kept}): the user data the broker relayed carried its previous assignment`,
    );
  }
}

test(`sarama ${saramaVersion}: consumer group with the sticky strategy: members keep their partitions as the group grows`, {
  timeout: 100_000,
}, async () => {
  const run = await groupStrategyRun('sticky');
  assertStickyAssignments(run, 'sticky');
  assertConsumedAsAssigned(run, 'sticky');
});

test(`sarama ${saramaVersion}: consumer group with the cooperative-sticky strategy: incremental rebalances never stop a partition a member keeps`, {
  timeout: 100_000,
}, async () => {
  const run = await groupStrategyRun('cooperative-sticky');
  assertStickyAssignments(run, 'cooperative-sticky');
  // Eager rebalancing restarts every claim at every generation; KIP-429's revokes only what
  // moves, and a member gets moved partitions in a follow-up rebalance, so no claim starts twice.
  assert.deepEqual(
    run.claimsStarted.filter((claim, index) => run.claimsStarted.indexOf(claim) !== index),
    [],
    'no member started a claim twice',
  );
  assert.equal(
    run.claimsStarted.length,
    11,
    'claims started: 6 by the first member, 3 moved to the second, 2 to the third',
  );
  assertConsumedAsAssigned(run, 'cooperative-sticky');
});
