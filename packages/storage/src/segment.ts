// One segment: `<baseOffset:20 digits>.log` with its sparse offset and time indexes.
// The segment object holds the open file handle, the written size and the in-memory indexes.

import { batchHeaderSizeBytes, batchLogOverheadBytes } from '@gregor/protocol';
import { type BatchSummary, batchProblem, headerProblem, summarizeBatch } from './batch-layout.js';
import { StorageError, storageErrorCode } from './errors.js';
import type { FileHandle, FileSystem } from './file-system.js';
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

export interface RecoveryOutcome {
  /** Bytes cut from the end (torn or corrupt tail). */
  truncatedBytes: number;
  reason: string | null;
}

export interface ScannedBatch {
  summary: BatchSummary;
}

export class LogSegment {
  sizeBytes = 0;
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
  private bytesSinceIndexEntry = 0;
  private hasBatches = false;
  // Recent batch positions of the active segment: tail reads skip the index walk.
  private tailOffsets: bigint[] = [];
  private tailPositions: number[] = [];

  private constructor(
    readonly directory: string,
    readonly baseOffset: bigint,
    readonly file: FileHandle,
    nowMs: number,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.rollTimestampMs = nowMs;
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
  }

  path(suffix: string): string {
    return joinPath(this.directory, segmentFileName(this.baseOffset, suffix));
  }

  static async create(
    fileSystem: FileSystem,
    directory: string,
    baseOffset: bigint,
    nowMs: number,
  ): Promise<LogSegment> {
    const path = joinPath(directory, segmentFileName(baseOffset, segmentFileSuffix.log));
    const file = await fileSystem.openFile(path, { create: true });
    const segment = new LogSegment(directory, baseOffset, file, nowMs);
    const existing = await file.sizeBytes();
    if (existing > 0) await file.truncate(0);
    return segment;
  }

  /** A segment file under another name (the cleaner's `.log.cleaned`), not part of any log yet. */
  static async createNamed(
    fileSystem: FileSystem,
    directory: string,
    baseOffset: bigint,
    nowMs: number,
    suffix: string,
  ): Promise<LogSegment> {
    const file = await fileSystem.openFile(
      joinPath(directory, segmentFileName(baseOffset, suffix)),
      { create: true },
    );
    if ((await file.sizeBytes()) > 0) await file.truncate(0);
    return new LogSegment(directory, baseOffset, file, nowMs);
  }

  /** Appends complete batches (already offset-stamped) at the end and indexes them. */
  async appendRaw(buffers: Buffer[], indexIntervalBytes: number): Promise<void> {
    let position = this.sizeBytes;
    await this.file.writev(buffers, position);
    for (const buffer of buffers) {
      const summary = summarizeBatch(buffer, 0);
      summary.position = position;
      this.indexBatch(summary, indexIntervalBytes);
      position += summary.sizeBytes;
    }
  }

  /**
   * Opens an existing segment. With `trustIndexes` the index files are loaded and only the part
   * after the last index entry is walked (headers only); otherwise, or when an index is invalid,
   * every batch is read and CRC-checked and a torn tail is cut off (recovery).
   */
  static async open(options: {
    fileSystem: FileSystem;
    directory: string;
    baseOffset: bigint;
    nowMs: number;
    trustIndexes: boolean;
    indexIntervalBytes: number;
  }): Promise<{ segment: LogSegment; recovery: RecoveryOutcome | null }> {
    const { fileSystem, directory, baseOffset } = options;
    const path = joinPath(directory, segmentFileName(baseOffset, segmentFileSuffix.log));
    const file = await fileSystem.openFile(path, { create: false });
    const segment = new LogSegment(directory, baseOffset, file, options.nowMs);
    segment.sizeBytes = await file.sizeBytes();
    if (options.trustIndexes && (await segment.loadIndexes(fileSystem))) {
      if (await segment.walkTail()) {
        segment.indexesDirty = false;
        return { segment, recovery: null };
      }
      segment.resetIndexes();
    }
    const recovery = await segment.recover(options.indexIntervalBytes);
    return { segment, recovery };
  }

  private resetIndexes(): void {
    this.offsetIndex = new OffsetIndex(this.baseOffset);
    this.timeIndex = new TimeIndex(this.baseOffset);
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    this.hasBatches = false;
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
    const lastTime = timeIndex.last();
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    return true;
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
    this.hasBatches = this.sizeBytes > 0;
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
      if (chunk.length - relative < batchLogOverheadBytes || needsMore(chunk, relative)) {
        const wanted = Math.min(
          this.sizeBytes - position,
          Math.max(recoveryChunkBytes, declaredSize(chunk, relative)),
        );
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
    this.hasBatches = true;
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
    await this.file.truncate(position);
    this.sizeBytes = position;
    this.offsetIndex.truncateToPosition(position);
    const lastIndexed = this.offsetIndex.last();
    this.timeIndex.truncateToOffset(lastIndexed ? lastIndexed.offset : this.baseOffset);
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    const lastTime = this.timeIndex.last();
    if (lastTime) {
      this.maxTimestamp = lastTime.timestamp;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    this.tailOffsets = [];
    this.tailPositions = [];
    this.bytesSinceIndexEntry = 0;
    this.hasBatches = false;
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
    let found: BatchSummary | null = null;
    await walkBatchHeaders(this.file, this.walkStartPosition(offset), endPosition, (summary) => {
      if (summary.lastOffset >= offset) {
        found = summary;
        return false;
      }
      return true;
    });
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
    },
  ): Promise<{ buffer: Buffer | null; pastEnd: boolean }> {
    const endPosition = this.sizeBytes;
    const first = await this.findBatch(offset, endPosition);
    if (!first) return { buffer: null, pastEnd: true };
    if (first.lastOffset >= options.maxOffset) return { buffer: null, pastEnd: false };
    if (first.sizeBytes > options.maxBytes) {
      if (!options.minOneBatch) return { buffer: null, pastEnd: false };
      const single = await this.readBytes(first.position, first.sizeBytes);
      if (options.verifyChecksums) this.verifyChecksums(single, first.position);
      return { buffer: single, pastEnd: false };
    }
    const length = Math.min(options.maxBytes, endPosition - first.position);
    const data = await this.readBytes(first.position, length);
    let used = 0;
    while (used < data.length) {
      if (data.length - used < batchHeaderSizeBytes) break;
      const summary = summarizeBatch(data, used);
      if (used + summary.sizeBytes > data.length || summary.lastOffset >= options.maxOffset) break;
      used += summary.sizeBytes;
    }
    const result = data.subarray(0, used);
    if (options.verifyChecksums) this.verifyChecksums(result, first.position);
    return { buffer: result, pastEnd: false };
  }

  /** "Check data twice": the CRC of every batch read back from disk (STYLE.md §3). */
  private verifyChecksums(data: Buffer, filePosition: number): void {
    for (let position = 0; position < data.length; ) {
      const problem = batchProblem(data, position, data.length);
      if (problem) {
        throw new StorageError(
          storageErrorCode.corruptMessage,
          `segment ${this.baseOffset} of ${this.directory}, byte ${filePosition + position}: ${problem}`,
        );
      }
      position += data.readInt32BE(position + 8) + batchLogOverheadBytes;
    }
  }

  async readBytes(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const read = await this.file.read(buffer, 0, length, position);
    if (read !== length)
      throw new Error(`short read in segment ${this.baseOffset}: ${read} of ${length}`);
    return buffer;
  }

  get indexIsFull(): boolean {
    return this.offsetIndex.sizeBytes + 8 > this.indexLimitBytes;
  }

  indexLimitBytes = Number.MAX_SAFE_INTEGER;

  async writeIndexes(fileSystem: FileSystem): Promise<void> {
    if (!this.indexesDirty) return;
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

function declaredSize(chunk: Buffer, relative: number): number {
  if (chunk.length - relative < batchLogOverheadBytes) return 0;
  return chunk.readInt32BE(relative + 8) + batchLogOverheadBytes;
}

function needsMore(chunk: Buffer, relative: number): boolean {
  const size = declaredSize(chunk, relative);
  return size > 0 && relative + size > chunk.length && size > 0;
}

/**
 * Calls `visit` for each batch header from `start` until `end`, reading in chunks; stops when
 * `visit` returns false or a header is not plausible. Returns the position reached.
 */
export async function walkBatchHeaders(
  file: FileHandle,
  start: number,
  end: number,
  visit: (summary: BatchSummary) => boolean,
): Promise<number> {
  let position = start;
  let chunk = Buffer.alloc(0);
  let chunkStart = start;
  while (position < end) {
    let relative = position - chunkStart;
    if (chunk.length - relative < 61) {
      const wanted = Math.min(headerScanChunkBytes, end - position);
      chunk = Buffer.allocUnsafe(wanted);
      chunk = chunk.subarray(0, await file.read(chunk, 0, wanted, position));
      chunkStart = position;
      relative = 0;
    }
    if (chunk.length - relative < 61) return position;
    // Only the header is checked here: the batch itself may extend past the chunk.
    const problem = headerProblem(chunk, relative, relative + 61 + (end - position - 61));
    if (problem) return position;
    const summary = summarizeBatch(chunk, relative);
    summary.position = position;
    if (!visit(summary)) return position;
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
  while (position < end) {
    const header = Buffer.allocUnsafe(Math.min(batchLogOverheadBytes, end - position));
    await segment.file.read(header, 0, header.length, position);
    if (header.length < batchLogOverheadBytes) return;
    const firstSize = header.readInt32BE(8) + batchLogOverheadBytes;
    const length = Math.min(end - position, Math.max(chunkBytes, firstSize));
    const chunk = await segment.readBytes(position, length);
    let relative = 0;
    while (chunk.length - relative >= batchHeaderSizeBytes) {
      if (headerProblem(chunk, relative, chunk.length) !== null) break;
      const size = chunk.readInt32BE(relative + 8) + batchLogOverheadBytes;
      yield { batch: chunk.subarray(relative, relative + size), position: position + relative };
      relative += size;
    }
    if (relative === 0) return;
    position += relative;
  }
}
