/**
 * What a broker answers from its metadata image, as pure functions the broker's handlers call:
 * Metadata's brokers and topics, DescribeCluster's brokers, DescribeTopicPartitions' partitions,
 * FindCoordinator's node, and the partitions a delta makes this broker lead, follow or drop (the
 * replica manager's input, KRaft's TopicsDelta.localChanges).
 *
 * Endpoints are per listener: a client sees every broker by the address of the listener its
 * request arrived on. A leader without that listener is LISTENER_NOT_FOUND (Metadata v6+)
 * or LEADER_NOT_AVAILABLE before, with leader id -1, as Kafka's KRaftMetadataCache answers.
 */
import { ErrorCode } from '@gregor/protocol';
import type { MetadataChanges, MetadataImage, PartitionImage } from './image.js';
import { noLeader } from './partition-registration.js';
import {
  type TopicPartitionsPage,
  type TopicPartitionsRequest,
  type TopicPartitionsSource,
  topicPartitionsPage,
} from './topic-partitions-page.js';

export const internalTopicNames: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
]);

export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** Registered brokers with an endpoint on `listenerName`, by id (Metadata's and DescribeCluster's list). */
export function brokerAddresses(image: MetadataImage, listenerName: string): BrokerAddress[] {
  const result: BrokerAddress[] = [];
  for (const broker of image.brokers()) {
    const endpoint = image.brokerEndpoint(broker.brokerId, listenerName);
    if (endpoint === undefined) continue;
    result.push({
      nodeId: broker.brokerId,
      host: endpoint.host,
      port: endpoint.port,
      rack: broker.registration.rack,
    });
  }
  return result;
}

export interface PartitionDescription {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
  eligibleLeaderReplicas: number[];
  lastKnownElr: number[];
}

export interface PartitionDescriptionOptions {
  listenerName: string;
  /** Metadata v6+: a leader without the listener is LISTENER_NOT_FOUND (else LEADER_NOT_AVAILABLE). */
  errorUnavailableListeners: boolean;
  /** Metadata v0: list only replicas reachable on the listener, REPLICA_NOT_AVAILABLE if some are not. */
  errorUnavailableEndpoints?: boolean;
}

/** One partition as Metadata (and DescribeTopicPartitions) describes it. */
export function describePartition(
  image: MetadataImage,
  partition: PartitionImage,
  options: PartitionDescriptionOptions,
): PartitionDescription {
  const reachable = (id: number) => image.brokerEndpoint(id, options.listenerName) !== undefined;
  const filter = (ids: readonly number[]) =>
    options.errorUnavailableEndpoints === true ? ids.filter(reachable) : [...ids];
  const replicaNodes = filter(partition.replicas);
  const isrNodes = filter(partition.isr);
  const base = {
    partitionIndex: partition.partition,
    leaderEpoch: partition.leaderEpoch,
    replicaNodes,
    isrNodes,
    offlineReplicas: image.offlineReplicas(partition),
    eligibleLeaderReplicas: [...partition.elr],
    lastKnownElr: [...partition.lastKnownElr],
  };
  if (partition.leader === noLeader || !reachable(partition.leader)) {
    const errorCode =
      partition.leader === noLeader || !image.isBrokerRegistered(partition.leader)
        ? ErrorCode.LEADER_NOT_AVAILABLE
        : options.errorUnavailableListeners
          ? ErrorCode.LISTENER_NOT_FOUND
          : ErrorCode.LEADER_NOT_AVAILABLE;
    return { ...base, errorCode, leaderId: noLeader };
  }
  const incomplete =
    replicaNodes.length < partition.replicas.length || isrNodes.length < partition.isr.length;
  return {
    ...base,
    errorCode: incomplete ? ErrorCode.REPLICA_NOT_AVAILABLE : ErrorCode.NONE,
    leaderId: partition.leader,
  };
}

export interface TopicDescription {
  errorCode: number;
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionDescription[];
}

/** A topic by name, or undefined when the image has none (UNKNOWN_TOPIC_OR_PARTITION). */
export function describeTopic(
  image: MetadataImage,
  topicName: string,
  options: PartitionDescriptionOptions,
): TopicDescription | undefined {
  const topic = image.topic(topicName);
  if (topic === undefined) return undefined;
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: internalTopicNames.has(topic.name),
    partitions: image
      .partitions(topic.name)
      .map((partition) => describePartition(image, partition, options)),
  };
}

/**
 * The coordinator for a key hashed to `partition` of an internal topic: its leader's address on
 * the listener, or COORDINATOR_NOT_AVAILABLE (no such topic yet, leaderless, or not reachable).
 */
export function coordinatorAddress(
  image: MetadataImage,
  internalTopic: string,
  partition: number,
  listenerName: string,
): { errorCode: number; address?: BrokerAddress } {
  const leader = image.partition(internalTopic, partition)?.leader ?? noLeader;
  const endpoint = leader === noLeader ? undefined : image.brokerEndpoint(leader, listenerName);
  if (endpoint === undefined) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
  return {
    errorCode: ErrorCode.NONE,
    address: {
      nodeId: leader,
      host: endpoint.host,
      port: endpoint.port,
      rack: image.broker(leader)?.registration.rack ?? null,
    },
  };
}

export interface LocalPartitionChanges {
  /** Partitions this broker now leads (new, or a new leader epoch). */
  readonly leaders: PartitionImage[];
  /** Partitions this broker now follows (new, a new leader or leader epoch). */
  readonly followers: PartitionImage[];
  /** Partitions this broker no longer hosts: deleted, reassigned away, or their topic deleted. */
  readonly removed: { topicId: string; partition: number }[];
}

/**
 * What a delta means for one broker's replicas, from the images before and after it. A partition
 * is reported when this broker is a replica and it is new to the broker (created, grown, now
 * visible) or its leader or leader epoch changed; ISR-only changes are not reported (the leader
 * learns them from its AlterPartition answers, followers do not need them). A partition the
 * broker no longer replicates, or that is no longer visible (topic deleted), is removed.
 */
export function localPartitionChanges(
  previous: MetadataImage,
  image: MetadataImage,
  changes: MetadataChanges,
  brokerId: number,
): LocalPartitionChanges {
  const pairs = new Map<string, { before?: PartitionImage; after?: PartitionImage }>();
  const pairOf = (partition: PartitionImage) => {
    const key = `${partition.topicId}/${partition.partition}`;
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = {};
      pairs.set(key, pair);
    }
    return pair;
  };
  for (const change of changes.partitions) {
    const before = change.previous !== undefined && isVisible(previous, change.previous);
    const after = change.current !== undefined && isVisible(image, change.current);
    if (before) pairOf(change.previous!).before = change.previous;
    if (after) pairOf(change.current!).after = change.current;
  }
  // A topic key created, grown or deleted shows or hides partitions whose records did not change.
  for (const name of changes.topics) {
    for (const partition of previous.partitions(name)) pairOf(partition).before ??= partition;
    for (const partition of image.partitions(name)) pairOf(partition).after ??= partition;
  }
  const leaders: PartitionImage[] = [];
  const followers: PartitionImage[] = [];
  const removed: { topicId: string; partition: number }[] = [];
  for (const { before, after } of pairs.values()) {
    const wasHosted = before?.replicas.includes(brokerId) === true;
    const isHosted = after?.replicas.includes(brokerId) === true;
    if (!isHosted) {
      if (wasHosted) removed.push({ topicId: before!.topicId, partition: before!.partition });
      continue;
    }
    const roleChanged =
      !wasHosted || before!.leader !== after!.leader || before!.leaderEpoch !== after!.leaderEpoch;
    // The leader also learns an ISR the controller changed alone (a fenced follower removed): its
    // next AlterPartition must carry the new partition epoch.
    const leaderStateChanged =
      after!.leader === brokerId && before?.partitionEpoch !== after!.partitionEpoch;
    if (roleChanged || leaderStateChanged) {
      (after!.leader === brokerId ? leaders : followers).push(after!);
    }
  }
  return { leaders, followers, removed };
}

function isVisible(image: MetadataImage, partition: PartitionImage): boolean {
  const topic = image.topicById(partition.topicId);
  return topic !== undefined && partition.partition < topic.partitionCount;
}

/** DescribeTopicPartitions over the image: its topics and partitions as Metadata describes them. */
export function imageTopicPartitions(
  image: MetadataImage,
  options: { listenerName: string; topicNameProblem?: (name: string) => string | undefined },
): TopicPartitionsSource {
  const describeOptions = { listenerName: options.listenerName, errorUnavailableListeners: true };
  return {
    topicNames: () => image.topics().map((topic) => topic.name),
    isInternalName: (name) => internalTopicNames.has(name),
    topicNameProblem: options.topicNameProblem,
    topic(name) {
      const topic = image.topic(name);
      if (topic === undefined) return undefined;
      const partitions = new Map(
        image.partitions(name).map((partition) => [partition.partition, partition]),
      );
      return {
        topicId: topic.topicId,
        isInternal: internalTopicNames.has(name),
        partitionIndexes: [...partitions.keys()].sort((left, right) => left - right),
        describe: (index) => describePartition(image, partitions.get(index)!, describeOptions),
      };
    },
  };
}

/** One page of DescribeTopicPartitions from the image (topic-partitions-page.ts has the rules). */
export function describeTopicPartitionsPage(
  image: MetadataImage,
  request: TopicPartitionsRequest & {
    listenerName: string;
    topicNameProblem?: (name: string) => string | undefined;
  },
): TopicPartitionsPage {
  return topicPartitionsPage(imageTopicPartitions(image, request), request);
}
