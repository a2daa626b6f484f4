// One segment: `<baseOffset:20 digits>.log` with its sparse offset and time indexes.
// The segment object holds the open file handle, the written size and the in-memory indexes.

import { batchHeaderSizeBytes, batchLogOverheadBytes, batchOffsets } from '@gregor/protocol';
import {
  type BatchSummary,
  batchProblem,
  batchSizeAt,
  headerProblem,
  summarizeBatch,
} from './batch-layout.js';
import { StorageError, storageErrorCode } from './errors.js';
import type { CachedFile, FileHandleCache } from './file-handle-cache.js';
import type { FileHandle, FileSystem, ReadHint } from './file-system.js';
import { joinPath } from './file-system.js';
import { OffsetIndex, TimeIndex } from './indexes.js';
import { headerScanChunkBytes, recoveryChunkBytes, tailPositionCacheEntries } from './limits.js';

export const segmentFileSuffix = {
  log: '.log',
  index: '.index',
  timeIndex: '.timeindex',
  transactionIndex: '.txnindex',
} as const;

export function segmentFileName(baseOffset: bigint, suffix: string): string {
  return `${baseOffset.toString().padStart(20, '0')}${suffix}`;
}

/** Base offset of a `.log` file name, or null for anything else. */
export function parseSegmentFileName(name: string): bigint | null {
  const match = /^(\d{20})\.log$/.exec(name);
  return match ? BigInt(match[1]) : null;
}

/** What a clean stop records of a segment so that the next start needs no I/O for it. */
export interface SegmentSummary {
  baseOffset: bigint;
  sizeBytes: number;
  nextOffset: bigint;
  maxTimestamp: bigint;
  offsetOfMaxTimestamp: bigint;
}

export interface RecoveryOutcome {
  /** Bytes cut from the end (torn or corrupt tail). */
  truncatedBytes: number;
  reason: string | null;
}

export class LogSegment {
  sizeBytes = 0;
  /**
   * Bytes from this position on were written by this process (0 for a segment it created; the
   * size found for one it opened, lowered by truncations). Only they can be "recently written":
   * the tail of a segment loaded after a restart may not be in the page cache.
   */
  writtenHereFrom = 0;
  nextOffset: bigint;
  maxTimestamp = -1n;
  offsetOfMaxTimestamp: bigint;
  /**
   * segment.ms counts from here: when the segment was created or loaded, by the injected clock.
   * (Kafka uses the first batch's timestamp, which rolls on every append when producers send old
   * timestamps; wall-clock age cannot.)
   */
  rollTimestampMs: number;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  /** Index files on disk are behind the in-memory indexes. */
  indexesDirty = true;
  /** Offset index entries end at `indexLimitBytes` (segment.index.bytes): then the log rolls. */
  indexLimitBytes = Number.MAX_SAFE_INTEGER;
  private bytesSinceIndexEntry = 0;
  // Recent batch positions of the active segment: tail reads skip the index walk.
  private tailOffsets: bigint[] = [];
  private tailPositions: number[] = [];
  /**
   * Set for a segment known from the clean-stop summary whose index files have not been read
   * yet: they are read (and the tail after the last entry walked) on first use.
   */
  private deferredIndexes: { fileSystem: FileSystem; indexIntervalBytes: number } | null = null;
  private indexLoading: Promise<void> | null = null;

  private constructor(
    readonly directory: string,
    readonly baseOffset: bigint,
    /** Opened on demand through the log manager's handle cache (evicted when idle). */
    readonly file: CachedFile,
    nowMs: number,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.rollTimestampMs = nowMs;
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
  }

  /** A segment as the clean-stop summary describes it: no file opened, no index read. */
  static fromSummary(options: {
    handles: FileHandleCache;
    directory: string;
    summary: SegmentSummary;
    nowMs: number;
    indexIntervalBytes: number;
  }): LogSegment {
    const { summary, directory } = options;
    const path = joinPath(directory, segmentFileName(summary.baseOffset, segmentFileSuffix.log));
    // An empty segment's file may never have been created (createEmpty).
    const file =
      summary.sizeBytes === 0
        ? options.handles.emptyFile(path)
        : options.handles.file(path, { create: false });
    const segment = new LogSegment(directory, summary.baseOffset, file, options.nowMs);
    segment.sizeBytes = summary.sizeBytes;
    segment.writtenHereFrom = summary.sizeBytes;
    segment.nextOffset = summary.nextOffset;
    segment.maxTimestamp = summary.maxTimestamp;
    segment.offsetOfMaxTimestamp = summary.offsetOfMaxTimestamp;
    segment.indexesDirty = false;
    if (!segment.isEmpty) {
      segment.deferredIndexes = {
        fileSystem: options.handles.fileSystem,
        indexIntervalBytes: options.indexIntervalBytes,
      };
    }
    return segment;
  }

  summary(): SegmentSummary {
    return {
      baseOffset: this.baseOffset,
      sizeBytes: this.sizeBytes,
      nextOffset: this.nextOffset,
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
    };
  }

  /** False until a segment from the clean-stop summary has read its index files. */
  get indexesReady(): boolean {
    return this.deferredIndexes === null;
  }

  /**
   * Reads the index files of a segment from the summary (once; concurrent callers share it) and
   * checks the file against the summary. Index files that are missing or do not fit are rebuilt
   * from the data, as at start-up.
   */
  loadDeferredIndexes(): Promise<void> {
    const deferred = this.deferredIndexes;
    if (deferred === null) return Promise.resolve();
    this.indexLoading ??= (async () => {
      // Bytes past the recorded size were never part of the log the summary describes (its log
      // did not change since, so nothing it acknowledged is there): cut them, as recovery would.
      if ((await this.file.sizeBytes()) > this.sizeBytes) {
        await this.file.truncate(this.sizeBytes);
        await this.file.datasync();
      }
      // Loaded beside: the bounds readers see (size, next offset) never move meanwhile.
      const scratch = new LogSegment(this.directory, this.baseOffset, this.file, 0);
      await scratch.loadFromFile(deferred.fileSystem, {
        trustIndexes: true,
        indexIntervalBytes: deferred.indexIntervalBytes,
      });
      if (scratch.sizeBytes !== this.sizeBytes || scratch.nextOffset !== this.nextOffset) {
        throw new StorageError(
          storageErrorCode.kafkaStorageError,
          `segment ${this.baseOffset} of ${this.directory} changed since the clean stop: ${scratch.sizeBytes} bytes to offset ${scratch.nextOffset}, recorded ${this.sizeBytes} bytes to ${this.nextOffset}`,
        );
      }
      this.offsetIndex = scratch.offsetIndex;
      this.timeIndex = scratch.timeIndex;
      this.tailOffsets = scratch.tailOffsets;
      this.tailPositions = scratch.tailPositions;
      this.bytesSinceIndexEntry = scratch.bytesSinceIndexEntry;
      this.indexesDirty = scratch.indexesDirty;
      this.deferredIndexes = null;
    })().finally(() => {
      this.indexLoading = null;
    });
    return this.indexLoading;
  }

  path(suffix: string): string {
    return joinPath(this.directory, segmentFileName(this.baseOffset, suffix));
  }

  static create(
    handles: FileHandleCache,
    directory: string,
    baseOffset: bigint,
    nowMs: number,
  ): Promise<LogSegment> {
    return LogSegment.createNamed(handles, directory, baseOffset, nowMs, segmentFileSuffix.log);
  }

  /**
   * The only segment of a log with no segment file (a new log, or a directory a crash left
   * without one): no file exists until its first append creates it (FileHandleCache.emptyFile).
   */
  static createEmpty(
    handles: FileHandleCache,
    directory: string,
    baseOffset: bigint,
    nowMs: number,
  ): LogSegment {
    const file = handles.emptyFile(
      joinPath(directory, segmentFileName(baseOffset, segmentFileSuffix.log)),
    );
    return new LogSegment(directory, baseOffset, file, nowMs);
  }

  /** A segment file under another name (the cleaner's `.log.cleaned`), not part of any log yet. */
  static async createNamed(
    handles: FileHandleCache,
    directory: string,
    baseOffset: bigint,
    nowMs: number,
    suffix: string,
  ): Promise<LogSegment> {
    const file = await handles.open(joinPath(directory, segmentFileName(baseOffset, suffix)), {
      create: true,
    });
    if ((await file.sizeBytes()) > 0) await file.truncate(0);
    return new LogSegment(directory, baseOffset, file, nowMs);
  }

  /**
   * Appends complete batches (already offset-stamped) at the end with one writev and indexes
   * them once written. `summaries`, when the caller has them (one per buffer), are re-pointed at
   * the batches' segment positions instead of being read again.
   */
  async appendRaw(
    buffers: Buffer[],
    indexIntervalBytes: number,
    summaries?: BatchSummary[],
  ): Promise<void> {
    if (this.deferredIndexes) await this.loadDeferredIndexes();
    const start = this.sizeBytes;
    await this.file.writev(buffers, start);
    let position = start;
    for (const [index, buffer] of buffers.entries()) {
      const summary = summaries?.[index] ?? summarizeBatch(buffer, 0);
      summary.position = position;
      this.indexBatch(summary, indexIntervalBytes);
      position += summary.sizeBytes;
    }
    if (this.sizeBytes !== position)
      throw new Error(`segment ${this.baseOffset}: size bookkeeping`);
  }

  /**
   * Opens an existing segment. With `trustIndexes` the index files are loaded and only the part
   * after the last index entry is walked (headers only); otherwise, or when an index is invalid,
   * every batch is read and CRC-checked and a torn tail is cut off (recovery).
   */
  static async open(options: {
    handles: FileHandleCache;
    directory: string;
    baseOffset: bigint;
    nowMs: number;
    trustIndexes: boolean;
    indexIntervalBytes: number;
  }): Promise<{ segment: LogSegment; recovery: RecoveryOutcome | null }> {
    const { handles, directory, baseOffset } = options;
    const path = joinPath(directory, segmentFileName(baseOffset, segmentFileSuffix.log));
    const file = handles.file(path, { create: false });
    const segment = new LogSegment(directory, baseOffset, file, options.nowMs);
    const recovery = await segment.loadFromFile(handles.fileSystem, options);
    return { segment, recovery };
  }

  /** `open`'s work on a new segment object: size, indexes, tail walk or full recovery. */
  private async loadFromFile(
    fileSystem: FileSystem,
    options: { trustIndexes: boolean; indexIntervalBytes: number },
  ): Promise<RecoveryOutcome | null> {
    this.sizeBytes = await this.file.sizeBytes();
    this.writtenHereFrom = this.sizeBytes;
    // An empty segment has empty indexes whatever files lie beside it (none are written for it).
    if (this.isEmpty) {
      this.indexesDirty = false;
      return null;
    }
    if (options.trustIndexes && (await this.loadIndexes(fileSystem))) {
      if (await this.walkTail()) {
        this.indexesDirty = false;
        return null;
      }
      this.resetIndexes();
    }
    return this.recover(options.indexIntervalBytes);
  }

  private resetIndexes(): void {
    this.offsetIndex = new OffsetIndex(this.baseOffset);
    this.timeIndex = new TimeIndex(this.baseOffset);
    this.resetBounds();
  }

  /** Forgets what was learnt from walking batches (the indexes stay). */
  private resetBounds(): void {
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    this.tailOffsets = [];
    this.tailPositions = [];
  }

  private async loadIndexes(fileSystem: FileSystem): Promise<boolean> {
    const offsetData = await fileSystem.readFile(this.path(segmentFileSuffix.index));
    const timeData = await fileSystem.readFile(this.path(segmentFileSuffix.timeIndex));
    if (!offsetData || !timeData) return false;
    const offsetIndex = OffsetIndex.load(this.baseOffset, offsetData, this.sizeBytes);
    const timeIndex = TimeIndex.load(this.baseOffset, timeData);
    if (!offsetIndex || !timeIndex) return false;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.noteTimeIndexMax();
    return true;
  }

  /** The newest time index entry is the segment's largest timestamp up to that entry. */
  private noteTimeIndexMax(): void {
    const lastTime = this.timeIndex.last();
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
  }

  /** Walks headers after the last index entry; false when they do not end exactly at the end. */
  private async walkTail(): Promise<boolean> {
    const start = this.offsetIndex.last()?.position ?? 0;
    let lastSeen: BatchSummary | null = null;
    const end = await walkBatchHeaders(this.file, start, this.sizeBytes, (summary) => {
      if (summary.baseOffset < this.baseOffset) return false;
      lastSeen = summary;
      this.noteBatchBounds(summary);
      return true;
    });
    if (end !== this.sizeBytes) return false;
    if (this.sizeBytes > start && lastSeen === null) return false;
    this.bytesSinceIndexEntry = this.sizeBytes - start;
    return true;
  }

  private noteBatchBounds(summary: BatchSummary): void {
    this.nextOffset = summary.lastOffset + 1n;
    if (summary.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = summary.maxTimestamp;
      this.offsetOfMaxTimestamp = summary.lastOffset;
    }
    this.rememberTail(summary.baseOffset, summary.position);
  }

  /** Reads every batch, checks it, rebuilds the indexes and cuts off a bad tail. */
  private async recover(indexIntervalBytes: number): Promise<RecoveryOutcome> {
    this.resetIndexes();
    let position = 0;
    let reason: string | null = null;
    let chunk = Buffer.alloc(0);
    let chunkStart = 0;
    while (position < this.sizeBytes) {
      let relative = position - chunkStart;
      const declared = batchSizeAt(chunk, relative);
      if (chunk.length - relative < batchLogOverheadBytes || relative + declared > chunk.length) {
        const wanted = Math.min(this.sizeBytes - position, Math.max(recoveryChunkBytes, declared));
        chunk = Buffer.allocUnsafe(wanted);
        const read = await this.file.read(chunk, 0, wanted, position);
        chunk = chunk.subarray(0, read);
        chunkStart = position;
        relative = 0;
      }
      const problem = batchProblem(chunk, relative, chunk.length);
      if (problem) {
        reason = problem;
        break;
      }
      const summary = summarizeBatch(chunk, relative);
      if (summary.baseOffset < this.nextOffset || summary.baseOffset < this.baseOffset) {
        reason = `offset ${summary.baseOffset} goes backwards`;
        break;
      }
      summary.position = position;
      this.indexBatch(summary, indexIntervalBytes);
      position += summary.sizeBytes;
    }
    const truncatedBytes = this.sizeBytes - position;
    if (truncatedBytes > 0) {
      await this.file.truncate(position);
      await this.file.datasync();
      this.sizeBytes = position;
    }
    this.indexesDirty = true;
    return { truncatedBytes, reason: truncatedBytes > 0 ? (reason ?? 'unknown') : null };
  }

  /** Index bookkeeping for a batch written at `summary.position` (already counted in size). */
  indexBatch(summary: BatchSummary, indexIntervalBytes: number): void {
    if (this.offsetIndex.entryCount === 0 || this.bytesSinceIndexEntry >= indexIntervalBytes) {
      this.offsetIndex.append(summary.baseOffset, summary.position);
      const newMax = summary.maxTimestamp > this.maxTimestamp;
      this.timeIndex.maybeAppend(
        newMax ? summary.maxTimestamp : this.maxTimestamp,
        newMax ? summary.lastOffset : this.offsetOfMaxTimestamp,
      );
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += summary.sizeBytes;
    this.noteBatchBounds(summary);
    if (summary.position + summary.sizeBytes > this.sizeBytes)
      this.sizeBytes = summary.position + summary.sizeBytes;
    this.indexesDirty = true;
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  private rememberTail(baseOffset: bigint, position: number): void {
    this.tailOffsets.push(baseOffset);
    this.tailPositions.push(position);
    if (this.tailOffsets.length >= 2 * tailPositionCacheEntries) {
      this.tailOffsets = this.tailOffsets.slice(tailPositionCacheEntries);
      this.tailPositions = this.tailPositions.slice(tailPositionCacheEntries);
    }
  }

  /**
   * Truncates the file at `position`, drops in-memory state past it, then syncs (a failed sync
   * still leaves memory matching the file).
   */
  async truncateTo(position: number): Promise<void> {
    if (this.deferredIndexes) await this.loadDeferredIndexes();
    await this.file.truncate(position);
    this.sizeBytes = position;
    if (position < this.writtenHereFrom) this.writtenHereFrom = position;
    this.offsetIndex.truncateToPosition(position);
    const lastIndexed = this.offsetIndex.last();
    this.timeIndex.truncateToOffset(lastIndexed ? lastIndexed.offset : this.baseOffset);
    this.resetBounds();
    this.noteTimeIndexMax();
    const ok = await this.walkTail();
    if (!ok) throw new Error(`segment ${this.baseOffset}: cannot walk after truncation`);
    this.indexesDirty = true;
    await this.file.datasync();
  }

  /**
   * Where to start walking for `offset`: the tail cache when it covers the offset, else the
   * offset index.
   */
  walkStartPosition(offset: bigint): number {
    const count = this.tailOffsets.length;
    if (count > 0 && offset >= this.tailOffsets[0]) {
      let low = 0;
      let high = count - 1;
      while (low < high) {
        const middle = (low + high + 1) >>> 1;
        if (this.tailOffsets[middle] <= offset) low = middle;
        else high = middle - 1;
      }
      return this.tailPositions[low];
    }
    return this.offsetIndex.floor(offset).position;
  }

  /** The first batch whose last offset is at or above `offset`, or null when past the end. */
  async findBatch(offset: bigint, endPosition = this.sizeBytes): Promise<BatchSummary | null> {
    if (this.deferredIndexes) await this.loadDeferredIndexes();
    return (await this.locateBatch(offset, endPosition))?.summary ?? null;
  }

  /** `findBatch`, plus the chunk the walk read it from (a read at the tail often needs no more). */
  private async locateBatch(
    offset: bigint,
    endPosition: number,
    recentlyWrittenFrom = Number.POSITIVE_INFINITY,
  ): Promise<{ summary: BatchSummary; chunk: Buffer; chunkStart: number } | null> {
    let found: { summary: BatchSummary; chunk: Buffer; chunkStart: number } | null = null;
    const start = this.walkStartPosition(offset);
    await walkBatchHeaders(
      this.file,
      start,
      endPosition,
      (summary, chunk, chunkStart) => {
        if (summary.lastOffset < offset) return true;
        found = { summary, chunk, chunkStart };
        return false;
      },
      recentlyWrittenFrom,
    );
    return found;
  }

  /** Whole batches from the one containing `offset`, bounded by bytes and an exclusive max offset. */
  async read(
    offset: bigint,
    options: {
      maxBytes: number;
      maxOffset: bigint;
      minOneBatch: boolean;
      verifyChecksums: boolean;
      /** Positions from here on were written moments ago (ReadHint); none when absent. */
      recentlyWrittenFrom?: number;
    },
  ): Promise<{ buffer: Buffer | null; pastEnd: boolean }> {
    if (this.deferredIndexes) await this.loadDeferredIndexes();
    // Captured together: every batch before endPosition ends below endOffset.
    const endPosition = this.sizeBytes;
    const endOffset = this.nextOffset;
    const recentlyWrittenFrom = options.recentlyWrittenFrom ?? Number.POSITIVE_INFINITY;
    const located = await this.locateBatch(offset, endPosition, recentlyWrittenFrom);
    if (!located) return { buffer: null, pastEnd: true };
    const first = located.summary;
    if (first.lastOffset >= options.maxOffset) return { buffer: null, pastEnd: false };
    if (first.sizeBytes > options.maxBytes && !options.minOneBatch) {
      return { buffer: null, pastEnd: false };
    }
    const length = Math.max(
      first.sizeBytes,
      Math.min(options.maxBytes, endPosition - first.position),
    );
    // The header walk's chunk often holds everything up to the end already (consumers at the
    // tail): then no second read.
    const inChunk = first.position - located.chunkStart;
    const data =
      inChunk + length <= located.chunk.length
        ? located.chunk.subarray(inChunk, inChunk + length)
        : await this.readBytes(first.position, length, {
            recentlyWritten: first.position >= recentlyWrittenFrom,
          });
    const used = this.wholeBatchesBytes(data, first.position, {
      // Most reads are below the HW/LSO bound entirely: then no batch's offsets are read.
      maxOffset: options.maxOffset < endOffset ? options.maxOffset : null,
      verifyChecksums: options.verifyChecksums,
    });
    return { buffer: data.subarray(0, used), pastEnd: false };
  }

  /**
   * Bytes of the whole batches at the start of `data` (read at `filePosition`) that end below
   * `maxOffset`, in one pass that also checks each batch's CRC when asked ("check data twice",
   * STYLE.md §3): a mismatch is CORRUPT_MESSAGE.
   */
  private wholeBatchesBytes(
    data: Buffer,
    filePosition: number,
    options: { maxOffset: bigint | null; verifyChecksums: boolean },
  ): number {
    let used = 0;
    while (data.length - used >= batchHeaderSizeBytes) {
      const sizeBytes = batchSizeAt(data, used);
      if (used + sizeBytes > data.length) break;
      const { maxOffset } = options;
      if (maxOffset !== null && lastOffsetAt(data, used) >= maxOffset) break;
      const problem = options.verifyChecksums
        ? batchProblem(data, used, data.length)
        : headerProblem(data, used, data.length);
      if (problem) {
        throw new StorageError(
          storageErrorCode.corruptMessage,
          `segment ${this.baseOffset} of ${this.directory}, byte ${filePosition + used}: ${problem}`,
        );
      }
      used += sizeBytes;
    }
    return used;
  }

  async readBytes(position: number, length: number, hint?: ReadHint): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const read = await this.file.read(buffer, 0, length, position, hint);
    if (read !== length)
      throw new Error(`short read in segment ${this.baseOffset}: ${read} of ${length}`);
    return buffer;
  }

  get indexIsFull(): boolean {
    return this.offsetIndex.sizeBytes + 8 > this.indexLimitBytes;
  }

  async writeIndexes(fileSystem: FileSystem): Promise<void> {
    if (!this.indexesDirty) return;
    // Loading ignores the index files of an empty segment: an idle partition costs no writes.
    if (this.isEmpty) {
      this.indexesDirty = false;
      return;
    }
    // The segment's newest timestamp must be findable from the time index once it is reloaded.
    if (this.maxTimestamp >= 0n)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    await fileSystem.writeFileAtomic(this.path(segmentFileSuffix.index), this.offsetIndex.bytes());
    await fileSystem.writeFileAtomic(
      this.path(segmentFileSuffix.timeIndex),
      this.timeIndex.bytes(),
    );
    this.indexesDirty = false;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

function lastOffsetAt(data: Buffer, position: number): bigint {
  return (
    data.readBigInt64BE(position + batchOffsets.baseOffset) +
    BigInt(data.readInt32BE(position + batchOffsets.lastOffsetDelta))
  );
}

/**
 * Calls `visit` for each batch header from `start` until `end`, reading in chunks; stops when
 * `visit` returns false or a header is not plausible. Returns the position reached. Chunks from
 * `recentlyWrittenFrom` on are read with the ReadHint that they were just written.
 */
export async function walkBatchHeaders(
  file: FileHandle,
  start: number,
  end: number,
  visit: (summary: BatchSummary, chunk: Buffer, chunkStart: number) => boolean,
  recentlyWrittenFrom = Number.POSITIVE_INFINITY,
): Promise<number> {
  let position = start;
  let chunk = Buffer.alloc(0);
  let chunkStart = start;
  while (position < end) {
    let relative = position - chunkStart;
    if (chunk.length - relative < batchHeaderSizeBytes) {
      const wanted = Math.min(headerScanChunkBytes, end - position);
      chunk = Buffer.allocUnsafe(wanted);
      const hint = { recentlyWritten: position >= recentlyWrittenFrom };
      chunk = chunk.subarray(0, await file.read(chunk, 0, wanted, position, hint));
      chunkStart = position;
      relative = 0;
    }
    if (chunk.length - relative < batchHeaderSizeBytes) return position;
    // Only the header is in the chunk: the batch must end by `end`, possibly past the chunk.
    if (headerProblem(chunk, relative, relative + (end - position)) !== null) return position;
    const summary = summarizeBatch(chunk, relative);
    summary.position = position;
    if (!visit(summary, chunk, chunkStart)) return position;
    position += summary.sizeBytes;
  }
  return position;
}

/**
 * Every complete batch of the segment as a subarray of a chunk read (at most
 * `max(chunkBytes, one batch)` in memory). Stops at the first implausible header.
 */
export async function* segmentBatches(
  segment: LogSegment,
  chunkBytes: number,
): AsyncGenerator<{ batch: Buffer; position: number }> {
  const end = segment.sizeBytes;
  let position = 0;
  while (end - position >= batchHeaderSizeBytes) {
    let chunk = await segment.readBytes(position, Math.min(end - position, chunkBytes));
    const firstSize = batchSizeAt(chunk, 0);
    // A batch larger than the chunk is read whole (bounded by the file; the header is checked next).
    if (firstSize > chunk.length && position + firstSize <= end) {
      chunk = await segment.readBytes(position, firstSize);
    }
    let relative = 0;
    while (chunk.length - relative >= batchHeaderSizeBytes) {
      const size = batchSizeAt(chunk, relative);
      if (relative + size > chunk.length) break; // continues in the next chunk
      if (headerProblem(chunk, relative, chunk.length) !== null) return;
      yield { batch: chunk.subarray(relative, relative + size), position: position + relative };
      relative += size;
    }
    if (relative === 0) return;
    position += relative;
  }
}
