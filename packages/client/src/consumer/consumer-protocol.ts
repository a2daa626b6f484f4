// The "consumer" protocol type's JoinGroup metadata and SyncGroup assignment bytes, as Java's
// ConsumerProtocol writes them: an int16 version, then the versioned struct (never flexible).
// Subscription v1 added owned partitions (KIP-429), v2 the generation (KIP-792), v3 the rack
// (KIP-881). Newer versions than ours are read as our highest: fields are only ever appended.

import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  Reader,
  Writer,
} from '@gregor/protocol';
import { ClientError } from '../errors.js';
import type { TopicPartition } from './list-offsets.js';

export const consumerProtocolType = 'consumer';
const subscriptionVersionMax = 3;
const assignmentVersionMax = 3;

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartition[];
  /** -1 when unknown (subscription < v2 or never joined). */
  generationId: number;
  rackId: string | null;
}

export interface Assignment {
  partitions: TopicPartition[];
  userData: Buffer | null;
}

/** Partitions grouped by topic (topics and partitions sorted), as the wire structs carry them. */
export function byTopic(partitions: readonly TopicPartition[]): Array<{
  topic: string;
  partitions: number[];
}> {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = grouped.get(topic) ?? [];
    list.push(partition);
    grouped.set(topic, list);
  }
  return [...grouped.keys()]
    .sort()
    .map((topic) => ({ topic, partitions: grouped.get(topic)!.sort((a, b) => a - b) }));
}

function flatten(
  grouped: ReadonlyArray<{ topic: string; partitions: number[] }>,
): TopicPartition[] {
  return grouped.flatMap(({ topic, partitions }) =>
    partitions.map((partition) => ({ topic, partition })),
  );
}

export function encodeSubscription(
  subscription: Subscription,
  version = subscriptionVersionMax,
): Buffer {
  const writer = new Writer();
  writer.writeInt16(version);
  encodeConsumerProtocolSubscription(writer, version, {
    topics: [...subscription.topics].sort(),
    userData: subscription.userData,
    ownedPartitions: byTopic(subscription.ownedPartitions),
    generationId: subscription.generationId,
    rackId: subscription.rackId,
  });
  return writer.toBuffer();
}

function readVersion(reader: Reader, what: string, versionMax: number): number {
  const version = reader.readInt16();
  if (version < 0) throw new ClientError(`${what} has version ${version}`, { retriable: false });
  return Math.min(version, versionMax);
}

export function decodeSubscription(metadata: Buffer): Subscription {
  const reader = new Reader(metadata);
  const version = readVersion(reader, 'a subscription', subscriptionVersionMax);
  const decoded = decodeConsumerProtocolSubscription(reader, version);
  return {
    topics: decoded.topics,
    userData: decoded.userData,
    ownedPartitions: flatten(decoded.ownedPartitions ?? []),
    generationId: decoded.generationId ?? -1,
    rackId: decoded.rackId ?? null,
  };
}

export function encodeAssignment(assignment: Assignment, version = assignmentVersionMax): Buffer {
  const writer = new Writer();
  writer.writeInt16(version);
  encodeConsumerProtocolAssignment(writer, version, {
    assignedPartitions: byTopic(assignment.partitions),
    userData: assignment.userData,
  });
  return writer.toBuffer();
}

/** An empty buffer (a member the leader left out) is an empty assignment, as in Java. */
export function decodeAssignment(bytes: Buffer): Assignment {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const reader = new Reader(bytes);
  const version = readVersion(reader, 'an assignment', assignmentVersionMax);
  const decoded = decodeConsumerProtocolAssignment(reader, version);
  return { partitions: flatten(decoded.assignedPartitions), userData: decoded.userData };
}
