import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Consumer } from '@gregor/client';
import { ManagedProcess, runToCompletion } from './managed-process.js';

/**
 * kafkajs's documented examples (packages/e2e/kafkajs-examples/*.mjs, importing
 * `@gregor/client/kafkajs`) run as separate Node processes, and the same programs with only the
 * import turned back into `kafkajs` (written next to the compiled tests), so a test compares what
 * kafkajs itself prints and writes with what the facade does.
 */

export type KafkajsImplementation = 'facade' | 'kafkajs';

const examplesDirectory = new URL('../../kafkajs-examples/', import.meta.url);
const twinsDirectory = new URL('../kafkajs-twins/', import.meta.url);
const facadeSpecifier = "'@gregor/client/kafkajs'";

async function programPath(name: string, implementation: KafkajsImplementation): Promise<string> {
  const source = new URL(`${name}.mjs`, examplesDirectory);
  if (implementation === 'facade') return fileURLToPath(source);
  const text = await readFile(source, 'utf8');
  if (!text.includes(facadeSpecifier))
    throw new Error(`${name}.mjs does not import ${facadeSpecifier}`);
  await mkdir(twinsDirectory, { recursive: true });
  const twin = new URL(`${name}.mjs`, twinsDirectory);
  await writeFile(twin, text.replaceAll(facadeSpecifier, "'kafkajs'"));
  return fileURLToPath(twin);
}

/** Runs an example to completion; its stdout lines, without kafkajs's JSON log lines. */
export async function runKafkajsExample(
  name: string,
  options: {
    implementation: KafkajsImplementation;
    bootstrap: string;
    topicPrefix: string;
    timeoutMs: number;
    environment?: Record<string, string>;
  },
): Promise<string[]> {
  const result = await runToCompletion({
    command: process.execPath,
    arguments: [await programPath(name, options.implementation)],
    environment: {
      KAFKA_BROKERS: options.bootstrap,
      TOPIC_PREFIX: options.topicPrefix,
      ...options.environment,
    },
    timeoutMs: options.timeoutMs,
  });
  if (result.code !== 0) {
    throw new Error(
      `${name} (${options.implementation}) exited ${result.code ?? result.signal}: ${result.stderr.slice(-2000)}`,
    );
  }
  return result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{"level"'));
}

/**
 * Runs an example that never ends by itself (a consumer, as documented) until it printed a line
 * matching `until`, then stops it; its stdout lines up to then.
 */
export async function runKafkajsExampleUntil(
  name: string,
  options: {
    implementation: KafkajsImplementation;
    bootstrap: string;
    topicPrefix: string;
    until: (line: string) => boolean;
    timeoutMs: number;
  },
): Promise<string[]> {
  const child = new ManagedProcess({
    label: `${name}(${options.implementation})`,
    command: process.execPath,
    arguments: [await programPath(name, options.implementation)],
    environment: { KAFKA_BROKERS: options.bootstrap, TOPIC_PREFIX: options.topicPrefix },
  });
  const lines: string[] = [];
  child.onLine((line, stream) => {
    if (stream === 'stdout' && !line.startsWith('{"level"')) lines.push(line);
  });
  try {
    await child.waitForLine(
      (line, stream) => (stream === 'stdout' && options.until(line) ? true : undefined),
      {
        timeoutMs: options.timeoutMs,
        what: `${name}'s expected output`,
      },
    );
    return [...lines];
  } finally {
    await child.stop({ signal: 'SIGTERM' });
  }
}

export interface StoredRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

/** Every record of a topic (read_committed optional), in partition then offset order. */
export async function readTopic(
  bootstrap: string,
  topic: string,
  options: { readCommitted?: boolean; timeoutMs?: number } = {},
): Promise<StoredRecord[]> {
  const consumer = new Consumer({
    bootstrapServers: [bootstrap],
    isolationLevel: options.readCommitted ? 'read_committed' : 'read_uncommitted',
    maxWaitMs: 100,
  });
  try {
    const info = await consumer.cluster.topic(topic, 15_000);
    const partitions = info.partitions.map((partition) => ({
      topic,
      partition: partition.partition,
    }));
    const ends = await consumer.offsetsFor(partitions, 'latest');
    consumer.assign(partitions.map((entry) => ({ ...entry, offset: 'earliest' as const })));
    const records: StoredRecord[] = [];
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    const done = () => ends.every((end) => (consumer.position(end) ?? -1n) >= end.offset);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`reading ${topic} did not reach its end offsets`);
      for (const record of await consumer.poll()) {
        records.push({
          partition: record.partition,
          offset: String(record.offset),
          key: record.key?.toString('utf8') ?? null,
          value: record.value?.toString('utf8') ?? null,
          headers: record.headers.map((header) => [
            header.key,
            header.value?.toString('utf8') ?? null,
          ]),
        });
      }
    }
    return records.sort(
      (left, right) =>
        left.partition - right.partition || Number(left.offset) - Number(right.offset),
    );
  } finally {
    await consumer.close();
  }
}
