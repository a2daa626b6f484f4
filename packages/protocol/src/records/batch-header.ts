// Fixed layout of a record batch, magic v2 (KIP-98). The broker reads and stamps these fields
// without decoding records: batches stay opaque bytes from socket to disk to fetch response.
//
// baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
// attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
// producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32 | records...
// The CRC covers attributes..end, so baseOffset and partitionLeaderEpoch can be stamped freely.

import { crc32c } from './crc32c.js';

export const batchOffsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
} as const;

/** Bytes before the records: the whole fixed header. */
export const batchHeaderSizeBytes = 61;
/** baseOffset + batchLength: what `batchLength` does not count. */
export const batchLogOverheadBytes = 12;

export const batchAttributes = {
  compressionMask: 0x07,
  timestampTypeLogAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizonFlag: 0x40,
} as const;

export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** Reads the fixed header at `position`; the caller has checked that 61 bytes are there. */
export function readBatchHeader(buffer: Buffer, position = 0): BatchHeader {
  return {
    baseOffset: buffer.readBigInt64BE(position + batchOffsets.baseOffset),
    batchLength: buffer.readInt32BE(position + batchOffsets.batchLength),
    partitionLeaderEpoch: buffer.readInt32BE(position + batchOffsets.partitionLeaderEpoch),
    magic: buffer.readInt8(position + batchOffsets.magic),
    crc: buffer.readUInt32BE(position + batchOffsets.crc),
    attributes: buffer.readInt16BE(position + batchOffsets.attributes),
    lastOffsetDelta: buffer.readInt32BE(position + batchOffsets.lastOffsetDelta),
    baseTimestamp: buffer.readBigInt64BE(position + batchOffsets.baseTimestamp),
    maxTimestamp: buffer.readBigInt64BE(position + batchOffsets.maxTimestamp),
    producerId: buffer.readBigInt64BE(position + batchOffsets.producerId),
    producerEpoch: buffer.readInt16BE(position + batchOffsets.producerEpoch),
    baseSequence: buffer.readInt32BE(position + batchOffsets.baseSequence),
    recordsCount: buffer.readInt32BE(position + batchOffsets.recordsCount),
  };
}

/** CRC-32C over attributes..end of the batch that starts at `position` and spans `sizeBytes`. */
export function computeBatchCrc(buffer: Buffer, position: number, sizeBytes: number): number {
  return crc32c(buffer, position + batchOffsets.attributes, position + sizeBytes);
}

/** Stamps the base offset in place (outside the CRC: no re-checksum needed). */
export function writeBatchBaseOffset(buffer: Buffer, position: number, baseOffset: bigint): void {
  buffer.writeBigInt64BE(baseOffset, position + batchOffsets.baseOffset);
}

/** Stamps the partition leader epoch in place (outside the CRC). */
export function writeBatchPartitionLeaderEpoch(
  buffer: Buffer,
  position: number,
  leaderEpoch: number,
): void {
  buffer.writeInt32BE(leaderEpoch, position + batchOffsets.partitionLeaderEpoch);
}

/**
 * LogAppendTime (KIP-32): sets the timestamp-type attribute bit and maxTimestamp in place. Both
 * sit inside the CRC, so the batch is re-checksummed; returns the new CRC.
 */
export function stampLogAppendTime(
  buffer: Buffer,
  position: number,
  sizeBytes: number,
  timestampMs: bigint,
): number {
  const attributes = buffer.readInt16BE(position + batchOffsets.attributes);
  buffer.writeInt16BE(
    attributes | batchAttributes.timestampTypeLogAppendTime,
    position + batchOffsets.attributes,
  );
  buffer.writeBigInt64BE(timestampMs, position + batchOffsets.maxTimestamp);
  const crc = computeBatchCrc(buffer, position, sizeBytes);
  buffer.writeUInt32BE(crc, position + batchOffsets.crc);
  return crc;
}
