/**
 * Named types and injected dependencies of the group coordinator. The coordinator never touches
 * sockets, files or the system clock directly: tests drive it with a manual clock and a real or
 * in-memory log for `__consumer_offsets`.
 */
import type { Clock } from '../clock.js';
import type { ReadableLog } from '../log-batches.js';
import type { Logger } from '../logging/logger.js';
import type { TopicManager } from '../topics/types.js';

export type GroupId = string;
export type MemberId = string;
export type TopicName = string;
export type PartitionIndex = number;
/** Kafka's base64url (22 characters) topic id. */
export type TopicId = string;

export const offsetsTopicName = '__consumer_offsets';

/** Settings with Kafka's broker config names (see DESIGN.md for the mapping). */
export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  sessionTimeoutMsMin: number;
  /** group.max.session.timeout.ms */
  sessionTimeoutMsMax: number;
  /** group.max.size */
  groupSizeMax: number;
  /** offsets.retention.minutes, in milliseconds */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataBytesMax: number;
  /** offsets.topic.num.partitions (used only when the topic does not exist yet) */
  offsetsTopicPartitionCount: number;
  /** offsets.load.buffer.size: bytes read per step while replaying `__consumer_offsets` */
  offsetsLoadBufferBytes: number;
  /** group.consumer.heartbeat.interval.ms (KIP-848) */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms (KIP-848) */
  consumerSessionTimeoutMs: number;
  /** group.consumer.max.size (KIP-848) */
  consumerGroupSizeMax: number;
  /** group.consumer.assignors: the first is the default */
  consumerAssignors: readonly string[];
}

/** Kafka 3.9 defaults for every setting. */
export const defaultGroupCoordinatorConfig: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  sessionTimeoutMsMin: 6000,
  sessionTimeoutMsMax: 1_800_000,
  groupSizeMax: 2_147_483_647,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataBytesMax: 4096,
  offsetsTopicPartitionCount: 50,
  offsetsLoadBufferBytes: 5 * 1024 * 1024,
  consumerHeartbeatIntervalMs: 5000,
  consumerSessionTimeoutMs: 45_000,
  consumerGroupSizeMax: 2_147_483_647,
  consumerAssignors: ['uniform', 'range'],
};

/** What the coordinator needs of a `__consumer_offsets` partition (replication/partition.ts). */
export interface OffsetsPartitionLog {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  /** Appends as leader; resolves once the batch is durable and below the high watermark. */
  appendAsLeader(
    batches: Buffer,
    options: { requiredAcks: -1 },
  ): Promise<{ baseOffset: bigint; lastOffset: bigint }>;
  /** The local log, replayed from its start when the coordinator loads. */
  readonly log: ReadableLog;
}

/**
 * Access to the partitions of `__consumer_offsets`. The broker implements it over its topic
 * manager and replica manager; tests over a temp-dir log.
 */
export interface OffsetsTopicStorage {
  /** Partition count of the existing topic, or null when it was never created. */
  existingPartitionCount(): number | null;
  /** Creates the topic (compacted, `partitionCount` partitions) when absent; returns its log. */
  partitionLog(partition: number, partitionCount: number): Promise<OffsetsPartitionLog>;
}

/** Read-only view of the broker's topics (KIP-848 assignment, commit validation). */
export type TopicMetadataView = Pick<TopicManager, 'get' | 'getById' | 'list'>;

export interface GroupCoordinatorDependencies {
  clock: Clock;
  logger: Logger;
  storage: OffsetsTopicStorage;
  topics: TopicMetadataView;
  config?: Partial<GroupCoordinatorConfig>;
  /** Random uuid source for member ids (injected for deterministic tests). */
  randomUuid?: () => string;
  /**
   * Cluster mode: the coordinator serves only the `__consumer_offsets` partitions it was told to
   * load (this broker leads them: `loadPartition` / `unloadPartition`); groups of other partitions
   * answer NOT_COORDINATOR. Absent: every partition, loaded at start (single node).
   */
  partitionsFollowLeadership?: boolean;
}
