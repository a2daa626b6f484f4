// Reading batch headers inside stored bytes without decoding records (bytes stay bytes).

import {
  batchAttributes,
  batchHeaderSizeBytes,
  batchLogOverheadBytes,
  batchOffsets,
  type CompressionCodecs,
  checkBatchFraming,
  computeBatchCrc,
  RecordBatchError,
  stampLogAppendTime,
  writeBatchBaseOffset,
  writeBatchPartitionLeaderEpoch,
} from '@gregor/protocol';

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

/**
 * Why the bytes at `position` cannot start a stored batch ending by `end`, or null. The framing
 * (magic, length, fits by `end`) is protocol's check; `end` may lie past the buffer when only the
 * head of a file region is in memory. A negative lastOffsetDelta would move the log end backwards.
 */
export function headerProblem(buffer: Buffer, position: number, end: number): string | null {
  try {
    checkBatchFraming(buffer, position, end);
  } catch (error) {
    if (error instanceof RecordBatchError) return error.message;
    throw error;
  }
  if (buffer.length - position < batchHeaderSizeBytes) return 'truncated header';
  if (buffer.readInt32BE(position + batchOffsets.lastOffsetDelta) < 0)
    return 'negative lastOffsetDelta';
  return null;
}

/** Full check used by recovery and reads: framing and the CRC over the complete batch. */
export function batchProblem(buffer: Buffer, position: number, end: number): string | null {
  const problem = headerProblem(buffer, position, end);
  if (problem) return problem;
  const sizeBytes = batchSizeAt(buffer, position, end);
  const stored = buffer.readUInt32BE(position + batchOffsets.crc);
  if (computeBatchCrc(buffer, position, sizeBytes) !== stored) return 'CRC mismatch';
  return null;
}

/** Whether records of this batch can be decoded here (a compressed one needs its codec). */
export function canDecode(summary: BatchSummary, codecs?: CompressionCodecs): boolean {
  const compression = summary.attributes & batchAttributes.compressionMask;
  return compression === 0 || Boolean(codecs?.[compression as 1 | 2 | 3 | 4]);
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & batchAttributes.control) !== 0;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & batchAttributes.transactional) !== 0;
}

export interface LeaderStamp {
  firstOffset: bigint;
  leaderEpoch: number;
  /** Set for LogAppendTime topics (KIP-32): stamped as every batch's maxTimestamp. */
  logAppendTimeMs: bigint | null;
}

/**
 * A leader append: stamps consecutive base offsets, the leader epoch and LogAppendTime into the
 * batches in place (protocol's stamps) and updates their summaries to match. Returns the offset
 * after the last batch.
 */
export function stampLeaderBatches(
  buffer: Buffer,
  summaries: BatchSummary[],
  stamp: LeaderStamp,
): bigint {
  let offset = stamp.firstOffset;
  for (const summary of summaries) {
    const span = summary.lastOffset - summary.baseOffset;
    writeBatchBaseOffset(buffer, summary.position, offset);
    writeBatchPartitionLeaderEpoch(buffer, summary.position, stamp.leaderEpoch);
    if (stamp.logAppendTimeMs !== null) {
      stampLogAppendTime(buffer, summary.position, summary.sizeBytes, stamp.logAppendTimeMs);
      summary.attributes |= batchAttributes.timestampTypeLogAppendTime;
      summary.maxTimestamp = stamp.logAppendTimeMs;
    }
    summary.baseOffset = offset;
    summary.lastOffset = offset + span;
    summary.partitionLeaderEpoch = stamp.leaderEpoch;
    offset += span + 1n;
  }
  return offset;
}
