/**
 * Key and value formats of the records in `__consumer_offsets`, in Kafka's versioned layout so the
 * topic reads like a Kafka broker's (and a Kafka broker's reads here):
 *   key v0/v1 OffsetCommitKey {group, topic, partition}   value OffsetCommitValue v0..v4
 *   key v2    GroupMetadataKey {group}                     value GroupMetadataValue v0..v4
 *   key v3    ConsumerGroupMetadataKey {group}             value ConsumerGroupMetadataValue v0 {epoch}
 *   key v5-v8 KIP-848 member, target assignment and current assignment records: their values are
 *             in consumer-group-records.ts; key v4 (partition metadata) is not written and skipped.
 * A null value is a tombstone (offset deleted / group deleted). Values v4 are flexible (compact
 * strings, tagged fields); Gregor writes OffsetCommitValue v3 (v1 when an explicit expire time was
 * committed, as Kafka does) and GroupMetadataValue v3.
 */
import { Reader, Writer } from '@gregor/protocol';

export interface OffsetCommitKey {
  type: 'offset';
  group: string;
  topic: string;
  partition: number;
}

export interface GroupMetadataKey {
  type: 'group';
  group: string;
}

/** KIP-848: ConsumerGroupMetadataKey (key v3) -> ConsumerGroupMetadataValue {epoch}. */
export interface ConsumerGroupMetadataKey {
  type: 'consumer-group';
  group: string;
}

/** KIP-848 records keyed by group: v6 target assignment metadata. */
export interface ConsumerGroupKey {
  type: 'consumer-target-epoch';
  group: string;
}

/** KIP-848 records keyed by group and member: v5 metadata, v7 target, v8 current assignment. */
export interface ConsumerMemberKey {
  type: 'consumer-member' | 'consumer-target-member' | 'consumer-current-member';
  group: string;
  memberId: string;
}

export interface UnknownKey {
  type: 'unknown';
  version: number;
}

export type OffsetsTopicKey =
  | OffsetCommitKey
  | GroupMetadataKey
  | ConsumerGroupMetadataKey
  | ConsumerGroupKey
  | ConsumerMemberKey
  | UnknownKey;

export interface OffsetCommitValue {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: bigint;
  /** Explicit expire time from OffsetCommit v2-v4 retention_time_ms, or null. */
  expireTimestampMs: bigint | null;
}

export interface StoredGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestampMs: bigint;
  members: StoredGroupMember[];
}

const offsetCommitKeyVersion = 1;
const groupMetadataKeyVersion = 2;
const consumerGroupMetadataKeyVersion = 3;
/** Kafka's key versions of the KIP-848 records Gregor writes. */
const consumerKeyVersions = {
  'consumer-member': 5,
  'consumer-target-epoch': 6,
  'consumer-target-member': 7,
  'consumer-current-member': 8,
} as const;
const consumerMemberKeyTypes = [
  'consumer-member',
  'consumer-target-member',
  'consumer-current-member',
] as const;
const offsetCommitValueVersion = 3;
const offsetCommitValueWithExpireVersion = 1;
const groupMetadataValueVersion = 3;
const flexibleValueVersion = 4;

export function encodeOffsetCommitKey(key: Omit<OffsetCommitKey, 'type'>): Buffer {
  const writer = new Writer();
  writer.writeInt16(offsetCommitKeyVersion);
  writer.writeString(key.group);
  writer.writeString(key.topic);
  writer.writeInt32(key.partition);
  return writer.toBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return encodeGroupKey(groupMetadataKeyVersion, group);
}

/** The keys that name only a group: its key version, then the group id. */
function encodeGroupKey(version: number, group: string): Buffer {
  const writer = new Writer();
  writer.writeInt16(version);
  writer.writeString(group);
  return writer.toBuffer();
}

/** Throws ProtocolDecodeError on malformed input. */
export function decodeOffsetsTopicKey(buffer: Buffer): OffsetsTopicKey {
  const reader = new Reader(buffer);
  const version = reader.readInt16();
  if (version === 0 || version === 1) {
    const group = reader.readString();
    const topic = reader.readString();
    const partition = reader.readInt32();
    reader.expectEnd();
    return { type: 'offset', group, topic, partition };
  }
  if (version === 2) {
    const group = reader.readString();
    reader.expectEnd();
    return { type: 'group', group };
  }
  if (version === consumerGroupMetadataKeyVersion) {
    const group = reader.readString();
    reader.expectEnd();
    return { type: 'consumer-group', group };
  }
  if (version === consumerKeyVersions['consumer-target-epoch']) {
    const group = reader.readString();
    reader.expectEnd();
    return { type: 'consumer-target-epoch', group };
  }
  for (const type of consumerMemberKeyTypes) {
    if (version !== consumerKeyVersions[type]) continue;
    const group = reader.readString();
    const memberId = reader.readString();
    reader.expectEnd();
    return { type, group, memberId };
  }
  return { type: 'unknown', version };
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const writer = new Writer();
  if (value.expireTimestampMs !== null) {
    writer.writeInt16(offsetCommitValueWithExpireVersion);
    writer.writeInt64(value.offset);
    writer.writeString(value.metadata);
    writer.writeInt64(value.commitTimestampMs);
    writer.writeInt64(value.expireTimestampMs);
    return writer.toBuffer();
  }
  writer.writeInt16(offsetCommitValueVersion);
  writer.writeInt64(value.offset);
  writer.writeInt32(value.leaderEpoch);
  writer.writeString(value.metadata);
  writer.writeInt64(value.commitTimestampMs);
  return writer.toBuffer();
}

/** String reading that follows the value version's encoding (compact from v4 on). */
function stringReader(reader: Reader, flexible: boolean) {
  return {
    string: () => (flexible ? reader.readCompactString() : reader.readString()),
    nullableString: () =>
      flexible ? reader.readCompactNullableString() : reader.readNullableString(),
    bytes: () => (flexible ? reader.readCompactBytes() : reader.readBytes()),
    arrayLength: () => (flexible ? reader.readUnsignedVarint() - 1 : reader.readInt32()),
    skipTaggedFields: () => {
      if (!flexible) return;
      reader.readTaggedFields({}, () => false);
    },
  };
}

export function decodeOffsetCommitValue(buffer: Buffer): OffsetCommitValue {
  const reader = new Reader(buffer);
  const version = reader.readInt16();
  if (version < 0 || version > flexibleValueVersion) {
    reader.fail('invalid-value', `OffsetCommitValue version ${version}`);
  }
  const read = stringReader(reader, version >= flexibleValueVersion);
  const offset = reader.readInt64();
  const leaderEpoch = version >= 3 ? reader.readInt32() : -1;
  const metadata = read.string();
  const commitTimestampMs = reader.readInt64();
  const expireTimestampMs = version === 1 ? reader.readInt64() : null;
  read.skipTaggedFields();
  // Newer minor layouts may append fields; tolerate trailing bytes like Kafka does.
  return { offset, leaderEpoch, metadata, commitTimestampMs, expireTimestampMs };
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const writer = new Writer();
  writer.writeInt16(groupMetadataValueVersion);
  writer.writeString(value.protocolType);
  writer.writeInt32(value.generation);
  writer.writeNullableString(value.protocol);
  writer.writeNullableString(value.leader);
  writer.writeInt64(value.currentStateTimestampMs);
  writer.writeInt32(value.members.length);
  for (const member of value.members) {
    writer.writeString(member.memberId);
    writer.writeNullableString(member.groupInstanceId);
    writer.writeString(member.clientId);
    writer.writeString(member.clientHost);
    writer.writeInt32(member.rebalanceTimeoutMs);
    writer.writeInt32(member.sessionTimeoutMs);
    writer.writeBytes(member.subscription);
    writer.writeBytes(member.assignment);
  }
  return writer.toBuffer();
}

export function decodeGroupMetadataValue(buffer: Buffer): GroupMetadataValue {
  const reader = new Reader(buffer);
  const version = reader.readInt16();
  if (version < 0 || version > flexibleValueVersion) {
    reader.fail('invalid-value', `GroupMetadataValue version ${version}`);
  }
  const read = stringReader(reader, version >= flexibleValueVersion);
  const protocolType = read.string();
  const generation = reader.readInt32();
  const protocol = read.nullableString();
  const leader = read.nullableString();
  const currentStateTimestampMs = version >= 2 ? reader.readInt64() : -1n;
  const memberCount = read.arrayLength();
  // Each member takes at least 20 bytes: a count larger than that cannot be honest.
  if (memberCount < 0 || memberCount > reader.remaining / 20) {
    reader.fail('oversized-length', `member count ${memberCount}`);
  }
  const members: StoredGroupMember[] = [];
  for (let index = 0; index < memberCount; index++) {
    const memberId = read.string();
    const groupInstanceId = version >= 3 ? read.nullableString() : null;
    const clientId = read.string();
    const clientHost = read.string();
    const rebalanceTimeoutMs = version >= 1 ? reader.readInt32() : -1;
    const sessionTimeoutMs = reader.readInt32();
    const subscription = Buffer.from(read.bytes());
    const assignment = Buffer.from(read.bytes());
    read.skipTaggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeoutMs: rebalanceTimeoutMs < 0 ? sessionTimeoutMs : rebalanceTimeoutMs,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  read.skipTaggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestampMs, members };
}

export function encodeConsumerGroupMetadataKey(group: string): Buffer {
  return encodeGroupKey(consumerGroupMetadataKeyVersion, group);
}

/** ConsumerGroupMetadataValue v0 (flexible): the group epoch and no tagged fields. */
export function encodeConsumerGroupMetadataValue(epoch: number): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  writer.writeInt32(epoch);
  writer.writeUnsignedVarint(0);
  return writer.toBuffer();
}

export function decodeConsumerGroupMetadataValue(buffer: Buffer): { epoch: number } {
  const reader = new Reader(buffer);
  const version = reader.readInt16();
  if (version < 0) reader.fail('invalid-value', `ConsumerGroupMetadataValue version ${version}`);
  const epoch = reader.readInt32();
  reader.readTaggedFields({}, () => false);
  return { epoch };
}

export function encodeConsumerTargetEpochKey(group: string): Buffer {
  return encodeGroupKey(consumerKeyVersions['consumer-target-epoch'], group);
}

export function encodeConsumerMemberKey(key: Omit<ConsumerMemberKey, never>): Buffer {
  const writer = new Writer();
  writer.writeInt16(consumerKeyVersions[key.type]);
  writer.writeString(key.group);
  writer.writeString(key.memberId);
  return writer.toBuffer();
}
