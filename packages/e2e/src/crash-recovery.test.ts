import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type JsonLinesProcess,
  runPythonClient,
  spawnPythonClient,
} from './harness/json-lines-process.js';
import { kafkajsCreateTopic, newKafkajs } from './harness/kafkajs-client.js';
import {
  assertContiguousOffsets,
  assertNoDuplicatePlaces,
  type PlacedRecord,
  placedRecordFromEvent,
  sortByPlace,
  uniqueName,
} from './harness/records.js';

/**
 * The broker dies mid-stream (SIGKILL, then SIGTERM) while a librdkafka producer with acks=all
 * records what was acknowledged and a consumer group member commits what it read. After a restart
 * on the same data directory and port, every acknowledged record is at its acknowledged place with
 * its exact key and value, and every committed offset is still there.
 */

const script = 'confluent_client.py';
const partitions = [0, 1, 2];
const stepTimeoutMs = 60_000;

let broker: BrokerProcess;
const topic = uniqueName('crash');
const group = uniqueName('crash-group');
const acknowledged: PlacedRecord[] = [];
const committed = new Map<number, number>();
const clients: JsonLinesProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(crash)' });
  await kafkajsCreateTopic(newKafkajs({ bootstrap: broker.bootstrap, clientId: 'crash-setup' }), {
    topic,
    partitions: partitions.length,
  });
});
after(async () => {
  await Promise.all(clients.map((client) => client.kill()));
  await broker?.dispose();
});

/** Runs a producer and a committing member until `signal` kills the broker; collects their reports. */
async function killMidStream(signal: 'SIGKILL' | 'SIGTERM', prefix: string): Promise<void> {
  const producer = spawnPythonClient({
    script,
    command: 'produce',
    parameters: {
      bootstrap: broker.bootstrap,
      topic,
      prefix,
      continuous: true,
      acks: 'all',
      pauseMs: 1,
      inFlightMax: 200,
      messageTimeoutMs: 4_000,
      flushTimeoutS: 8,
    },
    label: `producer(${prefix})`,
  });
  const member = spawnPythonClient({
    script,
    command: 'member',
    parameters: {
      bootstrap: broker.bootstrap,
      topic,
      group,
      clientId: `member-${prefix}`,
      batch: 50,
    },
    label: `member(${prefix})`,
  });
  clients.push(producer, member);
  const acksBefore = acknowledged.length;
  await producer.waitFor(
    (events) => events.filter((event) => event.event === 'ack').length >= 1_500 || undefined,
    {
      timeoutMs: stepTimeoutMs,
      what: '1500 acknowledged records',
    },
  );
  await member.waitFor(
    (events) => {
      const partitionsCommitted = new Set(
        events
          .filter((event) => event.event === 'committed')
          .flatMap((event) =>
            (event.offsets as { partition: number }[]).map((entry) => entry.partition),
          ),
      );
      return partitionsCommitted.size === partitions.length || undefined;
    },
    { timeoutMs: stepTimeoutMs, what: 'commits on every partition' },
  );

  const status = await broker.kill(signal);
  if (signal === 'SIGKILL') assert.equal(status.signal, 'SIGKILL');
  else assert.notEqual(status.signal, 'SIGKILL', 'SIGTERM shut the broker down within 10 s');

  // With the broker gone nothing more can be acknowledged or committed: collect the reports.
  await producer.finish({ timeoutMs: 30_000 });
  await member.kill();
  for (const event of producer.eventsOf('ack')) acknowledged.push(placedRecordFromEvent(event));
  for (const event of member.eventsOf('committed')) {
    for (const entry of event.offsets as { partition: number; offset: number }[]) {
      committed.set(entry.partition, Math.max(committed.get(entry.partition) ?? 0, entry.offset));
    }
  }
  assert.ok(acknowledged.length - acksBefore >= 1_500);
  await broker.restart();
}

async function readEverything(): Promise<PlacedRecord[]> {
  const events = await runPythonClient({
    script,
    command: 'read-all',
    parameters: { bootstrap: broker.bootstrap, topic, partitions },
    timeoutMs: 90_000,
  });
  return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
}

async function assertSurvivors(what: string, context: TestContext): Promise<void> {
  const stored = await readEverything();
  context.diagnostic(
    `${what}: ${acknowledged.length} acknowledged, ${stored.length} stored, commits ${JSON.stringify([...committed])}, restart ready in ${Math.round(broker.lastReadyMs)} ms`,
  );
  assertNoDuplicatePlaces(stored, `${what}: stored records`);
  assertContiguousOffsets(stored, { from: 0, what: `${what}: no gap in the log` });
  const storedByPlace = new Map(
    stored.map((record) => [`${record.partition}@${record.offset}`, record]),
  );
  const missing = sortByPlace(acknowledged).filter((record) => {
    const found = storedByPlace.get(`${record.partition}@${record.offset}`);
    return !found || found.key !== record.key || found.value !== record.value;
  });
  assert.deepEqual(
    missing.slice(0, 10),
    [],
    `${what}: ${missing.length} of ${acknowledged.length} acknowledged records lost or changed`,
  );

  const events = await runPythonClient({
    script,
    command: 'committed',
    parameters: { bootstrap: broker.bootstrap, topic, group, partitions },
    timeoutMs: 30_000,
  });
  const offsets = events.find((event) => event.event === 'committed-offsets')?.offsets as {
    partition: number;
    offset: number;
  }[];
  const afterRestart = new Map(offsets.map((entry) => [entry.partition, entry.offset]));
  const ends = new Map<number, number>();
  for (const record of stored)
    ends.set(record.partition, Math.max(ends.get(record.partition) ?? 0, record.offset + 1));
  for (const [partition, offset] of committed) {
    // A commit whose response was lost in the crash may have landed too: never less than reported.
    const found = afterRestart.get(partition) ?? -1;
    assert.ok(
      found >= offset,
      `${what}: partition ${partition} committed ${found}, reported ${offset}`,
    );
    assert.ok(
      found <= (ends.get(partition) ?? 0),
      `${what}: partition ${partition} committed past the log end`,
    );
  }
  assert.equal(committed.size, partitions.length, 'the member reported commits on every partition');
}

test('acknowledged records and committed offsets survive SIGKILL', {
  timeout: 240_000,
}, async (context) => {
  await killMidStream('SIGKILL', 'kill9');
  await assertSurvivors('after SIGKILL', context);
});

test('acknowledged records and committed offsets survive SIGTERM', {
  timeout: 240_000,
}, async (context) => {
  await killMidStream('SIGTERM', 'term');
  await assertSurvivors('after SIGTERM', context);
});
