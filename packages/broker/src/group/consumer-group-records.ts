/**
 * Values of the KIP-848 records in `__consumer_offsets` (all version 0, flexible: compact strings
 * and arrays, tagged fields), laid out as Kafka's group coordinator writes them:
 *   v5 ConsumerGroupMemberMetadataValue    instance id, rack, client, subscription, timeout, assignor
 *   v6 ConsumerGroupTargetAssignmentMetadataValue   assignment epoch
 *   v7 ConsumerGroupTargetAssignmentMemberValue     the member's target partitions
 *   v8 ConsumerGroupCurrentMemberAssignmentValue    epochs, state, assigned and revoking partitions
 * Unknown tagged fields (e.g. newer Kafka's per-partition assignment epochs) are skipped on read.
 */
import { Reader, Writer } from '@gregor/protocol';
import type { Assignment } from './assignors.js';

export interface ConsumerMemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface ConsumerCurrentAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** 1 stable, 2 unrevoked partitions, 3 unreleased partitions; +8 while a static member is away. */
  state: number;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

const valueVersion = 0;
/** A compact array entry takes at least one byte: longer counts cannot be honest. */
const entryBytesMin = 1;

function start(): Writer {
  const writer = new Writer();
  writer.writeInt16(valueVersion);
  return writer;
}

function finish(writer: Writer): Buffer {
  writer.writeUnsignedVarint(0); // no tagged fields
  return writer.toBuffer();
}

function open(buffer: Buffer): Reader {
  const reader = new Reader(buffer);
  const version = reader.readInt16();
  if (version < 0) reader.fail('invalid-value', `value version ${version}`);
  return reader;
}

function skipTaggedFields(reader: Reader): void {
  reader.readTaggedFields({}, () => false);
}

function readArrayLength(reader: Reader): number {
  const length = reader.readUnsignedVarint() - 1;
  if (length < 0) reader.fail('invalid-value', 'null array');
  if (length * entryBytesMin > reader.remaining)
    reader.fail('oversized-length', `array of ${length}`);
  return length;
}

function writeAssignment(writer: Writer, assignment: Assignment): void {
  const topics = [...assignment.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  writer.writeUnsignedVarint(topics.length + 1);
  for (const [topicId, partitions] of topics) {
    writer.writeUuid(topicId);
    const sorted = [...partitions].sort((a, b) => a - b);
    writer.writeUnsignedVarint(sorted.length + 1);
    for (const partition of sorted) writer.writeInt32(partition);
    writer.writeUnsignedVarint(0);
  }
}

function readAssignment(reader: Reader): Assignment {
  const assignment: Assignment = new Map();
  const topicCount = readArrayLength(reader);
  for (let topic = 0; topic < topicCount; topic++) {
    const topicId = reader.readUuid();
    const partitionCount = readArrayLength(reader);
    const partitions = new Set<number>();
    for (let index = 0; index < partitionCount; index++) partitions.add(reader.readInt32());
    skipTaggedFields(reader);
    assignment.set(topicId, partitions);
  }
  return assignment;
}

export function encodeConsumerMemberMetadataValue(value: ConsumerMemberMetadataValue): Buffer {
  const writer = start();
  writer.writeCompactNullableString(value.instanceId);
  writer.writeCompactNullableString(value.rackId);
  writer.writeCompactString(value.clientId);
  writer.writeCompactString(value.clientHost);
  writer.writeUnsignedVarint(value.subscribedTopicNames.length + 1);
  for (const name of value.subscribedTopicNames) writer.writeCompactString(name);
  writer.writeCompactNullableString(value.subscribedTopicRegex);
  writer.writeInt32(value.rebalanceTimeoutMs);
  writer.writeCompactNullableString(value.serverAssignor);
  return finish(writer);
}

export function decodeConsumerMemberMetadataValue(buffer: Buffer): ConsumerMemberMetadataValue {
  const reader = open(buffer);
  const instanceId = reader.readCompactNullableString();
  const rackId = reader.readCompactNullableString();
  const clientId = reader.readCompactString();
  const clientHost = reader.readCompactString();
  const nameCount = readArrayLength(reader);
  const subscribedTopicNames: string[] = [];
  for (let index = 0; index < nameCount; index++)
    subscribedTopicNames.push(reader.readCompactString());
  const subscribedTopicRegex = reader.readCompactNullableString();
  const rebalanceTimeoutMs = reader.readInt32();
  const serverAssignor = reader.readCompactNullableString();
  skipTaggedFields(reader);
  return {
    instanceId,
    rackId,
    clientId,
    clientHost,
    subscribedTopicNames,
    subscribedTopicRegex,
    rebalanceTimeoutMs,
    serverAssignor,
  };
}

export function encodeConsumerTargetEpochValue(assignmentEpoch: number): Buffer {
  const writer = start();
  writer.writeInt32(assignmentEpoch);
  return finish(writer);
}

export function decodeConsumerTargetEpochValue(buffer: Buffer): number {
  const reader = open(buffer);
  const epoch = reader.readInt32();
  skipTaggedFields(reader);
  return epoch;
}

export function encodeConsumerTargetMemberValue(assignment: Assignment): Buffer {
  const writer = start();
  writeAssignment(writer, assignment);
  return finish(writer);
}

export function decodeConsumerTargetMemberValue(buffer: Buffer): Assignment {
  const reader = open(buffer);
  const assignment = readAssignment(reader);
  skipTaggedFields(reader);
  return assignment;
}

export function encodeConsumerCurrentAssignmentValue(
  value: ConsumerCurrentAssignmentValue,
): Buffer {
  const writer = start();
  writer.writeInt32(value.memberEpoch);
  writer.writeInt32(value.previousMemberEpoch);
  writer.writeInt8(value.state);
  writeAssignment(writer, value.assigned);
  writeAssignment(writer, value.pendingRevocation);
  return finish(writer);
}

export function decodeConsumerCurrentAssignmentValue(
  buffer: Buffer,
): ConsumerCurrentAssignmentValue {
  const reader = open(buffer);
  const memberEpoch = reader.readInt32();
  const previousMemberEpoch = reader.readInt32();
  const state = reader.readInt8();
  const assigned = readAssignment(reader);
  const pendingRevocation = readAssignment(reader);
  skipTaggedFields(reader);
  return { memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation };
}
