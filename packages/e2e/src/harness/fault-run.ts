/**
 * The fault run of CLUSTER.md §3 on real processes: a three-broker cluster, one topic with RF 3 and
 * min.insync.replicas=2, an idempotent acks=all kafkajs producer sending unique values one at a
 * time while the partition's leader or the controller is killed (SIGKILL), stopped past its lease
 * (SIGSTOP, then SIGCONT) or shut down (SIGTERM), and brought back. Afterwards two readers (kcat
 * through different brokers) read the partition from the start and the history checker judges.
 * Also yields the failover time of every leader SIGKILL: from the kill to the next acknowledged
 * send.
 */
import { clusterSessionTtlMsDefault } from '@gregor/broker/cluster/cluster-settings';
import { Kafka, type KafkaConfig, logLevel, type Producer } from 'kafkajs';
import { BrokerCluster } from './broker-cluster.js';
import type { FaultableCluster } from './cluster-queries.js';
import {
  checkHistory,
  type HistorySummary,
  type ReadRecord,
  type SendOutcome,
} from './history-checker.js';
import { runKcat } from './kcat.js';
import { ReferenceKafkaCluster } from './reference-kafka-cluster.js';
import { sleep, waitUntil } from './wait.js';

export type FaultKind = 'SIGKILL' | 'SIGSTOP' | 'SIGTERM';
export type FaultTarget = 'leader' | 'controller';

export interface FaultStep {
  kind: FaultKind;
  target: FaultTarget;
}

export interface FaultRunOptions {
  /** Gregor's three brokers on etcd, or Apache Kafka's three KRaft nodes. */
  target: 'gregor' | 'kafka';
  faults: readonly FaultStep[];
  /** Gregor's broker.session.timeout.ms (the lease); default: the broker's own default. */
  sessionTimeoutMs?: number;
  /** How long a SIGSTOPped broker stays stopped; default: its lease + 2 s, so the lease runs out. */
  pauseMs?: number;
  /** How long the cluster runs without the victim before it comes back. */
  downMs?: number;
  log?: (line: string) => void;
}

export interface FaultRecord extends FaultStep {
  victim: number;
  atMs: number;
  /** From the fault to the next acknowledged send (undefined if none came before the end). */
  failoverMs?: number;
  /** Sends acknowledged before the fault and once the cluster was whole again. */
  ackedBefore: number;
  ackedAfter: number;
}

export interface FaultRunResult {
  summary: HistorySummary;
  faults: FaultRecord[];
  /** Readers that could not read the partition to its end (their records count as none). */
  readerErrors: string[];
  durationMs: number;
}

export const topic = 'faults';

/** Every combination of the issue's faults: leader then controller, each by every signal. */
export function faultSchedule(count: number): FaultStep[] {
  const cycle: FaultStep[] = [];
  for (const target of ['leader', 'controller'] as const) {
    for (const kind of ['SIGKILL', 'SIGSTOP', 'SIGTERM'] as const) cycle.push({ kind, target });
  }
  return Array.from({ length: count }, (_, index) => cycle[index % cycle.length]!);
}

class RecordingProducer {
  readonly sends: SendOutcome[] = [];
  readonly ackTimesMs: number[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  private producer: Producer | undefined;

  constructor(private readonly newProducer: () => Producer) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let sequence = 0;
    while (!this.stopped) {
      const value = `kafkajs-${sequence++}`;
      try {
        if (this.producer === undefined) {
          const producer = this.newProducer();
          await producer.connect();
          this.producer = producer;
        }
        const [metadata] = await this.producer.send({
          topic,
          acks: -1,
          timeout: 10_000,
          messages: [{ value, partition: 0 }],
        });
        this.sends.push({
          outcome: 'acked',
          value,
          partition: 0,
          offset: Number(metadata!.baseOffset),
        });
        this.ackTimesMs.push(performance.now());
      } catch {
        // After kafkajs's retries the record may or may not be in the log. kafkajs keeps the
        // failed batch's sequence number for the next send, so the broker would take that send
        // for a retry of this one and acknowledge it without writing it: a new producer (new
        // producer id) carries on instead, as Java's producer bumps its epoch.
        this.sends.push({ outcome: 'unknown', value, partition: 0 });
        const failed = this.producer;
        this.producer = undefined;
        await failed?.disconnect().catch(() => undefined);
        await sleep(50);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.producer?.disconnect();
  }

  firstAckAfter(timeMs: number): number | undefined {
    return this.ackTimesMs.find((ack) => ack > timeMs);
  }
}

async function readAll(bootstrap: string): Promise<ReadRecord[]> {
  const { stdout } = await runKcat({
    bootstrap,
    arguments: ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%p %o %s\\n'],
    timeoutMs: 60_000,
  });
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, value] = line.split(' ');
      return { partition: Number(partition), offset: Number(offset), value: value ?? '' };
    });
}

async function waitForHealthyCluster(cluster: FaultableCluster): Promise<void> {
  await waitUntil(
    async () => {
      const [leader, controller] = await Promise.all([
        cluster.leaderOf(topic, 0).catch(() => -1),
        cluster.controller().catch(() => -1),
      ]);
      return leader > 0 && controller > 0 ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'a leader and a controller' },
  );
}

/**
 * With GREGOR_FAULT_RUN_CLIENT_LOG set, kafkajs's warnings and errors (connection errors, retries
 * with their backoff) go to stderr with wall-clock times, to line up with the brokers' logs.
 */
function clientLogging(): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  if (!process.env.GREGOR_FAULT_RUN_CLIENT_LOG) return { logLevel: logLevel.NOTHING };
  return {
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, label, log }) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
        process.stderr.write(
          `${new Date().toISOString()} kafkajs ${label} ${namespace}: ${message} ${JSON.stringify(fields)}\n`,
        );
      },
  };
}

export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const log = options.log ?? (() => undefined);
  const sessionTimeoutMs = options.sessionTimeoutMs ?? clusterSessionTtlMsDefault;
  const pauseMs = options.pauseMs ?? sessionTimeoutMs + 2_000;
  const downMs = options.downMs ?? 2_000;
  const cluster: FaultableCluster =
    options.target === 'gregor'
      ? await BrokerCluster.start({ brokers: 3, sessionTimeoutMs: options.sessionTimeoutMs })
      : await ReferenceKafkaCluster.start({ nodes: 3 });
  const started = performance.now();
  try {
    const kafka = new Kafka({
      clientId: 'fault-run',
      brokers: [...cluster.bootstraps],
      ...clientLogging(),
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: true,
      timeout: 15_000,
    });
    await admin.disconnect();
    await waitForHealthyCluster(cluster);
    const recorder = new RecordingProducer(() =>
      kafka.producer({ idempotent: true, maxInFlightRequests: 1 }),
    );
    recorder.start();
    await sleep(1_000);
    const faults: FaultRecord[] = [];
    for (const step of options.faults) {
      const victim =
        step.target === 'leader' ? await cluster.leaderOf(topic, 0) : await cluster.controller();
      if (victim <= 0) throw new Error(`no ${step.target} to fault`);
      const atMs = performance.now();
      const atIso = new Date().toISOString();
      const ackedBefore = recorder.ackTimesMs.length;
      if (step.kind === 'SIGSTOP') {
        cluster.pause(victim);
        await sleep(pauseMs);
        cluster.resume(victim);
      } else {
        await cluster.kill(victim, step.kind);
        await sleep(downMs);
        await cluster.restart(victim);
      }
      await waitForHealthyCluster(cluster);
      await sleep(1_000);
      const ackedAfter = recorder.ackTimesMs.length;
      faults.push({ ...step, victim, atMs, ackedBefore, ackedAfter });
      const ack = recorder.firstAckAfter(atMs);
      log(
        `${ack === undefined ? 'no ack yet' : `first ack after ${Math.round(ack - atMs)} ms`}; fault ${faults.length}: ${step.kind} ${step.target} (broker ${victim}) at ${atIso}, acked ${ackedBefore} -> ${ackedAfter}`,
      );
    }
    for (const fault of faults) {
      const ack = recorder.firstAckAfter(fault.atMs);
      if (ack !== undefined) fault.failoverMs = ack - fault.atMs;
    }
    await recorder.stop();
    const readerErrors: string[] = [];
    const readers = await Promise.all(
      cluster.bootstraps.slice(0, 2).map(async (bootstrap, index) => ({
        reader: `kcat-${index + 1}`,
        records: await readAll(bootstrap).catch((error: unknown) => {
          // An unreadable partition is a finding of the run, reported beside the checker's.
          readerErrors.push(`kcat-${index + 1} via ${bootstrap}: ${String(error).split('\n')[0]}`);
          return [];
        }),
      })),
    );
    return {
      summary: checkHistory({ sends: recorder.sends, readers }),
      faults,
      readerErrors,
      durationMs: performance.now() - started,
    };
  } finally {
    await cluster.dispose();
  }
}
