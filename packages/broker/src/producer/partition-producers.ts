/**
 * The producer state of one partition, owned by its Partition (replication/partition.ts): the
 * idempotence and transaction checks on append, transaction markers, the last stable offset, the
 * aborted-transaction index, snapshots, and the rebuild from snapshot + log tail at start-up and
 * after a truncation. The broker-wide ProducerStateManager holds what is shared (options, the
 * transaction verifier, snapshot and expiration timers) and one of these per partition.
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
import type { Clock } from '../clock.js';
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

export interface DescribedProducer {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  lastSequence: number;
  lastTimestamp: bigint;
  coordinatorEpoch: number;
  currentTxnStartOffset: bigint;
}

/** What every partition's producer state shares (from the ProducerStateManager). */
export interface PartitionProducersContext {
  clock: Clock;
  logger: Logger;
  fileSystem: FileSystem;
  verifier: () => TransactionVerifier | null;
}

export class PartitionProducers {
  readonly state = new PartitionProducerState();
  index: TransactionIndex;
  /** Log end offset of the newest snapshot (-1 none). */
  snapshotOffset = -1n;

  constructor(
    readonly log: PartitionLog,
    /** The partition's directory for snapshot and index files; undefined keeps state in memory. */
    readonly directory: string | undefined,
    private readonly context: PartitionProducersContext,
  ) {
    this.index = this.newIndex();
  }

  private newIndex(): TransactionIndex {
    const { directory } = this;
    return new TransactionIndex(
      directory === undefined ? null : this.context.fileSystem,
      directory === undefined ? null : joinPath(directory, transactionIndexFileName),
    );
  }

  // ---------------------------------------------------------------- produce path

  /**
   * Appends a validated produce after the idempotence/transaction checks. Batches without a
   * producer id go straight to storage. Rejects with ProducerStateError.
   */
  append(
    records: Buffer,
    batches: readonly ValidatedBatch[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    let withProducer = false;
    for (const batch of batches) if (batch.header.producerId >= 0n) withProducer = true;
    const log = this.log;
    if (!withProducer) return log.append(records, options);
    const nowMs = this.context.clock.wallMs();
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
      const refusal = this.refusal(header, batches.length);
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
      const done = this.state.begin(header, offsets, nowMs, log.logEndOffset);
      void done.catch(() => undefined);
      tracked.push(done);
    }
    log.append(records, options).then(resolveOffsets, rejectOffsets);
    return Promise.all(tracked).then(() => appended);
  }

  /** Why this batch must not be appended (null: append it). */
  private refusal(
    header: ProducerBatchHeader,
    batchCount: number,
  ): { error: ProducerStateError; duplicate?: Promise<AppendResult> } | null {
    const log = this.log;
    const entry = this.state.get(header.producerId);
    if (header.transactional) {
      const verified =
        this.context.verifier()?.({
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
    const check = this.state.check(header);
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
    marker: TransactionMarker,
    leaderEpoch: number,
  ): Promise<{ errorCode: number; endOffset: bigint; indexed: Promise<void> }> {
    const errorCode = this.state.checkMarker(
      marker.producerId,
      marker.producerEpoch,
      marker.coordinatorEpoch,
    );
    if (errorCode !== ErrorCode.NONE) {
      return { errorCode, endOffset: -1n, indexed: Promise.resolve() };
    }
    const nowMs = this.context.clock.wallMs();
    const batch = encodeControlBatch({
      type: marker.commit ? 'commit' : 'abort',
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestamp: BigInt(Math.floor(nowMs)),
    });
    this.state.pendingCount++;
    try {
      const result = await this.log.append(batch, { durability: 'fsync', leaderEpoch });
      const aborted = this.state.completeTransaction({
        ...marker,
        markerOffset: result.baseOffset,
        writeMs: nowMs,
      });
      const indexed =
        aborted === null ? Promise.resolve() : this.index.add(aborted, this.lastStableOffset());
      return { errorCode: ErrorCode.NONE, endOffset: result.lastOffset + 1n, indexed };
    } finally {
      this.state.pendingCount--;
    }
  }

  // ---------------------------------------------------------------- read side

  /** Kafka's LSO: below the first offset of any ongoing transaction, never above the HW. */
  lastStableOffset(): bigint {
    const highWatermark = this.log.highWatermark;
    const first = this.state.firstUnstableOffset();
    return first !== null && first < highWatermark ? first : highWatermark;
  }

  abortedTransactions(startOffset: bigint, endOffset: bigint): AbortedTransactionEntry[] {
    return this.index.overlapping(startOffset, endOffset);
  }

  describe(): DescribedProducer[] {
    return [...this.state.producers.values()].map((entry) => describeEntry(entry));
  }

  // ---------------------------------------------------------------- recovery, snapshots

  /**
   * Rebuilds the state from the newest snapshot at or below the log end and the log replayed
   * from there (Kafka's truncateAndReload); snapshots above the end are deleted, index entries at
   * or past it dropped. Used at start-up and after a truncation.
   */
  async load(): Promise<void> {
    const log = this.log;
    const { fileSystem, logger } = this.context;
    this.state.clear();
    this.snapshotOffset = -1n;
    await this.index.close();
    this.index = this.newIndex();
    const logEnd = log.logEndOffset;
    await this.index.load(logEnd);
    let replayFrom = log.logStartOffset;
    if (this.directory !== undefined) {
      const snapshots = await this.listSnapshots();
      for (const offset of snapshots.reverse()) {
        const path = joinPath(this.directory, snapshotFileName(offset));
        if (offset > logEnd) {
          await fileSystem.removeFile(path);
          continue;
        }
        try {
          const data = await fileSystem.readFile(path);
          if (data === null) continue;
          this.state.clear();
          decodeSnapshot(data, this.state);
          // biome-ignore lint/complexity/useMathMinMax: bigint operands
          replayFrom = offset > replayFrom ? offset : replayFrom;
          this.snapshotOffset = offset;
          break;
        } catch (error) {
          if (!(error instanceof SnapshotFormatError)) throw error;
          this.state.clear();
          logger.warn('ignoring unreadable producer snapshot', { path, error: error.message });
        }
      }
    }
    const replayed = await this.replay(replayFrom, logEnd);
    if (replayed > 0 || this.state.producers.size > 0) {
      logger.info('producer state loaded', {
        topic: log.topic,
        partition: log.partition,
        producers: this.state.producers.size,
        snapshotOffset: String(this.snapshotOffset),
        replayedBatches: replayed,
      });
    }
  }

  /** Applies the producer batches in [from, to) to the state; returns how many were replayed. */
  async replay(from: bigint, to: bigint): Promise<number> {
    const { log, state, index } = this;
    let replayed = 0;
    const nowMs = this.context.clock.wallMs();
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

  private async listSnapshots(): Promise<bigint[]> {
    if (this.directory === undefined) return [];
    const names = await this.context.fileSystem.listDirectory(this.directory);
    return names
      .map(parseSnapshotFileName)
      .filter((offset): offset is bigint => offset !== null)
      .sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
  }

  /** Writes `<log end>.snapshot` unless an append is in flight or nothing changed; keeps two. */
  async snapshot(includeEmpty: boolean): Promise<void> {
    const { directory, state, log } = this;
    if (directory === undefined || state.pendingCount > 0) return;
    const offset = log.logEndOffset;
    if (offset === this.snapshotOffset) return;
    if (state.producers.size === 0 && !includeEmpty) return;
    const data = encodeSnapshot(state);
    const fileSystem = this.context.fileSystem;
    await fileSystem.writeFileAtomic(joinPath(directory, snapshotFileName(offset)), data);
    this.snapshotOffset = offset;
    const snapshots = await this.listSnapshots();
    for (const old of snapshots.slice(0, Math.max(0, snapshots.length - snapshotsRetained))) {
      await fileSystem.removeFile(joinPath(directory, snapshotFileName(old)));
    }
  }

  async close(): Promise<void> {
    await this.index.close();
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

function describeEntry(entry: ProducerEntry): DescribedProducer {
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
