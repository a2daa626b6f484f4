import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerProcess } from '../harness/broker-process.js';
import { kafkajsCreateTopic, newKafkajs } from '../harness/kafkajs-client.js';
import { ManagedProcess, runToCompletion } from '../harness/managed-process.js';
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
  ensurePacedRdkafkaPerformance,
  ensureRdkafkaPerformance,
} from '../tools/rdkafka-performance.js';
import { percentile } from '../tools/statistics.js';

/**
 * `npm run bench -- broker`: the broker driven by librdkafka's rdkafka_performance (a client that
 * is not the bottleneck), next to the machine's physical limits measured in the same run.
 * Results: a table on stdout and .bench/broker-results.json.
 */

const produceSmallCount = 2_000_000;
const produceLargeCount = 300_000;
/** Records sent first at the latency rate and reported apart (the first 3 s of traffic). */
const latencyWarmUpRecordCount = 30_000;
/** Records measured after the warm-up (5 s). */
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

interface LatencyPercentiles {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  samples: number;
}

function latencyPercentiles(samplesUs: number[]): LatencyPercentiles {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 0.5) / 1000,
    p99Ms: percentile(sorted, 0.99) / 1000,
    p999Ms: percentile(sorted, 0.999) / 1000,
    samples: sorted.length,
  };
}

/** User + system CPU of a process so far, in seconds (Linux /proc). */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * rdkafka_performance latency mode: the producer stamps wall time, the consumer records receive
 * minus stamp. One run of warm-up + measured records at the same rate, with the consumer attached
 * throughout; the first `latencyWarmUpRecordCount` samples are reported apart as the warm-up (the
 * broker's first seconds of this traffic, while V8 is still compiling the paths it takes), the
 * rest as the steady state. Like the OpenMessaging Benchmark's warm-up phase.
 */
async function endToEndLatency(
  binaries: { consumer: string; producer: string },
  options: {
    bootstrap: string;
    topic: string;
    workDirectory: string;
    acks: string;
    requestedPerSecond: number;
    brokerPid: number;
  },
): Promise<{
  warmUp: LatencyPercentiles;
  steady: LatencyPercentiles;
  producedPerSecond: number;
  brokerCpuMicrosPerRecord: number;
}> {
  const latencyFile = join(
    options.workDirectory,
    `latency-us-${options.topic}-${options.requestedPerSecond}.txt`,
  );
  const totalRecords = latencyWarmUpRecordCount + latencyRecordCount;
  let producerOutput = '';
  const consumer = new ManagedProcess({
    label: 'latency consumer',
    command: binaries.consumer,
    arguments: [
      '-C',
      '-l',
      '-A',
      latencyFile,
      ...partitionZero(options),
      '-o',
      'end',
      '-c',
      String(totalRecords),
      '-X',
      'fetch.wait.max.ms=100',
      '-q',
    ],
  });
  let brokerCpuSeconds = 0;
  try {
    await sleep(3_000);
    const cpuBefore = await processCpuSeconds(options.brokerPid);
    producerOutput = await runPerformance(
      binaries.producer,
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
        String(totalRecords),
        '-X',
        'linger.ms=0',
        '-q',
      ],
      'latency producer',
    );
    await withDeadline(consumer.exited, { timeoutMs: 30_000, what: 'the latency consumer' });
    brokerCpuSeconds = (await processCpuSeconds(options.brokerPid)) - cpuBefore;
  } finally {
    await consumer.stop({ signal: 'SIGKILL' });
  }
  // In receive order: the first samples are the warm-up.
  const samples = (await readFile(latencyFile, 'utf8'))
    .split('\n')
    .filter((line) => line.length > 0)
    .map(Number);
  if (samples.length <= latencyWarmUpRecordCount)
    throw new Error(`only ${samples.length} latency samples\n${consumer.output().slice(-2000)}`);
  return {
    warmUp: latencyPercentiles(samples.slice(0, latencyWarmUpRecordCount)),
    steady: latencyPercentiles(samples.slice(latencyWarmUpRecordCount)),
    producedPerSecond: Number(lastMatch(producerOutput, producedPattern)[6]),
    brokerCpuMicrosPerRecord: (brokerCpuSeconds * 1e6) / totalRecords,
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
  const pacedBinary = await ensurePacedRdkafkaPerformance();
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
      // The earlier phases left hundreds of MB of unsynced (acks=1) data in the page cache; the
      // kernel writes it back about 30 s later, in the middle of the latency runs. Written now,
      // so each latency run starts on a quiet disk.
      await runToCompletion({ command: 'sync', arguments: [], timeoutMs: 120_000 });
      const brokerPid = broker.pid;
      if (brokerPid === undefined) throw new Error('the broker process has no pid');
      for (const acks of ['1', '-1']) {
        const label = acks === '1' ? 'acks=1' : 'acks=all';
        // The paced producer sleeps between sends; on a loaded machine it can still fall short
        // of -r, so one retry with the rate scaled up to reach the target.
        const measureLatency = (requestedPerSecond: number) =>
          endToEndLatency(
            { consumer: binary, producer: pacedBinary },
            {
              bootstrap: broker.bootstrap,
              topic: `bench-latency-acks${acks}`,
              workDirectory,
              acks,
              requestedPerSecond,
              brokerPid,
            },
          );
        let latency = await measureLatency(latencyRatePerSecond);
        if (latency.producedPerSecond < latencyRatePerSecond * 0.95) {
          const scaled = Math.round(
            (latencyRatePerSecond * latencyRatePerSecond) / latency.producedPerSecond,
          );
          latency = await measureLatency(Math.min(scaled, latencyRatePerSecond * 3));
        }
        const { warmUp, steady } = latency;
        const format = (value: number) => value.toFixed(2);
        record({
          name: `end-to-end latency p50 at ${latencyRatePerSecond} records/s, ${label}, steady state`,
          value: steady.p50Ms,
          unit: 'ms',
          note: `producer reached ${latency.producedPerSecond.toLocaleString('en-US')} records/s; ${steady.samples} samples after ${warmUp.samples} warm-up samples; linger.ms=0`,
        });
        record({
          name: `end-to-end latency p99, ${label}, steady state`,
          value: steady.p99Ms,
          unit: 'ms',
          goal: '< 5 ms',
        });
        record({
          name: `end-to-end latency p99.9, ${label}, steady state`,
          value: steady.p999Ms,
          unit: 'ms',
        });
        record({
          name: `end-to-end latency p50 / p99 / p99.9, ${label}, warm-up (first ${latencyWarmUpRecordCount.toLocaleString('en-US')} records)`,
          value: warmUp.p99Ms,
          unit: 'ms (p99)',
          note: `p50 ${format(warmUp.p50Ms)} ms, p99.9 ${format(warmUp.p999Ms)} ms`,
        });
        if (acks === '-1') {
          // The floor under acks=all (fdatasync before the ack), measured right after the run.
          const disk = await measureSyncLatency({
            directory: workDirectory,
            chunkBytes: 4096,
            durationMs: 5_000,
          });
          record({
            name: 'disk right after: 4 KiB append + fdatasync p99 (5 s)',
            value: disk.p99Ms,
            unit: 'ms',
            note: `p50 ${format(disk.p50Ms)} ms, p99.9 ${format(disk.p999Ms)} ms, max ${format(disk.maxMs)} ms over ${disk.syncs} syncs`,
          });
        }
        record({
          name: `broker CPU per record during the latency run, ${label}`,
          value: Math.round(latency.brokerCpuMicrosPerRecord),
          unit: 'µs',
          note: "one produce request per record plus the consumer's fetches",
        });
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
