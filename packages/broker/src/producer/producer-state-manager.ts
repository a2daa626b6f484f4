/**
 * Producer state of every partition of this broker: the idempotence and transaction checks on
 * produce, transaction markers, the last stable offset and the aborted-transaction index for
 * read_committed fetches, snapshots so deduplication survives a restart, and
 * producer.id.expiration.ms.
 *
 * Recovery (Kafka's ProducerStateManager.truncateAndReload): for each log, load the newest
 * `<offset>.snapshot` at or below the log end, then replay the batch headers from that offset to the
 * log end (control batches are decoded to learn commit/abort). Without a snapshot the whole log is
 * replayed. Snapshots are written when no append of the partition is in flight, periodically and
 * on stop; the newest two are kept.
 */
import {
  type BatchHeader,
  batchAttributes,
  decodeControlRecord,
  decodeRecordBatch,
  ErrorCode,
  encodeControlBatch,
  type ValidatedBatch,
} from '@gregor/protocol';
import {
  type AppendOptions,
  type AppendResult,
  type FileSystem,
  joinPath,
  type PartitionLog,
} from '@gregor/storage';
import type { Clock, TimerHandle } from '../clock.js';
import { readLogBatches } from '../log-batches.js';
import type { Logger } from '../logging/logger.js';
import {
  type AbortedTransactionEntry,
  type AppendedOffsets,
  PartitionProducerState,
  type ProducerBatchHeader,
  type ProducerEntry,
  type ProducerEpoch,
  type ProducerId,
} from './producer-state.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  parseSnapshotFileName,
  SnapshotFormatError,
  snapshotFileName,
} from './snapshot-file.js';
import { TransactionIndex, transactionIndexFileName } from './transaction-index.js';

/** Bytes read per step while replaying a log tail. */
const replayReadBytesMax = 1024 * 1024;
const snapshotsRetained = 2;

/** A produce refused by the producer checks; classifyPartitionError reads `errorCode`. */
export class ProducerStateError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProducerStateError';
  }
}

/**
 * KIP-890 part 1: a transactional batch is accepted only for a partition the coordinator added
 * to the producer's ongoing transaction. Returns an error code (NONE when fine).
 */
export type TransactionVerifier = (options: {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  topic: string;
  partition: number;
}) => number;

export interface TransactionMarker {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  coordinatorEpoch: number;
  commit: boolean;
}

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

export interface DescribedProducer {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  lastSequence: number;
  lastTimestamp: bigint;
  coordinatorEpoch: number;
  currentTxnStartOffset: bigint;
}

interface PartitionProducers {
  log: PartitionLog;
  state: PartitionProducerState;
  index: TransactionIndex;
  directory: string | undefined;
  /** Log end offset of the newest snapshot (-1 none). */
  snapshotOffset: bigint;
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
    for (const log of logs) await this.loadPartition(log);
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
    for (const partition of this.partitions.values()) await partition.index.close();
  }

  // ---------------------------------------------------------------- produce path

  /**
   * Appends a validated produce for `log` after the idempotence/transaction checks. Batches
   * without a producer id go straight to storage. Rejects with ProducerStateError.
   */
  append(
    log: PartitionLog,
    records: Buffer,
    batches: readonly ValidatedBatch[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    let withProducer = false;
    for (const batch of batches) if (batch.header.producerId >= 0n) withProducer = true;
    if (!withProducer) return log.append(records, options);
    const partition = this.partitionFor(log);
    const nowMs = this.options.clock.wallMs();
    let resolveOffsets!: (result: AppendResult) => void;
    let rejectOffsets!: (error: unknown) => void;
    const appended = new Promise<AppendResult>((resolve, reject) => {
      resolveOffsets = resolve;
      rejectOffsets = reject;
    });
    const tracked: Promise<AppendedOffsets>[] = [];
    let offsetDelta = 0n;
    for (const batch of batches) {
      const header = producerHeader(batch.header);
      const span = BigInt(batch.header.lastOffsetDelta) + 1n;
      const before = offsetDelta;
      offsetDelta += span;
      if (header.producerId < 0n) continue;
      const refusal = this.refusal(partition, log, header, batches.length);
      if (refusal !== null) {
        rejectOffsets(refusal.error);
        void appended.catch(() => undefined);
        return refusal.duplicate ?? Promise.reject(refusal.error);
      }
      const offsets = appended.then((result) => ({
        baseOffset: result.baseOffset + before,
        lastOffset: result.baseOffset + before + span - 1n,
        logAppendTimeMs: result.logAppendTimeMs,
      }));
      const done = partition.state.begin(header, offsets, nowMs, log.logEndOffset);
      void done.catch(() => undefined);
      tracked.push(done);
    }
    log.append(records, options).then(resolveOffsets, rejectOffsets);
    return Promise.all(tracked).then(() => appended);
  }

  /** Why this batch must not be appended (null: append it). */
  private refusal(
    partition: PartitionProducers,
    log: PartitionLog,
    header: ProducerBatchHeader,
    batchCount: number,
  ): { error: ProducerStateError; duplicate?: Promise<AppendResult> } | null {
    const entry = partition.state.get(header.producerId);
    if (header.transactional) {
      const verified =
        this.verifier?.({
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          topic: log.topic,
          partition: log.partition,
        }) ?? ErrorCode.NONE;
      // A fenced epoch reports as such even when the coordinator forgot the transaction.
      if (
        verified !== ErrorCode.NONE &&
        !(entry !== undefined && header.producerEpoch < entry.epoch)
      ) {
        return { error: new ProducerStateError(verified, 'partition not in the transaction') };
      }
    } else if (
      entry !== undefined &&
      entry.epoch === header.producerEpoch &&
      (entry.transactionFirstOffset !== null || entry.transactionPending)
    ) {
      return {
        error: new ProducerStateError(
          ErrorCode.INVALID_TXN_STATE,
          'non-transactional batch from a producer with an ongoing transaction',
        ),
      };
    }
    const check = partition.state.check(header);
    if (check.kind === 'append') return null;
    if (check.kind === 'error') {
      return { error: new ProducerStateError(check.errorCode, check.message) };
    }
    const error = new ProducerStateError(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, 'duplicate batch');
    if (batchCount > 1) return { error };
    // A retry: answer with the original offsets (Kafka's DuplicateSequence handling).
    return {
      error,
      duplicate: Promise.resolve(check.offsets).then((offsets) => ({
        baseOffset: offsets.baseOffset,
        lastOffset: offsets.lastOffset,
        logAppendTimeMs: offsets.logAppendTimeMs,
        logStartOffset: log.logStartOffset,
      })),
    };
  }

  // ---------------------------------------------------------------- transaction markers

  /**
   * Writes a commit/abort marker (a control batch) for the producer's transaction, stamped with
   * `leaderEpoch`, and applies it: the transaction's first offset no longer holds the LSO back, an
   * abort is indexed (`indexed` resolves once the index entry is durable). The error code is
   * INVALID_PRODUCER_EPOCH when the marker is older than the producer's epoch,
   * TRANSACTION_COORDINATOR_FENCED when its coordinator epoch is older than the last marker's.
   * The caller (the Partition) moves the high watermark.
   */
  async writeMarker(
    log: PartitionLog,
    marker: TransactionMarker,
    leaderEpoch: number,
  ): Promise<{ errorCode: number; endOffset: bigint; indexed: Promise<void> }> {
    const partition = this.partitionFor(log);
    const errorCode = partition.state.checkMarker(
      marker.producerId,
      marker.producerEpoch,
      marker.coordinatorEpoch,
    );
    if (errorCode !== ErrorCode.NONE) {
      return { errorCode, endOffset: -1n, indexed: Promise.resolve() };
    }
    const nowMs = this.options.clock.wallMs();
    const batch = encodeControlBatch({
      type: marker.commit ? 'commit' : 'abort',
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestamp: BigInt(Math.floor(nowMs)),
    });
    partition.state.pendingCount++;
    try {
      const result = await log.append(batch, { durability: 'fsync', leaderEpoch });
      const aborted = partition.state.completeTransaction({
        ...marker,
        markerOffset: result.baseOffset,
        writeMs: nowMs,
      });
      const indexed =
        aborted === null
          ? Promise.resolve()
          : partition.index.add(aborted, this.lastStableOffset(log));
      return { errorCode: ErrorCode.NONE, endOffset: result.lastOffset + 1n, indexed };
    } finally {
      partition.state.pendingCount--;
    }
  }

  // ---------------------------------------------------------------- follower appends, truncation

  /** Applies the producer batches a follower appended in [from, to) (Kafka's follower path). */
  async applyFollowerAppend(log: PartitionLog, from: bigint, to: bigint): Promise<void> {
    await this.replay(this.partitionFor(log), from, to);
  }

  /**
   * Rebuilds the state of `log` after a truncation (Kafka's truncateAndReload): the newest
   * snapshot at or below the new log end, then the log replayed from there; snapshots and
   * aborted-index entries beyond the log end are dropped.
   */
  async reload(log: PartitionLog): Promise<void> {
    const existing = this.existing(log);
    if (existing !== undefined) {
      this.partitions.delete(this.key(log));
      await existing.index.close();
    }
    await this.loadPartition(log);
  }

  // ---------------------------------------------------------------- read side

  /** Kafka's LSO: below the first offset of any ongoing transaction, never above the HW. */
  lastStableOffset(log: PartitionLog): bigint {
    const highWatermark = log.highWatermark;
    const partition = this.existing(log);
    if (partition === undefined) return highWatermark;
    const first = partition.state.firstUnstableOffset();
    return first !== null && first < highWatermark ? first : highWatermark;
  }

  abortedTransactions(
    log: PartitionLog,
    startOffset: bigint,
    endOffset: bigint,
  ): AbortedTransactionEntry[] {
    return this.existing(log)?.index.overlapping(startOffset, endOffset) ?? [];
  }

  describeProducers(log: PartitionLog): DescribedProducer[] {
    const partition = this.existing(log);
    if (partition === undefined) return [];
    return [...partition.state.producers.values()].map((entry) => describe(entry));
  }

  /** Producer state of a partition (tests, tools). */
  stateOf(log: PartitionLog): PartitionProducerState {
    return this.partitionFor(log).state;
  }

  // ---------------------------------------------------------------- bookkeeping

  private key(log: PartitionLog): string {
    return `${log.topic}\u0000${log.partition}`;
  }

  private existing(log: PartitionLog): PartitionProducers | undefined {
    const partition = this.partitions.get(this.key(log));
    return partition?.log === log ? partition : undefined;
  }

  /** The state of `log`; a log object we have not seen (created, or re-created) starts empty. */
  private partitionFor(log: PartitionLog): PartitionProducers {
    const existing = this.existing(log);
    if (existing !== undefined) return existing;
    const directory = this.options.directoryOf(log);
    const partition: PartitionProducers = {
      log,
      state: new PartitionProducerState(),
      index: new TransactionIndex(
        directory === undefined ? null : this.options.fileSystem,
        directory === undefined ? null : joinPath(directory, transactionIndexFileName),
      ),
      directory,
      snapshotOffset: -1n,
    };
    this.partitions.set(this.key(log), partition);
    return partition;
  }

  private async loadPartition(log: PartitionLog): Promise<void> {
    const partition = this.partitionFor(log);
    const { fileSystem, logger } = this.options;
    const logEnd = log.logEndOffset;
    await partition.index.load(logEnd);
    let replayFrom = log.logStartOffset;
    if (partition.directory !== undefined) {
      const snapshots = await this.listSnapshots(partition.directory);
      for (const offset of snapshots.reverse()) {
        const path = joinPath(partition.directory, snapshotFileName(offset));
        if (offset > logEnd) {
          await fileSystem.removeFile(path);
          continue;
        }
        try {
          const data = await fileSystem.readFile(path);
          if (data === null) continue;
          partition.state.clear();
          decodeSnapshot(data, partition.state);
          // biome-ignore lint/complexity/useMathMinMax: bigint operands
          replayFrom = offset > replayFrom ? offset : replayFrom;
          partition.snapshotOffset = offset;
          break;
        } catch (error) {
          if (!(error instanceof SnapshotFormatError)) throw error;
          partition.state.clear();
          logger.warn('ignoring unreadable producer snapshot', { path, error: error.message });
        }
      }
    }
    const replayed = await this.replay(partition, replayFrom, logEnd);
    if (replayed > 0 || partition.state.producers.size > 0) {
      logger.info('producer state loaded', {
        topic: log.topic,
        partition: log.partition,
        producers: partition.state.producers.size,
        snapshotOffset: String(partition.snapshotOffset),
        replayedBatches: replayed,
      });
    }
  }

  /** Applies the producer batches in [from, to) to the state; returns how many were replayed. */
  private async replay(partition: PartitionProducers, from: bigint, to: bigint): Promise<number> {
    const { log, state, index } = partition;
    let replayed = 0;
    const nowMs = this.options.clock.wallMs();
    const batches = readLogBatches(log, { from, to, readBytesMax: replayReadBytesMax });
    for await (const { batch, header } of batches) {
      if (header.producerId < 0n) continue;
      const next = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      replayed++;
      const writeMs = header.maxTimestamp > 0n ? Number(header.maxTimestamp) : nowMs;
      if ((header.attributes & batchAttributes.control) !== 0) {
        const marker = readMarker(batch);
        if (marker === null) continue;
        const aborted = state.completeTransaction({
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          coordinatorEpoch: marker.coordinatorEpoch,
          commit: marker.commit,
          markerOffset: header.baseOffset,
          writeMs,
        });
        if (aborted !== null && aborted.lastOffset > index.indexedEnd) {
          await index.add(aborted, header.baseOffset);
        }
        continue;
      }
      state.replayBatch(
        producerHeader(header),
        {
          baseOffset: header.baseOffset,
          lastOffset: next - 1n,
          logAppendTimeMs: -1n,
        },
        writeMs,
      );
    }
    return replayed;
  }

  private async listSnapshots(directory: string): Promise<bigint[]> {
    const names = await this.options.fileSystem.listDirectory(directory);
    return names
      .map(parseSnapshotFileName)
      .filter((offset): offset is bigint => offset !== null)
      .sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
  }

  /** Snapshots every partition whose state moved since its last snapshot. */
  async snapshotAll(options: { includeEmpty?: boolean } = {}): Promise<void> {
    for (const [key, partition] of this.partitions) {
      // A deleted partition (its topic deleted, possibly while its snapshot was being written)
      // has no files left to snapshot into and no state worth keeping: forget it.
      const forget = async () => {
        this.partitions.delete(key);
        await partition.index.close();
      };
      if (!this.options.isCurrent(partition.log)) {
        await forget();
        continue;
      }
      try {
        await this.snapshot(partition, options.includeEmpty ?? false);
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

  private async snapshot(partition: PartitionProducers, includeEmpty: boolean): Promise<void> {
    const { directory, state, log } = partition;
    if (directory === undefined || state.pendingCount > 0) return;
    const offset = log.logEndOffset;
    if (offset === partition.snapshotOffset) return;
    if (state.producers.size === 0 && !includeEmpty) return;
    const data = encodeSnapshot(state);
    const fileSystem = this.options.fileSystem;
    await fileSystem.writeFileAtomic(joinPath(directory, snapshotFileName(offset)), data);
    partition.snapshotOffset = offset;
    const snapshots = await this.listSnapshots(directory);
    for (const old of snapshots.slice(0, Math.max(0, snapshots.length - snapshotsRetained))) {
      await fileSystem.removeFile(joinPath(directory, snapshotFileName(old)));
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

function producerHeader(header: BatchHeader): ProducerBatchHeader {
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastOffsetDelta: header.lastOffsetDelta,
    transactional: (header.attributes & batchAttributes.transactional) !== 0,
  };
}

function readMarker(batch: Buffer): { commit: boolean; coordinatorEpoch: number } | null {
  try {
    const decoded = decodeRecordBatch(batch);
    const record = decoded.records[0];
    if (record === undefined) return null;
    const control = decodeControlRecord(record.key, record.value);
    if (control.type !== 'commit' && control.type !== 'abort') return null;
    return { commit: control.type === 'commit', coordinatorEpoch: control.coordinatorEpoch ?? -1 };
  } catch {
    return null;
  }
}

function describe(entry: ProducerEntry): DescribedProducer {
  const newest = entry.batches.at(-1);
  return {
    producerId: entry.producerId,
    producerEpoch: entry.epoch,
    lastSequence: newest?.lastSequence ?? -1,
    lastTimestamp: BigInt(Math.floor(entry.lastWriteMs)),
    coordinatorEpoch: entry.coordinatorEpoch,
    currentTxnStartOffset: entry.transactionFirstOffset ?? -1n,
  };
}
