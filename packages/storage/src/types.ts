// The public shape of the storage engine: one interface, two implementations (memory, file).

import type { LogConfig } from './config.js';
import type { EpochEndOffset, LeaderEpochEntry } from './leader-epoch-cache.js';

/** Kafka offsets are int64 on the wire. */
export type Offset = bigint;
/** Milliseconds since the epoch, as carried in record batches. */
export type TimestampMs = bigint;
export type LeaderEpoch = number;

/** What an append waits for before it resolves; see DESIGN.md "Durability". */
export type Durability = 'fsync' | 'write';

export interface AppendOptions {
  durability: Durability;
  /** Stamped as partitionLeaderEpoch on every batch (outside the CRC). */
  leaderEpoch: LeaderEpoch;
}

export interface FollowerAppendOptions {
  durability: Durability;
}

export interface AppendResult {
  baseOffset: Offset;
  lastOffset: Offset;
  /** The append time when the log uses LogAppendTime, otherwise -1 (Kafka's ProduceResponse). */
  logAppendTimeMs: TimestampMs;
  logStartOffset: Offset;
}

export interface ReadOptions {
  /** Stop before a batch that would take the result past this many bytes. */
  maxBytes: number;
  /** Exclusive bound: only batches whose last offset is below it (high watermark / LSO). */
  maxOffset?: Offset;
  /** Return the first batch even when it is larger than maxBytes (KIP-74). */
  minOneBatch?: boolean;
}

export interface ReadResult {
  /** Whole batches, as stored; the first one contains the requested offset. */
  buffers: Buffer[];
  sizeBytes: number;
}

export interface TimestampOffset {
  offset: Offset;
  timestamp: TimestampMs;
  leaderEpoch: LeaderEpoch;
}

/** ListOffsets special timestamps (Kafka's ListOffsetsRequest constants). */
export const listOffsetsTimestamp = {
  latest: -1n,
  earliest: -2n,
  maxTimestamp: -3n,
} as const;

export type WaitBound = 'logEnd' | 'highWatermark';

export interface WaitOptions {
  /** Resolve once this bound is greater than `offset`. */
  bound: WaitBound;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly config: Readonly<LogConfig>;
  readonly logStartOffset: Offset;
  /** Offset the next appended record gets; everything below it has been written. */
  readonly logEndOffset: Offset;
  /** Kept here for read bounds and long-poll wake-ups; the broker's Partition alone moves it. */
  readonly highWatermark: Offset;
  /** Bytes of all segments. */
  readonly sizeBytes: number;
  readonly segmentCount: number;

  /** Set by the broker's Partition (replication layer); capped at the LEO. */
  setHighWatermark(offset: Offset): void;
  append(batches: Buffer, options: AppendOptions): Promise<AppendResult>;
  /** Replication: keeps the batches' offsets and leader epochs. */
  appendAsFollower(batches: Buffer, options: FollowerAppendOptions): Promise<AppendResult>;
  read(offset: Offset, options: ReadOptions): Promise<ReadResult>;
  /** ListOffsets; accepts the special timestamps in `listOffsetsTimestamp`. */
  offsetForTimestamp(timestampMs: TimestampMs): Promise<TimestampOffset | null>;
  /** DeleteRecords: advances the log start offset; whole segments go in the background. */
  deleteRecordsBefore(offset: Offset): Promise<Offset>;
  /** Replication: drops every batch from the one containing `offset` onwards. */
  truncateTo(offset: Offset): Promise<void>;
  /** Replication: empties the log and restarts it at `offset` (follower out of range). */
  truncateFullyAndStartAt(offset: Offset): Promise<void>;
  /** A new leader records (epoch, LEO) before it takes writes (KIP-101). */
  beginLeaderEpoch(epoch: LeaderEpoch): Promise<void>;
  leaderEpochEntries(): LeaderEpochEntry[];
  latestLeaderEpoch(): LeaderEpoch | undefined;
  /** OffsetForLeaderEpoch (KIP-101/279). */
  endOffsetForEpoch(epoch: LeaderEpoch): EpochEndOffset;
  /** Long-poll fetch: resolves true once `bound` > offset, false on timeout or abort. */
  waitForData(offset: Offset, options: WaitOptions): Promise<boolean>;
  /** Called after every change of LEO or HW; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Forces a new active segment (tests, admin). */
  roll(): Promise<void>;
  /** fdatasync everything written so far. */
  flush(): Promise<void>;
  updateConfig(config: Partial<LogConfig>): void;
  /** Deletes segments by retention.ms / retention.bytes / log start offset; returns bytes freed. */
  enforceRetention(): Promise<number>;
  /** One compaction pass if the policy includes compact; returns bytes freed. */
  compact(): Promise<number>;
  close(): Promise<void>;
}

/** The one injected clock (wall time for timestamps and retention, timers for background tasks). */
export { type Clock, systemClock, type TimerHandle } from '@gregor/protocol';

export interface LogManager {
  getLog(topic: string, partition: number): PartitionLog | undefined;
  /** Returns the existing log when there is one. */
  createLog(topic: string, partition: number, config?: Partial<LogConfig>): Promise<PartitionLog>;
  /** `createLog` for several partitions of one topic, with the durability work batched. */
  createLogs(
    topic: string,
    partitions: readonly number[],
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog[]>;
  deleteLog(topic: string, partition: number): Promise<void>;
  updateConfig(topic: string, config: Partial<LogConfig>): void;
  allLogs(): PartitionLog[];
  /** One retention pass over every log (also run by the background task). */
  enforceRetention(): Promise<number>;
  /** One cleaner pass over every compacted log (also run by the background task). */
  runCleaner(): Promise<number>;
  /** Writes recovery-point and log-start-offset checkpoints. */
  checkpoint(): Promise<void>;
  /** Flushes every log, writes checkpoints and the clean-shutdown marker. */
  close(): Promise<void>;
}
