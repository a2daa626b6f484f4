import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerProcess } from '../harness/broker-process.js';
import { kafkajsCreateTopic, newKafkajs } from '../harness/kafkajs-client.js';
import { ManagedProcess } from '../harness/managed-process.js';
import { makeTemporaryDirectory, removeDirectory } from '../harness/temporary-directory.js';
import { sleep, withDeadline } from '../harness/wait.js';
import {
  measureFioSyncedWrite,
  measureLoopbackBandwidth,
  measureSyncedWrite,
  measureSyncLatency,
} from '../tools/physical-limits.js';
import {
  benchDirectory,
  ensureDebianPackages,
  ensureRdkafkaPerformance,
} from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- broker`: the broker driven by librdkafka's rdkafka_performance (a client that
 * is not the bottleneck), next to the machine's physical limits measured in the same run.
 * Results: a table on stdout and .bench/broker-results.json.
 */

const produceSmallCount = 2_000_000;
const produceLargeCount = 300_000;
const latencyRecordCount = 50_000;
const latencyRatePerSecond = 10_000;
const stepTimeoutMs = 180_000;
const readyStarts = 5;

interface Measurement {
  name: string;
  value: number;
  unit: string;
  goal?: string;
  note?: string;
}

const measurements: Measurement[] = [];

function record(measurement: Measurement): void {
  measurements.push(measurement);
  const goal = measurement.goal ? `  (goal ${measurement.goal})` : '';
  console.log(
    `${measurement.name}: ${formatValue(measurement.value)} ${measurement.unit}${goal}${measurement.note ? ` — ${measurement.note}` : ''}`,
  );
}

function formatValue(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

const megabyte = 1_000_000;

async function runPerformance(
  binary: string,
  parameters: string[],
  label: string,
): Promise<string> {
  const child = new ManagedProcess({ label, command: binary, arguments: parameters });
  const status = await withDeadline(child.exited, { timeoutMs: stepTimeoutMs, what: label }).catch(
    async (error) => {
      await child.stop({ signal: 'SIGKILL' });
      throw error;
    },
  );
  if (status.code !== 0)
    throw new Error(
      `${label} exited ${status.code ?? status.signal}\n${child.output().slice(-3000)}`,
    );
  return child.output();
}

function lastMatch(output: string, pattern: RegExp): RegExpMatchArray {
  const matches = [...output.matchAll(new RegExp(pattern.source, 'g'))];
  const last = matches.at(-1);
  if (!last) throw new Error(`no summary line matching ${pattern} in:\n${output.slice(-3000)}`);
  return last;
}

const producedPattern =
  /% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) in (\d+)ms: (\d+) msgs\/s and ([\d.]+) MB\/s/;
const consumedPattern =
  /% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs\/s \(([\d.]+) MB\/s\)/;

/** rdkafka_performance arguments naming partition 0 of the topic on the broker. */
function partitionZero(options: { bootstrap: string; topic: string }): string[] {
  return ['-t', options.topic, '-p', '0', '-b', options.bootstrap];
}

async function produce(
  binary: string,
  options: { bootstrap: string; topic: string; sizeBytes: number; count: number; acks: string },
): Promise<{ recordsPerSecond: number; bytesPerSecond: number }> {
  const output = await runPerformance(
    binary,
    [
      '-P',
      ...partitionZero(options),
      '-s',
      String(options.sizeBytes),
      '-c',
      String(options.count),
      '-a',
      options.acks,
      '-X',
      'linger.ms=5',
      '-X',
      'batch.num.messages=10000',
      '-X',
      'queue.buffering.max.messages=1000000',
      '-X',
      'queue.buffering.max.kbytes=1048576',
    ],
    `produce ${options.sizeBytes} B acks=${options.acks}`,
  );
  const match = lastMatch(output, producedPattern);
  const delivered = Number(match[3]);
  const failed = Number(match[4]);
  if (delivered !== options.count || failed !== 0) {
    throw new Error(`produce: ${delivered} of ${options.count} delivered, ${failed} failed`);
  }
  return { recordsPerSecond: Number(match[6]), bytesPerSecond: Number(match[7]) * megabyte };
}

async function consume(
  binary: string,
  options: { bootstrap: string; topic: string; count: number },
): Promise<{ recordsPerSecond: number; bytesPerSecond: number }> {
  const output = await runPerformance(
    binary,
    ['-C', ...partitionZero(options), '-o', 'beginning', '-c', String(options.count)],
    'consume',
  );
  const match = lastMatch(output, consumedPattern);
  if (Number(match[1]) < options.count)
    throw new Error(`consume: only ${match[1]} of ${options.count}`);
  return { recordsPerSecond: Number(match[4]), bytesPerSecond: Number(match[5]) * megabyte };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

/** rdkafka_performance latency mode: producer stamps wall time, consumer records receive - stamp. */
async function endToEndLatency(
  binary: string,
  options: {
    bootstrap: string;
    topic: string;
    workDirectory: string;
    acks: string;
    requestedPerSecond: number;
  },
): Promise<{
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  samples: number;
  producedPerSecond: number;
}> {
  const latencyFile = join(
    options.workDirectory,
    `latency-us-${options.topic}-${options.requestedPerSecond}.txt`,
  );
  let producerOutput = '';
  const consumer = new ManagedProcess({
    label: 'latency consumer',
    command: binary,
    arguments: [
      '-C',
      '-l',
      '-A',
      latencyFile,
      ...partitionZero(options),
      '-o',
      'end',
      '-c',
      String(latencyRecordCount),
      '-X',
      'fetch.wait.max.ms=100',
      '-q',
    ],
  });
  try {
    await sleep(3_000);
    producerOutput = await runPerformance(
      binary,
      [
        '-P',
        '-l',
        ...partitionZero(options),
        '-s',
        '100',
        '-a',
        options.acks,
        '-r',
        String(options.requestedPerSecond),
        '-c',
        String(latencyRecordCount),
        '-X',
        'linger.ms=0',
        '-q',
      ],
      'latency producer',
    );
    await withDeadline(consumer.exited, { timeoutMs: 30_000, what: 'the latency consumer' });
  } finally {
    await consumer.stop({ signal: 'SIGKILL' });
  }
  const samples = (await readFile(latencyFile, 'utf8'))
    .split('\n')
    .filter((line) => line.length > 0)
    .map(Number)
    .sort((a, b) => a - b);
  if (samples.length === 0)
    throw new Error(`no latency samples\n${consumer.output().slice(-2000)}`);
  return {
    p50Ms: percentile(samples, 0.5) / 1000,
    p99Ms: percentile(samples, 0.99) / 1000,
    p999Ms: percentile(samples, 0.999) / 1000,
    samples: samples.length,
    producedPerSecond: Number(lastMatch(producerOutput, producedPattern)[6]),
  };
}

async function timeToReady(): Promise<{
  medianMs: number;
  maxMs: number;
  idleResidentBytes: number;
}> {
  const readyTimes: number[] = [];
  let idleResidentBytes = 0;
  for (let start = 0; start < readyStarts; start += 1) {
    const broker = await BrokerProcess.start({ label: 'broker(ready)' });
    readyTimes.push(broker.lastReadyMs);
    if (start === readyStarts - 1) {
      await sleep(3_000);
      idleResidentBytes = await broker.residentSetBytes();
    }
    await broker.dispose();
  }
  readyTimes.sort((a, b) => a - b);
  return {
    medianMs: readyTimes[Math.floor(readyTimes.length / 2)],
    maxMs: readyTimes.at(-1) ?? 0,
    idleResidentBytes,
  };
}

/** Node's sequential write + fdatasync rate for one chunk size, recorded; returns the measurement. */
async function recordSyncedWrite(
  directory: string,
  options: { chunkBytes: number; label: string },
): Promise<Awaited<ReturnType<typeof measureSyncedWrite>>> {
  const measured = await measureSyncedWrite({
    directory,
    chunkBytes: options.chunkBytes,
    durationMs: 3_000,
  });
  record({
    name: `disk: sequential write + fdatasync, ${options.label} chunks (node)`,
    value: measured.bytesPerSecond / megabyte,
    unit: 'MB/s',
    note: `${measured.syncsPerSecond.toFixed(0)} syncs/s`,
  });
  return measured;
}

async function main(): Promise<void> {
  await mkdir(benchDirectory, { recursive: true });
  const binary = await ensureRdkafkaPerformance();
  await ensureDebianPackages(['iperf3', 'fio']).catch((error) =>
    console.warn(`physical limits: ${error.message}`),
  );
  const workDirectory = await makeTemporaryDirectory('bench');
  try {
    const oneMiB = await recordSyncedWrite(workDirectory, {
      chunkBytes: 1024 * 1024,
      label: '1 MiB',
    });
    await recordSyncedWrite(workDirectory, { chunkBytes: 64 * 1024, label: '64 KiB' });
    const syncLatency = await measureSyncLatency({
      directory: workDirectory,
      chunkBytes: 4096,
      durationMs: 3_000,
    });
    record({
      name: 'disk: 4 KiB append + fdatasync latency p50 / p99 / max',
      value: syncLatency.p50Ms,
      unit: 'ms (p50)',
      note: `p99 ${syncLatency.p99Ms.toFixed(2)} ms, max ${syncLatency.maxMs.toFixed(1)} ms over ${syncLatency.syncs} syncs`,
    });
    const fio = await measureFioSyncedWrite({
      directory: workDirectory,
      blockBytes: 1024 * 1024,
      sizeBytes: 256 * 1024 * 1024,
    });
    if (fio !== undefined)
      record({
        name: 'disk: fio sequential write, 1 MiB blocks, fdatasync each',
        value: fio / megabyte,
        unit: 'MB/s',
      });
    const loopback = await measureLoopbackBandwidth({ port: 15_201 });
    if (loopback !== undefined)
      record({
        name: 'loopback TCP: iperf3, one stream',
        value: loopback / megabyte,
        unit: 'MB/s',
      });

    const ready = await timeToReady();
    record({
      name: 'time to ready (spawn → ready line, median of 5)',
      value: Math.round(ready.medianMs),
      unit: 'ms',
      goal: '< 500 ms',
      note: `max ${Math.round(ready.maxMs)} ms`,
    });
    record({
      name: 'idle RSS',
      value: ready.idleResidentBytes / (1024 * 1024),
      unit: 'MiB',
      goal: '< 100 MB',
    });

    const broker = await BrokerProcess.start({ label: 'broker(bench)' });
    try {
      const kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'bench-setup' });
      for (const topic of [
        'bench-small',
        'bench-large',
        'bench-latency-acks1',
        'bench-latency-acks-1',
      ]) {
        await kafkajsCreateTopic(kafka, { topic, partitions: 1 });
      }
      const small = await produce(binary, {
        bootstrap: broker.bootstrap,
        topic: 'bench-small',
        sizeBytes: 100,
        count: produceSmallCount,
        acks: '1',
      });
      record({
        name: 'produce 100 B records, acks=1 (1 partition)',
        value: small.recordsPerSecond,
        unit: 'records/s',
        goal: '≥ 1,000,000 records/s',
        note: `${(small.bytesPerSecond / megabyte).toFixed(1)} MB/s`,
      });
      const large = await produce(binary, {
        bootstrap: broker.bootstrap,
        topic: 'bench-large',
        sizeBytes: 1024,
        count: produceLargeCount,
        acks: '-1',
      });
      record({
        name: 'produce 1 KiB records, acks=all (1 partition)',
        value: large.bytesPerSecond / megabyte,
        unit: 'MB/s',
        goal: '≥ 50% of synced disk write',
        note: `${large.recordsPerSecond.toLocaleString('en-US')} records/s; ${((100 * large.bytesPerSecond) / oneMiB.bytesPerSecond).toFixed(0)}% of the 1 MiB fdatasync loop`,
      });
      const consumed = await consume(binary, {
        bootstrap: broker.bootstrap,
        topic: 'bench-small',
        count: produceSmallCount,
      });
      record({
        name: 'consume 100 B records from the beginning',
        value: consumed.recordsPerSecond,
        unit: 'records/s',
        note: `${(consumed.bytesPerSecond / megabyte).toFixed(1)} MB/s`,
      });
      for (const acks of ['1', '-1']) {
        const label = acks === '1' ? 'acks=1' : 'acks=all';
        // rdkafka_performance paces by sleeping after each send, so on a busy machine it falls
        // short of -r: one retry with the rate scaled up to reach the target.
        const measureLatency = (requestedPerSecond: number) =>
          endToEndLatency(binary, {
            bootstrap: broker.bootstrap,
            topic: `bench-latency-acks${acks}`,
            workDirectory,
            acks,
            requestedPerSecond,
          });
        let latency = await measureLatency(latencyRatePerSecond);
        if (latency.producedPerSecond < latencyRatePerSecond * 0.95) {
          const scaled = Math.round(
            (latencyRatePerSecond * latencyRatePerSecond) / latency.producedPerSecond,
          );
          latency = await measureLatency(Math.min(scaled, latencyRatePerSecond * 3));
        }
        const rate = `producer reached ${latency.producedPerSecond.toLocaleString('en-US')} records/s; ${latency.samples} samples; linger.ms=0`;
        record({
          name: `end-to-end latency p50 at ${latencyRatePerSecond} records/s, ${label}`,
          value: latency.p50Ms,
          unit: 'ms',
          note: rate,
        });
        record({
          name: `end-to-end latency p99, ${label}`,
          value: latency.p99Ms,
          unit: 'ms',
          goal: '< 5 ms',
        });
        record({ name: `end-to-end latency p99.9, ${label}`, value: latency.p999Ms, unit: 'ms' });
      }
      record({
        name: 'broker RSS after the run',
        value: (await broker.residentSetBytes()) / (1024 * 1024),
        unit: 'MiB',
      });
    } finally {
      await broker.dispose();
    }
  } finally {
    await removeDirectory(workDirectory);
    const resultsPath = join(benchDirectory, 'broker-results.json');
    await writeFile(
      resultsPath,
      `${JSON.stringify({ measuredAt: new Date().toISOString(), measurements }, null, 2)}\n`,
    );
    console.log(`\nresults: ${resultsPath}`);
  }
}

await main();
