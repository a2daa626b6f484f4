/**
 * @gregor/client on a three-node cluster (Gregor's brokers on etcd or Apache Kafka's KRaft nodes)
 * while a broker dies: an idempotent acks=all producer keeps sending keyed records to an RF 3
 * topic, a consumer group member reads and commits them, and mid-run the broker that coordinates
 * the group and leads partitions of the topic is SIGKILLed and stays dead. The run reports what
 * was acknowledged and what the group delivered, so the test can demand each acknowledged
 * record exactly once, at the offset it was acknowledged at.
 */
import { Admin, type ClusterOptions, Consumer, type GroupProtocol, Producer } from '@gregor/client';
import type { FaultableCluster } from './cluster-queries.js';
import { uniqueName } from './records.js';
import { sleep, waitUntil } from './wait.js';

export interface FailoverRunOptions {
  groupProtocol?: GroupProtocol;
  partitions?: number;
  /** How long the producer runs before the kill and after it. */
  beforeKillMs?: number;
  afterKillMs?: number;
  log?: (line: string) => void;
}

export interface PlacedValue {
  partition: number;
  offset: bigint;
  value: string;
}

export interface FailoverRunResult {
  victim: number;
  /** What the victim was when it died. */
  victimWasCoordinator: boolean;
  victimLedPartitions: number[];
  /** Leaders per partition before the kill and once the run ended. */
  leadersBefore: number[];
  leadersAfter: number[];
  acked: PlacedValue[];
  /** Sends that failed for good (none expected: the delivery timeout outlasts the failover). */
  failed: Array<{ value: string; error: string }>;
  /** Everything the group member handed out, in order. */
  delivered: PlacedValue[];
  /** Acknowledgements that arrived after the kill, per partition the victim had led. */
  ackedAfterKillOnMovedPartitions: number;
  /** Commits that failed while the coordinator moved (each covered by a later one). */
  commitErrors: string[];
  /** Per partition, the longest time without an acknowledgement from the kill on. */
  longestAckGapMsByPartition: number[];
}

function place(record: { partition: number; offset: bigint }): string {
  return `${record.partition}:${record.offset}`;
}

/**
 * What keeps the run from being exactly once (empty when it is): failed sends, a partition
 * without a new leader, no acks on the moved partitions, a position delivered twice, or delivered
 * positions and values that differ from the acknowledged ones.
 */
export function exactlyOnceProblems(result: FailoverRunResult): string[] {
  const problems: string[] = [];
  if (result.failed.length > 0)
    problems.push(`${result.failed.length} sends failed, first: ${result.failed[0]!.error}`);
  if (result.victimLedPartitions.length === 0) problems.push('the victim led no partition');
  for (const partition of result.victimLedPartitions) {
    const leader = result.leadersAfter[partition];
    if (leader === undefined || leader <= 0 || leader === result.victim)
      problems.push(`partition ${partition} has no new leader (${leader})`);
  }
  if (result.ackedAfterKillOnMovedPartitions === 0)
    problems.push('no acknowledgement on a moved partition after the kill');
  const deliveredPlaces = result.delivered.map(place);
  const duplicates = deliveredPlaces.length - new Set(deliveredPlaces).size;
  if (duplicates > 0) problems.push(`${duplicates} positions delivered more than once`);
  const ackedValues = new Map(result.acked.map((record) => [place(record), record.value]));
  if (ackedValues.size !== result.acked.length) problems.push('two acks share an offset');
  const deliveredValues = new Map(result.delivered.map((record) => [place(record), record.value]));
  const missing = [...ackedValues].filter(([at, value]) => deliveredValues.get(at) !== value);
  const extra = [...deliveredValues].filter(([at]) => !ackedValues.has(at));
  if (missing.length > 0)
    problems.push(
      `${missing.length} acknowledged records not delivered as acked, first ${missing[0]}`,
    );
  if (extra.length > 0)
    problems.push(`${extra.length} delivered records never acknowledged, first ${extra[0]}`);
  return problems;
}

/** Node ids are 1..n in `bootstraps` order (both cluster harnesses number them so). */
function nodeIdOfAddress(cluster: FaultableCluster, address: string): number {
  const index = cluster.bootstraps.indexOf(address);
  if (index < 0) throw new Error(`${address} is not one of ${cluster.bootstraps.join(', ')}`);
  return index + 1;
}

async function leaders(cluster: FaultableCluster, topic: string, partitions: number) {
  return Promise.all(
    Array.from({ length: partitions }, (_, partition) => cluster.leaderOf(topic, partition)),
  );
}

/**
 * The longest time partition `partition` went without an acknowledgement from `sinceMs` on
 * (the failover time as a producer sees it).
 */
function longestAckGapMs(
  acked: ReadonlyArray<{ partition: number; atMs: number }>,
  partition: number,
  sinceMs: number,
): number {
  let previousMs = sinceMs;
  let longestMs = 0;
  for (const record of acked) {
    if (record.partition !== partition || record.atMs < sinceMs) continue;
    longestMs = Math.max(longestMs, record.atMs - previousMs);
    previousMs = record.atMs;
  }
  return Math.round(longestMs);
}

export async function runClientFailover(
  cluster: FaultableCluster,
  options: FailoverRunOptions = {},
): Promise<FailoverRunResult> {
  const log = options.log ?? (() => undefined);
  const partitions = options.partitions ?? 3;
  const topic = uniqueName('client-failover');
  const groupId = uniqueName('client-failover-group');
  const base: ClusterOptions = {
    bootstrapServers: [...cluster.bootstraps],
    clientId: 'gregor-client-failover',
    requestTimeoutMs: 5_000,
    connectionTimeoutMs: 2_000,
  };
  const admin = new Admin(base);
  try {
    await admin.createTopics([
      {
        name: topic,
        partitions,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      },
    ]);
  } finally {
    admin.close();
  }
  await waitUntil(
    async () => (await leaders(cluster, topic, partitions)).every((leader) => leader > 0),
    { timeoutMs: 30_000, what: `leaders of ${topic}` },
  );

  const consumer = new Consumer({
    ...base,
    groupId,
    groupProtocol: options.groupProtocol ?? 'classic',
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
    maxWaitMs: 200,
    sessionTimeoutMs: 20_000,
    heartbeatIntervalMs: 1_000,
  });
  const delivered: PlacedValue[] = [];
  const commitErrors: string[] = [];
  let consuming = true;
  consumer.subscribe([topic]);
  const consumerLoop = (async () => {
    while (consuming) {
      const records = await consumer.poll();
      for (const record of records) {
        delivered.push({
          partition: record.partition,
          offset: record.offset,
          value: record.value?.toString() ?? '',
        });
      }
      if (records.length > 0) {
        // A commit may fail while the coordinator moves; the next one covers it.
        await consumer.commit().catch((error: unknown) => commitErrors.push(String(error)));
      }
    }
  })();

  const producer = new Producer({ ...base, lingerMs: 5 });
  const acked: Array<PlacedValue & { atMs: number }> = [];
  const failed: Array<{ value: string; error: string }> = [];
  let producing = true;
  const producerLoop = (async () => {
    for (let round = 0; producing; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, index) => {
          const value = `value-${round}-${index}`;
          try {
            const metadata = await producer.send({ topic, key: `key-${index}`, value });
            acked.push({
              partition: metadata.partition,
              offset: metadata.offset,
              value,
              atMs: performance.now(),
            });
          } catch (error) {
            failed.push({ value, error: String(error) });
          }
        }),
      );
      await sleep(20);
    }
  })();

  try {
    await sleep(options.beforeKillMs ?? 3_000);
    // The member must have joined and consumed before the kill, or the run proves less.
    await waitUntil(() => delivered.length > 0, {
      timeoutMs: 30_000,
      what: 'the group member to deliver its first records',
    });
    const leadersBefore = await leaders(cluster, topic, partitions);
    const coordinatorAdmin = new Admin(base);
    let coordinator: number;
    try {
      const connection = await coordinatorAdmin.cluster.coordinator('group', groupId, 10_000);
      coordinator = nodeIdOfAddress(cluster, connection.address);
    } finally {
      coordinatorAdmin.close();
    }
    const victimWasCoordinator = leadersBefore.includes(coordinator);
    const victim = victimWasCoordinator ? coordinator : leadersBefore[0]!;
    const victimLedPartitions = leadersBefore.flatMap((leader, partition) =>
      leader === victim ? [partition] : [],
    );
    log(
      `killing broker ${victim} (group coordinator ${coordinator}, leaders ${leadersBefore.join(',')}) with ${acked.length} acked, ${delivered.length} delivered`,
    );
    const killedAtMs = performance.now();
    await cluster.kill(victim, 'SIGKILL');
    await sleep(options.afterKillMs ?? 5_000);
    producing = false;
    await producerLoop;
    await producer.flush();
    const ackedAfterKillOnMovedPartitions = acked.filter(
      (record) => record.atMs > killedAtMs && victimLedPartitions.includes(record.partition),
    ).length;
    const longestAckGapMsByPartition = Array.from({ length: partitions }, (_, partition) =>
      longestAckGapMs(acked, partition, killedAtMs),
    );
    log(
      `longest wait for an ack after the kill, per partition: ${longestAckGapMsByPartition.join(', ')} ms`,
    );
    log(
      `producer stopped: ${acked.length} acked (${ackedAfterKillOnMovedPartitions} after the kill on the victim's partitions), ${failed.length} failed`,
    );
    await waitUntil(() => delivered.length >= acked.length, {
      timeoutMs: 60_000,
      what: () => `the group to deliver ${acked.length} records (has ${delivered.length})`,
    });
    // Anything beyond the acknowledged records would show up now.
    await sleep(1_000);
    const leadersAfter = await leaders(cluster, topic, partitions);
    return {
      victim,
      victimWasCoordinator,
      victimLedPartitions,
      leadersBefore,
      leadersAfter,
      acked: acked.map(({ partition, offset, value }) => ({ partition, offset, value })),
      failed,
      delivered: [...delivered],
      ackedAfterKillOnMovedPartitions,
      commitErrors,
      longestAckGapMsByPartition,
    };
  } finally {
    producing = false;
    consuming = false;
    await producerLoop.catch(() => undefined);
    await producer.close({ timeoutMs: 5_000 }).catch(() => undefined);
    await consumerLoop.catch(() => undefined);
    await consumer.close().catch(() => undefined);
  }
}
