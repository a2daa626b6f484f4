// The in-memory PartitionLog: the reference model the file log is tested against (same
// conformance suite), and a fast log for broker unit tests. Batches are kept as copies of the
// appended bytes; "segments" are single batches, so retention works at batch granularity.

import type { CompressionCodecs } from '@gregor/protocol';
import { type BatchSummary, stampLeaderBatches, summarizeBatches } from './batch-layout.js';
import { compactBatches } from './compaction.js';
import {
  defaultLogConfig,
  isCompacted,
  isDeleteEnabled,
  type LogConfig,
  resolveLogConfig,
} from './config.js';
import { LogClosedError, OffsetOutOfRangeError } from './errors.js';
import { PartitionLogBase } from './partition-log-base.js';
import { firstRecordAtOrAfter, recordWithMaxTimestamp } from './record-search.js';
import type {
  AppendOptions,
  AppendResult,
  Clock,
  FollowerAppendOptions,
  LogManager,
  Offset,
  PartitionLog,
  ReadOptions,
  ReadResult,
  TimestampMs,
  TimestampOffset,
} from './types.js';
import { listOffsetsTimestamp } from './types.js';

interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  partitionLeaderEpoch: number;
  buffer: Buffer;
}

export interface MemoryPartitionLogOptions {
  topic: string;
  partition: number;
  config: LogConfig;
  clock: Clock;
  codecs?: CompressionCodecs;
}

export class MemoryPartitionLog extends PartitionLogBase implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  private currentConfig: LogConfig;
  private readonly clock: Clock;
  private batches: StoredBatch[] = [];
  private startOffset = 0n;
  private endOffset = 0n;
  /** The cleaner's progress: batches below it have been compacted. */
  private cleanedUpTo = 0n;
  /** The latest KIP-534 delete horizon the cleaner kept (compaction.ts). */
  private latestDeleteHorizonMs: bigint | null = null;

  constructor(options: MemoryPartitionLogOptions) {
    super(options.clock);
    this.topic = options.topic;
    this.partition = options.partition;
    this.currentConfig = options.config;
    this.clock = options.clock;
    this.codecs = options.codecs;
  }

  private readonly codecs: CompressionCodecs | undefined;

  get config(): Readonly<LogConfig> {
    return this.currentConfig;
  }
  get logStartOffset(): Offset {
    return this.startOffset;
  }
  get logEndOffset(): Offset {
    return this.endOffset;
  }
  get sizeBytes(): number {
    return this.batches.reduce((sum, batch) => sum + batch.buffer.length, 0);
  }
  get segmentCount(): number {
    return Math.max(1, this.batches.length);
  }

  async append(input: Buffer, options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    const buffer = Buffer.from(input);
    const summaries = summarizeBatches(buffer);
    const logAppendTimeMs =
      this.currentConfig.messageTimestampType === 'LogAppendTime'
        ? BigInt(this.clock.wallMs())
        : null;
    const baseOffset = this.endOffset;
    const next = stampLeaderBatches(buffer, summaries, {
      firstOffset: baseOffset,
      leaderEpoch: options.leaderEpoch,
      logAppendTimeMs,
    });
    this.epochs.assign(options.leaderEpoch, baseOffset);
    this.storeBatches(buffer, summaries);
    await Promise.resolve();
    return {
      baseOffset,
      lastOffset: next - 1n,
      logAppendTimeMs: logAppendTimeMs ?? -1n,
      logStartOffset: this.startOffset,
    };
  }

  async appendAsFollower(input: Buffer, _options: FollowerAppendOptions): Promise<AppendResult> {
    this.assertOpen();
    const buffer = Buffer.from(input);
    const summaries = summarizeBatches(buffer);
    if (summaries[0].baseOffset < this.endOffset) {
      throw new RangeError(
        `follower append at ${summaries[0].baseOffset} below LEO ${this.endOffset}`,
      );
    }
    if (this.batches.length === 0 && summaries[0].baseOffset > this.endOffset) {
      // Kafka's truncateFullyAndStartAt: the leader's log starts later than ours ends.
      this.startOffset = summaries[0].baseOffset;
      this.endOffset = summaries[0].baseOffset;
      this.epochs.clear();
    }
    for (const summary of summaries)
      this.epochs.assign(summary.partitionLeaderEpoch, summary.baseOffset);
    this.storeBatches(buffer, summaries);
    await Promise.resolve();
    const last = summaries[summaries.length - 1];
    return {
      baseOffset: summaries[0].baseOffset,
      lastOffset: last.lastOffset,
      logAppendTimeMs: -1n,
      logStartOffset: this.startOffset,
    };
  }

  private storeBatches(buffer: Buffer, summaries: BatchSummary[]): void {
    for (const summary of summaries) {
      this.batches.push({
        baseOffset: summary.baseOffset,
        lastOffset: summary.lastOffset,
        maxTimestamp: summary.maxTimestamp,
        partitionLeaderEpoch: summary.partitionLeaderEpoch,
        buffer: buffer.subarray(summary.position, summary.position + summary.sizeBytes),
      });
    }
    this.endOffset = summaries[summaries.length - 1].lastOffset + 1n;
    this.notifier.notify();
  }

  async read(offset: Offset, options: ReadOptions): Promise<ReadResult> {
    this.assertOpen();
    if (offset < this.startOffset || offset > this.endOffset) {
      throw new OffsetOutOfRangeError(offset, this.startOffset, this.endOffset);
    }
    const buffers: Buffer[] = [];
    let sizeBytes = 0;
    const maxOffset = options.maxOffset ?? this.endOffset;
    for (let index = this.indexOfBatchContaining(offset); index < this.batches.length; index++) {
      const batch = this.batches[index];
      if (batch.lastOffset >= maxOffset) break;
      const fits = sizeBytes + batch.buffer.length <= options.maxBytes;
      if (!fits && !(buffers.length === 0 && options.minOneBatch)) break;
      buffers.push(batch.buffer);
      sizeBytes += batch.buffer.length;
    }
    await Promise.resolve();
    return { buffers, sizeBytes };
  }

  /** First batch whose last offset is at or above `offset`. */
  private indexOfBatchContaining(offset: Offset): number {
    let low = 0;
    let high = this.batches.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.batches[middle].lastOffset < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  async offsetForTimestamp(timestampMs: TimestampMs): Promise<TimestampOffset | null> {
    this.assertOpen();
    await Promise.resolve();
    const boundary = this.boundaryOffset(timestampMs);
    if (boundary) return boundary;
    if (timestampMs === listOffsetsTimestamp.maxTimestamp) {
      let best: StoredBatch | undefined;
      for (const batch of this.batches)
        if (!best || batch.maxTimestamp > best.maxTimestamp) best = batch;
      if (!best) return null;
      return {
        ...recordWithMaxTimestamp(best.buffer, this.codecs),
        leaderEpoch: best.partitionLeaderEpoch,
      };
    }
    if (timestampMs < 0n) return null;
    for (const batch of this.batches) {
      if (batch.maxTimestamp >= timestampMs && batch.lastOffset >= this.startOffset) {
        const record = firstRecordAtOrAfter(
          batch.buffer,
          timestampMs,
          this.startOffset,
          this.codecs,
        );
        return { ...record, leaderEpoch: batch.partitionLeaderEpoch };
      }
    }
    return null;
  }

  async deleteRecordsBefore(offset: Offset): Promise<Offset> {
    this.assertOpen();
    if (offset > this.endOffset)
      throw new OffsetOutOfRangeError(offset, this.startOffset, this.endOffset);
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.batches = this.batches.filter((batch) => batch.lastOffset >= offset);
      this.epochs.truncateFromStart(offset);
    }
    await Promise.resolve();
    return this.startOffset;
  }

  async truncateTo(offset: Offset): Promise<void> {
    this.assertOpen();
    if (offset >= this.endOffset) {
      // An epoch begun at the LEO and never written to goes (see FilePartitionLog.truncateNow).
      this.epochs.truncateFromEnd(this.endOffset);
      return;
    }
    if (offset < this.startOffset) return this.truncateFullyAndStartAt(offset);
    const keep = this.indexOfBatchContaining(offset);
    // The batch containing the target goes; a target in a compaction gap becomes the LEO.
    const dropped = this.batches[keep];
    const newEnd = dropped && dropped.baseOffset < offset ? dropped.baseOffset : offset;
    this.batches = this.batches.slice(0, keep);
    this.endOffset = newEnd < this.startOffset ? this.startOffset : newEnd;
    this.afterTruncation();
    await Promise.resolve();
  }

  async truncateFullyAndStartAt(offset: Offset): Promise<void> {
    this.assertOpen();
    this.batches = [];
    this.startOffset = offset;
    this.endOffset = offset;
    this.epochs.clear();
    this.afterTruncation();
    await Promise.resolve();
  }

  private afterTruncation(): void {
    this.epochs.truncateFromEnd(this.endOffset);
    if (this.watermark > this.endOffset) this.watermark = this.endOffset;
    if (this.cleanedUpTo > this.endOffset) this.cleanedUpTo = this.endOffset;
    this.notifier.notify();
  }

  async beginLeaderEpoch(epoch: number): Promise<void> {
    this.epochs.assign(epoch, this.endOffset);
    await Promise.resolve();
  }

  async roll(): Promise<void> {
    await Promise.resolve();
  }

  async flush(): Promise<void> {
    await Promise.resolve();
  }

  updateConfig(config: Partial<LogConfig>): void {
    this.currentConfig = resolveLogConfig(this.currentConfig, config);
  }

  async enforceRetention(): Promise<number> {
    this.assertOpen();
    if (!isDeleteEnabled(this.currentConfig)) return 0;
    const { retentionMs, retentionBytes } = this.currentConfig;
    const nowMs = BigInt(this.clock.wallMs());
    let size = this.sizeBytes;
    let removed = 0;
    let freed = 0;
    while (removed < this.batches.length) {
      const batch = this.batches[removed];
      const expired = retentionMs >= 0 && nowMs - batch.maxTimestamp > BigInt(retentionMs);
      const oversized = retentionBytes >= 0 && size - batch.buffer.length >= retentionBytes;
      if (!(expired || oversized)) break;
      size -= batch.buffer.length;
      freed += batch.buffer.length;
      removed++;
    }
    if (removed > 0) {
      const newStart =
        removed < this.batches.length ? this.batches[removed].baseOffset : this.endOffset;
      this.batches = this.batches.slice(removed);
      if (newStart > this.startOffset) this.startOffset = newStart;
      this.epochs.truncateFromStart(this.startOffset);
    }
    await Promise.resolve();
    return freed;
  }

  async compact(): Promise<number> {
    this.assertOpen();
    if (!isCompacted(this.currentConfig) || this.batches.length === 0) return 0;
    const nowMs = this.clock.wallMs();
    const input = this.batches.slice();
    const inputLength = input.length;
    const inputFirst = input[0];
    const inputLast = input[inputLength - 1];
    const result = await compactBatches({
      batches: input.map((batch) => batch.buffer),
      nowMs,
      config: this.currentConfig,
      cleanableEndOffset: this.endOffset,
      firstDirtyOffset: this.cleanedUpTo,
      codecs: this.codecs,
      latestDeleteHorizonMs: this.latestDeleteHorizonMs,
    });
    // Codecs ran off the event loop: appends may have landed meanwhile (kept after the result);
    // a truncation or deletion meanwhile abandons this pass.
    if (this.batches[0] !== inputFirst || this.batches[inputLength - 1] !== inputLast) return 0;
    const appendedMeanwhile = this.batches.slice(inputLength);
    const cleaned = result.batches.map((buffer) => {
      const [summary] = summarizeBatches(buffer);
      return {
        baseOffset: summary.baseOffset,
        lastOffset: summary.lastOffset,
        maxTimestamp: summary.maxTimestamp,
        partitionLeaderEpoch: summary.partitionLeaderEpoch,
        buffer,
      };
    });
    this.batches = [...cleaned, ...appendedMeanwhile];
    this.cleanedUpTo = result.cleanedUpTo;
    this.latestDeleteHorizonMs = result.latestDeleteHorizonMs;
    const bytesOf = (batches: StoredBatch[]) =>
      batches.reduce((sum, batch) => sum + batch.buffer.length, 0);
    return bytesOf(input) - bytesOf(cleaned);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notifier.notify();
    await Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError(`${this.topic}-${this.partition}`);
  }
}

export interface MemoryLogManagerOptions {
  clock: Clock;
  /** Codecs for compressed batches (compaction, ListOffsets precision). */
  codecs?: CompressionCodecs;
  defaultConfig?: Partial<LogConfig>;
}

export class MemoryLogManager implements LogManager {
  private readonly logs = new Map<string, MemoryPartitionLog>();
  private readonly topicConfigs = new Map<string, Partial<LogConfig>>();
  private readonly baseConfig: LogConfig;

  constructor(private readonly options: MemoryLogManagerOptions) {
    this.baseConfig = resolveLogConfig(defaultLogConfig, options.defaultConfig);
  }

  static async open(options: MemoryLogManagerOptions): Promise<MemoryLogManager> {
    return new MemoryLogManager(options);
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  async createLog(
    topic: string,
    partition: number,
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog> {
    const existing = this.getLog(topic, partition);
    if (existing) return existing;
    if (config) this.topicConfigs.set(topic, { ...this.topicConfigs.get(topic), ...config });
    const log = new MemoryPartitionLog({
      topic,
      partition,
      config: resolveLogConfig(this.baseConfig, this.topicConfigs.get(topic)),
      clock: this.options.clock,
      codecs: this.options.codecs,
    });
    this.logs.set(`${topic}-${partition}`, log);
    return log;
  }

  async createLogs(
    topic: string,
    partitions: readonly number[],
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog[]> {
    const logs: PartitionLog[] = [];
    for (const partition of partitions) logs.push(await this.createLog(topic, partition, config));
    return logs;
  }

  async deleteLog(topic: string, partition: number): Promise<void> {
    const log = this.logs.get(`${topic}-${partition}`);
    if (!log) return;
    this.logs.delete(`${topic}-${partition}`);
    await log.close();
  }

  updateConfig(topic: string, config: Partial<LogConfig>): void {
    this.topicConfigs.set(topic, { ...this.topicConfigs.get(topic), ...config });
    for (const log of this.logs.values()) if (log.topic === topic) log.updateConfig(config);
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  async enforceRetention(): Promise<number> {
    let freed = 0;
    for (const log of this.logs.values()) freed += await log.enforceRetention();
    return freed;
  }

  async runCleaner(): Promise<number> {
    let freed = 0;
    for (const log of this.logs.values()) freed += await log.compact();
    return freed;
  }

  async checkpoint(): Promise<void> {
    await Promise.resolve();
  }

  async close(): Promise<void> {
    for (const log of this.logs.values()) await log.close();
  }
}
