/**
 * The fault run of CLUSTER.md §3 on real processes: a three-broker cluster, one topic with RF 3 and
 * min.insync.replicas=2, idempotent acks=all producers (kafkajs one send at a time, librdkafka many
 * in flight; harness/fault-producers.ts) sending unique values while the partition's leader or the controller is killed (SIGKILL), stopped past its lease
 * (SIGSTOP, then SIGCONT) or shut down (SIGTERM), and brought back. Afterwards two readers (kcat
 * through different brokers) read the partition from the start and the history checker judges.
 * Also yields the failover time of every fault: from the fault to the next acknowledged send, per
 * producer and of any.
 */
import { clusterSessionTtlMsDefault } from '@gregor/broker/cluster/cluster-settings';
import { Kafka } from 'kafkajs';
import { BrokerCluster } from './broker-cluster.js';
import type { FaultableCluster } from './cluster-queries.js';
import {
  clientLogging,
  type FaultProducer,
  type FaultProducerName,
  monotonicMs,
  newFaultProducer,
} from './fault-producers.js';
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
  /** The producers sending throughout (kafkajs alone unless given). */
  producers?: readonly FaultProducerName[];
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
  /**
   * From the fault to the acknowledgement of the first send made after it, the earliest of any
   * producer (undefined if none came).
   */
  failoverMs?: number;
  /** The same per producer. */
  failoverMsByProducer: Partial<Record<FaultProducerName, number>>;
  /** Sends acknowledged (all producers) before the fault and once the cluster was whole again. */
  ackedBefore: number;
  ackedAfter: number;
}

export interface ProducerTally {
  name: FaultProducerName;
  sends: number;
  acked: number;
  /** Acknowledged without an offset (librdkafka after DUPLICATE_SEQUENCE_NUMBER). */
  ackedWithoutOffset: number;
  unknown: number;
  /** Fatal client errors and crashes (a new producer carried on after each fatal error). */
  errors: string[];
}

export interface FaultRunResult {
  summary: HistorySummary;
  faults: FaultRecord[];
  producers: ProducerTally[];
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

function timeFailover(fault: FaultRecord, producers: readonly FaultProducer[]): void {
  for (const producer of producers) {
    // The first send made after the fault that was acknowledged: an ack arriving after the fault
    // for a record sent before it may have been written before it too.
    let ackedAtMs = Number.POSITIVE_INFINITY;
    for (const ack of producer.acks()) {
      if (ack.sentAtMs >= fault.atMs) ackedAtMs = Math.min(ackedAtMs, ack.ackedAtMs);
    }
    if (ackedAtMs === Number.POSITIVE_INFINITY) continue;
    const failoverMs = ackedAtMs - fault.atMs;
    fault.failoverMsByProducer[producer.name] = failoverMs;
    fault.failoverMs = Math.min(fault.failoverMs ?? failoverMs, failoverMs);
  }
}

function tally(producer: FaultProducer): ProducerTally {
  const sends = producer.sends();
  const acked = sends.filter((send) => send.outcome === 'acked');
  return {
    name: producer.name,
    sends: sends.length,
    acked: acked.length,
    ackedWithoutOffset: acked.filter((send) => send.offset === undefined).length,
    unknown: sends.length - acked.length,
    errors: producer.errors(),
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
  let producers: FaultProducer[] | undefined;
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
    const running = (options.producers ?? ['kafkajs']).map((name) =>
      newFaultProducer(name, { bootstraps: cluster.bootstraps, topic }),
    );
    producers = running;
    await Promise.all(running.map((producer) => producer.start()));
    await sleep(1_000);
    const ackedSoFar = () => running.reduce((total, producer) => total + producer.acks().length, 0);
    const faults: FaultRecord[] = [];
    for (const step of options.faults) {
      const victim =
        step.target === 'leader' ? await cluster.leaderOf(topic, 0) : await cluster.controller();
      if (victim <= 0) throw new Error(`no ${step.target} to fault`);
      const atMs = monotonicMs();
      const atIso = new Date().toISOString();
      const ackedBefore = ackedSoFar();
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
      const ackedAfter = ackedSoFar();
      const fault: FaultRecord = {
        ...step,
        victim,
        atMs,
        ackedBefore,
        ackedAfter,
        failoverMsByProducer: {},
      };
      timeFailover(fault, running);
      faults.push(fault);
      log(
        `${fault.failoverMs === undefined ? 'no ack yet' : `first ack after ${Math.round(fault.failoverMs)} ms`}; fault ${faults.length}: ${step.kind} ${step.target} (broker ${victim}) at ${atIso}, acked ${ackedBefore} -> ${ackedAfter}`,
      );
    }
    producers = undefined;
    await Promise.all(running.map((producer) => producer.stop()));
    for (const fault of faults) timeFailover(fault, running);
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
      summary: checkHistory({ sends: running.flatMap((producer) => producer.sends()), readers }),
      faults,
      producers: running.map(tally),
      readerErrors,
      durationMs: performance.now() - started,
    };
  } finally {
    await Promise.all((producers ?? []).map((producer) => producer.kill()));
    await cluster.dispose();
  }
}
