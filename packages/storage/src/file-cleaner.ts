// Compaction of a file log (DESIGN.md "Cleaner"): streams the non-active segments through the
// cleaner core three times (transactions, offset map, rewrite), writing each group of segments
// to a `.cleaned` file that is swapped in atomically (`.swap` + companion `.end` file).

import { type Clock, type CompressionCodecs, sleepOn } from '@gregor/protocol';
import { summarizeBatch } from './batch-layout.js';
import {
  cleanableEnd,
  isDeleteHorizonDue,
  isYoung,
  mapBatch,
  newRetainContext,
  newTransactionScan,
  OffsetMap,
  type RetainContext,
  retainRecords,
  scanTransactionBatch,
} from './compaction.js';
import type { LogConfig } from './config.js';
import type { FilePartitionLog } from './file-log.js';
import type { FileSystem } from './file-system.js';
import {
  cleanerOffsetMapBytesDefault,
  cleanerReadChunkBytes,
  segmentSizeBytesMax,
} from './limits.js';
import { type LogSegment, segmentBatches, segmentFileSuffix } from './segment.js';

export interface FileCleanerOptions {
  fileSystem: FileSystem;
  nowMs: number;
  config: LogConfig;
  codecs?: CompressionCodecs;
  offsetMapBytesMax?: number;
  /** Clean even when the dirty ratio is below min.cleanable.dirty.ratio (tests, admin). */
  force?: boolean;
  /** Bytes read plus written per second, at most (log.cleaner.io.max.bytes.per.second). */
  ioBytesPerSecondMax?: number;
  /** Time for the I/O throttle. */
  clock: Clock;
  /** Injected for tests; defaults to a timer on `clock`. */
  sleep?: (ms: number) => Promise<void>;
}

/** Keeps the cleaner's I/O under its budget by sleeping when it runs ahead (Kafka's Throttler). */
export class IoThrottle {
  private bytes = 0;
  private readonly startedMs: number;

  constructor(
    private readonly bytesPerSecondMax: number,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => sleepOn(clock, ms),
  ) {
    this.startedMs = clock.monotonicMs();
  }

  async consumed(bytes: number): Promise<void> {
    if (!Number.isFinite(this.bytesPerSecondMax)) return;
    this.bytes += bytes;
    const dueMs = (this.bytes / this.bytesPerSecondMax) * 1000;
    const aheadMs = dueMs - (this.clock.monotonicMs() - this.startedMs);
    if (aheadMs > 1) await this.sleep(aheadMs);
  }
}

/** One cleaning pass; returns bytes freed. Runs inside the log's exclusive section. */
export async function compactFileLog(
  log: FilePartitionLog,
  options: FileCleanerOptions,
): Promise<number> {
  const throttle = new IoThrottle(
    options.ioBytesPerSecondMax ?? Number.POSITIVE_INFINITY,
    options.clock,
    options.sleep,
  );
  const candidates = log.segments.slice(0, -1);
  if (candidates.length === 0) return 0;
  const firstDirty = log.cleanerCheckpoint;
  const horizonDue = isDeleteHorizonDue(log.latestDeleteHorizonMs, options.nowMs);
  if (!options.force && !horizonDue && !isDirtyEnough(candidates, firstDirty, options)) return 0;
  const scan = newTransactionScan();
  // Streamed: only the first young batch is remembered, so memory does not grow with the log.
  let firstYoung: bigint | null = null;
  for (const segment of candidates) {
    for await (const { batch } of segmentBatches(segment, cleanerReadChunkBytes)) {
      await throttle.consumed(batch.length);
      scanTransactionBatch(scan, batch, options.codecs);
      const summary = summarizeBatch(batch, 0);
      if (
        firstYoung === null &&
        isYoung(summary, options.nowMs, options.config.minCompactionLagMs)
      ) {
        firstYoung = summary.baseOffset;
      }
    }
  }
  let end = cleanableEnd(firstYoung, log.activeSegment.baseOffset, scan);
  if (firstDirty >= end && !horizonDue) return 0;
  const map = new OffsetMap(options.offsetMapBytesMax ?? cleanerOffsetMapBytesDefault);
  mapping: for (const segment of candidates) {
    if (segment.nextOffset <= firstDirty) continue;
    for await (const { batch } of segmentBatches(segment, cleanerReadChunkBytes)) {
      await throttle.consumed(batch.length);
      const summary = summarizeBatch(batch, 0);
      if (summary.baseOffset >= end) break mapping;
      if (summary.lastOffset < firstDirty) continue;
      if (!(await mapBatch(map, batch, summary, { scan, codecs: options.codecs }))) {
        end = summary.baseOffset;
        break mapping;
      }
    }
  }
  const context = newRetainContext({
    map,
    scan,
    nowMs: options.nowMs,
    deleteRetentionMs: options.config.deleteRetentionMs,
    codecs: options.codecs,
  });
  // Only whole segments below `end` are rewritten; the rest stays dirty for the next pass.
  const cleanable = candidates.filter((segment) => segment.nextOffset <= end);
  if (cleanable.length === 0) return 0;
  let freed = 0;
  for (const group of groupSegments(cleanable, options.config)) {
    freed += await cleanGroup(log, group, context, options, throttle);
  }
  const cleanedTo = cleanable[cleanable.length - 1].nextOffset;
  if (cleanedTo > log.cleanerCheckpoint) log.cleanerCheckpoint = cleanedTo;
  log.latestDeleteHorizonMs = context.latestDeleteHorizonMs;
  return freed;
}

function isDirtyEnough(
  candidates: LogSegment[],
  firstDirty: bigint,
  options: FileCleanerOptions,
): boolean {
  let total = 0;
  let dirty = 0;
  let oldestDirtyMs = Number.POSITIVE_INFINITY;
  for (const segment of candidates) {
    total += segment.sizeBytes;
    if (segment.nextOffset > firstDirty) {
      dirty += segment.sizeBytes;
      oldestDirtyMs = Math.min(oldestDirtyMs, segment.rollTimestampMs);
    }
  }
  if (dirty === 0) return false;
  if (options.nowMs - oldestDirtyMs >= options.config.maxCompactionLagMs) return true;
  return dirty / total >= options.config.minCleanableDirtyRatio;
}

/** Consecutive segments whose combined size fits one segment (Kafka's groupSegmentsBySize). */
function groupSegments(segments: LogSegment[], config: LogConfig): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let current: LogSegment[] = [];
  let size = 0;
  const limit = Math.min(config.segmentBytes, segmentSizeBytesMax);
  for (const segment of segments) {
    const spanOk =
      current.length === 0 || segment.nextOffset - current[0].baseOffset < 0x7fff_ffffn;
    if (current.length > 0 && (size + segment.sizeBytes > limit || !spanOk)) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(segment);
    size += segment.sizeBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function cleanGroup(
  log: FilePartitionLog,
  group: LogSegment[],
  context: RetainContext,
  options: FileCleanerOptions,
  throttle: IoThrottle,
): Promise<number> {
  const fileSystem = options.fileSystem;
  const base = group[0].baseOffset;
  const replacement = await log.createDetachedSegment(base, `${segmentFileSuffix.log}.cleaned`);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    await replacement.appendRaw(pending, log.config.indexIntervalBytes);
    await throttle.consumed(pendingBytes);
    pending = [];
    pendingBytes = 0;
  };
  let before = 0;
  const cleanedPath = replacement.path(`${segmentFileSuffix.log}.cleaned`);
  const swapPath = replacement.path(`${segmentFileSuffix.log}.swap`);
  try {
    for (const segment of group) {
      before += segment.sizeBytes;
      for await (const { batch } of segmentBatches(segment, cleanerReadChunkBytes)) {
        await throttle.consumed(batch.length);
        const kept = await retainRecords(batch, context);
        if (!kept) continue;
        // An unchanged batch is a view of its read chunk (a fresh buffer per read, never
        // reused): no copy. Pending writes pin at most the chunks they span (~2 MiB).
        pending.push(kept);
        pendingBytes += kept.length;
        if (pendingBytes >= cleanerReadChunkBytes) await flush();
      }
    }
    await flush();
    await replacement.file.datasync();
    // Commit point: the `.swap` name. Its `.end` companion tells recovery which segments it
    // replaces.
    await fileSystem.writeFileAtomic(
      `${swapPath}.end`,
      Buffer.from(String(group[group.length - 1].nextOffset)),
    );
  } catch (error) {
    // Before the commit point the old segments are untouched: drop the partial copy, so that a
    // full disk does not keep it (recovery would delete it too, but only at the next start).
    await replacement.close().catch(() => undefined);
    await fileSystem.removeFile(cleanedPath).catch(() => undefined);
    throw error;
  }
  await fileSystem.rename(cleanedPath, swapPath);
  // An evicted descriptor is reopened by name: the segment follows its file's renames.
  replacement.file.renamed(swapPath);
  await fileSystem.syncDirectory(log.directory);
  await log.replaceSegments(group, replacement);
  await fileSystem.rename(swapPath, replacement.path(segmentFileSuffix.log));
  replacement.file.renamed(replacement.path(segmentFileSuffix.log));
  await fileSystem.removeFile(`${swapPath}.end`);
  await fileSystem.syncDirectory(log.directory);
  await replacement.writeIndexes(fileSystem);
  return before - replacement.sizeBytes;
}
