import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runAdminTour } from './harness/admin-tour.js';
import { BrokerProcess } from './harness/broker-process.js';
import { runCodecScenario } from './harness/codec-scenario.js';
import {
  type ClientEvent,
  type JsonLinesProcess,
  runPythonClient,
  spawnPythonClient,
} from './harness/json-lines-process.js';
import { newestPython, newestVersions, type PythonRuntime } from './harness/python-runtimes.js';
import {
  assertInOrderPerPartition,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  placedRecordFromEvent,
  uniqueName,
} from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';
import {
  produceThroughBrokerKills,
  runKilledProcessorScenario,
} from './harness/transaction-scenario.js';
import { waitUntil } from './harness/wait.js';

/**
 * confluent-kafka for Python at its newest on PyPI (its wheel bundles librdkafka), run from the
 * virtualenv of scripts/setup-python-clients.sh with the same client scripts as Debian's 2.0.2:
 * a classic group round trip, the four codecs, the AdminClient, a KIP-848 group
 * (group.protocol=consumer) that shares partitions and loses a member, consume-transform-produce
 * transactions with the processor SIGKILLed, and an idempotent producer across broker SIGKILLs.
 */

/** librdkafka inside the pinned wheel (checked by the first test). */
const librdkafkaVersion = '2.16.0';
const version = `${newestVersions.confluentKafka} (librdkafka ${librdkafkaVersion})`;
const script = 'confluent_client.py';
const transactionScript = 'txn_client.py';
const brokerArguments = [
  // KIP-848 members reconcile on heartbeats: 500 ms instead of Kafka's 5 s keeps the test short.
  '--override',
  'group.consumer.min.heartbeat.interval.ms=500',
  '--override',
  'group.consumer.heartbeat.interval.ms=500',
  '--override',
  'group.initial.rebalance.delay.ms=0',
  '--override',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms=250',
];

let broker: BrokerProcess;
let python: PythonRuntime;
const spawned: JsonLinesProcess[] = [];

before(async () => {
  python = newestPython(`confluent-kafka ${newestVersions.confluentKafka}`);
  broker = await BrokerProcess.start({
    label: 'broker(confluent-newest)',
    extraArguments: brokerArguments,
  });
});
after(async () => {
  await Promise.all(spawned.map((client) => client.kill()));
  await broker?.dispose();
});

function run(command: string, parameters: object, timeoutMs = 60_000): Promise<ClientEvent[]> {
  return runPythonClient({
    script,
    command,
    parameters: { bootstrap: broker.bootstrap, ...parameters },
    timeoutMs,
    python,
  });
}

function spawn(
  command: string,
  parameters: object,
  label: string,
  scriptName = script,
): JsonLinesProcess {
  const client = spawnPythonClient({
    script: scriptName,
    command,
    parameters: { bootstrap: broker.bootstrap, ...parameters },
    label,
    python,
  });
  spawned.push(client);
  return client;
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  await run('create-topic', { topic, partitions });
}

async function produce(options: {
  topic: string;
  count: number;
  prefix: string;
  compression?: string;
}): Promise<PlacedRecord[]> {
  const events = await run('produce', { ...options, acks: 'all' });
  const done = events.find((event) => event.event === 'done');
  assert.deepEqual(
    { acked: done?.acked, failed: done?.failed },
    { acked: options.count, failed: 0 },
    JSON.stringify(events.filter((event) => event.event === 'failed').slice(0, 3)),
  );
  return events.filter((event) => event.event === 'ack').map(placedRecordFromEvent);
}

function records(events: readonly ClientEvent[]): PlacedRecord[] {
  return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
}

/** Runs one group member until it has `expected` records and has committed after the last one. */
async function consumeInGroup(options: {
  topic: string;
  group: string;
  expected: number;
  groupProtocol?: 'classic' | 'consumer';
}): Promise<PlacedRecord[]> {
  const member = spawn('member', options, `member(${options.group})`);
  await member.waitFor(
    (events) => {
      // The member commits synchronously after each batch: done once a commit follows the last record.
      const last = [...events]
        .reverse()
        .find((event) => event.event === 'record' || event.event === 'committed');
      return records(events).length >= options.expected && last?.event === 'committed';
    },
    { timeoutMs: 60_000, what: `${options.expected} records consumed and committed` },
  );
  await member.finish({ timeoutMs: 30_000 });
  return records(member.events);
}

async function committedOffsets(options: {
  topic: string;
  group: string;
  partitions: number;
}): Promise<Map<number, number>> {
  const events = await run('committed', {
    topic: options.topic,
    group: options.group,
    partitions: Array.from({ length: options.partitions }, (_, partition) => partition),
  });
  const offsets = events.find((event) => event.event === 'committed-offsets')?.offsets as {
    partition: number;
    offset: number;
  }[];
  return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
}

test(`confluent-kafka ${version}: produce, consume in a classic group, commit, resume from the commit`, {
  timeout: 180_000,
}, async (t) => {
  const versions = await run('versions', {});
  const reported = versions.find((event) => event.event === 'versions');
  t.diagnostic(`versions: ${JSON.stringify(reported)}`);
  assert.deepEqual(
    { version: reported?.version, librdkafka: reported?.librdkafka },
    { version: newestVersions.confluentKafka, librdkafka: librdkafkaVersion },
  );
  await runRoundTripScenario(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce(options),
      consumeGroup: (options) => consumeInGroup(options),
      committedOffsets: (options) => committedOffsets(options),
    },
    { name: 'confluent-newest', partitions: 3, firstCount: 150, secondCount: 60 },
  );
});

test(`confluent-kafka ${version}: gzip, snappy, lz4 and zstd batches stored as sent and read back exactly`, {
  timeout: 180_000,
}, async () => {
  await runCodecScenario(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce({ ...options }),
      async readAll(options) {
        return records(
          await run('read-all', { topic: options.topic, partitions: options.partitions }),
        );
      },
    },
    { name: 'confluent-newest', dataDirectory: broker.dataDirectory, count: 200 },
  );
});

test(`confluent-kafka ${version}: AdminClient (cluster, topics, partitions, configs, offsets, records, groups)`, {
  timeout: 120_000,
}, async () => {
  const { events, group, acknowledged } = await runAdminTour(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce(options),
      consumeGroup: (options) => consumeInGroup({ ...options, groupProtocol: 'consumer' }),
      runTour: (parameters) => run('admin-tour', parameters),
    },
    { name: 'confluent', broker: { host: broker.host, port: broker.port } },
  );
  const endsObject = Object.fromEntries(
    [...endOffsets(acknowledged)].map(([partition, end]) => [String(partition), end]),
  );
  const of = (name: string) => events.filter((event) => event.event === name);
  const [described, created] = of('topic');
  assert.notEqual(described?.topicId, created?.topicId);
  assert.equal(of('configs')[1]?.source, '1', 'DYNAMIC_TOPIC_CONFIG');
  assert.deepEqual(
    of('offsets').map(({ spec, offsets }) => ({ spec, offsets })),
    [
      { spec: 'earliest', offsets: { 0: 0, 1: 0, 2: 0 } },
      { spec: 'latest', offsets: endsObject },
      { spec: 'earliest-after-delete', offsets: { 0: 5, 1: 0, 2: 0 } },
    ],
  );
  assert.deepEqual(of('groups')[0]?.groups, [
    { id: group, state: 'ConsumerGroupState.EMPTY', type: 'ConsumerGroupType.CONSUMER' },
  ]);
  const groupDescription = of('group')[0];
  assert.deepEqual(
    {
      state: groupDescription?.state,
      type: groupDescription?.type,
      members: groupDescription?.members,
      coordinator: groupDescription?.coordinator,
    },
    {
      state: 'ConsumerGroupState.EMPTY',
      type: 'ConsumerGroupType.CONSUMER',
      members: 0,
      coordinator: 1,
    },
  );
  assert.deepEqual(
    of('group-offsets').map(({ step, offsets }) => ({ step, offsets })),
    [
      { step: 'before', offsets: endsObject },
      { step: 'after', offsets: { 0: 1, 1: 1, 2: 1 } },
    ],
  );
  assert.equal(of('group-deleted')[0]?.listed, false);
});

/** Who owned which partition when, from one member's assignment events (shared monotonic clock). */
interface Ownership {
  member: string;
  partition: number;
  fromS: number;
  untilS: number;
}

function ownerships(member: JsonLinesProcess): Ownership[] {
  const label = member.process.label;
  const owned = new Map<number, number>();
  const result: Ownership[] = [];
  const release = (partition: number, atS: number) => {
    const fromS = owned.get(partition);
    assert.ok(fromS !== undefined, `${label} released partition ${partition} it did not own`);
    result.push({ member: label, partition, fromS, untilS: atS });
    owned.delete(partition);
  };
  for (const event of member.events) {
    const atS = Number(event.at);
    if (event.event === 'assigned') {
      for (const partition of event.partitions as number[]) {
        assert.ok(!owned.has(partition), `${label} assigned partition ${partition} twice`);
        owned.set(partition, atS);
      }
    } else if (event.event === 'revoked' || event.event === 'lost') {
      for (const partition of event.partitions as number[]) release(partition, atS);
    } else if (event.event === 'record') {
      const partition = Number(event.partition);
      assert.ok(
        owned.has(partition),
        `${label} got a record of partition ${partition} it does not own`,
      );
    } else if (event.event === 'closed') {
      for (const partition of [...owned.keys()]) release(partition, atS);
    }
  }
  for (const [partition, fromS] of owned) {
    result.push({ member: label, partition, fromS, untilS: Number.POSITIVE_INFINITY });
  }
  return result;
}

function ownedNow(member: JsonLinesProcess): number[] {
  return ownerships(member)
    .filter((ownership) => ownership.untilS === Number.POSITIVE_INFINITY)
    .map((ownership) => ownership.partition)
    .sort((a, b) => a - b);
}

/** Waits for a condition over several members' events; the failure shows their assignments. */
async function waitForMembers(
  members: readonly JsonLinesProcess[],
  condition: () => boolean,
  options: { timeoutMs: number; what: string },
): Promise<void> {
  await waitUntil(condition, options).catch((error: Error) => {
    const assignments = members.map(
      (member) =>
        `${member.process.label}: ${member.events
          .filter((event) => event.event !== 'record' && event.event !== 'committed')
          .map((event) => JSON.stringify(event))
          .join(' ')}`,
    );
    throw new Error(`${error.message}\n${assignments.join('\n')}`);
  });
}

test(`confluent-kafka ${version}: KIP-848 group (group.protocol=consumer), two members share six partitions, one leaves: no record lost or repeated, no partition owned twice`, {
  timeout: 180_000,
}, async () => {
  const topic = uniqueName('kip848');
  const group = uniqueName('kip848-group');
  const all = [0, 1, 2, 3, 4, 5];
  await createTopic(topic, all.length);
  const parameters = { topic, group, groupProtocol: 'consumer' };
  const first = spawn('member', { ...parameters, clientId: 'member-a' }, 'member-a');
  await waitForMembers([first], () => JSON.stringify(ownedNow(first)) === JSON.stringify(all), {
    timeoutMs: 30_000,
    what: 'the first member owns all six partitions',
  });
  const before = await produce({ topic, count: 300, prefix: 'one-member' });

  const second = spawn('member', { ...parameters, clientId: 'member-b' }, 'member-b');
  const splitOwnership = () => {
    const [a, b] = [ownedNow(first), ownedNow(second)];
    return (
      a.length > 0 && b.length > 0 && JSON.stringify([...a, ...b].sort()) === JSON.stringify(all)
    );
  };
  // Produced while the second member joins and the first revokes half of its partitions.
  const during = await produce({ topic, count: 300, prefix: 'joining' });
  await waitForMembers([first, second], splitOwnership, {
    timeoutMs: 30_000,
    what: 'the two members split the partitions',
  });
  const shared = await produce({ topic, count: 300, prefix: 'shared' });
  const consumedBy = (member: JsonLinesProcess) => records(member.events);
  const total = () => consumedBy(first).length + consumedBy(second).length;
  await waitForMembers([first, second], () => total() >= 900, {
    timeoutMs: 60_000,
    what: '900 records consumed',
  });
  assert.ok(consumedBy(second).length > 0, 'the second member consumed its share');

  // The second member leaves (LeaveGroup heartbeat, epoch -1) while records keep arriving.
  const leaving = produce({ topic, count: 300, prefix: 'leaving' });
  await second.finish({ timeoutMs: 30_000 });
  const afterLeave = await leaving;
  await waitForMembers([first], () => JSON.stringify(ownedNow(first)) === JSON.stringify(all), {
    timeoutMs: 30_000,
    what: 'the remaining member owns all six partitions again',
  });
  await waitForMembers([first, second], () => total() >= 1200, {
    timeoutMs: 60_000,
    what: '1200 records consumed',
  });
  await first.finish({ timeoutMs: 30_000 });

  const acknowledged = [...before, ...during, ...shared, ...afterLeave];
  const consumed = [...consumedBy(first), ...consumedBy(second)];
  for (const member of [first, second]) {
    assertInOrderPerPartition(consumedBy(member), member.process.label);
  }
  assertSameRecords(consumed, acknowledged, 'each acknowledged record consumed exactly once');

  const intervals = [...ownerships(first), ...ownerships(second)];
  for (const partition of all) {
    const owners = intervals
      .filter((ownership) => ownership.partition === partition)
      .sort((a, b) => a.fromS - b.fromS);
    for (let index = 1; index < owners.length; index++) {
      assert.ok(
        owners[index].fromS >= owners[index - 1].untilS,
        `partition ${partition} owned twice: ${JSON.stringify(owners)}`,
      );
    }
  }
  assert.ok(
    intervals.some(
      (ownership) =>
        ownership.member === 'member-a' && ownership.untilS !== Number.POSITIVE_INFINITY,
    ),
    'the first member revoked partitions when the second joined',
  );
  const committed = await committedOffsets({ topic, group, partitions: all.length });
  assert.deepEqual(
    [...committed].sort(([a], [b]) => a - b),
    [...endOffsets(acknowledged)].sort(([a], [b]) => a - b),
    'committed offsets = end of every partition',
  );
});

async function readTransactional(options: {
  topic: string;
  isolation: 'read_committed' | 'read_uncommitted';
  expect?: number;
}): Promise<PlacedRecord[]> {
  const events = await runPythonClient({
    script: transactionScript,
    command: 'read',
    parameters: {
      bootstrap: broker.bootstrap,
      partitions: [0],
      group: uniqueName('txn-newest-reader'),
      idleMs: 2000,
      ...options,
    },
    timeoutMs: 90_000,
    python,
  });
  const result = events.find((event) => event.event === 'records');
  assert.ok(result, `the reader reported its records: ${JSON.stringify(events).slice(0, 2000)}`);
  return result.records as PlacedRecord[];
}

test(`confluent-kafka ${version}: transactions: commit visible to read_committed, abort not, a second producer with the same transactional.id fences the first`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('txn-newest');
  await createTopic(topic, 1);
  await runPythonClient({
    script: transactionScript,
    command: 'commit-abort',
    parameters: { bootstrap: broker.bootstrap, topic, transactionalId: uniqueName('tx'), count: 5 },
    timeoutMs: 60_000,
    python,
  });
  const numbered = (prefix: string) => [0, 1, 2, 3, 4].map((index) => `${prefix}-${index}`);
  const committed = await readTransactional({ topic, isolation: 'read_committed', expect: 10 });
  assert.deepEqual(
    committed.map((record) => record.value),
    [...numbered('c'), ...numbered('d')],
  );
  // Three data batches and their markers: 0-4, marker 5, 6-10 (aborted), marker 11, 12-16, marker 17.
  assert.deepEqual(
    committed.map((record) => record.offset),
    [0, 1, 2, 3, 4, 12, 13, 14, 15, 16],
  );
  const uncommitted = await readTransactional({ topic, isolation: 'read_uncommitted', expect: 15 });
  assert.deepEqual(
    uncommitted.map((record) => record.value),
    [...numbered('c'), ...numbered('a'), ...numbered('d')],
  );

  const fencedTopic = uniqueName('txn-newest-fence');
  await createTopic(fencedTopic, 1);
  const events = await runPythonClient({
    script: transactionScript,
    command: 'fence',
    parameters: {
      bootstrap: broker.bootstrap,
      topic: fencedTopic,
      transactionalId: uniqueName('fenced'),
    },
    timeoutMs: 60_000,
    python,
  });
  const outcome = events.find((event) => event.event === 'zombie-outcome');
  assert.deepEqual(
    { committed: outcome?.committed, fatal: outcome?.fatal, error: outcome?.error },
    { committed: false, fatal: true, error: '_FENCED' },
    JSON.stringify(outcome),
  );
  const survivors = await readTransactional({ topic: fencedTopic, isolation: 'read_committed' });
  assert.deepEqual(
    survivors.map((record) => record.value),
    ['successor-0'],
  );
});

test(`confluent-kafka ${version}: consume-transform-produce transactions, the processor SIGKILLed 6 times: output exactly once`, {
  timeout: 240_000,
}, async () => {
  await runKilledProcessorScenario(
    {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) => produce(options),
      spawnProcessor: (parameters, label) => spawn('process', parameters, label, transactionScript),
      async readCommittedValues(options) {
        const events = await runPythonClient({
          script: transactionScript,
          command: 'read',
          parameters: {
            bootstrap: broker.bootstrap,
            topic: options.topic,
            partitions: options.partitions,
            isolation: 'read_committed',
            expect: options.expected,
            group: uniqueName('ctp-newest-reader'),
          },
          timeoutMs: 90_000,
          python,
        });
        const result = events.find((event) => event.event === 'records');
        assert.ok(
          result,
          `the reader reported its records: ${JSON.stringify(events).slice(0, 2000)}`,
        );
        return (result.records as { value: string }[]).map((record) => record.value);
      },
    },
    { name: 'confluent-newest-ctp', recordCount: 3000, kills: 6, seed: 20261207 },
  );
});

test(`confluent-kafka ${version}: an idempotent producer keeps sending while the broker is SIGKILLed twice: no duplicates, no gaps`, {
  timeout: 240_000,
}, async () => {
  const topic = uniqueName('idempotent-newest');
  await createTopic(topic, 1);
  const count = 3000;
  const producer = spawn(
    'idempotent-produce',
    { topic, count, pauseMs: 1, messageTimeoutMs: 120_000 },
    'idempotent-producer',
    transactionScript,
  );
  await produceThroughBrokerKills(producer, broker, { count, kills: 2, progressPerKill: 5 });
  const read = records(await run('read-all', { topic, partitions: [0] }, 90_000));
  assert.deepEqual(
    read.map((record) => Number(record.value)),
    Array.from({ length: count }, (_, index) => index),
    'every value once, in order',
  );
});
