// The cleaner's core (DESIGN.md "Cleaner"), shared by the memory and file logs. It works on one
// batch at a time so the file cleaner can stream segments through it with bounded memory:
//   1. scanTransactions: which transactional batches were aborted, where an open one starts;
//   2. OffsetMap: key → offset of its latest record over the dirty range, bounded in bytes;
//   3. retainRecords: rewrites one batch keeping the latest record per key, dropping aborted
//      data, tombstones and markers of emptied transactions past their KIP-534 delete horizon;
//      offsets, producer fields and the offset span are kept, and each producer's last batch
//      stays (empty if need be) so that producer state can be rebuilt from the log.

import {
  type BatchHeader,
  batchAttributes,
  batchIdentity,
  batchOffsets,
  type CompressionCodecs,
  decodeControlRecord,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  encodeRecordBatchAsync,
  type RecordInput,
  readBatchHeader,
} from '@gregor/protocol';
import {
  type BatchSummary,
  canDecode,
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
  /** Per producer (idempotent or transactional): the last offset of its last data batch. */
  lastDataBatch: Map<bigint, bigint>;
}

export function newTransactionScan(): TransactionScan {
  return { abortedBatches: new Set(), open: new Map(), lastDataBatch: new Map() };
}

/** Producer id of a batch; -1 when it has none. */
export function batchProducerId(batch: Buffer): bigint {
  return batch.readBigInt64BE(batchOffsets.producerId);
}

/** Feeds one batch (in offset order) to the transaction scan. */
export function scanTransactionBatch(
  scan: TransactionScan,
  batch: Buffer,
  codecs?: CompressionCodecs,
): void {
  const summary = summarizeBatch(batch, 0);
  const producerId = batchProducerId(batch);
  const control = isControlBatch(summary.attributes);
  if (producerId >= 0n && !control) scan.lastDataBatch.set(producerId, summary.lastOffset);
  if (!isTransactionalBatch(summary.attributes)) return;
  if (!control) {
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
    // Later records of the batch win; a key repeated within it is charged once.
    const batchLatest = new Map<string, bigint>();
    let extra = 0;
    for (const record of records) {
      if (!record.key) continue;
      const key = record.key.toString('latin1');
      if (!this.latest.has(key) && !batchLatest.has(key))
        extra += record.key.length + cleanerOffsetMapEntryOverheadBytes;
      batchLatest.set(key, record.offset);
    }
    if (this.usedBytes + extra > this.bytesMax && this.latest.size > 0) return false;
    for (const [key, offset] of batchLatest) this.latest.set(key, offset);
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
  /** Per producer: the last offset of its last data batch; that batch is never removed. */
  lastDataBatch: Map<bigint, bigint>;
  /** Per producer, during one pass: whether its current transaction kept any batch so far. */
  transactionKept: Map<bigint, boolean>;
  /**
   * The latest delete horizon among the batches this pass kept (Kafka's latestDeleteHorizon):
   * once it passes, a pass is due even without dirty data, to drop what expired.
   */
  latestDeleteHorizonMs: bigint | null;
  nowMs: number;
  deleteRetentionMs: number;
  codecs?: CompressionCodecs;
}

export function newRetainContext(
  fields: Omit<
    RetainContext,
    'transactionKept' | 'lastDataBatch' | 'abortedBatches' | 'latestDeleteHorizonMs'
  > & {
    scan: TransactionScan;
  },
): RetainContext {
  const { scan, ...rest } = fields;
  return {
    ...rest,
    abortedBatches: scan.abortedBatches,
    lastDataBatch: scan.lastDataBatch,
    transactionKept: new Map(),
    latestDeleteHorizonMs: null,
  };
}

function noteHorizon(context: RetainContext, horizon: bigint | null): void {
  if (horizon === null) return;
  if (context.latestDeleteHorizonMs === null || horizon > context.latestDeleteHorizonMs)
    context.latestDeleteHorizonMs = horizon;
}

/** Whether a pass is due to drop tombstones and markers whose delete horizon passed. */
export function isDeleteHorizonDue(latestDeleteHorizonMs: bigint | null, nowMs: number): boolean {
  return latestDeleteHorizonMs !== null && BigInt(nowMs) >= latestDeleteHorizonMs;
}

/**
 * Step 3 for one dirty batch: its keys enter the offset map unless it is a control batch, an
 * aborted one, or one the cleaner cannot decode. False when the map is full: the pass then
 * cleans only up to this batch.
 */
export function mapBatch(
  map: OffsetMap,
  batch: Buffer,
  summary: BatchSummary,
  options: { scan: TransactionScan; codecs?: CompressionCodecs },
): Promise<boolean> | boolean {
  if (
    isControlBatch(summary.attributes) ||
    options.scan.abortedBatches.has(summary.baseOffset) ||
    !canDecode(summary, options.codecs)
  )
    return true;
  return map.addBatch(batch, options.codecs);
}

/** KIP-534: the batch's delete horizon (carried in baseTimestamp when the flag is set), or null. */
function deleteHorizonOf(header: BatchHeader): bigint | null {
  return (header.attributes & batchAttributes.deleteHorizonFlag) !== 0
    ? header.baseTimestamp
    : null;
}

/**
 * The batch to keep in place of `batch`: itself, a rewritten copy, or null to drop it. Batches
 * must come in offset order (per-transaction state). Async codecs compress off the event loop,
 * and zstd only compresses there (its sync path writes raw frames), so a rewritten batch keeps
 * its compression for real.
 */
export async function retainRecords(batch: Buffer, context: RetainContext): Promise<Buffer | null> {
  const summary = summarizeBatch(batch, 0);
  const producerId = batchProducerId(batch);
  if (isControlBatch(summary.attributes)) return retainMarker(batch, producerId, context);
  const kept = await retainData(batch, summary, producerId, context);
  if (kept && isTransactionalBatch(summary.attributes))
    context.transactionKept.set(producerId, true);
  return kept;
}

async function retainData(
  batch: Buffer,
  summary: BatchSummary,
  producerId: bigint,
  context: RetainContext,
): Promise<Buffer | null> {
  // Kafka keeps each producer's last batch, emptied if need be, so producer state (last
  // sequence, epoch) can be rebuilt from the log.
  const isLastOfProducer =
    producerId >= 0n && context.lastDataBatch.get(producerId) === summary.lastOffset;
  if (context.abortedBatches.has(summary.baseOffset))
    return isLastOfProducer ? emptyBatch(readBatchHeader(batch, 0)) : null;
  if (!canDecode(summary, context.codecs)) return batch;
  const decoded = await decodeRecordBatchAsync(batch, context.codecs, { verifyCrc: false });
  const horizon = deleteHorizonOf(decoded.header);
  const horizonPassed = horizon !== null && BigInt(context.nowMs) >= horizon;
  const kept = decoded.records.filter((record) => {
    if (!record.key) return true;
    const latest = context.map.get(record.key);
    if (latest !== undefined && latest > record.offset) return false;
    return !(record.value === null && horizonPassed);
  });
  // KIP-534: the first clean of a batch holding tombstones stamps its delete horizon; a later
  // clean past the horizon drops them.
  const needsHorizon = horizon === null && kept.some((record) => record.value === null);
  const newHorizon = needsHorizon ? BigInt(context.nowMs + context.deleteRetentionMs) : horizon;
  if (kept.some((record) => record.value === null)) noteHorizon(context, newHorizon);
  if (kept.length === 0) {
    if (!isLastOfProducer) return null;
    return decoded.records.length === 0 ? batch : emptyBatch(decoded.header);
  }
  if (kept.length === decoded.records.length && !needsHorizon) return batch;
  return rewriteBatch(decoded.header, kept, newHorizon, context.codecs);
}

/**
 * A commit/abort marker stays while any batch of its transaction stays; once the transaction's
 * data is all gone, the marker gets a delete horizon and is removed after it (Kafka's cleaner).
 */
async function retainMarker(
  batch: Buffer,
  producerId: bigint,
  context: RetainContext,
): Promise<Buffer | null> {
  const dataKept = context.transactionKept.get(producerId) ?? false;
  context.transactionKept.delete(producerId);
  if (dataKept) return batch;
  const header = readBatchHeader(batch, 0);
  const horizon = deleteHorizonOf(header);
  if (horizon !== null) {
    if (BigInt(context.nowMs) >= horizon) return null;
    noteHorizon(context, horizon);
    return batch;
  }
  const decoded = await decodeRecordBatchAsync(batch, context.codecs, { verifyCrc: false });
  const newHorizon = BigInt(context.nowMs + context.deleteRetentionMs);
  noteHorizon(context, newHorizon);
  return rewriteBatch(decoded.header, decoded.records, newHorizon, context.codecs);
}

interface KeptRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordInput['headers'];
  timestamp: bigint;
  offset: bigint;
}

/** Re-encodes a batch with fewer records (or a new delete horizon), keeping its identity. */
function rewriteBatch(
  header: BatchHeader,
  records: readonly KeptRecord[],
  deleteHorizon: bigint | null,
  codecs?: CompressionCodecs,
): Promise<Buffer> {
  const logAppendTime = (header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0;
  return encodeRecordBatchAsync({
    records: records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
      timestamp: record.timestamp,
      offsetDelta: Number(record.offset - header.baseOffset),
    })),
    ...batchIdentity(header),
    compression: (header.attributes & batchAttributes.compressionMask) as 0 | 1 | 2 | 3 | 4,
    codecs,
    maxTimestamp: logAppendTime ? header.maxTimestamp : undefined,
    // With a horizon the base timestamp carries it; record timestamps stay (deltas from it).
    baseTimestamp: deleteHorizon ?? (logAppendTime ? header.baseTimestamp : undefined),
    deleteHorizon: deleteHorizon !== null,
  });
}

/** A batch with its header only (no records, uncompressed), as Kafka's RETAIN_EMPTY. */
function emptyBatch(header: BatchHeader): Promise<Buffer> {
  return encodeRecordBatchAsync({
    records: [],
    ...batchIdentity(header),
    baseTimestamp: header.maxTimestamp,
    maxTimestamp: header.maxTimestamp,
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
  /** From the previous pass: clean even without dirty data once it passed. */
  latestDeleteHorizonMs?: bigint | null;
}

export interface CompactBatchesResult {
  batches: Buffer[];
  /** The new first dirty offset (cleaner checkpoint). */
  cleanedUpTo: bigint;
  latestDeleteHorizonMs: bigint | null;
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
  const previousHorizon = input.latestDeleteHorizonMs ?? null;
  if (input.firstDirtyOffset >= end && !isDeleteHorizonDue(previousHorizon, input.nowMs)) {
    return {
      batches: input.batches,
      cleanedUpTo: input.firstDirtyOffset,
      latestDeleteHorizonMs: previousHorizon,
    };
  }
  const map = new OffsetMap(input.offsetMapBytesMax);
  for (const [index, batch] of input.batches.entries()) {
    const summary = summaries[index];
    if (summary.baseOffset >= end) break;
    if (summary.lastOffset < input.firstDirtyOffset) continue;
    if (!(await mapBatch(map, batch, summary, { scan, codecs: input.codecs }))) {
      end = summary.baseOffset;
      break;
    }
  }
  const context = newRetainContext({
    map,
    scan,
    nowMs: input.nowMs,
    deleteRetentionMs: input.config.deleteRetentionMs,
    codecs: input.codecs,
  });
  const result: Buffer[] = [];
  for (const [index, batch] of input.batches.entries()) {
    if (summaries[index].baseOffset >= end) {
      result.push(batch);
      continue;
    }
    const kept = await retainRecords(batch, context);
    if (kept) result.push(kept);
  }
  return {
    batches: result,
    cleanedUpTo: end > input.firstDirtyOffset ? end : input.firstDirtyOffset,
    latestDeleteHorizonMs: context.latestDeleteHorizonMs,
  };
}
