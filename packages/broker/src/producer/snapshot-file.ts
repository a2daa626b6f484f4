/**
 * Producer state snapshots, `<offset>.snapshot` next to the segments as Kafka names them: the
 * state after every batch below `offset`. Recovery loads the newest snapshot at or below the log
 * end and replays the batches from its offset (so deduplication survives a restart).
 *
 * Layout (big endian; our own, versioned, CRC-32C checked):
 *   version int16 | crc uint32 (over everything after it) | producerCount int32 |
 *   per producer: producerId int64 | epoch int16 | lastWriteMs int64 | coordinatorEpoch int32 |
 *                 transactionFirstOffset int64 (-1 none) | batchCount int8 |
 *                 per batch: firstSequence int32 | lastSequence int32 | baseOffset int64 |
 *                            lastOffset int64 | logAppendTimeMs int64
 */
import { crc32c } from '@gregor/protocol';
import type { PartitionProducerState, ProducerEntry } from './producer-state.js';

export const snapshotFileSuffix = '.snapshot';
const snapshotVersion = 1;
const headerSizeBytes = 10;
const producerSizeBytes = 8 + 2 + 8 + 4 + 8 + 1;
const batchSizeBytes = 4 + 4 + 8 + 8 + 8;
/** A snapshot larger than this is refused as corrupt (about a million producers). */
export const snapshotSizeBytesMax = 256 * 1024 * 1024;

export function snapshotFileName(offset: bigint): string {
  return `${offset.toString().padStart(20, '0')}${snapshotFileSuffix}`;
}

export function parseSnapshotFileName(name: string): bigint | null {
  const match = /^(\d{20})\.snapshot$/.exec(name);
  return match === null ? null : BigInt(match[1]);
}

export function encodeSnapshot(state: PartitionProducerState): Buffer {
  const entries: ProducerEntry[] = [];
  let size = headerSizeBytes;
  for (const entry of state.producers.values()) {
    entries.push(entry);
    size += producerSizeBytes + completedBatches(entry).length * batchSizeBytes;
  }
  const buffer = Buffer.alloc(size);
  let position = 0;
  buffer.writeInt16BE(snapshotVersion, position);
  position += 6;
  buffer.writeInt32BE(entries.length, position);
  position += 4;
  for (const entry of entries) {
    const batches = completedBatches(entry);
    buffer.writeBigInt64BE(entry.producerId, position);
    buffer.writeInt16BE(entry.epoch, position + 8);
    buffer.writeBigInt64BE(BigInt(Math.floor(entry.lastWriteMs)), position + 10);
    buffer.writeInt32BE(entry.coordinatorEpoch, position + 18);
    buffer.writeBigInt64BE(entry.transactionFirstOffset ?? -1n, position + 22);
    buffer.writeInt8(batches.length, position + 30);
    position += producerSizeBytes;
    for (const batch of batches) {
      const offsets = batch.offsets!;
      buffer.writeInt32BE(batch.firstSequence, position);
      buffer.writeInt32BE(batch.lastSequence, position + 4);
      buffer.writeBigInt64BE(offsets.baseOffset, position + 8);
      buffer.writeBigInt64BE(offsets.lastOffset, position + 16);
      buffer.writeBigInt64BE(offsets.logAppendTimeMs, position + 24);
      position += batchSizeBytes;
    }
  }
  buffer.writeUInt32BE(crc32c(buffer, 6, buffer.length), 2);
  return buffer;
}

function completedBatches(entry: ProducerEntry) {
  return entry.batches.filter((batch) => batch.offsets !== null);
}

export class SnapshotFormatError extends Error {}

/** Fills `state` from a snapshot; throws SnapshotFormatError on any inconsistency. */
export function decodeSnapshot(data: Buffer, state: PartitionProducerState): void {
  if (data.length < headerSizeBytes || data.length > snapshotSizeBytesMax) {
    throw new SnapshotFormatError(`snapshot of ${data.length} bytes`);
  }
  const version = data.readInt16BE(0);
  if (version !== snapshotVersion) throw new SnapshotFormatError(`snapshot version ${version}`);
  if (data.readUInt32BE(2) !== crc32c(data, 6, data.length)) {
    throw new SnapshotFormatError('snapshot CRC mismatch');
  }
  const count = data.readInt32BE(6);
  let position = headerSizeBytes;
  const need = (bytes: number) => {
    if (position + bytes > data.length) throw new SnapshotFormatError('truncated snapshot');
  };
  for (let index = 0; index < count; index++) {
    need(producerSizeBytes);
    const producerId = data.readBigInt64BE(position);
    const transactionFirstOffset = data.readBigInt64BE(position + 22);
    const batchCount = data.readInt8(position + 30);
    const entry: ProducerEntry = {
      producerId,
      epoch: data.readInt16BE(position + 8),
      lastWriteMs: Number(data.readBigInt64BE(position + 10)),
      coordinatorEpoch: data.readInt32BE(position + 18),
      transactionFirstOffset: transactionFirstOffset < 0n ? null : transactionFirstOffset,
      transactionPending: false,
      transactionPendingFrom: null,
      batches: [],
    };
    position += producerSizeBytes;
    if (batchCount < 0) throw new SnapshotFormatError('negative batch count');
    need(batchCount * batchSizeBytes);
    for (let batch = 0; batch < batchCount; batch++) {
      entry.batches.push({
        firstSequence: data.readInt32BE(position),
        lastSequence: data.readInt32BE(position + 4),
        offsets: {
          baseOffset: data.readBigInt64BE(position + 8),
          lastOffset: data.readBigInt64BE(position + 16),
          logAppendTimeMs: data.readBigInt64BE(position + 24),
        },
        pending: null,
      });
      position += batchSizeBytes;
    }
    state.producers.set(producerId, entry);
  }
  if (position !== data.length) throw new SnapshotFormatError('trailing bytes in snapshot');
}
