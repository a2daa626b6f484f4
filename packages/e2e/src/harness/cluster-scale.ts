/**
 * Many partitions on a BrokerCluster (the scale-cluster bench and its short test): topics of
 * 1,000 partitions created through one broker, each broker's Metadata read for every partition,
 * waits until every partition has a leader on every broker, one record produced to a sample of
 * partitions at their leaders, and the figures of each broker process and of etcd.
 */
import { ApiKey, TestClient } from '@gregor/broker/testing/test-client';
import {
  type CreateTopicsResponse,
  ErrorCode,
  encodeRecordBatch,
  type ListOffsetsResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import type { BrokerCluster } from './broker-cluster.js';
import type { BrokerProcess } from './broker-process.js';
import { partitionsPerTopic, scalePartitions } from './partition-scale.js';
import { sleep, withDeadline } from './wait.js';

/** `<topic>-<partition>` → leader id (-1 when Metadata has none or an error). */
export type Leaders = Map<string, number>;

const requestTimeoutMs = 120_000;
const createAttemptsMax = 5;

async function connect(bootstrap: string): Promise<TestClient> {
  const [host, port] = bootstrap.split(':');
  return withDeadline(TestClient.connect({ host, port: Number(port), clientId: 'scale-cluster' }), {
    timeoutMs: 10_000,
    what: `connecting to ${bootstrap}`,
  });
}

async function ask<T>(bootstrap: string, apiKey: number, version: number, body: unknown) {
  const client = await connect(bootstrap);
  try {
    return await withDeadline(client.request<T>(apiKey, version, body), {
      timeoutMs: requestTimeoutMs,
      what: `api ${apiKey} from ${bootstrap}`,
    });
  } finally {
    client.destroy();
  }
}

/**
 * Creates `topics` (1,000 partitions each, the last one the rest of `partitionCount`) with
 * `replicationFactor`, `topicsPerRequest` topics per CreateTopics request sent to `bootstrap`;
 * throws unless every topic was created.
 */
export async function createClusterTopics(
  bootstrap: string,
  topics: readonly string[],
  options: { partitionCount: number; replicationFactor: number; topicsPerRequest: number },
): Promise<void> {
  const counts = new Map<string, number>();
  for (const { topic } of scalePartitions(topics, options.partitionCount))
    counts.set(topic, (counts.get(topic) ?? 0) + 1);
  for (let start = 0; start < topics.length; start += options.topicsPerRequest) {
    let pending = topics.slice(start, start + options.topicsPerRequest);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const response = await ask<CreateTopicsResponse>(bootstrap, ApiKey.CreateTopics, 7, {
        topics: pending.map((name) => ({
          name,
          numPartitions: counts.get(name) ?? partitionsPerTopic,
          replicationFactor: options.replicationFactor,
          assignments: [],
          configs: [],
        })),
        timeoutMs: requestTimeoutMs,
        validateOnly: false,
      });
      pending = [];
      for (const topic of response.topics) {
        // A controller that lost its term answers NOT_CONTROLLER: asked again, as a client
        // would; a topic its last commits did create then already exists.
        if (topic.errorCode === ErrorCode.NOT_CONTROLLER && attempt < createAttemptsMax) {
          pending.push(topic.name);
        } else if (
          topic.errorCode !== ErrorCode.NONE &&
          !(attempt > 1 && topic.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)
        ) {
          throw new Error(
            `CreateTopics ${topic.name}: error ${topic.errorCode} ${topic.errorMessage}`,
          );
        }
      }
      if (pending.length > 0) await sleep(1_000);
    }
  }
}

/** The leader of every partition of `topics` in one Metadata (v12) answer of `bootstrap`. */
export async function leadersSeenBy(bootstrap: string, topics: readonly string[]) {
  const response = await ask<MetadataResponse>(bootstrap, ApiKey.Metadata, 12, {
    topics: topics.map((name) => ({ name, topicId: undefined })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const leaders: Leaders = new Map();
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      const led = topic.errorCode === 0 && partition.errorCode === 0;
      leaders.set(`${topic.name}-${partition.partitionIndex}`, led ? partition.leaderId : -1);
    }
  }
  return leaders;
}

/**
 * How many partitions of `leaders` their leader serves: ListOffsets (latest) sent to each leader
 * for the partitions Metadata says it leads answers without error once the broker has taken the
 * leadership (Metadata shows a leader as soon as the controller's record is applied, before the
 * leader has opened the partition).
 */
export async function servedByLeaders(cluster: BrokerCluster, leaders: Leaders): Promise<number> {
  const byLeader = new Map<number, Map<string, number[]>>();
  for (const [key, leader] of leaders) {
    if (leader < 0) continue;
    const { topic, partition } = splitKey(key);
    const topics = byLeader.get(leader) ?? new Map<string, number[]>();
    const list = topics.get(topic) ?? [];
    list.push(partition);
    topics.set(topic, list);
    byLeader.set(leader, topics);
  }
  const counts = await Promise.all(
    [...byLeader].map(async ([leader, topics]) => {
      const broker = cluster.broker(leader);
      if (!broker.isRunning) return 0;
      const response = await ask<ListOffsetsResponse>(broker.bootstrap, ApiKey.ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...topics].map(([name, partitions]) => ({
          name,
          partitions: partitions.map((partitionIndex) => ({
            partitionIndex,
            currentLeaderEpoch: -1,
            timestamp: -1n,
          })),
        })),
      });
      let served = 0;
      for (const topic of response.topics)
        for (const partition of topic.partitions) if (partition.errorCode === 0) served++;
      return served;
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * Polls every running broker's Metadata until each shows all `partitionCount` partitions of
 * `topics` with a leader that `acceptable` accepts, and every leader serves its partitions
 * (`servedByLeaders`); returns the last Metadata answer (of the first broker).
 */
export async function waitUntilLed(
  cluster: BrokerCluster,
  topics: readonly string[],
  options: {
    partitionCount: number;
    timeoutMs: number;
    acceptable?: (key: string, leader: number) => boolean;
    /** Between polls (250 ms by default): a Metadata of 100,000 partitions costs the broker CPU. */
    intervalMs?: number;
  },
): Promise<Leaders> {
  const deadlineMs = Date.now() + options.timeoutMs;
  const acceptable = options.acceptable ?? (() => true);
  let lastState = 'nothing asked yet';
  for (;;) {
    let answer: Leaders | undefined;
    let everyBroker = true;
    for (const broker of cluster.brokers.filter((entry) => entry.isRunning)) {
      try {
        const leaders = await leadersSeenBy(broker.bootstrap, topics);
        let led = 0;
        for (const [key, leader] of leaders) if (leader >= 0 && acceptable(key, leader)) led++;
        lastState = `broker ${broker.bootstrap}: ${led} of ${options.partitionCount} led`;
        if (led < options.partitionCount) {
          everyBroker = false;
          break;
        }
        answer ??= leaders;
      } catch (error) {
        lastState = `broker ${broker.bootstrap}: ${String(error)}`;
        everyBroker = false;
        break;
      }
    }
    if (everyBroker && answer) {
      const served = await servedByLeaders(cluster, answer).catch(() => 0);
      if (served === options.partitionCount) return answer;
      lastState = `${served} of ${options.partitionCount} served by their leaders`;
    }
    if (Date.now() > deadlineMs)
      throw new Error(`timed out after ${options.timeoutMs} ms: ${lastState}`);
    await sleep(options.intervalMs ?? 250);
  }
}

/** `count` partitions spread evenly over `keys` (every ⌈n/count⌉th). */
export function evenSample(keys: readonly string[], count: number): string[] {
  const step = Math.max(1, Math.floor(keys.length / count));
  return keys.filter((_, index) => index % step === 0).slice(0, count);
}

function splitKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('-');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/**
 * Produces one record to each partition of `keys` at its leader in `leaders` (one Produce
 * request per leader, `acks`); throws on any error. Returns the base offset per partition.
 */
export async function produceToLeaders(
  cluster: BrokerCluster,
  leaders: Leaders,
  keys: readonly string[],
  acks: number,
): Promise<Map<string, bigint>> {
  const byLeader = new Map<number, Map<string, number[]>>();
  for (const key of keys) {
    const leader = leaders.get(key) ?? -1;
    if (leader < 0) throw new Error(`produce: ${key} has no leader`);
    const { topic, partition } = splitKey(key);
    const topics = byLeader.get(leader) ?? new Map<string, number[]>();
    topics.set(topic, [...(topics.get(topic) ?? []), partition]);
    byLeader.set(leader, topics);
  }
  const offsets = new Map<string, bigint>();
  const batch = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('scale') }] });
  await Promise.all(
    [...byLeader].map(async ([leader, topics]) => {
      const response = await ask<ProduceResponse>(
        cluster.broker(leader).bootstrap,
        ApiKey.Produce,
        9,
        {
          transactionalId: null,
          acks,
          timeoutMs: 30_000,
          topicData: [...topics].map(([name, partitions]) => ({
            name,
            partitionData: partitions.map((index) => ({ index, records: batch })),
          })),
        },
      );
      for (const topic of response.responses)
        for (const partition of topic.partitionResponses) {
          const key = `${topic.name}-${partition.index}`;
          if (partition.errorCode !== 0)
            throw new Error(`produce ${key} at ${leader}: error ${partition.errorCode}`);
          offsets.set(key, partition.baseOffset);
        }
    }),
  );
  if (offsets.size !== keys.length)
    throw new Error(`produce: ${offsets.size} of ${keys.length} partitions answered`);
  return offsets;
}

export interface ProcessFigures {
  rssMegabytes: number;
  fileDescriptors: number;
  cpuSeconds: number;
}

/** RSS, open fds and CPU seconds so far of one running broker. */
export async function processFigures(broker: BrokerProcess): Promise<ProcessFigures> {
  return {
    rssMegabytes: Math.round((await broker.residentSetBytes()) / 1024 / 1024),
    fileDescriptors: await broker.openFileDescriptorCount(),
    cpuSeconds: await broker.cpuSeconds(),
  };
}

/** CPU seconds of every running broker, summed (a measure robust to a loaded machine). */
export async function clusterCpuSeconds(cluster: BrokerCluster): Promise<number> {
  let total = 0;
  for (const broker of cluster.brokers) if (broker.isRunning) total += await broker.cpuSeconds();
  return total;
}

/** etcd's backend size (`etcd_mvcc_db_total_size_in_bytes` of its /metrics), in MB. */
export async function etcdDatabaseMegabytes(cluster: BrokerCluster): Promise<number> {
  const endpoint = cluster.etcd.endpoint.replace(/^(?!https?:\/\/)/, 'http://');
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const match = /^etcd_mvcc_db_total_size_in_bytes (\S+)$/m.exec(text);
  if (!match) throw new Error('etcd /metrics has no etcd_mvcc_db_total_size_in_bytes');
  return Number(match[1]) / 1024 / 1024;
}
