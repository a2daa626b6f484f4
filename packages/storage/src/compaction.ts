// The cleaner's core (DESIGN.md "Cleaner"), shared by the memory and file logs. It works on one
// batch at a time so the file cleaner can stream segments through it with bounded memory:
//   1. scanTransactions: which transactional batches were aborted, where an open one starts;
//   2. OffsetMap: key → offset of its latest record over the dirty range, bounded in bytes;
//   3. retainRecords: rewrites one batch keeping the latest record per key, dropping aborted
//      data and expired tombstones; offsets, producer fields and the offset span are kept.

import {
  batchAttributes,
  type CompressionCodecs,
  decodeControlRecord,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  encodeRecordBatchAsync,
} from '@gregor/protocol';
import {
  type BatchSummary,
  isControlBatch,
  isTransactionalBatch,
  summarizeBatch,
} from './batch-layout.js';
import type { LogConfig } from './config.js';
import { cleanerOffsetMapBytesDefault, cleanerOffsetMapEntryOverheadBytes } from './limits.js';

export interface TransactionScan {
  /** Base offsets of transactional data batches whose transaction was aborted. */
  abortedBatches: Set<bigint>;
  /** Per producer: base offsets of data batches whose transaction has no marker yet. */
  open: Map<bigint, bigint[]>;
}

export function newTransactionScan(): TransactionScan {
  return { abortedBatches: new Set(), open: new Map() };
}

/** Feeds one batch (in offset order) to the transaction scan. */
export function scanTransactionBatch(
  scan: TransactionScan,
  batch: Buffer,
  codecs?: CompressionCodecs,
): void {
  const summary = summarizeBatch(batch, 0);
  if (!isTransactionalBatch(summary.attributes)) return;
  const producerId = batch.readBigInt64BE(43);
  if (!isControlBatch(summary.attributes)) {
    const open = scan.open.get(producerId) ?? [];
    open.push(summary.baseOffset);
    scan.open.set(producerId, open);
    return;
  }
  const [record] = decodeRecordBatch(batch, codecs, { verifyCrc: false }).records;
  const marker = record ? decodeControlRecord(record.key, record.value) : null;
  const open = scan.open.get(producerId) ?? [];
  scan.open.delete(producerId);
  if (marker?.type === 'abort') for (const base of open) scan.abortedBatches.add(base);
}

/** The first offset of a transaction still open at the end of the scan (the LSO bound). */
export function firstOpenTransactionOffset(scan: TransactionScan): bigint | null {
  let first: bigint | null = null;
  for (const bases of scan.open.values())
    if (bases.length > 0 && (first === null || bases[0] < first)) first = bases[0];
  return first;
}

/** Key → latest offset, bounded by `bytesMax` (key bytes plus a fixed overhead per entry). */
export class OffsetMap {
  private readonly latest = new Map<string, bigint>();
  private usedBytes = 0;

  constructor(readonly bytesMax = cleanerOffsetMapBytesDefault) {}

  /** Records every keyed record of `batch`; false (and no change) when the batch does not fit. */
  async addBatch(batch: Buffer, codecs?: CompressionCodecs): Promise<boolean> {
    const records = (await decodeRecordBatchAsync(batch, codecs, { verifyCrc: false })).records;
    let extra = 0;
    for (const record of records) {
      if (record.key && !this.latest.has(record.key.toString('latin1')))
        extra += record.key.length + cleanerOffsetMapEntryOverheadBytes;
    }
    if (this.usedBytes + extra > this.bytesMax && this.latest.size > 0) return false;
    for (const record of records)
      if (record.key) this.latest.set(record.key.toString('latin1'), record.offset);
    this.usedBytes += extra;
    return true;
  }

  get(key: Buffer): bigint | undefined {
    return this.latest.get(key.toString('latin1'));
  }

  get size(): number {
    return this.latest.size;
  }
}

export interface RetainContext {
  map: OffsetMap;
  abortedBatches: Set<bigint>;
  /** Records below this were cleaned by an earlier pass: their tombstones may now expire. */
  firstDirtyOffset: bigint;
  nowMs: number;
  deleteRetentionMs: number;
  codecs?: CompressionCodecs;
}

/** Whether the cleaner can decode this batch (compressed ones need the codec). */
export function canDecode(summary: BatchSummary, codecs?: CompressionCodecs): boolean {
  const compression = summary.attributes & batchAttributes.compressionMask;
  if (compression === 0) return true;
  return Boolean(codecs?.[compression as 1 | 2 | 3 | 4]);
}

/**
 * The batch to keep in place of `batch`: itself, a rewritten copy, or null to drop it. Async
 * codecs compress off the event loop, and zstd only compresses there (its sync path writes raw
 * frames), so a rewritten batch keeps its compression for real.
 */
export async function retainRecords(batch: Buffer, context: RetainContext): Promise<Buffer | null> {
  const summary = summarizeBatch(batch, 0);
  if (isControlBatch(summary.attributes)) return batch;
  if (context.abortedBatches.has(summary.baseOffset)) return null;
  if (!canDecode(summary, context.codecs)) return batch;
  const decoded = await decodeRecordBatchAsync(batch, context.codecs, { verifyCrc: false });
  const tombstoneExpired =
    summary.baseOffset < context.firstDirtyOffset &&
    summary.maxTimestamp + BigInt(context.deleteRetentionMs) < BigInt(context.nowMs);
  const kept = decoded.records.filter((record) => {
    if (!record.key) return true;
    const latest = context.map.get(record.key);
    if (latest !== undefined && latest > record.offset) return false;
    return !(record.value === null && tombstoneExpired);
  });
  if (kept.length === decoded.records.length) return batch;
  if (kept.length === 0) return null;
  const header = decoded.header;
  const logAppendTime = (header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0;
  return encodeRecordBatchAsync({
    records: kept.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestamp: record.timestamp,
      offsetDelta: Number(record.offset - header.baseOffset),
    })),
    baseOffset: header.baseOffset,
    compression: (header.attributes & batchAttributes.compressionMask) as 0 | 1 | 2 | 3 | 4,
    codecs: context.codecs,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: isTransactionalBatch(header.attributes),
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType: logAppendTime ? 'log-append' : 'create',
    maxTimestamp: logAppendTime ? header.maxTimestamp : undefined,
    baseTimestamp: logAppendTime ? header.baseTimestamp : undefined,
    lastOffsetDelta: header.lastOffsetDelta,
  });
}

export interface CompactBatchesInput {
  batches: Buffer[];
  nowMs: number;
  config: LogConfig;
  /** Exclusive: batches at or past it are neither cleaned nor mapped (the active segment). */
  cleanableEndOffset: bigint;
  firstDirtyOffset: bigint;
  codecs?: CompressionCodecs;
  offsetMapBytesMax?: number;
}

export interface CompactBatchesResult {
  batches: Buffer[];
  /** The new first dirty offset (cleaner checkpoint). */
  cleanedUpTo: bigint;
}

/** The cleanable end: before the first batch younger than min.compaction.lag.ms or in an open transaction. */
export function cleanableEnd(
  firstYoungOffset: bigint | null,
  limit: bigint,
  scan: TransactionScan,
): bigint {
  let end = limit;
  const open = firstOpenTransactionOffset(scan);
  if (open !== null && open < end) end = open;
  if (firstYoungOffset !== null && firstYoungOffset < end) end = firstYoungOffset;
  return end;
}

/** Whether a batch is too young to compact (min.compaction.lag.ms). */
export function isYoung(summary: BatchSummary, nowMs: number, minCompactionLagMs: number): boolean {
  return summary.maxTimestamp > BigInt(nowMs - minCompactionLagMs);
}

/** One cleaning pass over in-memory batches (the memory log; the file log streams instead). */
export async function compactBatches(input: CompactBatchesInput): Promise<CompactBatchesResult> {
  const scan = newTransactionScan();
  const summaries = input.batches.map((batch) => summarizeBatch(batch, 0));
  for (const [index, batch] of input.batches.entries()) {
    if (summaries[index].baseOffset >= input.cleanableEndOffset) break;
    scanTransactionBatch(scan, batch, input.codecs);
  }
  const young = summaries.find((summary) =>
    isYoung(summary, input.nowMs, input.config.minCompactionLagMs),
  );
  let end = cleanableEnd(young ? young.baseOffset : null, input.cleanableEndOffset, scan);
  if (input.firstDirtyOffset >= end)
    return { batches: input.batches, cleanedUpTo: input.firstDirtyOffset };
  const map = new OffsetMap(input.offsetMapBytesMax);
  for (const [index, batch] of input.batches.entries()) {
    const summary = summaries[index];
    if (summary.baseOffset >= end) break;
    if (summary.lastOffset < input.firstDirtyOffset) continue;
    if (
      isControlBatch(summary.attributes) ||
      scan.abortedBatches.has(summary.baseOffset) ||
      !canDecode(summary, input.codecs)
    )
      continue;
    if (!(await map.addBatch(batch, input.codecs))) {
      end = summary.baseOffset;
      break;
    }
  }
  const context: RetainContext = {
    map,
    abortedBatches: scan.abortedBatches,
    firstDirtyOffset: input.firstDirtyOffset,
    nowMs: input.nowMs,
    deleteRetentionMs: input.config.deleteRetentionMs,
    codecs: input.codecs,
  };
  const result: Buffer[] = [];
  for (const [index, batch] of input.batches.entries()) {
    if (summaries[index].baseOffset >= end) {
      result.push(batch);
      continue;
    }
    const kept = await retainRecords(batch, context);
    if (kept) result.push(kept);
  }
  return { batches: result, cleanedUpTo: end };
}
