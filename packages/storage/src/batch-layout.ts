// Reading batch headers inside stored bytes without decoding records (bytes stay bytes).

import {
  batchAttributes,
  batchHeaderSizeBytes,
  batchLogOverheadBytes,
  batchOffsets,
  computeBatchCrc,
} from '@gregor/protocol';
import { batchLengthMin } from './limits.js';

/** The fields of a stored batch the log needs, read from the fixed header. */
export interface BatchSummary {
  position: number;
  sizeBytes: number;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  partitionLeaderEpoch: number;
  attributes: number;
}

export const magicV2 = 2;

export function summarizeBatch(buffer: Buffer, position: number): BatchSummary {
  const baseOffset = buffer.readBigInt64BE(position + batchOffsets.baseOffset);
  return {
    position,
    sizeBytes: buffer.readInt32BE(position + batchOffsets.batchLength) + batchLogOverheadBytes,
    baseOffset,
    lastOffset: baseOffset + BigInt(buffer.readInt32BE(position + batchOffsets.lastOffsetDelta)),
    maxTimestamp: buffer.readBigInt64BE(position + batchOffsets.maxTimestamp),
    partitionLeaderEpoch: buffer.readInt32BE(position + batchOffsets.partitionLeaderEpoch),
    attributes: buffer.readInt16BE(position + batchOffsets.attributes),
  };
}

/** Size of the batch starting at `position` when enough bytes are there to know it, else -1. */
export function batchSizeAt(buffer: Buffer, position: number, end = buffer.length): number {
  if (end - position < batchLogOverheadBytes) return -1;
  return buffer.readInt32BE(position + batchOffsets.batchLength) + batchLogOverheadBytes;
}

/**
 * Splits a buffer of batches (from a client, already validated by the broker) into summaries.
 * Throws on anything that is not a sequence of complete magic v2 batches: the log must never
 * store bytes it cannot walk.
 */
export function summarizeBatches(buffer: Buffer): BatchSummary[] {
  const result: BatchSummary[] = [];
  let position = 0;
  while (position < buffer.length) {
    const problem = headerProblem(buffer, position, buffer.length);
    if (problem) throw new RangeError(`batch at byte ${position}: ${problem}`);
    const summary = summarizeBatch(buffer, position);
    result.push(summary);
    position += summary.sizeBytes;
  }
  if (result.length === 0) throw new RangeError('no record batch to append');
  return result;
}

/** Why the header at `position` cannot start a valid batch ending by `end`, or null. */
export function headerProblem(buffer: Buffer, position: number, end: number): string | null {
  if (end - position < batchHeaderSizeBytes) return 'truncated header';
  const batchLength = buffer.readInt32BE(position + batchOffsets.batchLength);
  if (batchLength < batchLengthMin) return `batchLength ${batchLength} too small`;
  if (buffer.readInt8(position + batchOffsets.magic) !== magicV2) return 'magic is not 2';
  if (buffer.readInt32BE(position + batchOffsets.lastOffsetDelta) < 0)
    return 'negative lastOffsetDelta';
  if (position + batchLogOverheadBytes + batchLength > end) return 'truncated batch';
  return null;
}

/** Full check used by recovery: header sanity and CRC over the complete batch. */
export function batchProblem(buffer: Buffer, position: number, end: number): string | null {
  const problem = headerProblem(buffer, position, end);
  if (problem) return problem;
  const sizeBytes = batchSizeAt(buffer, position, end);
  const stored = buffer.readUInt32BE(position + batchOffsets.crc);
  if (computeBatchCrc(buffer, position, sizeBytes) !== stored) return 'CRC mismatch';
  return null;
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & batchAttributes.control) !== 0;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & batchAttributes.transactional) !== 0;
}

/** LogAppendTime (KIP-32): sets the timestamp type and maxTimestamp, which the CRC covers. */
export function stampLogAppendTime(
  buffer: Buffer,
  position: number,
  sizeBytes: number,
  timestampMs: bigint,
): void {
  const attributes = buffer.readInt16BE(position + batchOffsets.attributes);
  buffer.writeInt16BE(
    attributes | batchAttributes.timestampTypeLogAppendTime,
    position + batchOffsets.attributes,
  );
  buffer.writeBigInt64BE(timestampMs, position + batchOffsets.maxTimestamp);
  buffer.writeUInt32BE(computeBatchCrc(buffer, position, sizeBytes), position + batchOffsets.crc);
}
