// The file-backed PartitionLog: a folder of segments, appended with group commit.
// Invariants (DESIGN.md): only the last segment is written; every segment but the last is synced
// and has index files on disk; `recoveryPoint` never exceeds what has been fdatasync'ed.

import { batchLogOverheadBytes, type CompressionCodecs } from '@gregor/protocol';
import {
  type BatchSummary,
  batchProblem,
  stampLeaderBatches,
  summarizeBatch,
  summarizeBatches,
} from './batch-layout.js';
import { isCompacted, isDeleteEnabled, type LogConfig, resolveLogConfig } from './config.js';
import { LogClosedError, OffsetOutOfRangeError, StorageError, storageErrorCode } from './errors.js';
import { compactFileLog } from './file-cleaner.js';
import { FileHandleCache } from './file-handle-cache.js';
import type { FileSystem } from './file-system.js';
import { joinPath } from './file-system.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import {
  appendGroupBytesMax,
  appendGroupEntriesMax,
  recentlyWrittenBytes,
  segmentRelativeOffsetMax,
  segmentSizeBytesMax,
} from './limits.js';
import type { LogSummary } from './log-summary.js';
import { PartitionLogBase } from './partition-log-base.js';
import { firstRecordAtOrAfter, recordWithMaxTimestamp } from './record-search.js';
import {
  LogSegment,
  parseSegmentFileName,
  segmentFileName,
  segmentFileSuffix,
  walkBatchHeaders,
} from './segment.js';
import type {
  AppendOptions,
  AppendResult,
  Clock,
  Durability,
  FollowerAppendOptions,
  Offset,
  PartitionLog,
  ReadOptions,
  ReadResult,
  TimerHandle,
  TimestampMs,
  TimestampOffset,
} from './types.js';
import { listOffsetsTimestamp } from './types.js';

export const leaderEpochCheckpointFile = 'leader-epoch-checkpoint';
const deletedSuffix = '.deleted';

interface PendingAppend {
  buffer: Buffer;
  summaries: BatchSummary[];
  /** Leader appends get offsets assigned; follower appends keep theirs. */
  leaderEpoch: number | null;
  durability: Durability;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

export interface FilePartitionLogOptions {
  topic: string;
  partition: number;
  directory: string;
  fileSystem: FileSystem;
  clock: Clock;
  config: LogConfig;
  /** From the log dir's recovery-point checkpoint; everything below it was synced. */
  recoveryPoint: bigint;
  logStartOffset: bigint;
  /** The log dir had a clean-shutdown marker: trust index files, skip the scan. */
  cleanShutdown: boolean;
  /** Codecs for compressed batches the cleaner must decode (from @gregor/compression). */
  codecs?: CompressionCodecs;
  /** Verify the CRC of every batch a read returns (default true; see DESIGN.md "Read path"). */
  verifyReadChecksums?: boolean;
  /** Cleaner I/O budget for this log (log.cleaner.io.max.bytes.per.second); default unbounded. */
  cleanerIoBytesPerSecondMax?: number;
  /** Where segment files are opened (shared by a log manager's logs); default: unbounded, own. */
  handleCache?: FileHandleCache;
  /**
   * Awaited before this log first changes a file (a log built from the clean-stop summary: the
   * manager records durably that the summary no longer describes it).
   */
  beforeFirstWrite?: () => Promise<void>;
  /** Called once per recovered segment with what recovery did (for logs and tests). */
  onRecovery?: (event: {
    baseOffset: bigint;
    truncatedBytes: number;
    reason: string | null;
  }) => void;
}

export class FilePartitionLog extends PartitionLogBase implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly directory: string;
  private currentConfig: LogConfig;
  private readonly fileSystem: FileSystem;
  private readonly handles: FileHandleCache;
  private readonly clock: Clock;
  segments: LogSegment[] = [];
  private startOffset = 0n;
  /** Everything below is durable (fdatasync'ed). */
  recoveryPoint = 0n;
  private pending: PendingAppend[] = [];
  private drainScheduled = false;
  private lock: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  /**
   * A write or fdatasync failed (disk full, I/O error): the log end rolls back to `endOffset` and,
   * after a failed fdatasync, the unsynced tail is rewritten and synced again before any further
   * append (`repairIfDamaged`, DESIGN.md "Disk full and I/O errors").
   */
  private damage: {
    endOffset: bigint;
    cause: Error;
    syncFailed: boolean;
    epochsChanged: boolean;
  } | null = null;
  private unsyncedMessages = 0;
  private oldestUnsyncedMs: number | null = null;
  /** Compaction progress: offsets below were cleaned (cleaner-offset-checkpoint). */
  cleanerCheckpoint = 0n;
  /** The latest KIP-534 delete horizon the cleaner kept; a pass is due once it passed. */
  latestDeleteHorizonMs: bigint | null = null;
  private readonly deletionTimers = new Set<TimerHandle>();

  private constructor(options: FilePartitionLogOptions) {
    super(options.clock);
    this.topic = options.topic;
    this.partition = options.partition;
    this.directory = options.directory;
    this.fileSystem = options.fileSystem;
    this.handles =
      options.handleCache ??
      new FileHandleCache({ fileSystem: options.fileSystem, handlesMax: Number.POSITIVE_INFINITY });
    this.clock = options.clock;
    this.currentConfig = options.config;
    this.codecs = options.codecs;
    this.verifyReadChecksums = options.verifyReadChecksums ?? true;
    this.cleanerIoBytesPerSecondMax =
      options.cleanerIoBytesPerSecondMax ?? Number.POSITIVE_INFINITY;
    this.beforeFirstWrite = options.beforeFirstWrite;
  }

  private beforeFirstWrite: (() => Promise<void>) | undefined;

  /** Runs `beforeFirstWrite` once, before anything of this log's files changes. */
  private async beforeWrite(): Promise<void> {
    const hook = this.beforeFirstWrite;
    if (hook === undefined) return;
    this.beforeFirstWrite = undefined;
    try {
      await hook();
    } catch (error) {
      this.beforeFirstWrite = hook;
      throw error;
    }
  }

  private readonly verifyReadChecksums: boolean;
  private readonly cleanerIoBytesPerSecondMax: number;

  private readonly codecs: CompressionCodecs | undefined;

  static async open(options: FilePartitionLogOptions): Promise<FilePartitionLog> {
    const log = new FilePartitionLog(options);
    await log.load(options);
    return log;
  }

  /**
   * A new, empty log: only its directory is created, without fsync (the log manager syncs the
   * parent directory once per batch of creations). Its segment file and leader-epoch checkpoint
   * are written when the log first changes a file (`deferFiles`), and become durable with its
   * first fdatasync (`makeMetadataDurable`); until then a power loss may lose the empty log,
   * which the owner recreates (the broker's topic document names it). A directory that already
   * holds files is loaded instead.
   */
  static async create(options: FilePartitionLogOptions): Promise<FilePartitionLog> {
    const created = await options.fileSystem.makeDirectory(options.directory);
    if (!created && (await options.fileSystem.listDirectory(options.directory)).length > 0)
      return FilePartitionLog.open(options);
    const log = new FilePartitionLog(options);
    log.startOffset = options.logStartOffset;
    log.segments.push(log.createEmptySegment(options.logStartOffset));
    log.epochs = new LeaderEpochCache();
    log.recoveryPoint = options.logStartOffset;
    log.watermark = options.logStartOffset;
    log.deferFiles();
    return log;
  }

  private createEmptySegment(baseOffset: bigint): LogSegment {
    const segment = LogSegment.createEmpty(
      this.handles,
      this.directory,
      baseOffset,
      this.clock.wallMs(),
    );
    segment.indexLimitBytes = this.currentConfig.segmentIndexBytes;
    return segment;
  }

  /**
   * For a log that may have no file yet (one empty segment, `LogSegment.createEmpty`): leader
   * epochs are kept in memory and the checkpoint is written just before the log's first file
   * change (an append, a truncation...), so a process crash never leaves batches of an epoch
   * the checkpoint lacks; the directory entries are synced before its first fdatasync. A log
   * that is never written costs no file and no fsync.
   */
  private deferFiles(): void {
    this.metadataDurable = false;
    this.epochsDeferred = true;
    const previous = this.beforeFirstWrite;
    this.beforeFirstWrite = async () => {
      await previous?.();
      this.epochsDeferred = false;
      try {
        if (this.epochs.latestEpoch() !== undefined) await this.writeLeaderEpochs();
      } catch (error) {
        this.epochsDeferred = true;
        throw error;
      }
    };
  }

  /** The leader-epoch checkpoint waits for the log's first file change (`deferFiles`). */
  private epochsDeferred = false;

  /**
   * A log as the clean-stop summary describes it (the log dir had the clean-shutdown marker): no
   * file is opened and no index read until the log is used (`LogSegment.loadDeferredIndexes`).
   */
  static fromSummary(options: FilePartitionLogOptions, summary: LogSummary): FilePartitionLog {
    const log = new FilePartitionLog(options);
    const nowMs = log.clock.wallMs();
    for (const segmentSummary of summary.segments) {
      const segment = LogSegment.fromSummary({
        handles: log.handles,
        directory: log.directory,
        summary: segmentSummary,
        nowMs,
        indexIntervalBytes: log.currentConfig.indexIntervalBytes,
      });
      segment.indexLimitBytes = log.currentConfig.segmentIndexBytes;
      log.segments.push(segment);
    }
    const leo = log.logEndOffset;
    const base = log.segments[0].baseOffset;
    log.startOffset = options.logStartOffset > base ? options.logStartOffset : base;
    if (log.startOffset > leo) log.startOffset = leo;
    log.epochs = LeaderEpochCache.fromEntries(summary.epochs);
    log.recoveryPoint = leo;
    log.watermark = leo;
    // A log never written may have neither segment file nor epoch checkpoint on disk.
    if (log.segments.length === 1 && log.segments[0].isEmpty) log.deferFiles();
    return log;
  }

  /** What the clean-stop summary records of this log (after `close`). */
  summary(): LogSummary {
    return {
      epochs: this.epochs.list(),
      segments: this.segments.map((segment) => segment.summary()),
    };
  }

  /**
   * False while the directory entries of a just-created log (its segment file, its
   * leader-epoch checkpoint) have not been synced: checkpoints are then written without fsync.
   */
  private metadataDurable = true;

  /** Before the first fdatasync of a new log's data: its files' names must survive power loss too. */
  private async makeMetadataDurable(): Promise<void> {
    if (this.metadataDurable) return;
    if (this.epochs.latestEpoch() !== undefined) {
      await this.fileSystem.writeFileAtomic(
        joinPath(this.directory, leaderEpochCheckpointFile),
        this.epochs.serialize(),
      );
    }
    await this.fileSystem.syncDirectory(this.directory);
    this.metadataDurable = true;
  }

  // ---- loading and recovery ----

  private async load(options: FilePartitionLogOptions): Promise<void> {
    const fileSystem = this.fileSystem;
    let names = await fileSystem.listDirectory(this.directory);
    // Empty or missing (listed as empty): only then can the directory need creating.
    if (names.length === 0) await fileSystem.makeDirectory(this.directory);
    if (await this.completeInterruptedOperations(names)) {
      names = await fileSystem.listDirectory(this.directory);
    }
    const baseOffsets = names
      .map(parseSegmentFileName)
      .filter((base): base is bigint => base !== null)
      .sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
    const recoveryPoint = options.recoveryPoint;
    let recoverFromIndex = baseOffsets.length;
    if (!options.cleanShutdown) {
      recoverFromIndex = 0;
      for (let index = 0; index < baseOffsets.length; index++)
        if (baseOffsets[index] <= recoveryPoint) recoverFromIndex = index;
    }
    let truncatedTail = false;
    /** Segments after a truncated one: removed newest first so a crash cannot leave a hole. */
    const orphans: bigint[] = [];
    for (let index = 0; index < baseOffsets.length; index++) {
      const baseOffset = baseOffsets[index];
      if (truncatedTail) {
        orphans.push(baseOffset);
        continue;
      }
      const { segment, recovery } = await LogSegment.open({
        handles: this.handles,
        directory: this.directory,
        baseOffset,
        nowMs: this.clock.wallMs(),
        trustIndexes: index < recoverFromIndex,
        indexIntervalBytes: this.currentConfig.indexIntervalBytes,
      });
      segment.indexLimitBytes = this.currentConfig.segmentIndexBytes;
      const previous = this.segments.at(-1);
      if (previous && segment.baseOffset < previous.nextOffset) {
        // Overlap: the previous segment holds these offsets already; drop the rest of the log.
        await segment.close();
        orphans.push(baseOffset);
        truncatedTail = true;
        continue;
      }
      if (recovery) {
        options.onRecovery?.({ baseOffset, ...recovery });
        if (recovery.truncatedBytes > 0) truncatedTail = true;
      }
      this.segments.push(segment);
    }
    for (const baseOffset of orphans.reverse()) await this.removeSegmentFiles(baseOffset);
    // No segment file (a log never written, or a crash): an empty segment created on first use.
    const noSegmentFile = this.segments.length === 0;
    if (noSegmentFile) this.segments.push(this.createEmptySegment(options.logStartOffset));
    const leo = this.logEndOffset;
    this.startOffset =
      options.logStartOffset > this.segments[0].baseOffset
        ? options.logStartOffset
        : this.segments[0].baseOffset;
    if (this.startOffset > leo) this.startOffset = leo;
    if (noSegmentFile) this.deferFiles();
    await this.loadLeaderEpochs(names.includes(leaderEpochCheckpointFile));
    // After a crash the checked tail past the recovery point may be in the page cache only: the
    // recovery point stays where it was (no fdatasync per log at start-up; the next sync or the
    // close moves it).
    this.recoveryPoint = options.cleanShutdown ? leo : this.minOffset(recoveryPoint, leo);
    if (!options.cleanShutdown) {
      for (const segment of this.segments.slice(0, -1)) await segment.writeIndexes(fileSystem);
    }
    this.watermark = leo;
  }

  private minOffset(left: bigint, right: bigint): bigint {
    return left < right ? left : right;
  }

  /**
   * Finishes or undoes a compaction swap or deletion that a crash interrupted. Returns whether
   * it renamed or removed anything (the listing is then stale).
   */
  private async completeInterruptedOperations(names: string[]): Promise<boolean> {
    let changed = false;
    for (const name of names) {
      const path = joinPath(this.directory, name);
      if (name.endsWith(deletedSuffix) || name.endsWith('.cleaned') || name.endsWith('.tmp')) {
        await this.fileSystem.removeFile(path);
        changed = true;
      }
    }
    for (const name of names) {
      const match = /^(\d{20})\.log\.swap$/.exec(name);
      if (!match) continue;
      changed = true;
      const swapBase = BigInt(match[1]);
      const replacedEnd = await this.readSwapEnd(joinPath(this.directory, name));
      for (const other of names) {
        const base = parseSegmentFileName(other);
        if (base !== null && base >= swapBase && base < replacedEnd)
          await this.removeSegmentFiles(base);
      }
      await this.fileSystem.rename(
        joinPath(this.directory, name),
        joinPath(this.directory, segmentFileName(swapBase, segmentFileSuffix.log)),
      );
    }
    return changed;
  }

  /** A swap file's name carries its base; its end offset is written in a companion file. */
  private async readSwapEnd(path: string): Promise<bigint> {
    const data = await this.fileSystem.readFile(`${path}.end`);
    await this.fileSystem.removeFile(`${path}.end`);
    return data ? BigInt(data.toString('utf8').trim()) : 0n;
  }

  private async loadLeaderEpochs(checkpointListed: boolean): Promise<void> {
    const data = checkpointListed
      ? await this.fileSystem.readFile(joinPath(this.directory, leaderEpochCheckpointFile))
      : null;
    const cache = data ? LeaderEpochCache.parse(data) : null;
    this.epochs = cache ?? new LeaderEpochCache();
    let changed = this.epochs.truncateFromEnd(this.logEndOffset);
    changed = this.epochs.truncateFromStart(this.startOffset) || changed;
    // No file reads as an empty cache: nothing to write for a log that never had an epoch.
    if (changed) await this.writeLeaderEpochs();
  }

  private async writeLeaderEpochs(): Promise<void> {
    if (this.epochsDeferred) return;
    await this.beforeWrite();
    await this.fileSystem.writeFileAtomic(
      joinPath(this.directory, leaderEpochCheckpointFile),
      this.epochs.serialize(),
      { durable: this.metadataDurable },
    );
  }

  // ---- state ----

  get config(): Readonly<LogConfig> {
    return this.currentConfig;
  }
  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }
  get logStartOffset(): Offset {
    return this.startOffset;
  }
  get logEndOffset(): Offset {
    return this.activeSegment.nextOffset;
  }
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }
  get segmentCount(): number {
    return this.segments.length;
  }

  private assertUsable(): void {
    if (this.failure)
      throw new StorageError(
        storageErrorCode.kafkaStorageError,
        `log offline: ${this.failure.message}`,
      );
    if (this.closed) throw new LogClosedError(`${this.topic}-${this.partition}`);
  }

  /** Runs `operation` after every earlier mutation (appends, rolls, truncations, deletions). */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.lock.then(operation);
    this.lock = result.catch(() => undefined);
    return result;
  }

  // ---- append (group commit) ----

  append(batches: Buffer, options: AppendOptions): Promise<AppendResult> {
    return this.enqueue(batches, options.leaderEpoch, options.durability);
  }

  appendAsFollower(batches: Buffer, options: FollowerAppendOptions): Promise<AppendResult> {
    return this.enqueue(batches, null, options.durability);
  }

  private enqueue(
    buffer: Buffer,
    leaderEpoch: number | null,
    durability: Durability,
  ): Promise<AppendResult> {
    try {
      this.assertUsable();
      const summaries = summarizeBatches(buffer);
      return new Promise((resolve, reject) => {
        this.pending.push({ buffer, summaries, leaderEpoch, durability, resolve, reject });
        this.scheduleDrain();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    void this.exclusive(async () => {
      this.drainScheduled = false;
      await this.drain();
    });
  }

  /** Writes every pending append (one writev per segment), then one fdatasync if any needs it. */
  private async drain(): Promise<void> {
    const group = this.takeGroup();
    if (this.pending.length > 0) this.scheduleDrain();
    if (group.length === 0) return;
    const accepted: { append: PendingAppend; result: AppendResult }[] = [];
    let groupStart: bigint | null = null;
    let epochsChanged = false;
    try {
      this.assertUsable();
      // Awaited only when there is something to repair: each await is a turn of the microtask
      // queue on every small produce request.
      if (this.damage) await this.repairIfDamaged();
      if (this.beforeFirstWrite) await this.beforeWrite();
      if (!this.activeSegment.indexesReady) await this.activeSegment.loadDeferredIndexes();
      groupStart = this.logEndOffset;
      let writeBuffers: Buffer[] = [];
      let writeSummaries: BatchSummary[] = [];
      let writeBytes = 0;
      const flushWrites = async (): Promise<void> => {
        if (writeBuffers.length === 0) return;
        await this.writeToActive(writeBuffers, writeSummaries);
        writeBuffers = [];
        writeSummaries = [];
        writeBytes = 0;
      };
      const nowMs = this.clock.wallMs();
      for (const append of group) {
        if (append.leaderEpoch === null)
          await this.restartEmptyLogForFollower(append, writeBuffers.length);
        const rejection = this.prepareAppend(append, nowMs);
        if (rejection) {
          append.reject(rejection);
          continue;
        }
        const first = append.summaries[0];
        if (append.leaderEpoch !== null)
          epochsChanged = this.epochs.assign(append.leaderEpoch, first.baseOffset) || epochsChanged;
        for (const summary of append.summaries) {
          if (append.leaderEpoch === null) {
            epochsChanged =
              this.epochs.assign(summary.partitionLeaderEpoch, summary.baseOffset) || epochsChanged;
          }
          const pendingEnd = writeSummaries.at(-1);
          const active = this.activeSegment;
          if (this.shouldRoll(active, writeBytes, summary, nowMs)) {
            await flushWrites();
            await this.rollNow(pendingEnd ? pendingEnd.lastOffset + 1n : this.logEndOffset);
          }
          writeBuffers.push(
            append.buffer.subarray(summary.position, summary.position + summary.sizeBytes),
          );
          writeSummaries.push(summary);
          writeBytes += summary.sizeBytes;
        }
        const last = append.summaries[append.summaries.length - 1];
        accepted.push({
          append,
          result: {
            baseOffset: first.baseOffset,
            lastOffset: last.lastOffset,
            logAppendTimeMs:
              append.leaderEpoch !== null &&
              this.currentConfig.messageTimestampType === 'LogAppendTime'
                ? BigInt(nowMs)
                : -1n,
            logStartOffset: this.startOffset,
          },
        });
      }
      await flushWrites();
      if (epochsChanged) await this.writeLeaderEpochs();
      if (accepted.length === 0) return;
      const needsSync =
        accepted.some(({ append }) => append.durability === 'fsync') || this.flushDue(nowMs);
      if (needsSync) await this.syncActive();
    } catch (error) {
      if (groupStart !== null) this.noteDamage(groupStart, error as Error, { epochsChanged });
      this.pendingEnd = null;
      // Most often the disk is full: rolling back needs no space, so the log is usable again
      // at once and the next append simply tries again. (When the repair itself just failed,
      // the next mutation retries it.)
      if (groupStart !== null) await this.repairIfDamaged().catch(() => undefined);
      const failure = this.writeFailure(error as Error);
      for (const append of group) append.reject(failure);
      this.rejectPending(failure);
      return;
    }
    for (const { append, result } of accepted) append.resolve(result);
  }

  private noteDamage(
    endOffset: bigint,
    cause: Error,
    how: { epochsChanged?: boolean; syncFailed?: boolean },
  ): void {
    if (!this.damage) this.damage = { endOffset, cause, syncFailed: false, epochsChanged: false };
    const damage = this.damage;
    if (endOffset < damage.endOffset) damage.endOffset = endOffset;
    damage.epochsChanged ||= how.epochsChanged ?? false;
    damage.syncFailed ||= how.syncFailed ?? false;
  }

  private writeFailure(error: Error): StorageError {
    if (error instanceof StorageError) return error;
    return new StorageError(
      storageErrorCode.kafkaStorageError,
      `${this.topic}-${this.partition}: ${error.message}`,
    );
  }

  /**
   * Puts the log back into a state every later append can build on: the end rolls back to the
   * last append that was acknowledged (no partial batch stays in the file), and after a failed
   * fdatasync the unsynced tail is read back, checked and rewritten before a new fdatasync.
   * Throws KAFKA_STORAGE_ERROR while that is impossible (the disk still fails); the next
   * mutation tries again.
   */
  private async repairIfDamaged(): Promise<void> {
    const damage = this.damage;
    if (!damage) return;
    try {
      // A roll in the failed group may still be writing the sealed segment's index files.
      await this.rollSeals;
      if (damage.endOffset < this.logEndOffset) await this.truncateNow(damage.endOffset);
      const active = this.activeSegment;
      // A failed write may have left part of a batch past the known end.
      if ((await active.file.sizeBytes()) !== active.sizeBytes) {
        await active.file.truncate(active.sizeBytes);
      }
      if (damage.epochsChanged) {
        this.epochs.truncateFromEnd(this.logEndOffset);
        await this.writeLeaderEpochs();
      }
      if (damage.syncFailed) await this.rewriteUnsyncedTail();
      await active.file.datasync();
      this.recoveryPoint = this.logEndOffset;
      this.unsyncedMessages = 0;
      this.oldestUnsyncedMs = null;
      this.damage = null;
    } catch (error) {
      // Conservative: the failure may have been an fdatasync that dropped dirty pages.
      damage.syncFailed = true;
      throw new StorageError(
        storageErrorCode.kafkaStorageError,
        `${this.topic}-${this.partition} cannot write (${damage.cause.message}); repair failed: ${(error as Error).message}`,
      );
    }
  }

  /**
   * After a failed fdatasync the kernel may have marked the unsynced pages clean without writing
   * them, and a second fdatasync reports success without writing them either (PostgreSQL's
   * "fsyncgate"). So the bytes after the recovery point are read back, CRC-checked batch by
   * batch and written again (dirtying the pages), and only then synced. A batch that reads back
   * damaged (pages evicted, the disk never got them) ends the log there.
   */
  private async rewriteUnsyncedTail(): Promise<void> {
    const active = this.activeSegment;
    await active.loadDeferredIndexes();
    const end = active.sizeBytes;
    const synced = this.recoveryPoint;
    // Headers up to the recovery point were synced; the walk stops at the first one past it (or
    // at one that no longer reads back).
    let position =
      synced > active.baseOffset
        ? await walkBatchHeaders(
            active.file,
            active.walkStartPosition(synced),
            end,
            (summary) => summary.baseOffset < synced,
          )
        : 0;
    let previousLastOffset = -1n;
    while (position < end) {
      const header = await active.readBytes(
        position,
        Math.min(batchLogOverheadBytes, end - position),
      );
      const size =
        header.length < batchLogOverheadBytes ? 0 : header.readInt32BE(8) + batchLogOverheadBytes;
      const bytes =
        size > batchLogOverheadBytes && position + size <= end
          ? await active.readBytes(position, size)
          : null;
      const summary =
        bytes && !batchProblem(bytes, 0, bytes.length) ? summarizeBatch(bytes, 0) : null;
      if (!bytes || !summary || summary.baseOffset <= previousLastOffset) {
        await active.truncateTo(position);
        await this.removeSegmentIndexFiles(active);
        this.afterTruncation();
        if (this.epochs.truncateFromEnd(this.logEndOffset)) await this.writeLeaderEpochs();
        return;
      }
      await active.file.writev([bytes], position);
      previousLastOffset = summary.lastOffset;
      position += size;
    }
  }

  /**
   * A follower's first batches may start past an empty log's end (the leader already deleted
   * what came before): the log then restarts at that offset, as Kafka's truncateFullyAndStartAt.
   */
  private async restartEmptyLogForFollower(
    append: PendingAppend,
    pendingWrites: number,
  ): Promise<void> {
    if (append.leaderEpoch !== null || pendingWrites > 0) return;
    const base = append.summaries[0].baseOffset;
    const empty =
      this.segments.length === 1 &&
      this.activeSegment.isEmpty &&
      this.pendingEndOffset === this.logEndOffset;
    if (empty && base > this.logEndOffset) await this.truncateFullyNow(base);
  }

  private takeGroup(): PendingAppend[] {
    let bytes = 0;
    let count = 0;
    while (
      count < this.pending.length &&
      count < appendGroupEntriesMax &&
      (count === 0 || bytes < appendGroupBytesMax)
    ) {
      bytes += this.pending[count].buffer.length;
      count++;
    }
    return this.pending.splice(0, count);
  }

  /** Assigns offsets (leader) or checks them (follower); stamps epoch and LogAppendTime. */
  private prepareAppend(append: PendingAppend, nowMs: number): Error | null {
    const nextOffset = this.pendingEndOffset;
    if (append.leaderEpoch === null) {
      if (append.summaries[0].baseOffset < nextOffset) {
        return new StorageError(
          storageErrorCode.invalidRecord,
          `follower batch at ${append.summaries[0].baseOffset} below log end ${nextOffset}`,
        );
      }
      this.pendingEnd = append.summaries[append.summaries.length - 1].lastOffset + 1n;
      return null;
    }
    this.pendingEnd = stampLeaderBatches(append.buffer, append.summaries, {
      firstOffset: nextOffset,
      leaderEpoch: append.leaderEpoch,
      logAppendTimeMs:
        this.currentConfig.messageTimestampType === 'LogAppendTime' ? BigInt(nowMs) : null,
    });
    return null;
  }

  /** Offset the next prepared batch gets: LEO plus batches prepared but not yet written. */
  private pendingEnd: bigint | null = null;
  private get pendingEndOffset(): bigint {
    const end = this.pendingEnd;
    return end !== null && end > this.logEndOffset ? end : this.logEndOffset;
  }

  private shouldRoll(
    active: LogSegment,
    pendingBytes: number,
    summary: BatchSummary,
    nowMs: number,
  ): boolean {
    const sizeAfter = active.sizeBytes + pendingBytes;
    if (sizeAfter === 0) return false;
    if (
      sizeAfter + summary.sizeBytes >
      Math.min(this.currentConfig.segmentBytes, segmentSizeBytesMax)
    )
      return true;
    if (nowMs - active.rollTimestampMs >= this.currentConfig.segmentMs) return true;
    if (active.indexIsFull) return true;
    return summary.lastOffset - active.baseOffset > BigInt(segmentRelativeOffsetMax);
  }

  private async writeToActive(buffers: Buffer[], summaries: BatchSummary[]): Promise<void> {
    // From here on the summaries describe the batches in the segment, not in the appended buffers.
    await this.activeSegment.appendRaw(buffers, this.currentConfig.indexIntervalBytes, summaries);
    this.unsyncedMessages += summaries.length;
    this.oldestUnsyncedMs ??= this.clock.wallMs();
    this.notifier.notify();
  }

  private flushDue(nowMs: number): boolean {
    if (this.unsyncedMessages >= this.currentConfig.flushMessages) return true;
    return (
      this.oldestUnsyncedMs !== null && nowMs - this.oldestUnsyncedMs >= this.currentConfig.flushMs
    );
  }

  private async syncActive(): Promise<void> {
    const end = this.logEndOffset;
    await this.makeMetadataDurable();
    await this.datasync(this.activeSegment);
    if (end > this.recoveryPoint) this.recoveryPoint = end;
    this.unsyncedMessages = 0;
    this.oldestUnsyncedMs = null;
  }

  /** fdatasync; a failure leaves the pages after the recovery point in an unknown state. */
  private async datasync(segment: LogSegment): Promise<void> {
    try {
      await segment.file.datasync();
    } catch (error) {
      this.noteDamage(this.logEndOffset, error as Error, { syncFailed: true });
      throw error;
    }
  }

  private rejectPending(error: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const append of pending) append.reject(error);
  }

  // ---- segments ----

  private async createSegment(baseOffset: bigint): Promise<LogSegment> {
    const segment = await LogSegment.create(
      this.handles,
      this.directory,
      baseOffset,
      this.clock.wallMs(),
    );
    segment.indexLimitBytes = this.currentConfig.segmentIndexBytes;
    await this.fileSystem.syncDirectory(this.directory);
    return segment;
  }

  /**
   * Seals the active segment and starts one at `baseOffset`. The old segment is fdatasync'ed
   * before the new one exists: otherwise a crash could keep the new segment's data while losing
   * the old one's tail, leaving a hole that recovery cannot tell from a compaction gap. (Kafka
   * flushes on roll in the background and accepts such holes.) Writing the index files, which
   * recovery can rebuild, runs in the background; operations that delete or rewrite segments
   * wait for it (`settleRolls`).
   */
  private async rollNow(baseOffset: bigint): Promise<void> {
    const sealed = this.activeSegment;
    if (sealed.isEmpty) return;
    await this.beforeWrite();
    await this.makeMetadataDurable();
    await this.datasync(sealed);
    if (sealed.nextOffset > this.recoveryPoint) this.recoveryPoint = sealed.nextOffset;
    this.segments.push(
      await this.createSegment(baseOffset > sealed.nextOffset ? baseOffset : sealed.nextOffset),
    );
    const previous = this.rollSeals;
    const seal = (async (): Promise<void> => {
      await previous;
      await sealed.writeIndexes(this.fileSystem);
    })();
    // A seal that failed (disk full) leaves the indexes dirty: settleRolls and close retry it,
    // and recovery rebuilds index files that are missing.
    this.rollSeals = seal.catch(() => undefined);
  }

  /** Resolves when every rolled segment's index files are on disk. */
  private rollSeals: Promise<void> = Promise.resolve();

  private async settleRolls(): Promise<void> {
    await this.rollSeals;
    this.assertUsable();
    for (const segment of this.segments.slice(0, -1)) {
      if (segment.indexesDirty) await segment.writeIndexes(this.fileSystem).catch(() => undefined);
    }
  }

  roll(): Promise<void> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.repairIfDamaged();
      await this.rollNow(this.logEndOffset);
      await this.settleRolls();
    });
  }

  flush(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed || this.failure) return;
      await this.repairIfDamaged();
      await this.syncActive();
    });
  }

  /** flush.ms: called by the log manager's background task. */
  async flushIfDue(): Promise<void> {
    if (this.flushDue(this.clock.wallMs())) await this.flush();
  }

  private floorSegmentIndex(offset: bigint, segments = this.segments): number {
    let low = 0;
    let high = segments.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (segments[middle].baseOffset <= offset) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }

  // ---- read ----

  async read(offset: Offset, options: ReadOptions): Promise<ReadResult> {
    const segments = this.segments;
    try {
      return await this.readFrom(segments, offset, options);
    } catch (error) {
      // A segment swapped out by compaction, retention or truncation mid-read: read again from
      // the current segment list (which reports OFFSET_OUT_OF_RANGE if the data is gone).
      if (segments === this.segments || error instanceof StorageError) throw error;
      return this.readFrom(this.segments, offset, options);
    }
  }

  private async readFrom(
    segments: LogSegment[],
    offset: Offset,
    options: ReadOptions,
  ): Promise<ReadResult> {
    this.assertUsable();
    const end = this.logEndOffset;
    if (offset < this.startOffset || offset > end)
      throw new OffsetOutOfRangeError(offset, this.startOffset, end);
    if (offset === end) return { buffers: [], sizeBytes: 0 };
    const maxOffset = options.maxOffset ?? end;
    for (let index = this.floorSegmentIndex(offset, segments); index < segments.length; index++) {
      const segment = segments[index];
      const result = await segment.read(offset < segment.baseOffset ? segment.baseOffset : offset, {
        maxBytes: options.maxBytes,
        maxOffset,
        minOneBatch: options.minOneBatch ?? false,
        verifyChecksums: this.verifyReadChecksums,
        // Only the tail this process wrote to the active segment is known to be in the page cache.
        recentlyWrittenFrom:
          index === segments.length - 1
            ? Math.max(segment.writtenHereFrom, segment.sizeBytes - recentlyWrittenBytes)
            : Number.POSITIVE_INFINITY,
      });
      if (result.pastEnd) continue;
      if (!result.buffer || result.buffer.length === 0) return { buffers: [], sizeBytes: 0 };
      return { buffers: [result.buffer], sizeBytes: result.buffer.length };
    }
    return { buffers: [], sizeBytes: 0 };
  }

  async offsetForTimestamp(timestampMs: TimestampMs): Promise<TimestampOffset | null> {
    this.assertUsable();
    const boundary = this.boundaryOffset(timestampMs);
    if (boundary) return boundary;
    if (timestampMs === listOffsetsTimestamp.maxTimestamp) {
      let best: LogSegment | undefined;
      for (const segment of this.segments) {
        if (!segment.isEmpty && (!best || segment.maxTimestamp > best.maxTimestamp)) best = segment;
      }
      if (!best || best.maxTimestamp < 0n) return null;
      const batch = await best.findBatch(best.offsetOfMaxTimestamp);
      if (!batch) return null;
      const bytes = await best.readBytes(batch.position, batch.sizeBytes);
      const record = recordWithMaxTimestamp(bytes, this.codecs);
      return { ...record, leaderEpoch: batch.partitionLeaderEpoch };
    }
    if (timestampMs < 0n) return null;
    for (const segment of this.segments) {
      if (segment.isEmpty || segment.maxTimestamp < timestampMs) continue;
      await segment.loadDeferredIndexes();
      // One walk from the time index's floor: batches before it are skipped, not read twice.
      const floor = segment.timeIndex.floorOffset(timestampMs);
      const start = segment.walkStartPosition(floor);
      let found: BatchSummary | null = null;
      await walkBatchHeaders(segment.file, start, segment.sizeBytes, (summary) => {
        if (summary.lastOffset < floor) return true;
        if (summary.maxTimestamp >= timestampMs && summary.lastOffset >= this.startOffset) {
          found = summary;
          return false;
        }
        return true;
      });
      if (!found) continue;
      const batch: BatchSummary = found;
      const bytes = await segment.readBytes(batch.position, batch.sizeBytes);
      const record = firstRecordAtOrAfter(bytes, timestampMs, this.startOffset, this.codecs);
      return { ...record, leaderEpoch: batch.partitionLeaderEpoch };
    }
    return null;
  }

  // ---- truncation and deletion ----

  deleteRecordsBefore(offset: Offset): Promise<Offset> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.settleRolls();
      if (offset > this.logEndOffset)
        throw new OffsetOutOfRangeError(offset, this.startOffset, this.logEndOffset);
      if (offset > this.startOffset) {
        this.startOffset = offset;
        if (this.epochs.truncateFromStart(offset)) await this.writeLeaderEpochs();
        await this.deleteSegmentsBelowStart();
      }
      return this.startOffset;
    });
  }

  private async deleteSegmentsBelowStart(): Promise<number> {
    let count = 0;
    while (
      count < this.segments.length - 1 &&
      this.segments[count + 1].baseOffset <= this.startOffset
    )
      count++;
    return this.deleteOldestSegments(count);
  }

  /** Unlinks the `count` oldest segments from the log; files go after fileDeleteDelayMs. */
  private async deleteOldestSegments(count: number): Promise<number> {
    if (count <= 0) return 0;
    await this.beforeWrite();
    const removed = this.segments.slice(0, count);
    this.segments = this.segments.slice(count);
    if (this.segments[0].baseOffset > this.startOffset)
      this.startOffset = this.segments[0].baseOffset;
    let freed = 0;
    for (const segment of removed) {
      freed += segment.sizeBytes;
      await this.scheduleSegmentDeletion(segment);
    }
    // After the deletions, which free space: a checkpoint that cannot be written on a full disk
    // stays stale, which is harmless (loading trims it to the log start) and is rewritten later.
    if (this.epochs.truncateFromStart(this.startOffset))
      await this.writeLeaderEpochs().catch(() => undefined);
    return freed;
  }

  private async scheduleSegmentDeletion(segment: LogSegment): Promise<void> {
    const suffixes = [
      segmentFileSuffix.log,
      segmentFileSuffix.index,
      segmentFileSuffix.timeIndex,
      segmentFileSuffix.transactionIndex,
    ];
    const renamed: string[] = [];
    for (const suffix of suffixes) {
      const path = segment.path(suffix);
      if (await this.fileSystem.exists(path)) {
        await this.fileSystem.rename(path, path + deletedSuffix);
        renamed.push(path + deletedSuffix);
        // Reads in flight may reopen the file (evicted descriptor) until it is removed.
        if (suffix === segmentFileSuffix.log) segment.file.renamed(path + deletedSuffix);
      }
    }
    const remove = async (): Promise<void> => {
      await segment.close().catch(() => undefined);
      for (const path of renamed) await this.fileSystem.removeFile(path).catch(() => undefined);
    };
    const delayMs = this.currentConfig.fileDeleteDelayMs;
    if (delayMs <= 0 || this.closed) {
      await remove();
      return;
    }
    const timer = this.clock.schedule(delayMs, () => {
      this.deletionTimers.delete(timer);
      void remove();
    });
    this.deletionTimers.add(timer);
  }

  private async removeSegmentFiles(baseOffset: bigint): Promise<void> {
    for (const suffix of Object.values(segmentFileSuffix)) {
      await this.fileSystem.removeFile(
        joinPath(this.directory, segmentFileName(baseOffset, suffix)),
      );
    }
  }

  truncateTo(offset: Offset): Promise<void> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.repairIfDamaged();
      await this.settleRolls();
      await this.withDamageOnFailure(() => this.truncateNow(offset));
    });
  }

  /** Runs an operation that writes or syncs the active segment; a failure damages the log. */
  private async withDamageOnFailure(operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      this.noteDamage(this.logEndOffset, error as Error, { syncFailed: true });
      throw this.writeFailure(error as Error);
    }
  }

  private async truncateNow(offset: Offset): Promise<void> {
    if (offset >= this.logEndOffset) {
      // No batch goes, but an epoch this replica began at its LEO as leader and never wrote to
      // goes (as Kafka does): kept, it would be the follower's LastFetchedEpoch for ever and
      // the leader would answer the same divergence again and again.
      if (this.epochs.truncateFromEnd(this.logEndOffset)) await this.writeLeaderEpochs();
      return;
    }
    await this.beforeWrite();
    if (offset <= this.segments[0].baseOffset || offset < this.startOffset) {
      await this.truncateFullyNow(offset < this.startOffset ? offset : this.segments[0].baseOffset);
      return;
    }
    const keepIndex = this.floorSegmentIndex(offset);
    const dropped = this.segments.slice(keepIndex + 1);
    this.segments = this.segments.slice(0, keepIndex + 1);
    // Newest first: a crash part-way leaves a prefix of the log, never a hole.
    for (const segment of dropped.reverse()) {
      await segment.close();
      await this.removeSegmentFiles(segment.baseOffset);
    }
    const segment = this.activeSegment;
    const batch = await segment.findBatch(offset);
    await segment.truncateTo(batch ? batch.position : segment.sizeBytes);
    await this.removeSegmentIndexFiles(segment);
    // Kafka's rule: the LEO becomes the target, or the base of the batch containing it. A
    // target in a gap left by compaction is past the last batch: a new segment named after it
    // records that LEO on disk (a restart derives the LEO from the active segment).
    const end = batch && batch.baseOffset < offset ? batch.baseOffset : offset;
    if (end > segment.nextOffset) {
      await segment.writeIndexes(this.fileSystem);
      this.segments.push(await this.createSegment(end));
    }
    this.afterTruncation();
    if (this.epochs.truncateFromEnd(this.logEndOffset)) await this.writeLeaderEpochs();
  }

  /** The now-active segment's index files are stale; they are rewritten at roll or close. */
  private async removeSegmentIndexFiles(segment: LogSegment): Promise<void> {
    await this.fileSystem.removeFile(segment.path(segmentFileSuffix.index));
    await this.fileSystem.removeFile(segment.path(segmentFileSuffix.timeIndex));
  }

  private afterTruncation(): void {
    const end = this.logEndOffset;
    if (this.watermark > end) this.watermark = end;
    if (this.recoveryPoint > end) this.recoveryPoint = end;
    if (this.cleanerCheckpoint > end) this.cleanerCheckpoint = end;
    if (this.startOffset > end) this.startOffset = end;
    this.pendingEnd = null;
    this.notifier.notify();
  }

  truncateFullyAndStartAt(offset: Offset): Promise<void> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.repairIfDamaged();
      await this.settleRolls();
      await this.withDamageOnFailure(() => this.truncateFullyNow(offset));
    });
  }

  private async truncateFullyNow(offset: bigint): Promise<void> {
    await this.beforeWrite();
    // The old segments stay the log's until the new one exists: its offsets (LEO, log start)
    // and reads are used between the file operations (fetches, the ISR check) and show the old
    // log until the swap, then the new one. Their files go as retention's do (renamed, removed
    // after fileDeleteDelayMs: reads in flight finish), newest first: a crash part-way leaves a
    // prefix of the log, never a hole.
    for (const segment of [...this.segments].reverse()) {
      await this.scheduleSegmentDeletion(segment);
    }
    this.segments = [await this.createSegment(offset)];
    this.startOffset = offset;
    this.epochs.clear();
    await this.writeLeaderEpochs();
    this.watermark = offset;
    this.recoveryPoint = offset;
    this.cleanerCheckpoint = offset;
    this.afterTruncation();
  }

  // ---- leader epochs ----

  beginLeaderEpoch(epoch: number): Promise<void> {
    return this.exclusive(async () => {
      this.assertUsable();
      if (this.epochs.assign(epoch, this.pendingEndOffset)) await this.writeLeaderEpochs();
    });
  }

  // ---- configuration, retention, compaction ----

  updateConfig(config: Partial<LogConfig>): void {
    this.currentConfig = resolveLogConfig(this.currentConfig, config);
    for (const segment of this.segments)
      segment.indexLimitBytes = this.currentConfig.segmentIndexBytes;
  }

  enforceRetention(): Promise<number> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.settleRolls();
      let freed = await this.deleteSegmentsBelowStart();
      if (!isDeleteEnabled(this.currentConfig)) return freed;
      const { retentionMs, retentionBytes } = this.currentConfig;
      const nowMs = BigInt(this.clock.wallMs());
      const isExpired = (segment: LogSegment): boolean =>
        retentionMs >= 0 &&
        (segment.isEmpty
          ? segment !== this.activeSegment
          : nowMs - segment.maxTimestamp > BigInt(retentionMs));
      // Kafka rolls an expired active segment so that it can be deleted too. Retention must work
      // on a damaged log (it frees space), but then leaves the active segment alone.
      await this.repairIfDamaged().catch(() => undefined);
      if (!this.damage && this.segments.every(isExpired)) await this.rollNow(this.logEndOffset);
      let size = this.sizeBytes;
      let count = 0;
      while (count < this.segments.length - 1) {
        const segment = this.segments[count];
        const oversized = retentionBytes >= 0 && size - segment.sizeBytes >= retentionBytes;
        if (!(isExpired(segment) || oversized)) break;
        size -= segment.sizeBytes;
        count++;
      }
      freed += await this.deleteOldestSegments(count);
      return freed;
    });
  }

  compact(): Promise<number> {
    return this.exclusive(async () => {
      this.assertUsable();
      await this.settleRolls();
      if (!isCompacted(this.currentConfig)) return 0;
      await this.beforeWrite();
      return compactFileLog(this, {
        fileSystem: this.fileSystem,
        nowMs: this.clock.wallMs(),
        clock: this.clock,
        config: this.currentConfig,
        codecs: this.codecs,
        ioBytesPerSecondMax: this.cleanerIoBytesPerSecondMax,
      });
    });
  }

  /** The cleaner's output file for a group starting at `baseOffset`. */
  createDetachedSegment(baseOffset: bigint, suffix: string): Promise<LogSegment> {
    return LogSegment.createNamed(
      this.handles,
      this.directory,
      baseOffset,
      this.clock.wallMs(),
      suffix,
    );
  }

  /**
   * Used by the cleaner (inside `exclusive`): swaps `replaced` segments for `replacement`. Old
   * handles stay open for fileDeleteDelayMs so that reads in progress finish (Linux keeps
   * unlinked files readable).
   */
  async replaceSegments(replaced: LogSegment[], replacement: LogSegment): Promise<void> {
    const first = this.segments.indexOf(replaced[0]);
    // A new array, so reads in flight can tell that the list changed under them.
    this.segments = [
      ...this.segments.slice(0, first),
      replacement,
      ...this.segments.slice(first + replaced.length),
    ];
    for (const segment of replaced) {
      // Reads in flight keep reading the old file through its descriptor, never by name.
      segment.file.unlinked();
      if (segment.baseOffset !== replacement.baseOffset)
        await this.removeSegmentFiles(segment.baseOffset);
      this.closeLater(segment);
    }
    await this.fileSystem.removeFile(replacement.path(segmentFileSuffix.index));
    await this.fileSystem.removeFile(replacement.path(segmentFileSuffix.timeIndex));
  }

  private closeLater(segment: LogSegment): void {
    const delayMs = this.currentConfig.fileDeleteDelayMs;
    if (delayMs <= 0) {
      void segment.close().catch(() => undefined);
      return;
    }
    const timer = this.clock.schedule(delayMs, () => {
      this.deletionTimers.delete(timer);
      void segment.close().catch(() => undefined);
    });
    this.deletionTimers.add(timer);
  }

  // ---- close ----

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      if (this.pending.length > 0)
        this.rejectPending(new LogClosedError(`${this.topic}-${this.partition}`));
      await this.rollSeals;
      let failure: unknown = null;
      if (!this.failure) {
        try {
          await this.repairIfDamaged();
          // A log nobody wrote to since its last sync costs no fdatasync at stop.
          if (this.logEndOffset > this.recoveryPoint || this.unsyncedMessages > 0)
            await this.syncActive();
          for (const segment of this.segments) await segment.writeIndexes(this.fileSystem);
        } catch (error) {
          failure = error;
        }
      }
      this.closed = true;
      for (const timer of this.deletionTimers) timer.cancel();
      this.deletionTimers.clear();
      for (const segment of this.segments) await segment.close().catch(() => undefined);
      this.notifier.notify();
      // The log manager then writes no clean-shutdown marker: the next start recovers.
      if (failure) throw failure;
    });
  }

  /**
   * Stops without flushing, syncing or writing indexes, as a crash would (tests). Handles are
   * closed, which flushes nothing.
   */
  abandon(): void {
    this.closed = true;
    for (const timer of this.deletionTimers) timer.cancel();
    if (this.pending.length > 0)
      this.rejectPending(new LogClosedError(`${this.topic}-${this.partition}`));
    for (const segment of this.segments) void segment.close().catch(() => undefined);
  }
}
