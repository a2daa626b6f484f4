/**
 * Producer state of every partition of this broker: one PartitionProducers per partition log
 * (owned and driven by that partition's Partition), the transaction verifier they share, periodic
 * snapshots so deduplication survives a restart, and producer.id.expiration.ms.
 *
 * Recovery (Kafka's ProducerStateManager.truncateAndReload): for each log, load the newest
 * `<offset>.snapshot` at or below the log end, then replay the batch headers from that offset to the
 * log end (control batches are decoded to learn commit/abort). Without a snapshot the whole log is
 * replayed. Snapshots are written when no append of the partition is in flight, periodically and
 * on stop; the newest two are kept.
 *
 * Partitions without producer state cost no file at all: a stop records them, with their log end,
 * in one `producer-state-empty-checkpoint` file (in `emptyStateDirectory`), and the next start
 * loads nothing for a partition whose log still ends there, nor for a log that never held a batch
 * (a partition nobody touches then costs no I/O). The start removes the file before the broker
 * serves, so it only ever describes the logs exactly as that stop left them (a later truncation
 * and re-append could reach the same log end with other batches).
 */

import type { ValidatedBatch } from '@gregor/protocol';
import {
  type AppendOptions,
  type AppendResult,
  type FileSystem,
  joinPath,
  type PartitionLog,
  parseOffsetCheckpoint,
  serializeOffsetCheckpoint,
} from '@gregor/storage';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import {
  type DescribedProducer,
  PartitionProducers,
  type TransactionMarker,
  type TransactionVerifier,
} from './partition-producers.js';
import type { AbortedTransactionEntry, PartitionProducerState } from './producer-state.js';

export {
  type DescribedProducer,
  PartitionProducers,
  ProducerStateError,
  type TransactionMarker,
  type TransactionVerifier,
} from './partition-producers.js';

/** Partitions whose producer state is loaded at once at start-up (each a few file reads). */
const partitionsLoadedAtOnce = 16;
export const emptyStateCheckpointFile = 'producer-state-empty-checkpoint';

export interface ProducerStateManagerOptions {
  clock: Clock;
  logger: Logger;
  fileSystem: FileSystem;
  /** The partition's directory for snapshot and index files; undefined keeps state in memory. */
  directoryOf: (log: PartitionLog) => string | undefined;
  /** False once `log` was deleted (its topic deleted, or re-created as a new log). */
  isCurrent: (log: PartitionLog) => boolean;
  /** producer.id.expiration.ms */
  expirationMs: () => number;
  /** producer.id.expiration.check.interval.ms */
  expirationCheckIntervalMs: () => number;
  snapshotIntervalMs?: number;
  /** Where the stop records the partitions without producer state (the first log dir). */
  emptyStateDirectory?: string;
  /** Every current log (the stop records those without producer state). */
  allLogs?: () => readonly PartitionLog[];
}

export class ProducerStateManager {
  private readonly partitions = new Map<string, PartitionProducers>();
  private verifier: TransactionVerifier | null = null;
  private expirationTimer: TimerHandle | null = null;
  private snapshotTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly options: ProducerStateManagerOptions) {}

  setTransactionVerifier(verifier: TransactionVerifier): void {
    this.verifier = verifier;
  }

  /** Rebuilds the state of every log (before the broker serves). */
  async load(logs: readonly PartitionLog[]): Promise<void> {
    const empty = await this.takeEmptyStateCheckpoint();
    const pending = logs.filter(
      (log) =>
        log.logEndOffset > 0n && empty.get(`${log.topic}-${log.partition}`) !== log.logEndOffset,
    );
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length) await this.forLog(pending[next++]).load();
    };
    await Promise.all(Array.from({ length: partitionsLoadedAtOnce }, worker));
  }

  /** Reads and removes the stop's record of partitions without state (valid for one start). */
  private async takeEmptyStateCheckpoint(): Promise<Map<string, bigint>> {
    const directory = this.options.emptyStateDirectory;
    if (directory === undefined) return new Map();
    const path = joinPath(directory, emptyStateCheckpointFile);
    const data = await this.options.fileSystem.readFile(path);
    if (data === null) return new Map();
    await this.options.fileSystem.removeFile(path);
    await this.options.fileSystem.syncDirectory(directory);
    return parseOffsetCheckpoint(data);
  }

  /** Records every current log without producer state at its log end (see the file comment). */
  private async writeEmptyStateCheckpoint(): Promise<void> {
    const directory = this.options.emptyStateDirectory;
    const logs = this.options.allLogs?.();
    if (directory === undefined || logs === undefined) return;
    const empty = new Map<string, bigint>();
    for (const log of logs) {
      if (this.options.directoryOf(log) === undefined) continue;
      const partition = this.partitions.get(`${log.topic}\u0000${log.partition}`);
      const stateless =
        partition === undefined ||
        partition.log !== log ||
        (partition.state.producers.size === 0 &&
          partition.state.pendingCount === 0 &&
          partition.index.entries.length === 0);
      if (stateless) empty.set(`${log.topic}-${log.partition}`, log.logEndOffset);
    }
    await this.options.fileSystem.writeFileAtomic(
      joinPath(directory, emptyStateCheckpointFile),
      serializeOffsetCheckpoint(empty),
    );
  }

  start(): void {
    this.scheduleExpiration();
    this.scheduleSnapshots();
  }

  /** Writes a snapshot of every partition (after the server stopped; before the logs close). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.expirationTimer?.cancel();
    this.snapshotTimer?.cancel();
    // Partitions without producers get a line of the empty-state checkpoint instead of a snapshot
    // file each (without that file, an empty snapshot at their end, as before).
    const recordsEmpty = this.options.emptyStateDirectory !== undefined;
    await this.snapshotAll({ includeEmpty: !recordsEmpty });
    if (recordsEmpty) await this.writeEmptyStateCheckpoint();
    for (const partition of this.partitions.values()) await partition.close();
  }

  /** The producer state of `log`; a log object not seen before (created, re-created) starts empty. */
  forLog(log: PartitionLog): PartitionProducers {
    const key = `${log.topic}\u0000${log.partition}`;
    const existing = this.partitions.get(key);
    if (existing?.log === log) return existing;
    const partition = new PartitionProducers(log, this.options.directoryOf(log), {
      clock: this.options.clock,
      logger: this.options.logger,
      fileSystem: this.options.fileSystem,
      verifier: () => this.verifier,
    });
    this.partitions.set(key, partition);
    return partition;
  }

  // Log-keyed shorthands (tests, tools); the broker goes through each Partition's own state.

  append(
    log: PartitionLog,
    records: Buffer,
    batches: readonly ValidatedBatch[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    return this.forLog(log).append(records, batches, options);
  }

  writeMarker(log: PartitionLog, marker: TransactionMarker, leaderEpoch: number) {
    return this.forLog(log).writeMarker(marker, leaderEpoch);
  }

  lastStableOffset(log: PartitionLog): bigint {
    return this.forLog(log).lastStableOffset();
  }

  abortedTransactions(
    log: PartitionLog,
    startOffset: bigint,
    endOffset: bigint,
  ): AbortedTransactionEntry[] {
    return this.forLog(log).abortedTransactions(startOffset, endOffset);
  }

  describeProducers(log: PartitionLog): DescribedProducer[] {
    return this.forLog(log).describe();
  }

  stateOf(log: PartitionLog): PartitionProducerState {
    return this.forLog(log).state;
  }

  /** Snapshots every partition whose state moved since its last snapshot. */
  async snapshotAll(options: { includeEmpty?: boolean } = {}): Promise<void> {
    for (const [key, partition] of this.partitions) {
      // A deleted partition (its topic deleted, possibly while its snapshot was being written)
      // has no files left to snapshot into and no state worth keeping: forget it.
      const forget = async () => {
        this.partitions.delete(key);
        await partition.close();
      };
      if (!this.options.isCurrent(partition.log)) {
        await forget();
        continue;
      }
      try {
        // A log that never held a batch needs no snapshot: start-up loads nothing for it.
        await partition.snapshot(
          (options.includeEmpty ?? false) && partition.log.logEndOffset > 0n,
        );
      } catch (error) {
        if (!this.options.isCurrent(partition.log)) {
          await forget();
          continue;
        }
        this.options.logger.warn('producer snapshot failed', {
          topic: partition.log.topic,
          partition: partition.log.partition,
          error: String(error),
        });
      }
    }
  }

  private scheduleSnapshots(): void {
    const intervalMs = this.options.snapshotIntervalMs ?? 30_000;
    if (this.stopped || intervalMs <= 0) return;
    // Partitions without producers too: a crash then replays at most one interval of their log.
    this.snapshotTimer = this.options.clock.schedule(intervalMs, () => {
      void this.snapshotAll({ includeEmpty: true })
        .catch((error: unknown) => {
          // A failed snapshot (e.g. disk full) only means a longer replay after a crash.
          this.options.logger.warn('producer state snapshot failed', {
            error: error instanceof Error ? error.message : String(error),
          });
        })
        .finally(() => this.scheduleSnapshots());
    });
  }

  /** producer.id.expiration.ms: drops idle producers of every partition. */
  expireProducers(): number {
    const nowMs = this.options.clock.wallMs();
    const expirationMs = this.options.expirationMs();
    let removed = 0;
    for (const partition of this.partitions.values()) {
      removed += partition.state.expire(nowMs, expirationMs);
    }
    return removed;
  }

  private scheduleExpiration(): void {
    if (this.stopped) return;
    this.expirationTimer = this.options.clock.schedule(
      this.options.expirationCheckIntervalMs(),
      () => {
        this.expireProducers();
        this.scheduleExpiration();
      },
    );
  }
}
