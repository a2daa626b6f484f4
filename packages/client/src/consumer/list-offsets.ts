// ListOffsets: earliest (-2), latest (-1) or first offset at/after a timestamp, per partition,
// asked of each partition's leader, retried after a metadata refresh while errors are retriable.

import {
  ErrorCode,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  listOffsetsApi,
} from '@gregor/protocol';
import { ClientError, invalidatesMetadata, KafkaError, TimeoutError } from '../errors.js';
import { type Cluster, sleep } from '../network/cluster.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type OffsetQuery = 'earliest' | 'latest' | { timestampMs: number | bigint };

export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface PartitionOffset extends TopicPartition {
  /** -1 when no record has a timestamp at or after the query's. */
  offset: bigint;
  timestamp: bigint;
}

const earliestTimestamp = -2n;
const latestTimestamp = -1n;
/** ListOffsets v1 dropped the old multi-offset form; older versions are not used. */
const listOffsetsVersionMin = 1;

function queryTimestamp(query: OffsetQuery): bigint {
  if (query === 'earliest') return earliestTimestamp;
  if (query === 'latest') return latestTimestamp;
  return BigInt(query.timestampMs);
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Offsets of `partitions` for one query, retried until `timeoutMs` on retriable errors. */
export async function listOffsets(
  cluster: Cluster,
  partitions: readonly TopicPartition[],
  query: OffsetQuery,
  options: { isolationLevel: IsolationLevel; timeoutMs: number },
): Promise<PartitionOffset[]> {
  const deadline = Date.now() + options.timeoutMs;
  const results = new Map<string, PartitionOffset>();
  let remaining = [...partitions];
  let lastError: Error | undefined;
  while (remaining.length > 0) {
    if (Date.now() >= deadline) {
      throw new TimeoutError(
        `ListOffsets did not succeed within ${options.timeoutMs} ms`,
        lastError,
      );
    }
    const byLeader = new Map<number, TopicPartition[]>();
    for (const topicPartition of remaining) {
      await cluster.topic(topicPartition.topic, Math.max(0, deadline - Date.now()));
      const leader = cluster.leaderOf(topicPartition.topic, topicPartition.partition);
      if (leader === undefined) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `${topicPartition.topic}-${topicPartition.partition}`,
        );
      }
      const list = byLeader.get(leader) ?? [];
      list.push(topicPartition);
      byLeader.set(leader, list);
    }
    const failed: TopicPartition[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        try {
          const answered = await listOffsetsAt(
            cluster,
            leader,
            list,
            query,
            options.isolationLevel,
          );
          for (const entry of answered) {
            if (entry.errorCode === ErrorCode.NONE) {
              results.set(partitionKey(entry.topic, entry.partition), entry);
              continue;
            }
            const error = new KafkaError(entry.errorCode, `${entry.topic}-${entry.partition}`);
            if (!error.retriable && !invalidatesMetadata(entry.errorCode)) throw error;
            lastError = error;
            failed.push(entry);
          }
        } catch (error) {
          if (!(error instanceof ClientError) || !error.retriable) throw error;
          lastError = error;
          failed.push(...list);
        }
      }),
    );
    remaining = failed;
    if (remaining.length > 0) {
      await sleep(cluster.options.retryBackoffMs);
      await cluster.refreshMetadata().catch(() => undefined);
    }
  }
  return partitions.map(
    (topicPartition) => results.get(partitionKey(topicPartition.topic, topicPartition.partition))!,
  );
}

async function listOffsetsAt(
  cluster: Cluster,
  leader: number,
  partitions: readonly TopicPartition[],
  query: OffsetQuery,
  isolationLevel: IsolationLevel,
): Promise<Array<PartitionOffset & { errorCode: number }>> {
  const connection = await cluster.connectionToNode(leader);
  const version = connection.versions.version(listOffsetsApi, listOffsetsVersionMin);
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic) ?? [];
    list.push(partition);
    byTopic.set(topic, list);
  }
  const timestamp = queryTimestamp(query);
  const request: ListOffsetsRequest = {
    replicaId: -1,
    isolationLevel: isolationLevel === 'read_committed' ? 1 : 0,
    timeoutMs: cluster.options.requestTimeoutMs,
    topics: [...byTopic].map(([name, indexes]) => ({
      name,
      partitions: indexes.map((partitionIndex) => ({
        partitionIndex,
        currentLeaderEpoch: -1,
        timestamp,
      })),
    })),
  };
  const response = await connection.request<ListOffsetsResponse>(listOffsetsApi, request, {
    version,
  });
  const answered: Array<PartitionOffset & { errorCode: number }> = [];
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      answered.push({
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: partition.offset ?? -1n,
        timestamp: partition.timestamp ?? -1n,
        errorCode: partition.errorCode,
      });
    }
  }
  return answered;
}
