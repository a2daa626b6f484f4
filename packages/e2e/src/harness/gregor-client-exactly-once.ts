// The exactly-once run shared by the test (Gregor, 20 kills) and the bench (Gregor and Kafka,
// more kills): input records with 60 keys, the processor (tools/gregor-client-processor.ts)
// SIGKILLed `kills` times at random points after its first commit, a last instance left to finish,
// then the output read with read_committed and compared per key with the input.

import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '@gregor/client';
import { readToEnd } from './gregor-client-transaction-scenarios.js';
import { JsonLinesProcess } from './json-lines-process.js';
import { ManagedProcess } from './managed-process.js';
import { uniqueName } from './records.js';
import { sleep } from './wait.js';

const processorPath = fileURLToPath(
  new URL('../tools/gregor-client-processor.js', import.meta.url),
);

export interface ExactlyOnceOptions {
  bootstrap: string;
  label: string;
  kills: number;
  recordCount: number;
  /** Seed of the kill points. */
  seed: number;
  membership: 'group' | 'assign';
}

export interface ExactlyOnceResult {
  /** Output values per key, in output order (expected: the key's inputs in input order). */
  valuesByKey: Map<string, number[]>;
  expectedByKey: Map<string, number[]>;
  outputCount: number;
  /** Kills that came after the processor had already finished (none in a meaningful run). */
  finishedEarly: number;
  committedBeforeKills: number;
  committedByLast: number;
  /** Group metadata of the last instance's commits (generation ≥ 1 under group membership). */
  lastGenerationId: number;
  lastMemberId: string;
  elapsedMs: number;
}

const keyCount = 60;
const partitions = 3;

export async function runExactlyOnce(options: ExactlyOnceOptions): Promise<ExactlyOnceResult> {
  const startedAtMs = Date.now();
  const spawned: JsonLinesProcess[] = [];
  const common = { bootstrapServers: [options.bootstrap], clientId: 'gregor-client-eos' };
  try {
    const input = uniqueName(`eos-in-${options.label}`);
    const output = uniqueName(`eos-out-${options.label}`);
    const admin = new Admin(common);
    await admin.createTopics(
      [input, output].map((name) => ({ name, partitions, replicationFactor: 1 })),
    );
    admin.close();
    // Small input batches: a fetch returns whole batches, so they bound each transaction's size.
    const inputProducer = new Producer({ ...common, batchSizeBytes: 400 });
    await Promise.all(
      Array.from({ length: options.recordCount }, (_, index) =>
        inputProducer.send({ topic: input, key: `key-${index % keyCount}`, value: String(index) }),
      ),
    );
    await inputProducer.close();
    const parameters = JSON.stringify({
      bootstrap: options.bootstrap,
      input,
      output,
      partitions,
      group: uniqueName(`eos-group-${options.label}`),
      transactionalId: uniqueName(`eos-${options.label}`),
      maxPartitionBytes: 400,
      pauseMs: 20,
      membership: options.membership,
    });
    const spawn = (label: string) => {
      const processor = new JsonLinesProcess(
        new ManagedProcess({
          label,
          command: process.execPath,
          arguments: [processorPath, parameters],
        }),
      );
      spawned.push(processor);
      return processor;
    };
    let seed = options.seed;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    let committedBeforeKills = 0;
    let finishedEarly = 0;
    for (let round = 0; round < options.kills; round++) {
      const processor = spawn(`gregor-client-processor-${options.label}-${round}`);
      // Kill while it works: after its first commit, at a random point of the next transactions.
      await processor.waitForEvent('committed', { timeoutMs: 60_000 });
      await sleep(Math.floor(random() * 500));
      if (processor.eventsOf('done').length > 0) finishedEarly++;
      await processor.kill();
      committedBeforeKills += processor.eventsOf('committed').length;
    }
    const last = spawn(`gregor-client-processor-${options.label}-final`);
    await last.waitForEvent('done', { timeoutMs: 120_000 });
    const records = await readToEnd(
      { bootstrap: options.bootstrap, label: options.label },
      output,
      partitions,
      'read_committed',
    );
    const valuesByKey = outputValuesByKey(records);
    const expectedByKey = inputValuesByKey(options.recordCount, keyCount);
    const lastCommit = last.eventsOf('committed').at(-1);
    return {
      valuesByKey,
      expectedByKey,
      outputCount: records.length,
      finishedEarly,
      committedBeforeKills,
      committedByLast: last.eventsOf('committed').length,
      lastGenerationId: Number(lastCommit?.generationId ?? -1),
      lastMemberId: String(lastCommit?.memberId ?? ''),
      elapsedMs: Date.now() - startedAtMs,
    };
  } finally {
    await Promise.all(spawned.map((processor) => processor.kill()));
  }
}

/** Output values ("out-N" → N) per key, in output order. */
export function outputValuesByKey(
  records: readonly { key: Buffer | null; value: Buffer | null }[],
): Map<string, number[]> {
  const result = new Map<string, number[]>();
  for (const record of records) {
    const key = record.key?.toString() ?? '';
    const list = result.get(key) ?? [];
    list.push(Number(record.value?.toString().replace(/^out-/, '')));
    result.set(key, list);
  }
  return result;
}

/** Inputs 0..count-1 under keys `key-(index % keyCount)`, per key in input order. */
export function inputValuesByKey(count: number, keyCount: number): Map<string, number[]> {
  const result = new Map<string, number[]>();
  for (let index = 0; index < count; index++) {
    const key = `key-${index % keyCount}`;
    const list = result.get(key) ?? [];
    list.push(index);
    result.set(key, list);
  }
  return result;
}
