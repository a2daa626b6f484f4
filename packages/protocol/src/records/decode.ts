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

/**
 * One record's parts as `walkRecords` finds them. The same object is filled again for every
 * record of a walk: a visitor copies what it keeps, and nothing is allocated per record beyond
 * the key and value views.
 */
export interface RecordFields {
  offsetDelta: number;
  /** A number when it fits 28 bits (every batch written within three days), else a bigint. */
  timestampDelta: number | bigint;
  key: Buffer | null;
  value: Buffer | null;
  headerCount: number;
  /** Where the header count starts in the records section: `decodeHeadersAt` reads them. */
  headersPosition: number;
}

/** Checks the headers' framing and moves past them without decoding them; their count. */
function skipHeaders(cursor: RecordCursor): number {
  const count = cursor.varint();
  if (count < 0) invalid(`negative header count ${count}`, cursor.position);
  // Each header takes at least two bytes: bound the count before looping.
  if (count * 2 > cursor.remainingBytes)
    invalid(`header count ${count} exceeds the record`, cursor.position);
  for (let index = 0; index < count; index++) {
    const keyLength = cursor.varint();
    if (keyLength < 0) invalid(`negative header key length ${keyLength}`, cursor.position);
    skipBytes(cursor, keyLength);
    const valueLength = cursor.varint();
    if (valueLength < -1) invalid(`negative length ${valueLength}`, cursor.position);
    if (valueLength > 0) skipBytes(cursor, valueLength);
  }
  return count;
}

function skipBytes(cursor: RecordCursor, length: number): void {
  if (length > cursor.remainingBytes) cursor.fail('record truncated inside a byte field');
  cursor.position += length;
}

/**
 * The headers of a record at `position` of its records section (`RecordFields.headersPosition`
 * from a walk, which already checked their framing).
 */
export function decodeHeadersAt(section: Buffer, position: number): RecordHeader[] {
  const cursor = new RecordCursor(section, position, section.length);
  const count = cursor.varint();
  const headers: RecordHeader[] = [];
  for (let index = 0; index < count; index++) {
    const keyLength = cursor.varint();
    if (keyLength < 0) invalid(`negative header key length ${keyLength}`, cursor.position);
    const key = cursor.bytes(keyLength).toString('utf8');
    headers.push({ key, value: nullableBytes(cursor) });
  }
  return headers;
}

function readRecord(cursor: RecordCursor, fields: RecordFields): void {
  const length = cursor.varint();
  if (length < recordSizeBytesMin - 1 || length > cursor.remainingBytes) {
    invalid(`record length ${length} with ${cursor.remainingBytes} bytes left`, cursor.position);
  }
  const sectionEnd = cursor.end;
  const recordEnd = cursor.position + length;
  cursor.end = recordEnd;
  cursor.int8(); // record attributes: unused
  fields.timestampDelta = cursor.smallVarlong();
  fields.offsetDelta = cursor.varint();
  fields.key = nullableBytes(cursor);
  fields.value = nullableBytes(cursor);
  fields.headersPosition = cursor.position;
  fields.headerCount = skipHeaders(cursor);
  if (cursor.position !== recordEnd) {
    invalid(
      `record declared ${length} bytes but used ${length - cursor.remainingBytes}`,
      cursor.position,
    );
  }
  cursor.end = sectionEnd;
}

/** A record's timestamp: its delta from the batch's base, or the broker's for LogAppendTime. */
export function recordTimestamp(header: BatchHeader, timestampDelta: number | bigint): bigint {
  if ((header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0) {
    return header.maxTimestamp;
  }
  return timestampDelta === 0
    ? header.baseTimestamp
    : header.baseTimestamp + BigInt(timestampDelta);
}

/** A `RecordFields` to fill (`RecordReader.next`). */
export function emptyRecordFields(): RecordFields {
  return {
    offsetDelta: 0,
    timestampDelta: 0,
    key: null,
    value: null,
    headerCount: 0,
    headersPosition: 0,
  };
}

/**
 * Reads the records of a batch whose header is already checked (`openRecordBatch`) one at a
 * time, so a reader can stop and resume (a consumer decodes records as it hands them out). Every
 * length is checked against the bytes left, and the section must hold exactly `recordsCount`
 * records: the last `next` throws on trailing bytes.
 */
export class RecordReader {
  private readonly cursor: RecordCursor;
  private index = 0;

  constructor(
    readonly header: BatchHeader,
    readonly section: Buffer,
  ) {
    this.cursor = new RecordCursor(section, 0, section.length);
    if (header.recordsCount <= 0) this.checkEnd();
  }

  get hasMore(): boolean {
    return this.index < this.header.recordsCount;
  }

  /** Fills `fields` with the next record; only while `hasMore`. */
  next(fields: RecordFields): void {
    const cursor = this.cursor;
    if (cursor.remainingBytes < recordSizeBytesMin) {
      invalid(
        `recordsCount ${this.header.recordsCount} but only ${this.index} records present`,
        cursor.position,
      );
    }
    readRecord(cursor, fields);
    this.index++;
    if (this.index === this.header.recordsCount) this.checkEnd();
  }

  private checkEnd(): void {
    const cursor = this.cursor;
    if (cursor.remainingBytes !== 0) {
      throw new RecordBatchError(
        'trailing-bytes',
        recordErrorCode.invalidRecord,
        `${cursor.remainingBytes} bytes after the last of ${this.header.recordsCount} records`,
        cursor.position,
      );
    }
  }
}

/** Walks every record of a checked batch in order (`RecordReader`), handing each to `visit`. */
export function walkRecords(
  header: BatchHeader,
  section: Buffer,
  visit: (fields: RecordFields) => void,
): void {
  const reader = new RecordReader(header, section);
  const fields = emptyRecordFields();
  while (reader.hasMore) {
    reader.next(fields);
    visit(fields);
  }
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
  const records: DecodedRecord[] = [];
  walkRecords(header, section, (fields) => {
    records.push({
      offset: header.baseOffset + BigInt(fields.offsetDelta),
      timestamp: recordTimestamp(header, fields.timestampDelta),
      key: fields.key,
      value: fields.value,
      headers: fields.headerCount === 0 ? [] : decodeHeadersAt(section, fields.headersPosition),
    });
  });
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
  const opened = openRecordBatch(buffer, codecs, options);
  return { header: opened.header, records: decodeRecordsOf(opened.header, opened.section) };
}

/** A checked batch and its records section, decompressed: what `walkRecords` takes. */
export interface OpenedRecordBatch {
  header: BatchHeader;
  section: Buffer;
}

/**
 * Checks exactly one batch (framing, CRC unless turned off) and decompresses its records
 * section, without decoding the records. A compressed batch needs a codec with a sync
 * `decompress` (all default codecs have one).
 */
export function openRecordBatch(
  buffer: Buffer,
  codecs?: CompressionCodecs,
  options: DecodeRecordBatchOptions = {},
): OpenedRecordBatch {
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
  return { header: checked.header, section };
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
