import { readdir, readFile } from 'node:fs/promises';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { eventLoopProbeEnvironment, parseProbeLine } from '../tools/event-loop-probe-reader.js';
import { percentile } from '../tools/statistics.js';
import { BrokerProcess } from './broker-process.js';
import { newKafkajs } from './kafkajs-client.js';
import { sleep, withDeadline } from './wait.js';

/**
 * A steady load on one broker with every background activity on: an acks=all producer on a
 * delete-policy topic whose segments roll and expire every few seconds, keyed records on a
 * compacted topic the cleaner keeps rewriting, and a consumer group reading the first topic and
 * committing. Every `sampleIntervalMs` one sample: broker RSS and file descriptors (/proc), its
 * event-loop delay and heap (the probe it was started with), produce and end-to-end latency
 * percentiles over the interval. Used by `npm run bench -- soak` (an hour) and a short test.
 */

export interface SoakOptions {
  durationMs: number;
  sampleIntervalMs: number;
  /** Records per second to the delete-policy topic (a quarter as many go to the compacted one). */
  recordsPerSecond: number;
  /** Called with each sample as it is taken. */
  onSample?: (sample: SoakSample) => void;
}

export interface SoakSample {
  elapsedSeconds: number;
  residentMegabytes: number;
  fileDescriptors: number;
  heapUsedMegabytes: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  produceP99Ms: number;
  endToEndP50Ms: number;
  endToEndP99Ms: number;
  produced: number;
  consumed: number;
  /** Segment files in the data directory (retention and compaction keep it bounded). */
  segmentFiles: number;
}

export interface SoakResult {
  samples: SoakSample[];
  /** Sequence numbers acknowledged by the broker. */
  acknowledged: number;
  /** Acknowledged sequence numbers never seen by the group (content check). */
  missing: number[];
}

const eventsTopic = 'soak-events';
const compactedTopic = 'soak-compacted';
const groupId = 'soak-group';
const sendIntervalMs = 20;
const compactedKeyCount = 500;

/** Broker settings that make retention and compaction act within seconds. */
export const soakBrokerArguments = [
  '--override',
  'log.retention.check.interval.ms=2000',
  '--override',
  'log.cleaner.backoff.ms=1000',
  '--override',
  'log.segment.delete.delay.ms=1000',
  '--override',
  'group.initial.rebalance.delay.ms=0',
];

async function residentMegabytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

async function countSegmentFiles(directory: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.log')) count += 1;
  }
  return count;
}

async function createTopics(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: eventsTopic,
          numPartitions: 6,
          configEntries: [
            { name: 'retention.ms', value: '20000' },
            { name: 'segment.bytes', value: '262144' },
            { name: 'segment.ms', value: '5000' },
          ],
        },
        {
          topic: compactedTopic,
          numPartitions: 2,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '131072' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '1000' },
          ],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Window percentiles; the window is emptied. */
function drain(samples: number[]): { p50: number; p99: number } {
  const sorted = samples.splice(0).sort((left, right) => left - right);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const broker = await BrokerProcess.start({
    label: 'soak',
    extraArguments: soakBrokerArguments,
    environment: eventLoopProbeEnvironment(Math.min(1_000, options.sampleIntervalMs)),
  });
  const kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'soak' });
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let stopped = false;
  const probe = { p99Ms: 0, maxMs: 0, heapUsedBytes: 0 };
  broker.onLine((line) => {
    const sample = parseProbeLine(line);
    if (sample === undefined) return;
    probe.p99Ms = Math.max(probe.p99Ms, sample.p99Ms);
    probe.maxMs = Math.max(probe.maxMs, sample.maxMs);
    probe.heapUsedBytes = sample.heapUsedBytes;
  });
  try {
    await createTopics(kafka);
    const produceLatencies: number[] = [];
    const endToEndLatencies: number[] = [];
    const seen = new Uint8Array(
      options.recordsPerSecond * Math.ceil(options.durationMs / 1000) * 2,
    );
    let acknowledged = 0;
    let produced = 0;
    let consumed = 0;

    consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: true });
    const consumerFailed = new Promise<never>((_, reject) => {
      consumer?.on(consumer.events.CRASH, (event) => reject(event.payload.error));
    });
    void consumerFailed.catch(() => {});
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachMessage: async ({ message }) => {
        const [sequence, sentAtMs] = (message.value?.toString('utf8') ?? '').split(':');
        const index = Number(sequence);
        if (index < seen.length) seen[index] = 1;
        endToEndLatencies.push(Date.now() - Number(sentAtMs));
        consumed += 1;
      },
    });

    producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
    await producer.connect();
    const perSend = Math.max(1, Math.round((options.recordsPerSecond * sendIntervalMs) / 1000));
    const produceLoop = async () => {
      let sequence = 0;
      let nextAtMs = performance.now();
      while (!stopped) {
        const sentAtMs = Date.now();
        const messages = Array.from({ length: perSend }, (_, offset) => ({
          key: String((sequence + offset) % 97),
          value: `${sequence + offset}:${sentAtMs}:${'x'.repeat(64)}`,
        }));
        const compacted = messages.slice(0, Math.max(1, perSend >> 2)).map((message, offset) => ({
          key: `key-${(sequence + offset) % compactedKeyCount}`,
          value: message.value,
        }));
        const startedAtMs = performance.now();
        await producer!.sendBatch({
          acks: -1,
          topicMessages: [
            { topic: eventsTopic, messages },
            { topic: compactedTopic, messages: compacted },
          ],
        });
        produceLatencies.push(performance.now() - startedAtMs);
        sequence += perSend;
        produced += perSend;
        acknowledged = sequence;
        nextAtMs += sendIntervalMs;
        const waitMs = nextAtMs - performance.now();
        if (waitMs > 0) await sleep(waitMs);
        else nextAtMs = performance.now();
      }
    };
    const producing = produceLoop();

    const samples: SoakSample[] = [];
    const startedAtMs = performance.now();
    const pid = broker.pid!;
    while (performance.now() - startedAtMs < options.durationMs) {
      await Promise.race([sleep(options.sampleIntervalMs), consumerFailed]);
      const produceWindow = drain(produceLatencies);
      const endToEndWindow = drain(endToEndLatencies);
      const sample: SoakSample = {
        elapsedSeconds: Math.round((performance.now() - startedAtMs) / 100) / 10,
        residentMegabytes: await residentMegabytes(pid),
        fileDescriptors: (await readdir(`/proc/${pid}/fd`)).length,
        heapUsedMegabytes: probe.heapUsedBytes / 1024 / 1024,
        eventLoopDelayP99Ms: probe.p99Ms,
        eventLoopDelayMaxMs: probe.maxMs,
        produceP99Ms: produceWindow.p99,
        endToEndP50Ms: endToEndWindow.p50,
        endToEndP99Ms: endToEndWindow.p99,
        produced,
        consumed,
        segmentFiles: await countSegmentFiles(broker.dataDirectory),
      };
      probe.p99Ms = 0;
      probe.maxMs = 0;
      samples.push(sample);
      options.onSample?.(sample);
    }
    stopped = true;
    await withDeadline(producing, { timeoutMs: 30_000, what: 'the soak producer to stop' });
    // Everything acknowledged reaches the group.
    const missingAfter = () => {
      const missing: number[] = [];
      for (let index = 0; index < Math.min(acknowledged, seen.length); index++) {
        if (seen[index] === 0) missing.push(index);
      }
      return missing;
    };
    const deadline = performance.now() + 30_000;
    while (missingAfter().length > 0 && performance.now() < deadline) await sleep(200);
    return { samples, acknowledged, missing: missingAfter() };
  } finally {
    stopped = true;
    await producer?.disconnect().catch(() => {});
    await consumer?.disconnect().catch(() => {});
    await broker.dispose();
  }
}

/** Least-squares slope of `values` against `times`, per unit of time. */
export function slope(times: readonly number[], values: readonly number[]): number {
  const count = times.length;
  if (count < 2) return 0;
  const meanTime = times.reduce((sum, time) => sum + time, 0) / count;
  const meanValue = values.reduce((sum, value) => sum + value, 0) / count;
  let numerator = 0;
  let denominator = 0;
  for (let index = 0; index < count; index++) {
    numerator += (times[index]! - meanTime) * (values[index]! - meanValue);
    denominator += (times[index]! - meanTime) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}
