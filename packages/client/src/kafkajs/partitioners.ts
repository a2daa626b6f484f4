// kafkajs's two partitioners. Both take the partition given in the message, hash a key, and
// spread null keys round-robin over partitions that have a leader, starting at a random place per
// topic. DefaultPartitioner hashes with the Java client's murmur2 (same partition as Java and
// librdkafka's murmur2_random); LegacyPartitioner (kafkajs's default before 2.0) computes murmur2
// in JavaScript doubles, which differs from Java's for many keys. Both are reproduced
// arithmetically here so a switch from kafkajs keeps every key on its partition.

import { randomBytes } from 'node:crypto';
import { murmur2 } from '../producer/murmur2.js';

export interface PartitionMetadata {
  partitionErrorCode: number;
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas?: number[];
}

export interface PartitionerMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: unknown;
  timestamp?: string;
}

export interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: PartitionerMessage;
}

export type ICustomPartitioner = () => (args: PartitionerArgs) => number;

const toPositive = (value: number) => value & 0x7fffffff;

function keyBytes(key: Buffer | string): Buffer {
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}

/**
 * kafkajs's pre-2.0 murmur2: the Java algorithm's steps on JavaScript numbers, so products are
 * doubles (rounded beyond 2^53) truncated to 32 bits only by the following xor, and the word loop
 * runs `length / 4` times unrounded (reading missing bytes as 0).
 */
export function legacyMurmur2(data: Buffer): number {
  const multiplier = 0x5bd1e995;
  const length = data.length;
  let hash = 0x9747b28c ^ length;
  const byteAt = (index: number) => (index < length ? data[index] : 0);
  for (let word = 0; word < length / 4; word++) {
    const offset = word * 4;
    let mixed =
      byteAt(offset) +
      (byteAt(offset + 1) << 8) +
      (byteAt(offset + 2) << 16) +
      (byteAt(offset + 3) << 24);
    mixed *= multiplier;
    mixed ^= mixed >>> 24;
    mixed *= multiplier;
    hash *= multiplier;
    hash ^= mixed;
  }
  const tailStart = length & ~3;
  const tail = length % 4;
  if (tail === 3) hash ^= data[tailStart + 2] << 16;
  if (tail >= 2) hash ^= data[tailStart + 1] << 8;
  if (tail >= 1) {
    hash ^= data[tailStart];
    hash *= multiplier;
  }
  hash ^= hash >>> 13;
  hash *= multiplier;
  hash ^= hash >>> 15;
  return hash;
}

function createPartitioner(hash: (key: Buffer) => number): ICustomPartitioner {
  return () => {
    const counters = new Map<string, number>();
    return ({ topic, partitionMetadata, message }) => {
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      const partitionCount = partitionMetadata.length;
      if (message.key !== null && message.key !== undefined)
        return toPositive(hash(keyBytes(message.key))) % partitionCount;
      const next = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1;
      counters.set(topic, next);
      const available = partitionMetadata.filter((partition) => partition.leader >= 0);
      if (available.length > 0) return available[toPositive(next) % available.length].partitionId;
      return toPositive(next) % partitionCount;
    };
  };
}

export const Partitioners = {
  DefaultPartitioner: createPartitioner(murmur2),
  LegacyPartitioner: createPartitioner(legacyMurmur2),
  /** kafkajs's deprecated name of DefaultPartitioner. */
  JavaCompatiblePartitioner: createPartitioner(murmur2),
};
