import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { loadavg, setPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../harness/broker-process.js';
import { sleep, withDeadline } from '../harness/wait.js';
import { ConnectionLoad, reexecWithOpenFilesLimit } from '../tools/connection-load.js';
import type { LatencySummary } from '../tools/connection-load-worker.js';
import {
  eventLoopProbeEnvironment,
  type ProbeSample,
  parseProbeLine,
} from '../tools/event-loop-probe-reader.js';
import { benchDirectory } from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- scale-connections [--connections N] [--workers W]`: issue 12's connection
 * targets on one broker from `gregor broker` with its default config.
 * - 1,000 clients connecting one after another (connect, ApiVersions, Metadata, close), against
 *   the broker and against a bare node:net server answering every frame (the baseline);
 * - N clients (default 10,000) connecting at once from W generator processes, each answered
 *   ApiVersions and Metadata, kept open: accepted per second, RSS growth per idle connection,
 *   file descriptors;
 * - the same N closing and reconnecting at once, while one producer connection already there
 *   sends a 100-byte acks=1 Produce every 2 ms: its p99 during the storm against its p99 before.
 * The storm's generator processes run at niceness 10 (`--generator-niceness`): they stand for
 * other hosts and must not take the broker's or the measured producer's CPU on this machine.
 * Results: a table on stdout and .bench/scale-connections.json.
 */

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    connections: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '2' },
    sequential: { type: 'string', default: '1000' },
    'generator-niceness': { type: 'string', default: '10' },
    'broker-niceness': { type: 'string', default: '0' },
  },
  allowPositionals: true,
});
const connectionCount = Number(options.connections);
const workerCount = Number(options.workers);
const sequentialCount = Number(options.sequential);
const stepTimeoutMs = 180_000;
const produceIntervalMs = 2;
const baselineWindowMs = 5_000;

reexecWithOpenFilesLimit(connectionCount + 2_000);

interface Row {
  name: string;
  value: number;
  unit: string;
  goal?: string;
}
const rows: Row[] = [];
function record(row: Row): void {
  rows.push(row);
  const value = Number.isInteger(row.value)
    ? row.value.toLocaleString('en-US')
    : row.value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  console.log(`${row.name}: ${value} ${row.unit}${row.goal ? `  (goal ${row.goal})` : ''}`);
}

function describe(latency: LatencySummary): string {
  return `n=${latency.count} p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms, max ${latency.maxMs.toFixed(1)} ms`;
}

async function openFileCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

const nowEpochMs = () => performance.timeOrigin + performance.now();
const step = <T>(promise: Promise<T>, what: string) =>
  withDeadline(promise, { timeoutMs: stepTimeoutMs, what });

// The storm's clients stand for other hosts: on this one machine they run at a lower CPU priority
// than the broker and the producer whose latency is measured.
const generatorNiceness = Number(options['generator-niceness']);
const workers = Array.from({ length: workerCount }, () =>
  ConnectionLoad.start({ niceness: generatorNiceness }),
);
const producerWorker = ConnectionLoad.start();
const baselineServerWorker = ConnectionLoad.start();
let broker: BrokerProcess | undefined;
const loadAtStart = loadavg()[0]!;
const perWorker = Math.ceil(connectionCount / workerCount);

try {
  // Baseline: a bare node:net server on the same machine, one client after another.
  const plain = await baselineServerWorker.run({ type: 'plain-server' }, 'plain-server');
  const plainSequential = await step(
    workers[0]!.run(
      { type: 'sequential', host: '127.0.0.1', port: plain.port, count: sequentialCount },
      'sequential-done',
    ),
    'sequential connections to the plain server',
  );
  record({
    name: `${sequentialCount} clients one after another, bare node:net server`,
    value: Math.round(plainSequential.elapsedMs),
    unit: 'ms',
  });
  const plainStorm = await step(
    Promise.all(
      workers.map((worker) =>
        worker.run(
          {
            type: 'open',
            host: '127.0.0.1',
            port: plain.port,
            count: perWorker,
            concurrency: perWorker,
          },
          'opened',
        ),
      ),
    ),
    'the connection storm against the plain server',
  );
  const plainStormMs = Math.max(...plainStorm.map((reply) => reply.elapsedMs));
  const plainStormCount = plainStorm.reduce((sum, reply) => sum + reply.latency.count, 0);
  record({
    name: `${plainStormCount} clients connecting at once, bare node:net server (backlog 4096)`,
    value: Math.round(plainStormCount / (plainStormMs / 1000)),
    unit: 'connections/s',
  });
  await Promise.all(workers.map((worker) => worker.run({ type: 'close' }, 'closed')));
  baselineServerWorker.stop();

  broker = await BrokerProcess.start({
    label: 'scale-connections',
    environment: eventLoopProbeEnvironment(500),
  });
  const probes: ProbeSample[] = [];
  broker.onLine((line) => {
    const sample = parseProbeLine(line);
    if (sample !== undefined) probes.push(sample);
  });
  /** The broker's own event-loop delay over a window (its probe lines, every 500 ms). */
  const brokerDelay = (fromEpochMs: number, toEpochMs: number) => {
    const inWindow = probes.filter(
      (sample) => sample.atEpochMs >= fromEpochMs && sample.atEpochMs <= toEpochMs + 600,
    );
    const worst = (key: 'p99Ms' | 'maxMs') =>
      Math.max(0, ...inWindow.map((sample) => sample[key])).toFixed(1);
    return `broker event-loop delay: worst 500 ms p99 ${worst('p99Ms')} ms, max ${worst('maxMs')} ms`;
  };
  const pid = broker.pid!;
  const brokerNiceness = Number(options['broker-niceness']);
  // Below 0 (root only): the broker and the measured producer ahead of the other processes of a
  // shared machine, to tell the broker's own stalls from the machine's.
  if (brokerNiceness !== 0) {
    setPriority(pid, brokerNiceness);
  }
  const target = { host: broker.host, port: broker.port };
  const brokerSequential = await step(
    workers[0]!.run({ type: 'sequential', ...target, count: sequentialCount }, 'sequential-done'),
    'sequential connections to the broker',
  );
  record({
    name: `${sequentialCount} clients one after another, broker`,
    value: Math.round(brokerSequential.elapsedMs),
    unit: 'ms',
  });
  console.log(`  handshake ${describe(brokerSequential.latency)}`);

  if (brokerNiceness !== 0 && producerWorker.pid !== undefined) {
    setPriority(producerWorker.pid, brokerNiceness);
  }
  await producerWorker.run(
    {
      type: 'produce',
      ...target,
      topic: 'scale-connections-producer',
      intervalMs: produceIntervalMs,
    },
    'producing',
  );
  await sleep(1_000);
  const baselineFromMs = nowEpochMs();
  await sleep(baselineWindowMs);
  const baseline = await producerWorker.run(
    { type: 'latency', fromEpochMs: baselineFromMs, toEpochMs: nowEpochMs() },
    'latency',
  );
  console.log(`producer without a storm: ${describe(baseline.latency)}`);
  console.log(`  ${brokerDelay(baselineFromMs, baselineFromMs + baselineWindowMs)}`);
  const residentBeforeBytes = await broker.residentSetBytes();
  const filesBefore = await openFileCount(pid);

  // Storm 1: N clients connecting at once.
  const openAll = () =>
    Promise.all(
      workers.map((worker) =>
        worker.run({ type: 'open', ...target, count: perWorker, concurrency: perWorker }, 'opened'),
      ),
    );
  const stormFromMs = nowEpochMs();
  const opened = await step(openAll(), 'the connection storm');
  const stormToMs = nowEpochMs();
  const openedCount = opened.reduce((sum, reply) => sum + reply.latency.count, 0);
  const openFailures = opened.reduce((sum, reply) => sum + reply.failures, 0);
  const stormMs = Math.max(...opened.map((reply) => reply.elapsedMs));
  record({
    name: `${openedCount} clients connecting at once (ApiVersions + Metadata answered)`,
    value: Math.round(openedCount / (stormMs / 1000)),
    unit: 'connections/s',
    goal: '≥ 5,000',
  });
  console.log(
    `  ${Math.round(stormMs)} ms, ${openFailures} failed; handshake ${opened.map((reply) => describe(reply.latency)).join(' | ')}`,
  );
  const duringOpen = await producerWorker.run(
    { type: 'latency', fromEpochMs: stormFromMs, toEpochMs: stormToMs },
    'latency',
  );
  console.log(`producer while they connect: ${describe(duringOpen.latency)}`);
  console.log(`  ${brokerDelay(stormFromMs, stormToMs)}`);

  await sleep(3_000);
  const residentIdleBytes = await broker.residentSetBytes();
  const filesIdle = await openFileCount(pid);
  record({
    name: 'RSS growth per idle connection',
    value: Math.round((residentIdleBytes - residentBeforeBytes) / openedCount),
    unit: 'bytes',
    goal: '≤ 10,240',
  });
  console.log(
    `  RSS ${(residentBeforeBytes / 1e6).toFixed(1)} → ${(residentIdleBytes / 1e6).toFixed(1)} MB; file descriptors ${filesBefore} → ${filesIdle}`,
  );

  // Storm 2: every one of them closes and reconnects at once.
  const reconnectFromMs = nowEpochMs();
  const reconnected = await step(
    Promise.all(
      workers.map(async (worker) => {
        await worker.run({ type: 'close' }, 'closed');
        return worker.run(
          { type: 'open', ...target, count: perWorker, concurrency: perWorker },
          'opened',
        );
      }),
    ),
    'the reconnect storm',
  );
  const reconnectToMs = nowEpochMs();
  const reconnectMs = reconnectToMs - reconnectFromMs;
  const reconnectedCount = reconnected.reduce((sum, reply) => sum + reply.latency.count, 0);
  record({
    name: `${reconnectedCount} clients reconnecting at once`,
    value: Math.round(reconnectMs),
    unit: 'ms',
  });
  const duringReconnect = await producerWorker.run(
    { type: 'latency', fromEpochMs: reconnectFromMs, toEpochMs: reconnectToMs },
    'latency',
  );
  console.log(`producer while they reconnect: ${describe(duringReconnect.latency)}`);
  console.log(`  ${brokerDelay(reconnectFromMs, reconnectToMs)}`);
  record({
    name: 'existing producer p99 during the reconnect storm / without',
    value: duringReconnect.latency.p99Ms / baseline.latency.p99Ms,
    unit: '×',
    goal: '≤ 5',
  });
  await producerWorker.run({ type: 'stop-producing' }, 'stopped');
  await Promise.all(workers.map((worker) => worker.run({ type: 'close' }, 'closed')));

  const loadAtEnd = loadavg()[0]!;
  console.log(
    `machine load average (1 min): ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end`,
  );
  await mkdir(benchDirectory, { recursive: true });
  await writeFile(
    join(benchDirectory, 'scale-connections.json'),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        connectionCount,
        workerCount,
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        rows,
        producer: {
          baseline: baseline.latency,
          duringOpen: duringOpen.latency,
          duringReconnect: duringReconnect.latency,
        },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  for (const worker of [...workers, producerWorker, baselineServerWorker]) worker.stop();
  await broker?.dispose();
}
