import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchClientName, BenchDriver, BenchProducer } from './driver.js';
import type { GregorClientModule } from './gregor-driver.js';
import { rawConsume, rawProduce } from './raw-limit.js';

/**
 * One cell of the client benchmark in a process of its own (`node --expose-gc worker.js <task>`):
 * prints one line `RESULT {json}`. A client's import happens here only, so one client's set-up
 * problem fails its cells, not the run.
 */

export type WorkerTask =
  | {
      kind: 'produce-one' | 'produce-batch';
      client: BenchClientName | 'raw';
      bootstrap: string;
      topic: string;
      partitions: number;
      recordBytes: number;
      /** Records in flight (produce-one) or calls in flight (produce-batch). */
      window: number;
      batchRecords: number;
      warmupMs: number;
      measureMs: number;
    }
  | {
      kind: 'consume';
      client: BenchClientName | 'raw';
      bootstrap: string;
      topic: string;
      partitions: number;
      group: string;
      expectedRecords: number;
      timeoutMs: number;
    }
  | {
      kind: 'latency';
      client: BenchClientName;
      bootstrap: string;
      topic: string;
      group: string;
      recordBytes: number;
      ratePerSecond: number;
      warmupMs: number;
      measureMs: number;
      timeoutMs: number;
    }
  | {
      kind: 'idle-memory';
      client: BenchClientName;
      bootstrap: string;
      topic: string;
      clients: number;
    };

export interface WorkerResult {
  /** records/s for produce and consume, ms for latency, bytes per client for memory. */
  value: number;
  p99?: number;
  detail?: string;
}

/** Imported on demand: a worker loads only the client it measures (RSS, start-up, profiles). */
async function driverFor(client: BenchClientName): Promise<BenchDriver> {
  switch (client) {
    case 'gregor':
      return (await import('./gregor-driver.js')).gregorDriver;
    case 'gregor-baseline': {
      const folder = process.env.GREGOR_CLIENT_BASELINE;
      if (folder === undefined) throw new Error('gregor-baseline needs GREGOR_CLIENT_BASELINE');
      const module = (await import(
        pathToFileURL(join(folder, 'index.js')).href
      )) as GregorClientModule;
      return (await import('./gregor-driver.js')).gregorDriverOf(module, `baseline ${folder}`);
    }
    case 'kafkajs':
      return (await import('./kafkajs-driver.js')).kafkajsDriver;
    case 'platformatic':
      return (await import('./platformatic-driver.js')).platformaticDriver;
    case 'confluent':
      return (await import('./confluent-driver.js')).confluentDriver;
    case 'node-rdkafka':
      return (await import('./rdkafka-driver.js')).rdkafkaDriver;
  }
}

function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

function payload(recordBytes: number): Buffer {
  const value = Buffer.alloc(recordBytes);
  for (let index = 0; index < recordBytes; index++) value[index] = (index * 31 + 7) & 0xff;
  return value;
}

/** Keeps `window` calls in flight; counts records acknowledged inside the measured window. */
async function produce(task: Extract<WorkerTask, { kind: 'produce-one' | 'produce-batch' }>) {
  if (task.client === 'raw') {
    const result = await rawProduce({
      bootstrap: task.bootstrap,
      topic: task.topic,
      partitions: task.partitions,
      recordBytes: task.recordBytes,
      windowRequests: 8,
      warmupMs: task.warmupMs,
      measureMs: task.measureMs,
    });
    return { value: result.recordsPerSecond };
  }
  const producer: BenchProducer = await (await driverFor(task.client)).producer(task.bootstrap);
  const value = payload(task.recordBytes);
  const batch = Array.from({ length: task.batchRecords }, () => value);
  let acknowledged = 0;
  let running = true;
  let failure: unknown;
  const lane = async () => {
    while (running) {
      if (task.kind === 'produce-one') {
        await producer.sendOne(task.topic, value);
        acknowledged++;
      } else {
        await producer.sendMany(task.topic, batch);
        acknowledged += batch.length;
      }
    }
  };
  const lanes = Array.from({ length: task.window }, () =>
    lane().catch((error: unknown) => {
      failure ??= error;
      running = false;
    }),
  );
  await sleep(task.warmupMs);
  const startCount = acknowledged;
  const startMs = performance.now();
  await sleep(task.measureMs);
  const recordsPerSecond = ((acknowledged - startCount) * 1000) / (performance.now() - startMs);
  running = false;
  await Promise.all(lanes);
  await producer.close();
  if (failure !== undefined) throw failure;
  return { value: recordsPerSecond };
}

async function consume(task: Extract<WorkerTask, { kind: 'consume' }>): Promise<WorkerResult> {
  if (task.client === 'raw') {
    const result = await rawConsume(task);
    return { value: result.recordsPerSecond };
  }
  let received = 0;
  let receivedBeforeClock = 0;
  let firstAtMs = 0;
  let lastAtMs = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const consumer = await (await driverFor(task.client)).consume(task.bootstrap, {
    topic: task.topic,
    group: task.group,
    onValues: (values) => {
      received += values.length;
      lastAtMs = performance.now();
      if (firstAtMs === 0) {
        // The clock starts at the first records, after the group join.
        firstAtMs = lastAtMs;
        receivedBeforeClock = received;
      }
      if (received >= task.expectedRecords) resolveDone();
    },
  });
  const timer = setTimeout(resolveDone, task.timeoutMs);
  await done;
  clearTimeout(timer);
  await consumer.close();
  if (received < task.expectedRecords)
    throw new Error(
      `received ${received} of ${task.expectedRecords} records in ${task.timeoutMs} ms`,
    );
  return {
    value: ((received - receivedBeforeClock) * 1000) / (lastAtMs - firstAtMs),
    detail: `received ${received}`,
  };
}

/**
 * Producer and consumer of one client in this process: records leave at a fixed rate, each value
 * carrying its send time; latency is receive time minus send time, for records sent during the
 * measured window (after the consumer received its first record and a warm-up).
 */
async function latency(task: Extract<WorkerTask, { kind: 'latency' }>): Promise<WorkerResult> {
  const driver = await driverFor(task.client);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let measuredFrom = Infinity;
  let measuredUntil = Infinity;
  let firstReceived: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    firstReceived = resolve;
  });
  const consumer = await driver.consume(task.bootstrap, {
    topic: task.topic,
    group: task.group,
    onValues: (values) => {
      const nowMs = performance.now();
      for (const value of values) {
        if (value === null) continue;
        const sequence = value.readUInt32BE(0);
        const sentAtMs = sentAt.get(sequence);
        if (sentAtMs === undefined) continue;
        sentAt.delete(sequence);
        firstReceived();
        if (sentAtMs >= measuredFrom && sentAtMs < measuredUntil) latencies.push(nowMs - sentAtMs);
      }
    },
  });
  const producer = await driver.producer(task.bootstrap);
  const template = payload(task.recordBytes);
  const intervalMs = 1000 / task.ratePerSecond;
  let sequence = 0;
  let sending = true;
  let failure: unknown;
  const startMs = performance.now();
  const sender = (async () => {
    while (sending) {
      const dueMs = startMs + sequence * intervalMs;
      const waitMs = dueMs - performance.now();
      if (waitMs > 1) await sleep(waitMs);
      const value = Buffer.from(template);
      value.writeUInt32BE(sequence, 0);
      sentAt.set(sequence, performance.now());
      producer.sendOne(task.topic, value).catch((error: unknown) => {
        failure ??= error;
      });
      sequence++;
    }
  })();
  const deadline = setTimeout(() => firstReceived(), task.timeoutMs);
  await started;
  clearTimeout(deadline);
  measuredFrom = performance.now() + task.warmupMs;
  measuredUntil = measuredFrom + task.measureMs;
  await sleep(task.warmupMs + task.measureMs);
  sending = false;
  await sender;
  const drainDeadline = performance.now() + 10_000;
  while (performance.now() < drainDeadline) {
    const missing = [...sentAt.values()].some((at) => at >= measuredFrom && at < measuredUntil);
    if (!missing) break;
    await sleep(20);
  }
  await producer.close();
  await consumer.close();
  if (failure !== undefined) throw failure;
  if (latencies.length === 0) throw new Error('no record came back in the measured window');
  latencies.sort((left, right) => left - right);
  const at = (fraction: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)];
  const lost = [...sentAt.values()].filter(
    (sentAtMs) => sentAtMs >= measuredFrom && sentAtMs < measuredUntil,
  ).length;
  return {
    value: at(0.5),
    p99: at(0.99),
    detail: `${latencies.length} samples${lost > 0 ? `, ${lost} not received` : ''}`,
  };
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the worker with --expose-gc');
  gc();
  gc();
}

/** RSS growth per idle client: N producers, each connected with metadata (one record sent). */
async function idleMemory(
  task: Extract<WorkerTask, { kind: 'idle-memory' }>,
): Promise<WorkerResult> {
  const driver = await driverFor(task.client);
  const value = payload(100);
  // One client first: code loading and first-use caches are not per client.
  const first = await driver.producer(task.bootstrap);
  await first.sendOne(task.topic, value);
  await sleep(1_000);
  collectGarbage();
  const before = process.memoryUsage.rss();
  const producers: BenchProducer[] = [];
  for (let index = 0; index < task.clients; index++) {
    const producer = await driver.producer(task.bootstrap);
    await producer.sendOne(task.topic, value);
    producers.push(producer);
  }
  await sleep(2_000);
  collectGarbage();
  await sleep(200);
  const after = process.memoryUsage.rss();
  for (const producer of [first, ...producers]) await producer.close();
  return {
    value: (after - before) / task.clients,
    detail: `RSS ${Math.round(before / 1e6)} → ${Math.round(after / 1e6)} MB`,
  };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as WorkerTask;
  let result: WorkerResult;
  switch (task.kind) {
    case 'produce-one':
    case 'produce-batch':
      result = await produce(task);
      break;
    case 'consume':
      result = await consume(task);
      break;
    case 'latency':
      result = await latency(task);
      break;
    case 'idle-memory':
      result = await idleMemory(task);
      break;
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Some clients keep timers or native threads alive after close.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
