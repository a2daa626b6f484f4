// Decoding of record batches magic v2 into records: the consumer side, tests, and the broker's
// readers of internal topics. Hostile input ends in a RecordBatchError, never a crash.

import {
  type BatchHeader,
  batchAttributes,
  batchHeaderSizeBytes,
  batchLogOverheadBytes,
  batchOffsets,
} from './batch-header.js';
import {
  type CompressionCodecs,
  codecForType,
  type DecompressOptions,
  decompressedBatchSizeBytesMax,
} from './compression.js';
import type { RecordHeader } from './encode.js';
import { RecordBatchError, recordErrorCode } from './errors.js';
import { checkBatchAt, checkBatchFraming, recordSizeBytesMin } from './validate.js';
import { RecordCursor } from './varint.js';

export interface DecodedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedRecordBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

export interface DecodeRecordBatchOptions {
  /** Check the CRC first (default true). */
  verifyCrc?: boolean;
  decompressedSizeBytesMax?: number;
}

function invalid(message: string, position: number): never {
  throw new RecordBatchError('bad-length', recordErrorCode.invalidRecord, message, position);
}

function nullableBytes(cursor: RecordCursor): Buffer | null {
  const length = cursor.varint();
  if (length === -1) return null;
  if (length < -1) invalid(`negative length ${length}`, cursor.position);
  return cursor.bytes(length);
}

function decodeHeaders(cursor: RecordCursor): RecordHeader[] {
  const count = cursor.varint();
  if (count < 0) invalid(`negative header count ${count}`, cursor.position);
  // Each header takes at least two bytes: bound the count before looping.
  if (count * 2 > cursor.remainingBytes)
    invalid(`header count ${count} exceeds the record`, cursor.position);
  const headers: RecordHeader[] = [];
  for (let index = 0; index < count; index++) {
    const keyLength = cursor.varint();
    if (keyLength < 0) invalid(`negative header key length ${keyLength}`, cursor.position);
    const key = cursor.bytes(keyLength).toString('utf8');
    headers.push({ key, value: nullableBytes(cursor) });
  }
  return headers;
}

function decodeRecord(
  cursor: RecordCursor,
  header: BatchHeader,
  logAppendTime: boolean,
): DecodedRecord {
  const length = cursor.varint();
  if (length < recordSizeBytesMin - 1 || length > cursor.remainingBytes) {
    invalid(`record length ${length} with ${cursor.remainingBytes} bytes left`, cursor.position);
  }
  const sectionEnd = cursor.end;
  const recordEnd = cursor.position + length;
  cursor.end = recordEnd;
  cursor.int8(); // record attributes: unused
  const timestampDelta = cursor.smallVarlong();
  const offsetDelta = cursor.varint();
  const key = nullableBytes(cursor);
  const value = nullableBytes(cursor);
  const headers = decodeHeaders(cursor);
  if (cursor.position !== recordEnd) {
    invalid(
      `record declared ${length} bytes but used ${length - cursor.remainingBytes}`,
      cursor.position,
    );
  }
  cursor.end = sectionEnd;
  return {
    offset: header.baseOffset + BigInt(offsetDelta),
    timestamp: logAppendTime
      ? header.maxTimestamp
      : timestampDelta === 0
        ? header.baseTimestamp
        : header.baseTimestamp + BigInt(timestampDelta),
    key,
    value,
    headers,
  };
}

function decompressionFailed(error: unknown): RecordBatchError {
  if (error instanceof RecordBatchError) return error;
  return new RecordBatchError(
    'decompression-failed',
    recordErrorCode.corruptMessage,
    `decompression failed: ${(error as Error).message}`,
  );
}

/** Decodes the records of a batch whose header is already checked. */
function decodeRecordsOf(header: BatchHeader, section: Buffer): DecodedRecord[] {
  const cursor = new RecordCursor(section, 0, section.length);
  const logAppendTime = (header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0;
  const records: DecodedRecord[] = [];
  for (let index = 0; index < header.recordsCount; index++) {
    if (cursor.remainingBytes < recordSizeBytesMin) {
      invalid(
        `recordsCount ${header.recordsCount} but only ${index} records present`,
        cursor.position,
      );
    }
    records.push(decodeRecord(cursor, header, logAppendTime));
  }
  if (cursor.remainingBytes !== 0) {
    throw new RecordBatchError(
      'trailing-bytes',
      recordErrorCode.invalidRecord,
      `${cursor.remainingBytes} bytes after the last of ${header.recordsCount} records`,
      cursor.position,
    );
  }
  return records;
}

interface CheckedBatch {
  header: BatchHeader;
  compression: number;
  section: Buffer;
  decompressOptions: DecompressOptions;
}

function checkWholeBatch(buffer: Buffer, options: DecodeRecordBatchOptions): CheckedBatch {
  const sizeBytes = checkBatchFraming(buffer, 0);
  if (sizeBytes !== buffer.length) {
    throw new RecordBatchError(
      'trailing-bytes',
      recordErrorCode.corruptMessage,
      `${buffer.length - sizeBytes} bytes after the batch`,
      sizeBytes,
    );
  }
  const header = checkBatchAt(buffer, 0, sizeBytes, {
    origin: 'internal',
    verifyCrc: options.verifyCrc,
  });
  return {
    header,
    compression: header.attributes & batchAttributes.compressionMask,
    section: buffer.subarray(batchHeaderSizeBytes, sizeBytes),
    decompressOptions: {
      outputSizeBytesMax: options.decompressedSizeBytesMax ?? decompressedBatchSizeBytesMax,
    },
  };
}

/**
 * Decodes exactly one batch: `buffer` must hold that batch and nothing else. A compressed batch
 * needs a codec with a sync `decompress` (all default codecs have one).
 */
export function decodeRecordBatch(
  buffer: Buffer,
  codecs?: CompressionCodecs,
  options: DecodeRecordBatchOptions = {},
): DecodedRecordBatch {
  const checked = checkWholeBatch(buffer, options);
  let section = checked.section;
  if (checked.compression !== 0) {
    const codec = codecForType(codecs, checked.compression);
    if (codec.decompress === undefined) {
      throw new RecordBatchError(
        'bad-compression',
        recordErrorCode.unsupportedCompressionType,
        `compression type ${checked.compression} is async-only: use decodeRecordBatchAsync`,
      );
    }
    try {
      section = codec.decompress(section, checked.decompressOptions);
    } catch (error) {
      throw decompressionFailed(error);
    }
  }
  return { header: checked.header, records: decodeRecordsOf(checked.header, section) };
}

/** Like decodeRecordBatch, decompressing off the event loop where the codec can. */
export async function decodeRecordBatchAsync(
  buffer: Buffer,
  codecs?: CompressionCodecs,
  options: DecodeRecordBatchOptions = {},
): Promise<DecodedRecordBatch> {
  const checked = checkWholeBatch(buffer, options);
  let section = checked.section;
  if (checked.compression !== 0) {
    const codec = codecForType(codecs, checked.compression);
    try {
      section = await codec.decompressAsync(section, checked.decompressOptions);
    } catch (error) {
      throw decompressionFailed(error);
    }
  }
  return { header: checked.header, records: decodeRecordsOf(checked.header, section) };
}

export interface BatchSlice {
  position: number;
  /** The batch's bytes (a subarray, no copy). */
  batch: Buffer;
}

/**
 * Splits `buffer` into batches without checking their content (any magic: the 12-byte
 * offset+length framing is common to all formats). A partial batch at the end, as fetch
 * responses may carry, ends the iteration; a length that cannot be a batch throws.
 */
export function* iterateRecordBatches(buffer: Buffer): Generator<BatchSlice> {
  let position = 0;
  while (buffer.length - position >= batchLogOverheadBytes) {
    const batchLength = buffer.readInt32BE(position + batchOffsets.batchLength);
    if (batchLength < batchOffsets.magic + 1 - batchLogOverheadBytes) {
      throw new RecordBatchError(
        'bad-length',
        recordErrorCode.corruptMessage,
        `batch length ${batchLength} is too small`,
        position,
      );
    }
    const sizeBytes = batchLength + batchLogOverheadBytes;
    if (sizeBytes > buffer.length - position) return;
    yield { position, batch: buffer.subarray(position, position + sizeBytes) };
    position += sizeBytes;
  }
}

/** Decodes every complete batch in `buffer` (a fetch response's records); a partial tail is skipped. */
export function decodeRecordBatches(
  buffer: Buffer,
  codecs?: CompressionCodecs,
  options: DecodeRecordBatchOptions = {},
): DecodedRecordBatch[] {
  const result: DecodedRecordBatch[] = [];
  for (const slice of iterateRecordBatches(buffer)) {
    result.push(decodeRecordBatch(slice.batch, codecs, options));
  }
  return result;
}
