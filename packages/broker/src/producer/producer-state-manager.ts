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
 */

import type { ValidatedBatch } from '@gregor/protocol';
import type { AppendOptions, AppendResult, FileSystem, PartitionLog } from '@gregor/storage';
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
    for (const log of logs) await this.forLog(log).load();
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
    // Also for partitions without producers: the next start then skips replaying their logs.
    await this.snapshotAll({ includeEmpty: true });
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
        await partition.snapshot(options.includeEmpty ?? false);
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
