import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { BrokerProcess } from './harness/broker-process.js';
import { GoClient } from './harness/go-client.js';
import { type ClientEvent, eventsNamed } from './harness/json-lines-process.js';
import { kafkajsCommittedOffsets, kafkajsProduce, newKafkajs } from './harness/kafkajs-client.js';
import { endOffsets, type PlacedRecord, uniqueName } from './harness/records.js';

/**
 * kafka-go 0.2.1 (Debian's golang-github-segmentio-kafka-go-dev). It hard-codes Produce v2 and
 * Fetch v2, i.e. message format v1, which the broker does not serve (Kafka 4.0 removed them too,
 * KIP-896), so kafka-go cannot move records here: kafkajs writes them, and kafka-go does
 * everything else it can — CreateTopics v0, Metadata v1, ListOffsets v1, a Reader group member
 * (JoinGroup v1, SyncGroup v0, Heartbeat v0, OffsetFetch v1, OffsetCommit v2). Its Reader.Close
 * never sends LeaveGroup (a kafka-go 0.2.1 bug), so the second member waits for the first one's
 * session (6 s) to expire.
 */

const partitions = 3;
const unsupportedVersion = 35;
let broker: BrokerProcess;
let kafkaGo: GoClient;
let kafka: Kafka;
before(async () => {
  kafkaGo = await GoClient.build('kafka-go');
  broker = await BrokerProcess.start({ label: 'broker(kafka-go)' });
  kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'gregor-e2e-kafka-go-helper' });
});
after(async () => {
  await broker?.dispose();
  await kafkaGo?.dispose();
});

/** Partition → offset from events carrying `partition` and `field`, in partition order. */
function offsetsByPartition(events: readonly ClientEvent[], field: string): [number, number][] {
  return events
    .map((event): [number, number] => [Number(event.partition), Number(event[field])])
    .sort(([a], [b]) => a - b);
}

/** Every partition of the topic with the next offset after `records` (0 where none landed). */
function expectedEnds(records: readonly PlacedRecord[]): [number, number][] {
  const ends = endOffsets(records);
  return Array.from({ length: partitions }, (_, partition) => [
    partition,
    ends.get(partition) ?? 0,
  ]);
}

async function listOffsets(topic: string): Promise<ClientEvent[]> {
  const events = await kafkaGo.run(
    'list-offsets',
    { bootstrap: broker.bootstrap, topic, partitions },
    { timeoutMs: 15_000 },
  );
  return eventsNamed(events, 'offsets');
}

/** One group member run: joins, reports where it starts, commits `commit`, closes. */
async function groupCommit(options: {
  topic: string;
  group: string;
  commit: readonly [number, number][];
}): Promise<ClientEvent[]> {
  return kafkaGo.run(
    'group-commit',
    {
      bootstrap: broker.bootstrap,
      topic: options.topic,
      group: options.group,
      partitions,
      commit: options.commit.map(([partition, offset]) => ({ partition, offset })),
      timeoutS: 20,
    },
    { timeoutMs: 30_000 },
  );
}

test('kafka-go 0.2.1: create a topic, metadata, list offsets, commit in a group, resume from the commit', {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('kafka-go-topic');
  const group = uniqueName('kafka-go-group');
  const bootstrap = broker.bootstrap;
  await kafkaGo.run('create-topic', { bootstrap, topic, partitions }, { timeoutMs: 15_000 });

  const metadata = eventsNamed(
    await kafkaGo.run('metadata', { bootstrap, topic }, { timeoutMs: 15_000 }),
    'partition',
  );
  assert.deepEqual(
    metadata
      .map((event) => ({ partition: event.partition, leader: event.leader, isr: event.isr }))
      .sort((a, b) => Number(a.partition) - Number(b.partition)),
    Array.from({ length: partitions }, (_, partition) => ({
      partition,
      leader: { id: 1, host: broker.host, port: broker.port },
      isr: 1,
    })),
    'every partition led by node 1 at the address kafka-go bootstrapped from',
  );

  const first = await kafkajsProduce(kafka, { topic, partitions, count: 60, prefix: 'first' });
  const listedFirst = await listOffsets(topic);
  assert.deepEqual(offsetsByPartition(listedFirst, 'first'), expectedEnds([]), 'log start offsets');
  assert.deepEqual(
    offsetsByPartition(listedFirst, 'last'),
    expectedEnds(first),
    'end offsets after the first batch',
  );

  const firstRun = await groupCommit({ topic, group, commit: expectedEnds(first) });
  assert.deepEqual(
    offsetsByPartition(eventsNamed(firstRun, 'start'), 'offset'),
    Array.from({ length: partitions }, (_, partition) => [partition, -2]),
    'a new group starts every partition at the earliest offset (-2: nothing committed)',
  );
  assert.equal(eventsNamed(firstRun, 'closed').length, 1, 'the member closed');
  const committedFirst = await kafkajsCommittedOffsets(kafka, { topic, group });
  assert.deepEqual(
    [...committedFirst].sort(([a], [b]) => a - b),
    expectedEnds(first),
    'the offsets kafka-go committed, read back by kafkajs',
  );

  const second = await kafkajsProduce(kafka, { topic, partitions, count: 30, prefix: 'second' });
  const secondRun = await groupCommit({
    topic,
    group,
    commit: expectedEnds([...first, ...second]),
  });
  assert.deepEqual(
    offsetsByPartition(eventsNamed(secondRun, 'start'), 'offset'),
    expectedEnds(first),
    'the second member run resumes from the committed offsets',
  );
  const committedSecond = await kafkajsCommittedOffsets(kafka, { topic, group });
  assert.deepEqual(
    [...committedSecond].sort(([a], [b]) => a - b),
    expectedEnds([...first, ...second]),
    'the second run committed the end of the second batch',
  );
  assert.deepEqual(
    offsetsByPartition(await listOffsets(topic), 'last'),
    expectedEnds([...first, ...second]),
    'end offsets after the second batch',
  );
});

test('kafka-go 0.2.1: Produce v2 (message format v1) is refused with UNSUPPORTED_VERSION and appends nothing', {
  timeout: 30_000,
}, async () => {
  const topic = uniqueName('kafka-go-v1-topic');
  const bootstrap = broker.bootstrap;
  await kafkaGo.run('create-topic', { bootstrap, topic, partitions }, { timeoutMs: 15_000 });
  const events = await kafkaGo.run(
    'produce',
    { bootstrap, topic, partition: 1, key: 'v1-key', value: 'v1-value' },
    { timeoutMs: 15_000 },
  );
  assert.deepEqual(
    events.map((event) => [event.event, event.code]),
    [['produce-error', unsupportedVersion]],
    'Produce v2 answered with UNSUPPORTED_VERSION',
  );
  assert.deepEqual(
    offsetsByPartition(await listOffsets(topic), 'last'),
    expectedEnds([]),
    'nothing appended',
  );
});
