// What the consumer and a group membership (classic or KIP-848) say to each other. The membership
// speaks the protocol in the background (heartbeats) and decides; partitions change hands only
// inside `maintain`, which the consumer calls from poll, so rebalance listeners run on the
// caller's turn (as in Java, where they run inside poll()).

import { type MetadataResponse, metadataApi } from '@gregor/protocol';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import type { Cluster } from '../network/cluster.js';
import type { CommitIdentity } from './group-offsets.js';
import type { TopicPartition } from './list-offsets.js';

export type GroupProtocol = 'classic' | 'consumer';

export type SubscriptionSpec = { topics: readonly string[] } | { pattern: RegExp };

/** The consumer side: owned partitions and the listener-running transitions. */
export interface MembershipHost {
  readonly cluster: Cluster;
  owned(): TopicPartition[];
  /** Starts fetching them (from committed offsets), then onPartitionsAssigned. */
  assignPartitions(partitions: TopicPartition[]): Promise<void>;
  /** Commits them when auto-commit is on, onPartitionsRevoked, then stops fetching them. */
  revokePartitions(partitions: TopicPartition[]): Promise<void>;
  /** onPartitionsLost (nothing committed: another member may own them already), stop fetching. */
  losePartitions(partitions: TopicPartition[]): Promise<void>;
  /** Commits the positions of every owned partition when auto-commit is on. */
  autoCommitOwned(): Promise<void>;
}

export interface GroupMembership {
  readonly protocol: GroupProtocol;
  /** True when `maintain` has work (rejoin, reconcile, lost partitions): checked between records. */
  readonly needsMaintenance: boolean;
  /** Joins, rejoins and applies assignments; throws fatal group errors. */
  maintain(): Promise<void>;
  /** The caller took records: the max.poll.interval.ms clock restarts. */
  polled(): void;
  /** What `sendOffsetsToTransaction` takes to fence zombies (KIP-447). */
  metadata(): ConsumerGroupMetadata;
  /** An OffsetCommit said the membership is stale (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID...). */
  commitFailed(code: number): void;
  /** Leaves the group (dynamic members) and stops heartbeats. */
  leave(): Promise<void>;
}

export interface MembershipSettings {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  rackId: string | null;
}

/** Every non-internal topic in the cluster with its id (Metadata for all topics). */
export async function allTopics(
  cluster: Cluster,
): Promise<Array<{ name: string; topicId: string }>> {
  const connection = await cluster.anyConnection();
  const version = connection.versions.version(metadataApi, 4);
  const response = await connection.request<MetadataResponse>(
    metadataApi,
    {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
      includeClusterAuthorizedOperations: false,
    },
    { version },
  );
  return response.topics
    .filter((topic) => topic.name !== null && !topic.isInternal)
    .map((topic) => ({ name: topic.name!, topicId: topic.topicId ?? '' }));
}

/** Names of every topic that `pattern` matches as a whole (Java's Pattern subscription). */
export async function topicsMatching(cluster: Cluster, pattern: RegExp): Promise<string[]> {
  const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace('g', ''));
  return (await allTopics(cluster))
    .map((topic) => topic.name)
    .filter((name) => whole.test(name))
    .sort();
}

/** The member fields of an OffsetCommit. */
export function commitIdentityOf(metadata: ConsumerGroupMetadata): CommitIdentity {
  return {
    generationIdOrMemberEpoch: metadata.generationId,
    memberId: metadata.memberId,
    groupInstanceId: metadata.groupInstanceId ?? null,
  };
}

export function partitionSetKey(partition: TopicPartition): string {
  return `${partition.topic}\u0000${partition.partition}`;
}

/** Partitions of `left` not in `right`. */
export function difference(
  left: readonly TopicPartition[],
  right: readonly TopicPartition[],
): TopicPartition[] {
  const keys = new Set(right.map(partitionSetKey));
  return left.filter((partition) => !keys.has(partitionSetKey(partition)));
}
