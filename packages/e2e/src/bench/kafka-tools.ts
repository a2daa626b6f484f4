import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BrokerProcess } from '../harness/broker-process.js';
import { runJava } from '../harness/java.js';
import { runToCompletion } from '../harness/managed-process.js';
import { ReferenceKafka } from '../harness/reference-kafka.js';
import { makeTemporaryDirectory, removeDirectory } from '../harness/temporary-directory.js';
import {
  type ProducerPerformanceResult,
  runConsumerPerformance,
  runEndToEndLatency,
  runProducerPerformance,
} from '../tools/kafka-performance-tools.js';
import {
  measureFioSyncedWrite,
  measureLoopbackBandwidth,
  measureSyncedWrite,
  measureSyncLatency,
} from '../tools/physical-limits.js';
import { benchDirectory, ensureDebianPackages } from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- kafka-tools`: Apache Kafka's own perf tools (ProducerPerformance,
 * ConsumerPerformance, EndToEndLatency from the 4.4 jars, JVM flags and heap of their scripts)
 * against Gregor (the CLI) and against Apache Kafka 4.4 (KRaft, one combined node, -Xms1G -Xmx1G
 * and the flags of kafka-server-start.sh) on this machine, each workload against each broker in
 * turn, with the same topics, next to the disk and loopback limits measured in the same run. A
 * second Kafka with log.flush.interval.messages=1 takes the acks=all rows: Gregor fdatasyncs an
 * acks=all append before acknowledging it, Kafka by default leaves the data to the page cache.
 * Each fresh broker gets an unreported warm-up first (`warmUp`), and `sync` runs before every
 * produce step so no step pays for the previous one's page-cache writeback.
 *
 * GREGOR_BENCH_KAFKA_TOOLS_SCALE (default 1) scales every record count, e.g. 0.1 for a short run.
 * Results: markdown tables on stdout and .bench/kafka-tools-results.json.
 */

const scale = Number(process.env.GREGOR_BENCH_KAFKA_TOOLS_SCALE ?? 1);
const scaled = (count: number) => Math.max(1_000, Math.round(count * scale));

const partitionCounts = [1, 6];
const recordSizes = [100, 1024];
const producedRecords: Record<number, number> = {
  100: scaled(1_000_000),
  1024: scaled(250_000),
};
/** The first fifth of each produce run is the tool's warm-up (reported apart by the tool). */
const warmUpFraction = 0.2;
const pacedRatePerSecond = 10_000;
const pacedRecords = scaled(50_000);
const pacedWarmUpRecords = scaled(10_000);
const roundTripRecords = scaled(3_000);
/** Records produced (acks=1 and acks=all) and consumed once on a fresh broker before measuring. */
const brokerWarmUpRecords = scaled(200_000);
const warmUpTopic = 'broker-warm-up';
const stepTimeoutMs = 300_000;
const mebibyte = 2 ** 20;

type Acks = '1' | 'all';

type Workload =
  | { kind: 'produce'; partitions: number; recordBytes: number; acks: Acks }
  | { kind: 'consume'; partitions: number; recordBytes: number }
  | { kind: 'paced'; acks: Acks }
  | { kind: 'round-trip'; acks: Acks };

function workloadName(workload: Workload): string {
  switch (workload.kind) {
    case 'produce':
      return `produce ${sizeName(workload.recordBytes)}, ${workload.partitions} partition${workload.partitions > 1 ? 's' : ''}, acks=${workload.acks}`;
    case 'consume':
      return `consume ${sizeName(workload.recordBytes)}, ${workload.partitions} partition${workload.partitions > 1 ? 's' : ''}`;
    case 'paced':
      return `produce 100 B at ${pacedRatePerSecond.toLocaleString('en-US')} rec/s, 1 partition, acks=${workload.acks}`;
    case 'round-trip':
      return `EndToEndLatency 100 B, 1 partition, acks=${workload.acks}`;
  }
}

function sizeName(recordBytes: number): string {
  return recordBytes === 1024 ? '1 KiB' : `${recordBytes} B`;
}

function produceTopic(partitions: number, recordBytes: number, acks: Acks): string {
  return `produce-p${partitions}-${recordBytes}b-acks${acks}`;
}

const workloads: Workload[] = [
  ...partitionCounts.flatMap((partitions) =>
    recordSizes.flatMap((recordBytes) =>
      (['1', 'all'] as const).map(
        (acks): Workload => ({ kind: 'produce', partitions, recordBytes, acks }),
      ),
    ),
  ),
  ...partitionCounts.flatMap((partitions) =>
    recordSizes.map((recordBytes): Workload => ({ kind: 'consume', partitions, recordBytes })),
  ),
  { kind: 'paced', acks: '1' },
  { kind: 'paced', acks: 'all' },
  { kind: 'round-trip', acks: '1' },
  { kind: 'round-trip', acks: 'all' },
];

function isAcksAll(workload: Workload): boolean {
  return 'acks' in workload && workload.acks === 'all';
}

interface BrokerUnderTest {
  bootstrap: string;
  pid: number | undefined;
  /** The broker's captured output (the tail), for a broker that died. */
  output(): string;
  stop(): Promise<void>;
}

interface BrokerSetup {
  name: string;
  start(): Promise<BrokerUnderTest>;
  /** Which workloads to run against it. */
  runs(workload: Workload): boolean;
  /** Fraction of the produce steps' record counts (a broker that fsyncs every append is slow). */
  produceFraction?: number;
}

const brokerSetups: BrokerSetup[] = [
  {
    name: 'Gregor',
    runs: () => true,
    async start() {
      // Its defaults (as `npm start` runs it), but no 3 s wait for more members before the first
      // rebalance of a group: the reference Kafka has 0 too (see reference-kafka.ts).
      const broker = await BrokerProcess.start({
        label: 'broker(bench-kafka-tools)',
        extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
      });
      return {
        bootstrap: broker.bootstrap,
        pid: broker.pid,
        output: () => broker.output(),
        stop: () => broker.dispose(),
      };
    },
  },
  {
    name: 'Kafka 4.4',
    runs: () => true,
    async start() {
      const kafka = await ReferenceKafka.start({ jvmFlags: 'kafka', heapMb: 1024 });
      return {
        bootstrap: kafka.bootstrap,
        pid: kafka.pid,
        output: () => kafka.output(),
        stop: () => kafka.stop(),
      };
    },
  },
  {
    name: 'Kafka 4.4, flush every record',
    runs: (workload) => isAcksAll(workload),
    produceFraction: 0.25,
    async start() {
      const kafka = await ReferenceKafka.start({
        jvmFlags: 'kafka',
        heapMb: 1024,
        settings: { 'log.flush.interval.messages': '1' },
      });
      return {
        bootstrap: kafka.bootstrap,
        pid: kafka.pid,
        output: () => kafka.output(),
        stop: () => kafka.stop(),
      };
    },
  },
];

interface Result {
  /** Why the step has no figures (the tool failed or the broker had died). */
  failure?: string;
  /** Absent for EndToEndLatency, whose rate is just the inverse of its latency. */
  recordsPerSecond?: number;
  mebibytesPerSecond?: number;
  averageLatencyMs?: number;
  p50LatencyMs?: number;
  p99LatencyMs?: number;
  /**
   * The client's own view of the broker: the producer's request-latency-avg (send to response) or
   * the consumer's fetch-latency-avg, and records per request.
   */
  requestLatencyMs?: number;
  recordsPerRequest?: number;
  /** Broker CPU (user + system) during the step, per record. */
  brokerCpuMicrosPerRecord?: number;
  note?: string;
}

/** User + system CPU of a process so far, in seconds (Linux /proc). */
async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function isAlive(pid: number | undefined): Promise<boolean> {
  return (await processCpuSeconds(pid).catch(() => undefined)) !== undefined;
}

async function syncDisks(): Promise<void> {
  // acks=1 data of the previous step is still in the page cache; written now, not mid-step.
  await runToCompletion({ command: 'sync', arguments: [], timeoutMs: 120_000 });
}

/** Every topic of the run, created by Kafka's Admin client (the same client for each broker). */
async function createTopics(bootstrap: string): Promise<void> {
  const topics = [
    ...partitionCounts.flatMap((partitions) =>
      recordSizes.flatMap((recordBytes) =>
        (['1', 'all'] as const).map(
          (acks) => `${produceTopic(partitions, recordBytes, acks)}:${partitions}`,
        ),
      ),
    ),
    ...(['1', 'all'] as const).flatMap((acks) => [
      `paced-acks${acks}:1`,
      `round-trip-acks${acks}:1`,
    ]),
    `${warmUpTopic}:${partitionCounts.at(-1)}`,
  ];
  const result = await runJava({
    main: 'CreateBenchTopics.java',
    arguments: [bootstrap, ...topics],
    timeoutMs: 90_000,
  });
  if (result.code !== 0)
    throw new Error(`CreateBenchTopics exited ${result.code}\n${result.stdout}\n${result.stderr}`);
}

/**
 * A fresh broker's first seconds of traffic run unoptimised code (V8 and the JVM compile the hot
 * paths as they go; the JVM's compiler threads also use CPU): one unreported produce of each kind
 * and one consume of them, so the measured rows and the broker CPU per record are warm.
 */
async function warmUp(bootstrap: string): Promise<void> {
  for (const acks of ['1', 'all'] as const)
    await runProducerPerformance({
      bootstrap,
      topic: warmUpTopic,
      records: brokerWarmUpRecords,
      recordBytes: 100,
      acks,
      jvmFlags: 'kafka',
      timeoutMs: stepTimeoutMs,
    });
  await runConsumerPerformance({
    bootstrap,
    topic: warmUpTopic,
    records: 2 * brokerWarmUpRecords,
    jvmFlags: 'kafka',
    timeoutMs: stepTimeoutMs,
  });
}

/** The tool's steady-state summary (after its warm-up records). */
function producerResult(produced: ProducerPerformanceResult, note: string): Result {
  const summary = produced.steadyState ?? produced.total;
  return {
    recordsPerSecond: summary.recordsPerSecond,
    mebibytesPerSecond: summary.mebibytesPerSecond,
    averageLatencyMs: summary.averageLatencyMs,
    p50LatencyMs: summary.p50Ms,
    p99LatencyMs: summary.p99Ms,
    requestLatencyMs: produced.metrics.get('request-latency-avg'),
    recordsPerRequest: produced.metrics.get('records-per-request-avg'),
    note,
  };
}

async function runWorkload(
  broker: BrokerUnderTest,
  workload: Workload,
  produceFraction: number,
): Promise<Result> {
  const cpuBefore = await processCpuSeconds(broker.pid);
  const { result, records } = await runTool(broker.bootstrap, workload, produceFraction);
  const cpuAfter = await processCpuSeconds(broker.pid);
  if (cpuBefore !== undefined && cpuAfter !== undefined)
    result.brokerCpuMicrosPerRecord = ((cpuAfter - cpuBefore) * 1e6) / records;
  return result;
}

async function runTool(
  bootstrap: string,
  workload: Workload,
  produceFraction: number,
): Promise<{ result: Result; records: number }> {
  const jvmFlags = 'kafka';
  switch (workload.kind) {
    case 'produce': {
      await syncDisks();
      const records = Math.round(producedRecords[workload.recordBytes] * produceFraction);
      const produced = await runProducerPerformance({
        bootstrap,
        topic: produceTopic(workload.partitions, workload.recordBytes, workload.acks),
        records,
        recordBytes: workload.recordBytes,
        acks: workload.acks,
        warmUpRecords: Math.round(records * warmUpFraction),
        jvmFlags,
        timeoutMs: stepTimeoutMs,
      });
      if (produced.total.records !== records)
        throw new Error(`${records} asked, ${produced.total.records} sent`);
      return {
        result: producerResult(
          produced,
          `whole run incl. warm-up: ${Math.round(produced.total.recordsPerSecond).toLocaleString('en-US')} rec/s`,
        ),
        records,
      };
    }
    case 'consume': {
      const records = producedRecords[workload.recordBytes];
      const consumed = await runConsumerPerformance({
        bootstrap,
        topic: produceTopic(workload.partitions, workload.recordBytes, '1'),
        records,
        jvmFlags,
        timeoutMs: stepTimeoutMs,
      });
      if (consumed.records !== records)
        throw new Error(`consume: ${records} asked, ${consumed.records} read`);
      return {
        result: {
          recordsPerSecond: consumed.fetchRecordsPerSecond,
          mebibytesPerSecond: consumed.fetchMebibytesPerSecond,
          requestLatencyMs: consumed.fetchMetrics.get('fetch-latency-avg'),
          recordsPerRequest: consumed.fetchMetrics.get('records-per-request-avg'),
          note: `group join ${consumed.rebalanceMs} ms; with it ${Math.round(consumed.recordsPerSecond).toLocaleString('en-US')} rec/s`,
        },
        records,
      };
    }
    case 'paced': {
      await syncDisks();
      const produced = await runProducerPerformance({
        bootstrap,
        topic: `paced-acks${workload.acks}`,
        records: pacedRecords,
        recordBytes: 100,
        acks: workload.acks,
        throughputPerSecond: pacedRatePerSecond,
        warmUpRecords: pacedWarmUpRecords,
        jvmFlags,
        timeoutMs: stepTimeoutMs,
      });
      const steady = produced.steadyState ?? produced.total;
      return {
        result: producerResult(
          produced,
          `max ${steady.maxLatencyMs} ms, p99.9 ${steady.p999Ms} ms`,
        ),
        records: pacedRecords,
      };
    }
    case 'round-trip': {
      const latency = await runEndToEndLatency({
        bootstrap,
        topic: `round-trip-acks${workload.acks}`,
        records: roundTripRecords,
        recordBytes: 100,
        acks: workload.acks,
        jvmFlags,
        timeoutMs: stepTimeoutMs,
      });
      return {
        result: {
          averageLatencyMs: latency.averageMs,
          p50LatencyMs: latency.p50Ms,
          p99LatencyMs: latency.p99Ms,
          note: `p99.9 ${latency.p999Ms} ms`,
        },
        records: roundTripRecords,
      };
    }
  }
}

interface Limits {
  syncedWriteMebibytesPerSecond: number;
  syncLatency: { p50Ms: number; p99Ms: number; maxMs: number };
  fioMebibytesPerSecond?: number;
  loopbackMebibytesPerSecond?: number;
}

async function measureLimits(directory: string): Promise<Limits> {
  const synced = await measureSyncedWrite({ directory, chunkBytes: mebibyte, durationMs: 3_000 });
  const syncLatency = await measureSyncLatency({ directory, chunkBytes: 4096, durationMs: 3_000 });
  const fio = await measureFioSyncedWrite({
    directory,
    blockBytes: mebibyte,
    sizeBytes: 256 * mebibyte,
  });
  const loopback = await measureLoopbackBandwidth({ port: 15_202 });
  return {
    syncedWriteMebibytesPerSecond: synced.bytesPerSecond / mebibyte,
    syncLatency,
    fioMebibytesPerSecond: fio === undefined ? undefined : fio / mebibyte,
    loopbackMebibytesPerSecond: loopback === undefined ? undefined : loopback / mebibyte,
  };
}

function formatNumber(value: number, fractionDigits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  });
}

function formatCell(result: Result | undefined): string {
  if (result === undefined) return '';
  if (result.failure !== undefined) return `failed: ${result.failure}`;
  const parts: string[] = [];
  if (result.recordsPerSecond !== undefined)
    parts.push(`${formatNumber(result.recordsPerSecond)} rec/s`);
  if (result.mebibytesPerSecond !== undefined)
    parts.push(`${formatNumber(result.mebibytesPerSecond, 1)} MiB/s`);
  if (result.averageLatencyMs !== undefined)
    parts.push(
      `${formatNumber(result.averageLatencyMs, 2)} / ${result.p50LatencyMs} / ${result.p99LatencyMs} ms`,
    );
  return parts.join(' · ');
}

function formatCosts(result: Result | undefined): string {
  if (result === undefined) return '';
  const parts: string[] = [];
  if (result.brokerCpuMicrosPerRecord !== undefined)
    parts.push(`${formatNumber(result.brokerCpuMicrosPerRecord, 1)} µs`);
  if (result.requestLatencyMs !== undefined && Number.isFinite(result.requestLatencyMs))
    parts.push(`${formatNumber(result.requestLatencyMs, 2)} ms`);
  if (result.recordsPerRequest !== undefined && Number.isFinite(result.recordsPerRequest))
    parts.push(`${formatNumber(result.recordsPerRequest)} rec/req`);
  return parts.join(' · ');
}

/** Throughput rows: Gregor's rate over Kafka's; latency rows: Gregor's average latency over Kafka's. */
function ratio(workload: Workload, gregor: Result | undefined, kafka: Result | undefined): string {
  if (gregor === undefined || kafka === undefined) return '';
  if (workload.kind === 'paced' || workload.kind === 'round-trip') {
    if (gregor.averageLatencyMs === undefined || kafka.averageLatencyMs === undefined) return '';
    return `latency ${formatNumber(gregor.averageLatencyMs / kafka.averageLatencyMs, 2)}×`;
  }
  if (gregor.recordsPerSecond === undefined || kafka.recordsPerSecond === undefined) return '';
  return `${formatNumber(gregor.recordsPerSecond / kafka.recordsPerSecond, 2)}×`;
}

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
}

async function javaVersion(): Promise<string> {
  const result = await runToCompletion({
    command: 'java',
    arguments: ['-version'],
    timeoutMs: 30_000,
  });
  return result.stderr.split('\n')[0]?.trim() ?? '';
}

async function main(): Promise<void> {
  await mkdir(benchDirectory, { recursive: true });
  await ensureDebianPackages(['iperf3', 'fio']).catch((error) =>
    console.warn(`physical limits: ${error.message}`),
  );
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  console.log(
    `load average before: ${loadBefore}; ${await javaVersion()}; node ${process.version}`,
  );
  const results = new Map<string, { workload: Workload; row: Map<string, Result> }>();
  const workDirectory = await makeTemporaryDirectory('bench-kafka-tools');
  let limitsBefore: Limits | undefined;
  let syncLatencyAfter: Limits['syncLatency'] | undefined;
  try {
    limitsBefore = await measureLimits(workDirectory);
    console.log(`limits: ${JSON.stringify(limitsBefore)}`);
    // All three brokers run for the whole measurement and each workload runs against them back
    // to back, the first broker rotating from row to row: on this shared machine the load
    // changes within minutes, so brokers measured minutes apart would not be comparable. An idle
    // broker costs a few percent of a core (the idle JVMs' housekeeping).
    const running: { setup: BrokerSetup; broker: BrokerUnderTest }[] = [];
    const dead = new Set<BrokerSetup>();
    try {
      for (const setup of brokerSetups) {
        const broker = await setup.start();
        running.push({ setup, broker });
        await createTopics(broker.bootstrap);
        await warmUp(broker.bootstrap);
      }
      for (const [index, workload] of workloads.entries()) {
        const rotated = [
          ...running.slice(index % running.length),
          ...running.slice(0, index % running.length),
        ];
        for (const { setup, broker } of rotated) {
          if (!setup.runs(workload)) continue;
          const result = await runWorkload(broker, workload, setup.produceFraction ?? 1).catch(
            (error: Error): Result => ({ failure: error.message.split('\n')[0] }),
          );
          if (result.failure !== undefined && !(await isAlive(broker.pid)) && !dead.has(setup)) {
            dead.add(setup);
            console.error(`${setup.name} died; its last output:\n${broker.output().slice(-5000)}`);
          }
          const name = workloadName(workload);
          console.log(`${setup.name} | ${name} | ${formatCell(result)} | ${result.note ?? ''}`);
          const entry = results.get(name) ?? { workload, row: new Map<string, Result>() };
          entry.row.set(setup.name, result);
          results.set(name, entry);
        }
      }
    } finally {
      for (const { broker } of running) await broker.stop();
    }
    syncLatencyAfter = await measureSyncLatency({
      directory: workDirectory,
      chunkBytes: 4096,
      durationMs: 3_000,
    });
  } finally {
    await removeDirectory(workDirectory);
  }
  const loadAfter = loadAverage();

  const names = brokerSetups.map((setup) => setup.name);
  const lines = [
    '',
    `rec/s · MiB/s · latency avg / p50 / p99 ms, as the tools report them (MiB = the tools' MB, 2^20 bytes)`,
    '',
    `| workload | ${names.join(' | ')} | Gregor ÷ Kafka 4.4 |`,
    `| --- | ${names.map(() => '---').join(' | ')} | ---: |`,
  ];
  for (const [name, { workload, row }] of results) {
    lines.push(
      `| ${name} | ${names.map((broker) => formatCell(row.get(broker))).join(' | ')} | ${ratio(workload, row.get('Gregor'), row.get('Kafka 4.4'))} |`,
    );
  }
  lines.push(
    '',
    "Broker CPU per record (µs, from /proc) and the client's request latency (ms, the producer's request-latency-avg or the consumer's fetch-latency-avg) with its records per request",
    '',
    `| workload | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---:').join(' | ')} |`,
  );
  for (const [name, { row }] of results) {
    lines.push(`| ${name} | ${names.map((broker) => formatCosts(row.get(broker))).join(' | ')} |`);
  }
  if (limitsBefore) {
    const latency = limitsBefore.syncLatency;
    lines.push(
      '',
      '| physical limit (same run) | |',
      '| --- | ---: |',
      `| disk: write + fdatasync, 1 MiB chunks (Node loop) | ${formatNumber(limitsBefore.syncedWriteMebibytesPerSecond)} MiB/s |`,
      `| disk: fio sequential write, 1 MiB blocks, fdatasync each | ${limitsBefore.fioMebibytesPerSecond === undefined ? 'fio missing' : `${formatNumber(limitsBefore.fioMebibytesPerSecond)} MiB/s`} |`,
      `| disk: 4 KiB append + fdatasync p50 / p99 / max, before | ${formatNumber(latency.p50Ms, 2)} / ${formatNumber(latency.p99Ms, 2)} / ${formatNumber(latency.maxMs, 1)} ms |`,
    );
    if (syncLatencyAfter)
      lines.push(
        `| disk: 4 KiB append + fdatasync p50 / p99 / max, after | ${formatNumber(syncLatencyAfter.p50Ms, 2)} / ${formatNumber(syncLatencyAfter.p99Ms, 2)} / ${formatNumber(syncLatencyAfter.maxMs, 1)} ms |`,
      );
    lines.push(
      `| loopback TCP, iperf3, one stream | ${limitsBefore.loopbackMebibytesPerSecond === undefined ? 'iperf3 missing' : `${formatNumber(limitsBefore.loopbackMebibytesPerSecond)} MiB/s`} |`,
    );
  }
  lines.push('', `load average (1, 5, 15 min): before ${loadBefore}; after ${loadAfter}`);
  console.log(lines.join('\n'));

  const resultsPath = join(benchDirectory, 'kafka-tools-results.json');
  await writeFile(
    resultsPath,
    `${JSON.stringify(
      {
        startedAt,
        finishedAt: new Date().toISOString(),
        scale,
        loadBefore,
        loadAfter,
        limitsBefore,
        syncLatencyAfter,
        results: Object.fromEntries(
          [...results].map(([name, { row }]) => [name, Object.fromEntries(row)]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults: ${resultsPath}`);
  const failed = [...results.values()].some(({ row }) =>
    [...row.values()].some((result) => result.failure !== undefined),
  );
  if (failed) process.exitCode = 1;
}

await main();
