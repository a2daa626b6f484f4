// Encoding of record batches magic v2 (KIP-98): producer side, tests, and the broker's own
// internal batches (control markers, __consumer_offsets). The hot produce path never re-encodes.

import {
  type BatchHeader,
  batchAttributes,
  batchHeaderSizeBytes,
  batchLogOverheadBytes,
  batchOffsets,
  computeBatchCrc,
} from './batch-header.js';
import { type CompressionCodecs, CompressionType, codecForType } from './compression.js';
import { RecordBatchError, recordErrorCode } from './errors.js';
import { varintSizeBytes, varlongSizeBytes, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Defaults to the batch's base timestamp. */
  timestamp?: bigint;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

export type TimestampType = 'create' | 'log-append';

export interface EncodeRecordBatchOptions {
  records: readonly RecordInput[];
  baseOffset?: bigint;
  compression?: CompressionType;
  codecs?: CompressionCodecs;
  /** -1 (no idempotence) by default. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
  /** Defaults to the first record's timestamp, else -1 (Kafka's NO_TIMESTAMP). */
  baseTimestamp?: bigint;
  /** Overrides the computed max timestamp (LogAppendTime batches carry the append time here). */
  maxTimestamp?: bigint;
  /** Overrides the last record's offset delta: batches emptied by compaction keep their span. */
  lastOffsetDelta?: number;
  /** KIP-534: set the delete-horizon flag; the base timestamp then holds the horizon. */
  deleteHorizon?: boolean;
}

const noTimestamp = -1n;

/**
 * The header fields a re-encoded batch keeps (compaction dropping records, the broker
 * recompressing to a topic's compression.type): offsets and span, producer id, epoch and
 * sequence, transactional and control flags, leader epoch, timestamp type.
 */
export function batchIdentity(header: BatchHeader) {
  return {
    baseOffset: header.baseOffset,
    lastOffsetDelta: header.lastOffsetDelta,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: (header.attributes & batchAttributes.transactional) !== 0,
    control: (header.attributes & batchAttributes.control) !== 0,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType:
      (header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0
        ? ('log-append' as const)
        : ('create' as const),
  } satisfies Partial<EncodeRecordBatchOptions>;
}

interface RecordLayout {
  bodySizes: Int32Array;
  timestampDeltas: bigint[];
  headerKeySizes: number[];
  recordsSizeBytes: number;
  maxTimestamp: bigint;
}

function nullableSize(value: Buffer | null): number {
  return value === null ? 1 : varintSizeBytes(value.length) + value.length;
}

function planRecords(records: readonly RecordInput[], baseTimestamp: bigint): RecordLayout {
  const bodySizes = new Int32Array(records.length);
  const timestampDeltas: bigint[] = new Array(records.length);
  const headerKeySizes: number[] = [];
  let recordsSizeBytes = 0;
  let maxTimestamp = records.length === 0 ? baseTimestamp : -(2n ** 63n);
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const timestamp = record.timestamp ?? baseTimestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const timestampDelta = timestamp - baseTimestamp;
    timestampDeltas[index] = timestampDelta;
    let size = 1 + varlongSizeBytes(timestampDelta);
    size += varintSizeBytes(record.offsetDelta ?? index);
    size += nullableSize(record.key) + nullableSize(record.value);
    const headers = record.headers ?? [];
    size += varintSizeBytes(headers.length);
    for (const header of headers) {
      const keySize = Buffer.byteLength(header.key, 'utf8');
      headerKeySizes.push(keySize);
      size += varintSizeBytes(keySize) + keySize + nullableSize(header.value);
    }
    bodySizes[index] = size;
    recordsSizeBytes += varintSizeBytes(size) + size;
  }
  return { bodySizes, timestampDeltas, headerKeySizes, recordsSizeBytes, maxTimestamp };
}

function writeNullable(buffer: Buffer, position: number, value: Buffer | null): number {
  if (value === null) return writeVarint(buffer, position, -1);
  const cursor = writeVarint(buffer, position, value.length);
  value.copy(buffer, cursor);
  return cursor + value.length;
}

function writeRecords(
  buffer: Buffer,
  start: number,
  records: readonly RecordInput[],
  layout: RecordLayout,
): number {
  let cursor = start;
  let headerIndex = 0;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    cursor = writeVarint(buffer, cursor, layout.bodySizes[index]);
    buffer[cursor++] = 0; // record attributes: unused
    cursor = writeVarlong(buffer, cursor, layout.timestampDeltas[index]);
    cursor = writeVarint(buffer, cursor, record.offsetDelta ?? index);
    cursor = writeNullable(buffer, cursor, record.key);
    cursor = writeNullable(buffer, cursor, record.value);
    const headers = record.headers ?? [];
    cursor = writeVarint(buffer, cursor, headers.length);
    for (const header of headers) {
      const keySize = layout.headerKeySizes[headerIndex++];
      cursor = writeVarint(buffer, cursor, keySize);
      cursor += buffer.write(header.key, cursor, keySize, 'utf8');
      cursor = writeNullable(buffer, cursor, header.value);
    }
  }
  return cursor;
}

function attributesOf(options: EncodeRecordBatchOptions, compression: CompressionType): number {
  let attributes = compression;
  if (options.timestampType === 'log-append')
    attributes |= batchAttributes.timestampTypeLogAppendTime;
  if (options.transactional) attributes |= batchAttributes.transactional;
  if (options.control) attributes |= batchAttributes.control;
  if (options.deleteHorizon) attributes |= batchAttributes.deleteHorizonFlag;
  return attributes;
}

interface HeaderFields {
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  recordsCount: number;
}

function writeHeader(
  buffer: Buffer,
  options: EncodeRecordBatchOptions,
  fields: HeaderFields,
): void {
  buffer.writeBigInt64BE(options.baseOffset ?? 0n, batchOffsets.baseOffset);
  buffer.writeInt32BE(buffer.length - batchLogOverheadBytes, batchOffsets.batchLength);
  buffer.writeInt32BE(options.partitionLeaderEpoch ?? -1, batchOffsets.partitionLeaderEpoch);
  buffer.writeInt8(2, batchOffsets.magic);
  buffer.writeInt16BE(fields.attributes, batchOffsets.attributes);
  buffer.writeInt32BE(fields.lastOffsetDelta, batchOffsets.lastOffsetDelta);
  buffer.writeBigInt64BE(fields.baseTimestamp, batchOffsets.baseTimestamp);
  buffer.writeBigInt64BE(fields.maxTimestamp, batchOffsets.maxTimestamp);
  buffer.writeBigInt64BE(options.producerId ?? -1n, batchOffsets.producerId);
  buffer.writeInt16BE(options.producerEpoch ?? -1, batchOffsets.producerEpoch);
  buffer.writeInt32BE(options.baseSequence ?? -1, batchOffsets.baseSequence);
  buffer.writeInt32BE(fields.recordsCount, batchOffsets.recordsCount);
  buffer.writeUInt32BE(computeBatchCrc(buffer, 0, buffer.length), batchOffsets.crc);
}

function lastOffsetDeltaOf(options: EncodeRecordBatchOptions): number {
  if (options.lastOffsetDelta !== undefined) return options.lastOffsetDelta;
  const records = options.records;
  if (records.length === 0) {
    throw new RangeError('an empty batch needs an explicit lastOffsetDelta');
  }
  return records[records.length - 1].offsetDelta ?? records.length - 1;
}

interface BatchPlan {
  layout: RecordLayout;
  fields: HeaderFields;
  compression: CompressionType;
}

function planBatch(options: EncodeRecordBatchOptions): BatchPlan {
  const records = options.records;
  const compression = options.compression ?? CompressionType.none;
  const baseTimestamp = options.baseTimestamp ?? records[0]?.timestamp ?? noTimestamp;
  const layout = planRecords(records, baseTimestamp);
  const fields: HeaderFields = {
    attributes: attributesOf(options, compression),
    lastOffsetDelta: lastOffsetDeltaOf(options),
    baseTimestamp,
    maxTimestamp: options.maxTimestamp ?? layout.maxTimestamp,
    recordsCount: records.length,
  };
  return { layout, fields, compression };
}

function uncompressedBatch(options: EncodeRecordBatchOptions, plan: BatchPlan): Buffer {
  const buffer = Buffer.allocUnsafe(batchHeaderSizeBytes + plan.layout.recordsSizeBytes);
  writeRecords(buffer, batchHeaderSizeBytes, options.records, plan.layout);
  writeHeader(buffer, options, plan.fields);
  return buffer;
}

/** The records section, uncompressed: what a codec compresses. */
function plainRecords(options: EncodeRecordBatchOptions, plan: BatchPlan): Buffer {
  const plain = Buffer.allocUnsafe(plan.layout.recordsSizeBytes);
  writeRecords(plain, 0, options.records, plan.layout);
  return plain;
}

function compressedBatch(
  options: EncodeRecordBatchOptions,
  plan: BatchPlan,
  compressed: Buffer,
): Buffer {
  const buffer = Buffer.allocUnsafe(batchHeaderSizeBytes + compressed.length);
  compressed.copy(buffer, batchHeaderSizeBytes);
  writeHeader(buffer, options, plan.fields);
  return buffer;
}

/**
 * Encodes one batch into a single Buffer with a valid CRC. With compression, the codec must have
 * a sync `compress` (gzip, snappy, lz4); otherwise use encodeRecordBatchAsync.
 */
export function encodeRecordBatch(options: EncodeRecordBatchOptions): Buffer {
  const plan = planBatch(options);
  if (plan.compression === CompressionType.none) return uncompressedBatch(options, plan);
  const codec = codecForType(options.codecs, plan.compression);
  if (codec.compress === undefined) {
    throw new RecordBatchError(
      'bad-compression',
      recordErrorCode.unsupportedCompressionType,
      `compression type ${plan.compression} is async-only: use encodeRecordBatchAsync`,
    );
  }
  return compressedBatch(options, plan, codec.compress(plainRecords(options, plan)));
}

/** Like encodeRecordBatch, compressing off the event loop where the codec can. */
export async function encodeRecordBatchAsync(options: EncodeRecordBatchOptions): Promise<Buffer> {
  const plan = planBatch(options);
  if (plan.compression === CompressionType.none) return uncompressedBatch(options, plan);
  const codec = codecForType(options.codecs, plan.compression);
  const compressed = await codec.compressAsync(plainRecords(options, plan));
  return compressedBatch(options, plan, compressed);
}
