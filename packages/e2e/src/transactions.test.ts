import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type ClientEvent,
  type JsonLinesProcess,
  runPythonClient,
  spawnPythonClient,
} from './harness/json-lines-process.js';
import { duplicatesAndMissing, uniqueName } from './harness/records.js';
import { produceThroughBrokerKills } from './harness/transaction-scenario.js';
import { sleep } from './harness/wait.js';

/**
 * Transactions and idempotence with confluent-kafka for Python (librdkafka 2.0.2), against a real
 * broker process (helper G's acceptance tests):
 * - commit is seen by read_committed consumers, abort is not; read_uncommitted sees both;
 * - a transaction left open by a SIGKILLed producer is aborted after transaction.timeout.ms and
 *   read_committed consumers move past it;
 * - a second producer with the same transactional.id fences the first;
 * - consume-transform-produce with send_offsets_to_transaction, the processor SIGKILLed 20 times at
 *   random points: the read_committed output holds every input record exactly once;
 * - an idempotent producer keeps sending while the broker is SIGKILLed and restarted: no
 *   duplicates, no gaps, order kept.
 */

const script = 'txn_client.py';
const brokerArguments = [
  '--override',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms=250',
  '--override',
  'transaction.state.log.num.partitions=4',
  '--override',
  'offsets.topic.num.partitions=4',
];

let broker: BrokerProcess;
const spawned: JsonLinesProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(txn)', extraArguments: brokerArguments });
});
after(async () => {
  await Promise.all(spawned.map((client) => client.kill()));
  await broker?.dispose();
});

async function createTopic(topic: string, partitions: number): Promise<void> {
  await runPythonClient({
    script: 'confluent_client.py',
    command: 'create-topic',
    parameters: { bootstrap: broker.bootstrap, topic, partitions },
    timeoutMs: 30_000,
  });
}

interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
}

async function readAll(options: {
  topic: string;
  partitions: number[];
  isolation: 'read_committed' | 'read_uncommitted';
  expect?: number;
  idleMs?: number;
}): Promise<{ records: ReadRecord[]; positions: Record<string, number> }> {
  const events = await runPythonClient({
    script,
    command: 'read',
    parameters: {
      bootstrap: broker.bootstrap,
      group: uniqueName('reader'),
      timeoutMs: 60_000,
      ...options,
    },
    timeoutMs: 90_000,
  });
  const result = events.find((event) => event.event === 'records');
  assert.ok(result, `reader reported: ${JSON.stringify(events).slice(0, 2000)}`);
  return {
    records: result.records as ReadRecord[],
    positions: result.positions as Record<string, number>,
  };
}

function values(records: readonly ReadRecord[]): string[] {
  return records.map((record) => record.value);
}

function spawn(command: string, parameters: object, label: string): JsonLinesProcess {
  const client = spawnPythonClient({
    script,
    command,
    parameters: { bootstrap: broker.bootstrap, ...parameters },
    label,
  });
  spawned.push(client);
  return client;
}

test('commit is visible to read_committed, abort is not; read_uncommitted sees both', async () => {
  const topic = uniqueName('txn-visibility');
  await createTopic(topic, 1);
  await runPythonClient({
    script,
    command: 'commit-abort',
    parameters: { bootstrap: broker.bootstrap, topic, transactionalId: uniqueName('tx'), count: 5 },
    timeoutMs: 60_000,
  });
  const committed = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_committed',
    expect: 10,
  });
  assert.deepEqual(values(committed.records), [
    ...[0, 1, 2, 3, 4].map((index) => `c-${index}`),
    ...[0, 1, 2, 3, 4].map((index) => `d-${index}`),
  ]);
  const uncommitted = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_uncommitted',
    expect: 15,
  });
  assert.deepEqual(
    values(uncommitted.records),
    ['c', 'a', 'd'].flatMap((prefix) => [0, 1, 2, 3, 4].map((index) => `${prefix}-${index}`)),
  );
  // Three data batches and three markers: offsets 0-4, 5 marker, 6-10, 11 marker, 12-16, 17 marker.
  assert.deepEqual(
    committed.records.map((record) => record.offset),
    [0, 1, 2, 3, 4, 12, 13, 14, 15, 16],
  );
});

test('a transaction left open by a killed producer is aborted after its timeout', async () => {
  const topic = uniqueName('txn-timeout');
  await createTopic(topic, 1);
  const transactionTimeoutMs = 2000;
  const abandoned = spawn(
    'open-transaction',
    {
      topic,
      transactionalId: uniqueName('abandoned'),
      transactionTimeoutMs,
      count: 10,
      prefix: 'open',
    },
    'abandoned-producer',
  );
  await abandoned.waitForEvent('produced', { timeoutMs: 30_000 });
  await abandoned.kill();
  // Committed data after the abandoned transaction: invisible until the abort frees the LSO.
  await runPythonClient({
    script,
    command: 'commit-abort',
    parameters: {
      bootstrap: broker.bootstrap,
      topic,
      transactionalId: uniqueName('later'),
      count: 2,
    },
    timeoutMs: 60_000,
  });
  const committed = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_committed',
    expect: 4,
  });
  assert.deepEqual(values(committed.records), ['c-0', 'c-1', 'd-0', 'd-1']);
  // The consumer's position moved past the aborted transaction and its marker.
  assert.ok(committed.positions['0']! > committed.records.at(-1)!.offset);
  const uncommitted = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_uncommitted',
    expect: 16,
  });
  assert.equal(values(uncommitted.records).filter((value) => value.startsWith('open-')).length, 10);
});

test('a second producer with the same transactional.id fences the first', async () => {
  const topic = uniqueName('txn-fence');
  await createTopic(topic, 1);
  const events = await runPythonClient({
    script,
    command: 'fence',
    parameters: { bootstrap: broker.bootstrap, topic, transactionalId: uniqueName('fenced') },
    timeoutMs: 60_000,
  });
  const outcome = events.find((event) => event.event === 'zombie-outcome');
  assert.ok(outcome, JSON.stringify(events));
  assert.equal(outcome.committed, false, 'the zombie must not commit');
  assert.equal(outcome.fatal, true, `fenced is fatal for the zombie: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error, '_FENCED');
  const committed = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_committed',
    idleMs: 3000,
  });
  assert.deepEqual(values(committed.records), ['successor-0']);
});

test('consume-transform-produce survives 20 SIGKILLs of the processor: output exactly once', async () => {
  const input = uniqueName('ctp-in');
  const output = uniqueName('ctp-out');
  const partitions = [0, 1, 2];
  await createTopic(input, partitions.length);
  await createTopic(output, partitions.length);
  const recordCount = 6000;
  const produced = await runPythonClient({
    script: 'confluent_client.py',
    command: 'produce',
    parameters: { bootstrap: broker.bootstrap, topic: input, count: recordCount, prefix: 'in' },
    timeoutMs: 60_000,
  });
  const endOffsets = new Map<number, number>();
  for (const ack of produced.filter((event) => event.event === 'ack')) {
    const partition = Number(ack.partition);
    endOffsets.set(partition, Math.max(endOffsets.get(partition) ?? 0, Number(ack.offset) + 1));
  }
  const processorParameters = {
    input,
    output,
    partitions,
    group: uniqueName('ctp-group'),
    transactionalId: uniqueName('ctp'),
    batchSize: 10,
    transactionTimeoutMs: 10_000,
  };
  let seed = 20261121;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const kills = 20;
  let committedBeforeKills = 0;
  for (let round = 0; round < kills; round++) {
    const processor = spawn('process', processorParameters, `processor-${round}`);
    await processor.waitForEvent('initialised', { timeoutMs: 30_000 });
    await sleep(200 + Math.floor(random() * 1300));
    await processor.kill();
    committedBeforeKills += processor.eventsOf('committed').length;
  }
  const last = spawn(
    'process',
    { ...processorParameters, debug: process.env.GREGOR_TXN_DEBUG ?? '' },
    'processor-final',
  );
  const isDone = (event: ClientEvent) =>
    event.event === 'idle' &&
    partitions.every(
      (partition) =>
        (event.committed as Record<string, number>)[String(partition)] ===
        endOffsets.get(partition),
    );
  await last
    .waitFor((events) => events.find(isDone), {
      timeoutMs: 120_000,
      what: 'the final processor to reach the end of the input',
    })
    .catch((error: Error) => {
      const events = last.events.slice(-5).map((event) => JSON.stringify(event));
      throw new Error(
        `${error.message}\n--- last events ---\n${events.join('\n')}\n--- processor ---\n${last.process.output().slice(-6000)}\n--- broker ---\n${broker.output().slice(-3000)}`,
      );
    });
  await last.finish({ timeoutMs: 30_000 });
  const result = await readAll({
    topic: output,
    partitions,
    isolation: 'read_committed',
    expect: recordCount,
    idleMs: 3000,
  });
  const outputValues = values(result.records);
  assert.deepEqual(
    duplicatesAndMissing(outputValues, { prefix: 'out-value-', count: recordCount }),
    { duplicates: [], missing: [] },
    `output holds each input once (${outputValues.length} records, ${committedBeforeKills} transactions committed before the last kill)`,
  );
  assert.equal(outputValues.length, recordCount);
  assert.ok(committedBeforeKills > 0, 'the killed processors made progress');
});

test('an idempotent producer keeps sending while the broker is SIGKILLed: no duplicates, no gaps', async () => {
  const topic = uniqueName('idempotent');
  await createTopic(topic, 1);
  const count = 6000;
  const producer = spawn(
    'idempotent-produce',
    { topic, count, pauseMs: 1, messageTimeoutMs: 120_000 },
    'idempotent-producer',
  );
  await produceThroughBrokerKills(producer, broker, { count, kills: 3, progressPerKill: 6 });
  const result = await readAll({
    topic,
    partitions: [0],
    isolation: 'read_uncommitted',
    expect: count,
    idleMs: 5000,
  });
  const numbers = values(result.records).map(Number);
  const expected = Array.from({ length: count }, (_, index) => index);
  assert.equal(numbers.length, count, 'no duplicates and no gaps');
  assert.deepEqual(numbers, expected, 'every value once, in order');
});
