// Committed offsets of a consumer group: OffsetCommit and OffsetFetch at the group coordinator.
// A member commits with its generation (classic) or member epoch (KIP-848) and member id; without
// membership commits use generation -1 and an empty member id, which brokers accept for a group
// with no active members (Java's "simple" consumer groups).

import {
  ErrorCode,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  offsetCommitApi,
  offsetFetchApi,
} from '@gregor/protocol';
import { ClientError, KafkaError, TimeoutError } from '../errors.js';
import { type Cluster, sleep } from '../network/cluster.js';
import type { TopicPartition } from './list-offsets.js';

export interface CommittedOffset extends TopicPartition {
  /** Null when the group has no offset for the partition. */
  offset: bigint | null;
  metadata: string | null;
}

/** OffsetCommit v2+ (KIP-896 removed older versions in Kafka 4.0). */
const offsetCommitVersionMin = 2;
/** OffsetFetch v1+; v8 moved to a list of groups (KIP-709). */
const offsetFetchVersionMin = 1;
const offsetFetchGroupsVersionMin = 8;

/** Codes after which the coordinator must be looked up again. */
const coordinatorMovedCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

function groupByTopic<T extends TopicPartition>(entries: readonly T[]): Map<string, T[]> {
  const byTopic = new Map<string, T[]>();
  for (const entry of entries) {
    const list = byTopic.get(entry.topic) ?? [];
    list.push(entry);
    byTopic.set(entry.topic, list);
  }
  return byTopic;
}

/** Runs `attempt` against the group coordinator, rediscovering it and retrying retriable errors. */
async function withCoordinator<T>(
  cluster: Cluster,
  groupId: string,
  timeoutMs: number,
  attempt: (connection: Awaited<ReturnType<Cluster['coordinator']>>) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await cluster.coordinator(
        'group',
        groupId,
        Math.max(0, deadline - Date.now()),
      );
      return await attempt(connection);
    } catch (error) {
      if (error instanceof KafkaError && coordinatorMovedCodes.has(error.code)) {
        cluster.forgetCoordinator('group', groupId);
      }
      const retriable = error instanceof ClientError && error.retriable;
      if (!retriable) throw error;
      if (Date.now() >= deadline)
        throw new TimeoutError(`group ${groupId}: ${error.message}`, error);
      await sleep(cluster.options.retryBackoffMs);
    }
  }
}

/** Who commits: a group member's generation (or KIP-848 member epoch) and ids. */
export interface CommitIdentity {
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
}

const noMember: CommitIdentity = {
  generationIdOrMemberEpoch: -1,
  memberId: '',
  groupInstanceId: null,
};

export function commitOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }>,
  timeoutMs: number,
  identity: CommitIdentity = noMember,
): Promise<void> {
  return withCoordinator(cluster, groupId, timeoutMs, async (connection) => {
    const version = connection.versions.version(offsetCommitApi, offsetCommitVersionMin);
    const request: OffsetCommitRequest = {
      groupId,
      generationIdOrMemberEpoch: identity.generationIdOrMemberEpoch,
      memberId: identity.memberId,
      groupInstanceId: identity.groupInstanceId,
      retentionTimeMs: -1n,
      topics: [...groupByTopic(offsets)].map(([name, entries]) => ({
        name,
        partitions: entries.map((entry) => ({
          partitionIndex: entry.partition,
          committedOffset: entry.offset,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: entry.metadata ?? null,
        })),
      })),
    };
    const response = await connection.request<OffsetCommitResponse>(offsetCommitApi, request, {
      version,
    });
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(
            partition.errorCode,
            `OffsetCommit ${groupId} ${topic.name}-${partition.partitionIndex}`,
          );
        }
      }
    }
  });
}

export function fetchCommittedOffsets(
  cluster: Cluster,
  groupId: string,
  partitions: readonly TopicPartition[],
  timeoutMs: number,
): Promise<CommittedOffset[]> {
  return withCoordinator(cluster, groupId, timeoutMs, async (connection) => {
    const version = connection.versions.version(offsetFetchApi, offsetFetchVersionMin);
    const topics = [...groupByTopic(partitions)].map(([name, entries]) => ({
      name,
      partitionIndexes: entries.map((entry) => entry.partition),
    }));
    // requireStable (v7+): wait for pending transactional commits (KIP-447), as Java does.
    const request =
      version >= offsetFetchGroupsVersionMin
        ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: true }
        : { groupId, topics, requireStable: true };
    const response = await connection.request<OffsetFetchResponse>(offsetFetchApi, request, {
      version,
    });
    const group = version >= offsetFetchGroupsVersionMin ? response.groups?.[0] : undefined;
    const errorCode = group?.errorCode ?? response.errorCode ?? ErrorCode.NONE;
    if (errorCode !== ErrorCode.NONE) throw new KafkaError(errorCode, `OffsetFetch ${groupId}`);
    const answered = new Map<string, CommittedOffset>();
    for (const topic of group?.topics ?? response.topics ?? []) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(
            partition.errorCode,
            `OffsetFetch ${groupId} ${topic.name}-${partition.partitionIndex}`,
          );
        }
        answered.set(`${topic.name}\u0000${partition.partitionIndex}`, {
          topic: topic.name,
          partition: partition.partitionIndex,
          offset: partition.committedOffset < 0n ? null : partition.committedOffset,
          metadata: partition.metadata,
        });
      }
    }
    return partitions.map(
      (entry) =>
        answered.get(`${entry.topic}\u0000${entry.partition}`) ?? {
          topic: entry.topic,
          partition: entry.partition,
          offset: null,
          metadata: null,
        },
    );
  });
}
