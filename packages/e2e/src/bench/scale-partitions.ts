import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BrokerProcess } from '../harness/broker-process.js';
import {
  connectTo,
  createScaleTopics,
  endOffsets,
  produceAcross,
  scalePartitions,
  scaleTopicNames,
} from '../harness/partition-scale.js';
import { benchDirectory } from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- scale`: many partitions on one broker started from the CLI, as a user would.
 * For each partition count (GREGOR_SCALE_PARTITIONS, default "1000,10000"): create them with one
 * CreateTopics request (1,000 per topic), idle file descriptors and RSS, produce throughput of
 * 100 B records across 1,000 partitions against 4, clean stop (SIGTERM), start after the clean
 * stop, start after SIGKILL (end offsets checked after each start). Results: a table on stdout
 * and .bench/scale-results.json.
 */

const partitionCounts = (process.env.GREGOR_SCALE_PARTITIONS ?? '1000,10000')
  .split(',')
  .map(Number);
const stopTimeoutMs = 300_000;
const readyTimeoutMs = 300_000;
const settleMs = 2_000;
const produce = {
  recordCount: 300_000,
  valueBytes: 100,
  recordsPerRequest: 1_000,
  inFlightMax: 8,
};

interface Row {
  partitions: number;
  createMs: number;
  idleFileDescriptors: number;
  idleRssMegabytes: number;
  produceAcross4RecordsPerSecond: number;
  produceAcross1000RecordsPerSecond: number;
  cleanStopMs: number;
  startAfterCleanStopMs: number;
  restartedFileDescriptors: number;
  restartedRssMegabytes: number;
  startAfterKillMs: number;
  /** Broker CPU seconds (user + system) from spawn to ready: robust to a busy machine. */
  startAfterCleanStopCpuSeconds: number;
  startAfterKillCpuSeconds: number;
  createCpuSeconds: number;
  loadAverage: number[];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function idleFigures(
  broker: BrokerProcess,
): Promise<{ fileDescriptors: number; rssMegabytes: number }> {
  await sleep(settleMs);
  return {
    fileDescriptors: await broker.openFileDescriptorCount(),
    rssMegabytes: (await broker.residentSetBytes()) / 1024 / 1024,
  };
}

function sameOffsets(
  expected: Map<string, bigint>,
  actual: Map<string, bigint>,
  when: string,
): void {
  for (const [key, offset] of expected) {
    if (actual.get(key) !== offset)
      throw new Error(`${when}: ${key} ends at ${actual.get(key)}, expected ${offset}`);
  }
}

async function measure(partitionCount: number): Promise<Row> {
  const broker = await BrokerProcess.start({ label: `scale-${partitionCount}`, readyTimeoutMs });
  try {
    const topics = scaleTopicNames(partitionCount);
    const partitions = scalePartitions(topics, partitionCount);
    let client = await connectTo(broker);
    const cpuBeforeCreate = await broker.cpuSeconds();
    const createStartMs = performance.now();
    await createScaleTopics(client, topics, partitionCount);
    const createMs = performance.now() - createStartMs;
    const createCpuSeconds = (await broker.cpuSeconds()) - cpuBeforeCreate;
    console.log(`${partitionCount} partitions: created in ${Math.round(createMs)} ms`);
    const idle = await idleFigures(broker);

    const four = await produceAcross(client, partitions.slice(0, 4), produce);
    const thousand = await produceAcross(client, partitions.slice(0, 1_000), produce);
    const offsets = await endOffsets(client, partitions);
    await client.close();

    const stopStartMs = performance.now();
    const stopped = await broker.kill('SIGTERM', { timeoutMs: stopTimeoutMs });
    const cleanStopMs = performance.now() - stopStartMs;
    if (stopped.code !== 0) throw new Error(`clean stop exited with ${JSON.stringify(stopped)}`);

    await broker.restart();
    const startAfterCleanStopMs = broker.lastReadyMs;
    const startAfterCleanStopCpuSeconds = await broker.cpuSeconds();
    const restarted = await idleFigures(broker);
    client = await connectTo(broker);
    sameOffsets(offsets, await endOffsets(client, partitions), 'after a clean stop');
    await client.close();

    await broker.kill('SIGKILL');
    await broker.restart();
    const startAfterKillMs = broker.lastReadyMs;
    const startAfterKillCpuSeconds = await broker.cpuSeconds();
    client = await connectTo(broker);
    sameOffsets(offsets, await endOffsets(client, partitions), 'after SIGKILL');
    await client.close();
    return {
      partitions: partitionCount,
      createMs,
      idleFileDescriptors: idle.fileDescriptors,
      idleRssMegabytes: idle.rssMegabytes,
      produceAcross4RecordsPerSecond: four.recordsPerSecond,
      produceAcross1000RecordsPerSecond: thousand.recordsPerSecond,
      cleanStopMs,
      startAfterCleanStopMs,
      restartedFileDescriptors: restarted.fileDescriptors,
      restartedRssMegabytes: restarted.rssMegabytes,
      startAfterKillMs,
      startAfterCleanStopCpuSeconds,
      startAfterKillCpuSeconds,
      createCpuSeconds,
      loadAverage: loadavg(),
    };
  } finally {
    await broker.dispose();
  }
}

function formatRow(row: Row): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  return [
    `| ${row.partitions.toLocaleString('en-US')}`,
    `${seconds(row.createMs)} (CPU ${row.createCpuSeconds.toFixed(2)} s)`,
    seconds(row.cleanStopMs),
    `${seconds(row.startAfterCleanStopMs)} (CPU ${row.startAfterCleanStopCpuSeconds.toFixed(2)} s)`,
    `${seconds(row.startAfterKillMs)} (CPU ${row.startAfterKillCpuSeconds.toFixed(2)} s)`,
    `${row.idleFileDescriptors} / ${row.restartedFileDescriptors}`,
    `${row.idleRssMegabytes.toFixed(0)} / ${row.restartedRssMegabytes.toFixed(0)} MB`,
    `${Math.round(row.produceAcross1000RecordsPerSecond).toLocaleString('en-US')} / ${Math.round(row.produceAcross4RecordsPerSecond).toLocaleString('en-US')} (${Math.round((100 * row.produceAcross1000RecordsPerSecond) / row.produceAcross4RecordsPerSecond)}%)`,
    `${row.loadAverage.map((value) => value.toFixed(1)).join(' ')} |`,
  ].join(' | ');
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const count of partitionCounts) {
    const row = await measure(count);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(
    '| partitions | create | clean stop | start after clean stop | start after SIGKILL | fds idle (after create / after restart) | RSS idle | produce 100 B records/s, 1,000 vs 4 partitions | load average |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of rows) console.log(formatRow(row));
  await mkdir(benchDirectory, { recursive: true });
  await writeFile(join(benchDirectory, 'scale-results.json'), `${JSON.stringify(rows, null, 2)}\n`);
}

await main();
