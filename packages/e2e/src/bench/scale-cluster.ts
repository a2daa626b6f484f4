import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BrokerCluster } from '../harness/broker-cluster.js';
import {
  clusterCpuSeconds,
  createClusterTopics,
  etcdDatabaseMegabytes,
  evenSample,
  type Leaders,
  leadersSeenBy,
  type ProcessFigures,
  processFigures,
  produceToLeaders,
  waitUntilLed,
} from '../harness/cluster-scale.js';
import { scaleTopicNames } from '../harness/partition-scale.js';
import { sleep } from '../harness/wait.js';
import { benchDirectory } from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- scale-cluster`: many partitions on three brokers sharing one real etcd
 * (BrokerCluster). For each partition count (GREGOR_SCALE_CLUSTER_PARTITIONS, default
 * "10000,30000,100000") and replication factor (GREGOR_SCALE_CLUSTER_RF, default "1"):
 * - create: CreateTopics of 1,000-partition topics (10 topics per request) through broker 1,
 *   timed until every broker's Metadata shows a leader for every partition;
 * - one record produced to a sample of partitions at their leaders;
 * - clean restart: SIGTERM all three brokers, start them again, timed until every broker shows
 *   every partition led again (and the sample takes a record);
 * - SIGKILL of one broker that is not the controller: with RF > 1, time until every partition it
 *   led has another leader on every running broker and the sample of them takes a record; with
 *   RF 1 those partitions can only go offline, so the time until Metadata shows them offline,
 *   then the restart of the broker until they are led again;
 * - RSS, fds and CPU seconds per broker, etcd's DB size, the load average.
 * Broker CPU seconds (summed over the three) are reported beside each wall time: the machine is
 * shared. Results: lines on stdout and .bench/scale-cluster-results.json.
 */

const partitionCounts = (process.env.GREGOR_SCALE_CLUSTER_PARTITIONS ?? '10000,30000,100000')
  .split(',')
  .map(Number);
const replicationFactors = (process.env.GREGOR_SCALE_CLUSTER_RF ?? '1').split(',').map(Number);
const sessionTimeoutMs = Number(process.env.GREGOR_SCALE_CLUSTER_SESSION_MS ?? 3_000);
const phaseTimeoutMs = 1_800_000;
const sampleSize = 300;

interface Timed {
  wallMs: number;
  /** CPU seconds of the three brokers over the same span. */
  cpuSeconds: number;
}

interface Result {
  partitions: number;
  replicationFactor: number;
  create: Timed;
  figuresAfterCreate: ProcessFigures[];
  etcdMegabytesAfterCreate: number;
  cleanStopMs: number;
  /** Until the three restarted brokers printed their ready line. */
  cleanRestartReadyMs: number;
  cleanRestart: Timed;
  figuresAfterRestart: ProcessFigures[];
  killedNode: number;
  killedLedPartitions: number;
  /** RF > 1: every partition the killed broker led has another leader and takes a record. */
  failover?: Timed;
  /** RF 1: Metadata shows the killed broker's partitions offline. */
  offlineSeenMs?: number;
  /** The killed broker restarted, until every partition is led again. */
  restartAfterKill: Timed;
  loadAverage: number[];
}

/** Runs `phase`, measuring its wall time and the brokers' CPU seconds around it. */
async function timed<T>(cluster: BrokerCluster, phase: () => Promise<T>) {
  const cpuBefore = await clusterCpuSeconds(cluster);
  const startedMs = performance.now();
  const value = await phase();
  const wallMs = performance.now() - startedMs;
  return { value, timing: { wallMs, cpuSeconds: (await clusterCpuSeconds(cluster)) - cpuBefore } };
}

async function allFigures(cluster: BrokerCluster): Promise<ProcessFigures[]> {
  return Promise.all(cluster.brokers.map((broker) => processFigures(broker)));
}

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

async function measure(partitionCount: number, replicationFactor: number): Promise<Result> {
  const cluster = await BrokerCluster.start({
    brokers: 3,
    sessionTimeoutMs,
    readyTimeoutMs: phaseTimeoutMs,
  });
  const label = `${partitionCount} partitions RF ${replicationFactor}`;
  const acks = replicationFactor === 1 ? 1 : -1;
  // Polling every broker's Metadata of every partition is work for the brokers: less often when
  // there are many (1 s at 100,000).
  const intervalMs = Math.max(250, partitionCount / 100);
  try {
    const topics = scaleTopicNames(partitionCount);
    const created = await timed(cluster, async () => {
      await createClusterTopics(cluster.broker(1).bootstrap, topics, {
        partitionCount,
        replicationFactor,
        topicsPerRequest: 10,
      });
      log(`${label}: CreateTopics answered`);
      return waitUntilLed(cluster, topics, {
        partitionCount,
        timeoutMs: phaseTimeoutMs,
        intervalMs,
      });
    });
    log(`${label}: created and led in ${Math.round(created.timing.wallMs)} ms`);
    const sample = evenSample([...created.value.keys()], sampleSize);
    await produceToLeaders(cluster, created.value, sample, acks);
    const figuresAfterCreate = await allFigures(cluster);
    const etcdMegabytesAfterCreate = await etcdDatabaseMegabytes(cluster);

    const stopStartedMs = performance.now();
    await Promise.all(
      cluster.brokers.map((broker) => broker.kill('SIGTERM', { timeoutMs: phaseTimeoutMs })),
    );
    const cleanStopMs = performance.now() - stopStartedMs;
    log(`${label}: clean stop of all three in ${Math.round(cleanStopMs)} ms`);
    const restartStartedMs = performance.now();
    await Promise.all(cluster.brokers.map((broker) => broker.restart()));
    const cleanRestartReadyMs = performance.now() - restartStartedMs;
    log(`${label}: all three printed their ready line after ${Math.round(cleanRestartReadyMs)} ms`);
    const restarted = await timed(cluster, () =>
      waitUntilLed(cluster, topics, { partitionCount, timeoutMs: phaseTimeoutMs, intervalMs }),
    );
    // The brokers' CPU from their spawn: they are new processes.
    const cleanRestart = {
      wallMs: performance.now() - restartStartedMs,
      cpuSeconds: await clusterCpuSeconds(cluster),
    };
    await produceToLeaders(cluster, restarted.value, sample, acks);
    log(`${label}: clean restart, all led again in ${Math.round(cleanRestart.wallMs)} ms`);
    await sleep(2_000);
    const figuresAfterRestart = await allFigures(cluster);

    const controller = await cluster.controller();
    const killedNode = [1, 2, 3].find((node) => node !== controller) ?? 1;
    const leadersBeforeKill = await leadersSeenBy(cluster.broker(killedNode).bootstrap, topics);
    const killedLed = [...leadersBeforeKill]
      .filter(([, leader]) => leader === killedNode)
      .map(([key]) => key);
    const killedLedSet = new Set(killedLed);
    const cpuBeforeKill = await clusterCpuSeconds(cluster);
    const killedAtMs = performance.now();
    await cluster.kill(killedNode, 'SIGKILL');
    let failover: Timed | undefined;
    let offlineSeenMs: number | undefined;
    const survivor = cluster.brokers.find((broker) => broker.isRunning);
    if (!survivor) throw new Error('no broker left running');
    if (replicationFactor > 1) {
      const moved = await waitUntilLed(cluster, topics, {
        partitionCount,
        timeoutMs: phaseTimeoutMs,
        intervalMs,
        acceptable: (_, leader) => leader !== killedNode,
      });
      await produceToLeaders(cluster, moved, evenSample(killedLed, sampleSize), acks);
      failover = {
        wallMs: performance.now() - killedAtMs,
        cpuSeconds: (await clusterCpuSeconds(cluster)) - cpuBeforeKill,
      };
      log(
        `${label}: failover of ${killedLed.length} leaderships in ${Math.round(failover.wallMs)} ms`,
      );
    } else {
      await waitForOffline(survivor.bootstrap, topics, killedLedSet, intervalMs);
      offlineSeenMs = performance.now() - killedAtMs;
      log(`${label}: ${killedLed.length} partitions offline after ${Math.round(offlineSeenMs)} ms`);
    }
    const restartKilledMs = performance.now();
    await cluster.restart(killedNode);
    const back = await timed(cluster, () =>
      waitUntilLed(cluster, topics, { partitionCount, timeoutMs: phaseTimeoutMs, intervalMs }),
    );
    await produceToLeaders(
      cluster,
      back.value,
      evenSample(killedLed, sampleSize).filter((key) => back.value.get(key) !== undefined),
      acks,
    );
    const restartAfterKill = {
      wallMs: performance.now() - restartKilledMs,
      cpuSeconds: back.timing.cpuSeconds,
    };
    log(`${label}: killed broker back, all led in ${Math.round(restartAfterKill.wallMs)} ms`);
    return {
      partitions: partitionCount,
      replicationFactor,
      create: created.timing,
      figuresAfterCreate,
      etcdMegabytesAfterCreate,
      cleanStopMs,
      cleanRestartReadyMs,
      cleanRestart,
      figuresAfterRestart,
      killedNode,
      killedLedPartitions: killedLed.length,
      failover,
      offlineSeenMs,
      restartAfterKill,
      loadAverage: loadavg(),
    };
  } finally {
    await cluster.dispose();
  }
}

async function waitForOffline(
  bootstrap: string,
  topics: readonly string[],
  keys: ReadonlySet<string>,
  intervalMs: number,
): Promise<void> {
  const deadlineMs = Date.now() + phaseTimeoutMs;
  for (;;) {
    const leaders: Leaders = await leadersSeenBy(bootstrap, topics);
    let offline = 0;
    for (const key of keys) if ((leaders.get(key) ?? -1) < 0) offline++;
    if (offline === keys.size) return;
    if (Date.now() > deadlineMs) throw new Error(`only ${offline} of ${keys.size} went offline`);
    await sleep(intervalMs);
  }
}

function seconds(timing: Timed | undefined): string {
  if (!timing) return '-';
  return `${(timing.wallMs / 1000).toFixed(1)} s (CPU ${timing.cpuSeconds.toFixed(1)} s)`;
}

function perBroker(figures: readonly ProcessFigures[]): string {
  return figures.map((entry) => `${entry.rssMegabytes} MB/${entry.fileDescriptors} fds`).join(', ');
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const replicationFactor of replicationFactors) {
    for (const count of partitionCounts) {
      const result = await measure(count, replicationFactor);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  }
  console.log(
    '| partitions × RF | create until all led | clean stop (all 3) | clean restart until all led | SIGKILL: failover (RF>1) or offline seen (RF 1) | killed broker back until all led | RSS/fds per broker after create | etcd DB | load average |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---|---:|---|');
  for (const result of results) {
    const kill = result.failover
      ? seconds(result.failover)
      : `${((result.offlineSeenMs ?? 0) / 1000).toFixed(1)} s`;
    console.log(
      [
        `| ${result.partitions.toLocaleString('en-US')} × ${result.replicationFactor}`,
        seconds(result.create),
        `${(result.cleanStopMs / 1000).toFixed(1)} s`,
        seconds(result.cleanRestart),
        `${kill} (${result.killedLedPartitions} led by node ${result.killedNode})`,
        seconds(result.restartAfterKill),
        perBroker(result.figuresAfterCreate),
        `${result.etcdMegabytesAfterCreate.toFixed(0)} MB`,
        `${result.loadAverage.map((value) => value.toFixed(1)).join(' ')} |`,
      ].join(' | '),
    );
  }
  await mkdir(benchDirectory, { recursive: true });
  await writeFile(
    join(benchDirectory, 'scale-cluster-results.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}

await main();
