import assert from 'node:assert/strict';
import type { BrokerProcess } from './broker-process.js';
import type { ClientEvent, JsonLinesProcess } from './json-lines-process.js';
import { duplicatesAndMissing, endOffsets, type PlacedRecord, uniqueName } from './records.js';
import { sleep } from './wait.js';

/**
 * Consume-transform-produce exactly once, the same way for every transactional client: a
 * processor (each client's `process` command) copies `in-value-N` to `out-value-N` in
 * transactions that also commit the input offsets (send_offsets_to_transaction); it is SIGKILLed
 * at seeded random points, then a last one runs to the end of the input. The read_committed
 * output must hold every input record exactly once.
 *
 * Processor events: "initialised" (transactions initialised), "committed" (one transaction),
 * "idle" with `committed` = the group's committed offset per partition once caught up.
 */
export interface ProcessorParameters {
  input: string;
  output: string;
  partitions: number[];
  group: string;
  transactionalId: string;
  batchSize: number;
  transactionTimeoutMs: number;
}

export interface TransactionalProcessorClient {
  createTopic(options: { topic: string; partitions: number }): Promise<void>;
  /** `<prefix>-value-<i>` records, acks=all; returns the acknowledged ones. */
  produce(options: { topic: string; count: number; prefix: string }): Promise<PlacedRecord[]>;
  spawnProcessor(parameters: ProcessorParameters, label: string): JsonLinesProcess;
  /** Values read with isolation.level=read_committed until `expected` arrived (or a deadline). */
  readCommittedValues(options: {
    topic: string;
    partitions: number[];
    expected: number;
  }): Promise<string[]>;
}

export async function runKilledProcessorScenario(
  client: TransactionalProcessorClient,
  options: { name: string; recordCount: number; kills: number; seed: number },
): Promise<void> {
  const input = uniqueName(`${options.name}-in`);
  const output = uniqueName(`${options.name}-out`);
  const partitions = [0, 1, 2];
  await client.createTopic({ topic: input, partitions: partitions.length });
  await client.createTopic({ topic: output, partitions: partitions.length });
  const produced = await client.produce({ topic: input, count: options.recordCount, prefix: 'in' });
  assert.equal(produced.length, options.recordCount, 'every input record acknowledged');
  const inputEnds = endOffsets(produced);
  const parameters: ProcessorParameters = {
    input,
    output,
    partitions,
    group: uniqueName(`${options.name}-group`),
    transactionalId: uniqueName(`${options.name}-transactional`),
    batchSize: 10,
    transactionTimeoutMs: 10_000,
  };
  let seed = options.seed;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let committedBeforeKills = 0;
  for (let round = 0; round < options.kills; round++) {
    const processor = client.spawnProcessor(parameters, `${options.name}-processor-${round}`);
    await processor.waitForEvent('initialised', { timeoutMs: 30_000 });
    await sleep(300 + Math.floor(random() * 1200));
    await processor.kill();
    committedBeforeKills += processor.eventsOf('committed').length;
  }
  const last = client.spawnProcessor(parameters, `${options.name}-processor-final`);
  const caughtUp = (event: ClientEvent) =>
    event.event === 'idle' &&
    partitions.every(
      (partition) =>
        Number((event.committed as Record<string, number | null>)[String(partition)]) ===
        inputEnds.get(partition),
    );
  await last.waitFor((events) => events.find(caughtUp), {
    timeoutMs: 120_000,
    what: 'the final processor to reach the end of the input',
  });
  await last.finish({ timeoutMs: 30_000 });
  const values = await client.readCommittedValues({
    topic: output,
    partitions,
    expected: options.recordCount,
  });
  assert.deepEqual(
    duplicatesAndMissing(values, { prefix: 'out-value-', count: options.recordCount }),
    { duplicates: [], missing: [] },
    `output holds each input once (${values.length} records)`,
  );
  assert.equal(values.length, options.recordCount);
  assert.ok(committedBeforeKills > 0, 'the killed processors committed transactions');
}

/**
 * Lets an idempotent producer (a client's `idempotent-produce` command, reporting `progress`
 * events and then `done` with its `acked`, `failed` and `unflushed` counts) send `count` records
 * while the broker is SIGKILLed and restarted `kills` times, each after `progressPerKill` more
 * progress events; asserts that every record was acknowledged and none failed or was left unsent.
 * Reading the records back (no duplicates, no gaps) is the caller's.
 */
export async function produceThroughBrokerKills(
  producer: JsonLinesProcess,
  broker: BrokerProcess,
  options: { count: number; kills: number; progressPerKill: number },
): Promise<void> {
  for (let kill = 0; kill < options.kills; kill++) {
    await producer.waitFor(
      (events) =>
        events.filter((event) => event.event === 'progress').length >
        (kill + 1) * options.progressPerKill,
      { timeoutMs: 60_000, what: `progress before kill ${kill}` },
    );
    await broker.kill('SIGKILL');
    await sleep(300);
    await broker.restart();
  }
  const done = await producer.waitForEvent('done', { timeoutMs: 150_000 });
  assert.deepEqual(
    { acked: done.acked, failed: done.failed, unflushed: done.unflushed },
    { acked: options.count, failed: 0, unflushed: 0 },
    JSON.stringify(done.errors),
  );
}
