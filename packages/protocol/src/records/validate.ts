// Broker-side checks of produced record batches WITHOUT decoding records (bytes stay bytes):
// framing, magic, CRC-32C, counts and offset deltas. Error codes follow Kafka's LogValidator.

import {
  type BatchHeader,
  batchAttributes,
  batchHeaderSizeBytes,
  batchLogOverheadBytes,
  batchOffsets,
  computeBatchCrc,
  readBatchHeader,
  stampLogAppendTime,
} from './batch-header.js';
import {
  RecordBatchError,
  type RecordBatchErrorReason,
  type RecordBatchFailure,
  recordBatchFailure,
  recordErrorCode,
} from './errors.js';

/** The smallest possible record: length, attributes, deltas, key, value, header count. */
export const recordSizeBytesMin = 7;
const magicV2 = 2;

export interface ValidatedBatch {
  /** Where the batch starts in the validated buffer. */
  position: number;
  /** Whole batch, batchLogOverheadBytes included. */
  sizeBytes: number;
  header: BatchHeader;
}

export type BatchValidation =
  | {
      ok: true;
      batches: ValidatedBatch[];
      /** Sum of recordsCount. */
      recordCount: number;
      /** Offsets the batches take: the sum of lastOffsetDelta + 1. */
      offsetCount: number;
      /** Offset of the last record relative to the first batch's base offset (offsetCount - 1). */
      lastOffsetDelta: number;
      /** Largest maxTimestamp of the batches (-1 when there is none). */
      maxTimestamp: bigint;
    }
  | RecordBatchFailure;

export interface ValidateRecordBatchesOptions {
  /** A larger batch is refused with MESSAGE_TOO_LARGE (Kafka's max.message.bytes). */
  maxBatchSizeBytes?: number;
  /**
   * 'client' (Produce): at least one batch, no control batches, recordsCount > 0 and equal to
   * lastOffsetDelta + 1. 'internal' (replication, log recovery, read-back): compacted batches may
   * hold fewer records than their offset span, and may be empty.
   */
  origin?: 'client' | 'internal';
}

function fail(
  reason: RecordBatchErrorReason,
  errorCode: number,
  message: string,
  position: number,
): never {
  throw new RecordBatchError(reason, errorCode, message, position);
}

/**
 * Checks the framing of the batch at `position` (length, magic) and returns its size in bytes.
 * The batch must end by `end`, which defaults to the buffer's end; a caller holding only the
 * head of a longer run of batches (reading a file in chunks) passes where that run ends, counted
 * from the start of `buffer`.
 */
export function checkBatchFraming(buffer: Buffer, position: number, end = buffer.length): number {
  const available = end - position;
  if (Math.min(available, buffer.length - position) < batchOffsets.magic + 1) {
    fail(
      'truncated',
      recordErrorCode.corruptMessage,
      `${available} bytes cannot hold a batch header`,
      position,
    );
  }
  const magic = buffer.readInt8(position + batchOffsets.magic);
  if (magic !== magicV2) {
    // Produce v3+ must carry magic v2 (Kafka: INVALID_RECORD); an unknown magic is corruption.
    const legacy = magic === 0 || magic === 1;
    fail(
      'bad-magic',
      legacy ? recordErrorCode.invalidRecord : recordErrorCode.corruptMessage,
      `record batch magic ${magic}; only magic v2 is supported`,
      position,
    );
  }
  const batchLength = buffer.readInt32BE(position + batchOffsets.batchLength);
  if (batchLength < batchHeaderSizeBytes - batchLogOverheadBytes) {
    fail(
      'bad-length',
      recordErrorCode.corruptMessage,
      `batch length ${batchLength} is below the header size`,
      position,
    );
  }
  const sizeBytes = batchLength + batchLogOverheadBytes;
  if (sizeBytes > available) {
    fail(
      'truncated',
      recordErrorCode.corruptMessage,
      `batch of ${sizeBytes} bytes but ${available} bytes left`,
      position,
    );
  }
  return sizeBytes;
}

export interface CheckBatchOptions {
  origin: 'client' | 'internal';
  /** False when the caller has just checked it (default true). */
  verifyCrc?: boolean;
}

/** Checks one batch's CRC and counts; returns its header. */
export function checkBatchAt(
  buffer: Buffer,
  position: number,
  sizeBytes: number,
  options: CheckBatchOptions,
): BatchHeader {
  const { origin, verifyCrc = true } = options;
  const header = readBatchHeader(buffer, position);
  if (verifyCrc && computeBatchCrc(buffer, position, sizeBytes) !== header.crc) {
    fail('crc-mismatch', recordErrorCode.corruptMessage, 'record batch CRC-32C mismatch', position);
  }
  if ((header.attributes & batchAttributes.compressionMask) > 4) {
    fail(
      'bad-compression',
      recordErrorCode.unsupportedCompressionType,
      `unknown compression type ${header.attributes & batchAttributes.compressionMask}`,
      position,
    );
  }
  const { recordsCount, lastOffsetDelta } = header;
  if (recordsCount < 0 || lastOffsetDelta < 0) {
    fail(
      'bad-count',
      recordErrorCode.invalidRecord,
      `negative recordsCount ${recordsCount} or lastOffsetDelta ${lastOffsetDelta}`,
      position,
    );
  }
  const compressed = (header.attributes & batchAttributes.compressionMask) !== 0;
  if (!compressed && recordsCount * recordSizeBytesMin > sizeBytes - batchHeaderSizeBytes) {
    fail(
      'bad-count',
      recordErrorCode.corruptMessage,
      `recordsCount ${recordsCount} cannot fit in the batch`,
      position,
    );
  }
  if (origin === 'client') {
    if (header.attributes & batchAttributes.control) {
      fail(
        'control-from-client',
        recordErrorCode.invalidRecord,
        'clients may not send control batches',
        position,
      );
    }
    if (recordsCount === 0 || recordsCount !== lastOffsetDelta + 1) {
      fail(
        'bad-offset-delta',
        recordErrorCode.invalidRecord,
        `recordsCount ${recordsCount} does not match lastOffsetDelta ${lastOffsetDelta}`,
        position,
      );
    }
  } else if (recordsCount > lastOffsetDelta + 1) {
    fail(
      'bad-offset-delta',
      recordErrorCode.corruptMessage,
      `recordsCount ${recordsCount} exceeds the offset span`,
      position,
    );
  }
  return header;
}

function validateOrThrow(buffer: Buffer, options: ValidateRecordBatchesOptions): BatchValidation {
  const origin = options.origin ?? 'client';
  const maxBatchSizeBytes = options.maxBatchSizeBytes ?? Number.POSITIVE_INFINITY;
  const batches: ValidatedBatch[] = [];
  let recordCount = 0;
  let offsetCount = 0;
  let maxTimestamp = -1n;
  let position = 0;
  while (position < buffer.length) {
    const sizeBytes = checkBatchFraming(buffer, position);
    if (sizeBytes > maxBatchSizeBytes) {
      fail(
        'too-large',
        recordErrorCode.messageTooLarge,
        `batch of ${sizeBytes} bytes exceeds ${maxBatchSizeBytes}`,
        position,
      );
    }
    const header = checkBatchAt(buffer, position, sizeBytes, { origin });
    batches.push({ position, sizeBytes, header });
    recordCount += header.recordsCount;
    offsetCount += header.lastOffsetDelta + 1;
    if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
    position += sizeBytes;
  }
  if (origin === 'client' && batches.length === 0) {
    fail(
      'truncated',
      recordErrorCode.invalidRecord,
      'a produce request must carry a record batch',
      0,
    );
  }
  return {
    ok: true,
    batches,
    recordCount,
    offsetCount,
    lastOffsetDelta: offsetCount - 1,
    maxTimestamp,
  };
}

/** Validates every batch in `buffer`, which must consist of complete batches only. */
export function validateRecordBatches(
  buffer: Buffer,
  options: ValidateRecordBatchesOptions = {},
): BatchValidation {
  try {
    return validateOrThrow(buffer, options);
  } catch (error) {
    return recordBatchFailure(error);
  }
}

export interface AssignOffsetsOptions {
  /** Stamped into every batch's partitionLeaderEpoch. */
  leaderEpoch: number;
  /** When the topic uses LogAppendTime: set the timestamp-type bit and maxTimestamp, re-CRC. */
  logAppendTimeMs?: bigint;
}

/**
 * Stamps base offsets (consecutive from `firstOffset`) and the leader epoch into the validated
 * batches in place, updating `validation`'s headers too. Returns the last offset assigned.
 */
export function assignOffsets(
  buffer: Buffer,
  validation: Extract<BatchValidation, { ok: true }>,
  firstOffset: bigint,
  options: AssignOffsetsOptions,
): bigint {
  let nextOffset = firstOffset;
  for (const batch of validation.batches) {
    const { position, header } = batch;
    buffer.writeBigInt64BE(nextOffset, position + batchOffsets.baseOffset);
    buffer.writeInt32BE(options.leaderEpoch, position + batchOffsets.partitionLeaderEpoch);
    header.baseOffset = nextOffset;
    header.partitionLeaderEpoch = options.leaderEpoch;
    if (options.logAppendTimeMs !== undefined) {
      header.crc = stampLogAppendTime(buffer, position, batch.sizeBytes, options.logAppendTimeMs);
      header.attributes |= batchAttributes.timestampTypeLogAppendTime;
      header.maxTimestamp = options.logAppendTimeMs;
    }
    nextOffset += BigInt(header.lastOffsetDelta) + 1n;
  }
  if (options.logAppendTimeMs !== undefined && validation.batches.length > 0) {
    validation.maxTimestamp = options.logAppendTimeMs;
  }
  return nextOffset - 1n;
}
