import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type ClientEvent,
  type JsonLinesProcess,
  runPythonClient,
  spawnPythonClient,
} from './harness/json-lines-process.js';
import {
  assertContiguousOffsets,
  assertInOrderPerPartition,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  placedRecordFromEvent,
  uniqueName,
} from './harness/records.js';

/**
 * confluent-kafka for Python (Debian's python3-confluent-kafka on librdkafka 2.0.2): AdminClient,
 * an acks=all producer, a consumer group of three member processes that split six partitions and
 * rebalance when one leaves, committed offsets that survive a broker restart, offsets_for_times.
 */

const script = 'confluent_client.py';
const partitionCount = 6;
const allPartitions = [0, 1, 2, 3, 4, 5];
const groupTimeoutMs = 60_000;

let broker: BrokerProcess;
const members: JsonLinesProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(confluent)' });
});
after(async () => {
  await Promise.all(members.map((member) => member.kill()));
  await broker?.dispose();
});

interface Acknowledged extends PlacedRecord {
  timestamp: number;
}

async function produce(topic: string, count: number, prefix: string): Promise<Acknowledged[]> {
  const events = await runPythonClient({
    script,
    command: 'produce',
    parameters: { bootstrap: broker.bootstrap, topic, count, prefix, acks: 'all', keySpace: 50 },
    timeoutMs: 60_000,
  });
  const done = events.find((event) => event.event === 'done');
  assert.deepEqual(
    { acked: done?.acked, failed: done?.failed },
    { acked: count, failed: 0 },
    `every record acknowledged: ${JSON.stringify(events.filter((e) => e.event === 'failed').slice(0, 3))}`,
  );
  return events
    .filter((event) => event.event === 'ack')
    .map((event) => ({ ...placedRecordFromEvent(event), timestamp: Number(event.timestamp) }));
}

function startMember(topic: string, group: string, name: string): JsonLinesProcess {
  const member = spawnPythonClient({
    script,
    command: 'member',
    parameters: { bootstrap: broker.bootstrap, topic, group, clientId: name },
    label: name,
  });
  members.push(member);
  return member;
}

function latestAssignment(member: JsonLinesProcess): number[] | undefined {
  const last = member.events
    .filter((event) => event.event === 'assigned' || event.event === 'revoked')
    .at(-1);
  return last?.event === 'assigned' ? (last.partitions as number[]) : undefined;
}

function receivedRecords(events: readonly ClientEvent[]): PlacedRecord[] {
  return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
}

/** Waits until the members' current assignments split `allPartitions` between them exactly. */
async function waitForSplit(group: readonly JsonLinesProcess[], what: string): Promise<number[][]> {
  const deadlineMs = Date.now() + groupTimeoutMs;
  for (;;) {
    const assignments = group.map(latestAssignment);
    if (assignments.every((assignment) => assignment !== undefined && assignment.length > 0)) {
      const union = (assignments as number[][]).flat().sort((a, b) => a - b);
      if (JSON.stringify(union) === JSON.stringify(allPartitions)) return assignments as number[][];
    }
    if (Date.now() > deadlineMs) {
      throw new Error(
        `${what}: assignments never split the partitions: ${JSON.stringify(assignments)}\n${group.map((m) => m.process.output().slice(-2000)).join('\n---\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForRecords(
  group: readonly JsonLinesProcess[],
  count: number,
  what: string,
): Promise<void> {
  const deadlineMs = Date.now() + groupTimeoutMs;
  while (
    group.reduce((total, member) => total + receivedRecords(member.events).length, 0) < count
  ) {
    if (Date.now() > deadlineMs) throw new Error(`${what}: fewer than ${count} records received`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function committedOffsets(topic: string, group: string): Promise<Map<number, number>> {
  const events = await runPythonClient({
    script,
    command: 'committed',
    parameters: { bootstrap: broker.bootstrap, topic, group, partitions: allPartitions },
    timeoutMs: 30_000,
  });
  const offsets = events.find((event) => event.event === 'committed-offsets')?.offsets as {
    partition: number;
    offset: number;
    error: string | null;
  }[];
  for (const entry of offsets)
    assert.equal(entry.error, null, `committed offset error: ${entry.error}`);
  return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
}

function sortedEntries(map: Map<number, number>): [number, number][] {
  return [...map].sort(([a], [b]) => a - b);
}

test('confluent-kafka: admin, acks=all, a three-process group, rebalance, restart, offsets_for_times', {
  timeout: 300_000,
}, async (t) => {
  const topic = uniqueName('confluent');
  const group = uniqueName('confluent-group');

  await t.test('AdminClient creates a topic with 6 partitions', async () => {
    const events = await runPythonClient({
      script,
      command: 'create-topic',
      parameters: { bootstrap: broker.bootstrap, topic, partitions: partitionCount },
      timeoutMs: 30_000,
    });
    const metadata = events.find((event) => event.event === 'metadata');
    assert.equal(metadata?.error, null);
    assert.deepEqual(metadata?.partitions, allPartitions);
    assert.deepEqual(metadata?.brokers, [
      { id: ((metadata?.leaders ?? []) as number[])[0], host: broker.host, port: broker.port },
    ]);
  });

  const [first, second, third] = ['member-a', 'member-b', 'member-c'].map((name) =>
    startMember(topic, group, name),
  );
  let firstBatch: Acknowledged[] = [];
  let secondBatch: Acknowledged[] = [];
  let thirdBatch: Acknowledged[] = [];

  await t.test(
    'three member processes split the six partitions and consume every record once',
    async () => {
      const assignments = await waitForSplit([first, second, third], 'three members');
      assert.equal(assignments.flat().length, partitionCount, 'no partition assigned twice');
      firstBatch = await produce(topic, 600, 'first');
      assertContiguousOffsets(firstBatch, { from: 0, what: 'acks=all offsets' });
      await waitForRecords([first, second, third], 600, 'three members');
      const received = [first, second, third].flatMap((member) => receivedRecords(member.events));
      for (const member of [first, second, third]) {
        assertInOrderPerPartition(receivedRecords(member.events), member.process.label);
        const owned = new Set(latestAssignment(member));
        for (const record of receivedRecords(member.events)) {
          assert.ok(
            owned.has(record.partition),
            `${member.process.label} got partition ${record.partition} it does not own`,
          );
        }
      }
      assertSameRecords(received, firstBatch, 'the group consumed every record once');
    },
  );

  await t.test(
    'the group rebalances when a member leaves and the rest take its partitions',
    async () => {
      const leaverPartitions = latestAssignment(third) ?? [];
      await third.finish({ timeoutMs: 30_000 });
      await waitForSplit([first, second], 'two members after one left');
      const before = [first, second].map((member) => receivedRecords(member.events).length);
      secondBatch = await produce(topic, 300, 'second');
      await waitForRecords([first, second], before[0] + before[1] + 300, 'two members');
      const receivedAfter = [first, second].flatMap((member, index) =>
        receivedRecords(member.events).slice(before[index]),
      );
      assertSameRecords(
        receivedAfter,
        secondBatch,
        'the remaining members consumed the second batch once',
      );
      const takenOver = receivedAfter.filter((record) =>
        leaverPartitions.includes(record.partition),
      );
      assert.ok(
        takenOver.length > 0,
        "records of the leaver's partitions were consumed by the others",
      );
      await Promise.all([
        first.finish({ timeoutMs: 30_000 }),
        second.finish({ timeoutMs: 30_000 }),
      ]);
    },
  );

  await t.test(
    'committed offsets survive a broker restart and the group resumes from them',
    async () => {
      const expectedEnds = endOffsets([...firstBatch, ...secondBatch]);
      assert.deepEqual(
        sortedEntries(await committedOffsets(topic, group)),
        sortedEntries(expectedEnds),
      );
      await broker.kill('SIGTERM');
      await broker.restart();
      assert.deepEqual(
        sortedEntries(await committedOffsets(topic, group)),
        sortedEntries(expectedEnds),
        'after restart',
      );
      thirdBatch = await produce(topic, 60, 'third');
      const resumed = startMember(topic, group, 'member-d');
      await waitForRecords([resumed], 60, 'resumed member');
      await resumed.finish({ timeoutMs: 30_000 });
      assertSameRecords(
        receivedRecords(resumed.events),
        thirdBatch,
        'only records after the committed offsets',
      );
    },
  );

  await t.test('offsets_for_times finds the first offset at or after a timestamp', async () => {
    const acknowledged = [...firstBatch, ...secondBatch, ...thirdBatch];
    const queries = allPartitions.map((partition) => {
      const ofPartition = secondBatch.filter((record) => record.partition === partition);
      return { partition, timestamp: ofPartition.length > 0 ? ofPartition[0].timestamp : 0 };
    });
    // One query per partition and request: librdkafka answers a partition listed twice only once.
    const ask = async (list: { partition: number; timestamp: number }[]) => {
      const events = await runPythonClient({
        script,
        command: 'offsets-for-times',
        parameters: { bootstrap: broker.bootstrap, topic, queries: list },
        timeoutMs: 30_000,
      });
      return events.find((event) => event.event === 'offsets')?.offsets as {
        partition: number;
        offset: number;
        error: string | null;
      }[];
    };
    const answers = await ask(queries);
    for (const [index, query] of queries.entries()) {
      const expected = acknowledged
        .filter(
          (record) => record.partition === query.partition && record.timestamp >= query.timestamp,
        )
        .reduce((lowest, record) => Math.min(lowest, record.offset), Number.POSITIVE_INFINITY);
      assert.equal(answers[index].error, null);
      assert.equal(
        answers[index].offset,
        expected,
        `partition ${query.partition} at ${query.timestamp}`,
      );
    }
    const [future] = await ask([{ partition: 0, timestamp: Date.now() + 3_600_000 }]);
    assert.equal(future.offset, -1, 'a timestamp after every record finds no offset (-1)');
  });
});
