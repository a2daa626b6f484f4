/**
 * Producer state of one partition (KIP-98 idempotence, KIP-360 epoch bumps, KIP-890 part 1
 * verification): for every producer id that wrote here, its epoch, the metadata of its last five
 * batches (so a retried batch is answered with its original offsets and never written twice), and
 * the first offset of its ongoing transaction (which holds back the last stable offset).
 *
 * The checks run synchronously, in the order the produce handler starts its appends, so a
 * pipelined batch N+1 is checked against N even before N's append has completed: a batch is
 * recorded as pending with the promise of its offsets and resolved (or rolled back) when storage
 * answers.
 */
import { ErrorCode } from '@gregor/protocol';

export type ProducerId = bigint;
export type ProducerEpoch = number;

/** Kafka keeps the metadata of this many batches per producer (ProducerStateEntry). */
export const producerBatchesRetainedMax = 5;
export const noProducerId = -1n;
export const noProducerEpoch = -1;
export const noSequence = -1;
const sequenceMax = 0x7fffffff;

export interface AppendedOffsets {
  baseOffset: bigint;
  lastOffset: bigint;
  logAppendTimeMs: bigint;
}

export interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  /** Offsets once the append completed; null while pending. */
  offsets: AppendedOffsets | null;
  pending: Promise<AppendedOffsets> | null;
}

export interface ProducerEntry {
  producerId: ProducerId;
  epoch: ProducerEpoch;
  /** Newest last. */
  batches: BatchMetadata[];
  /** Broker wall time of the last write (producer.id.expiration.ms). */
  lastWriteMs: number;
  coordinatorEpoch: number;
  /** First offset of the ongoing transaction in this partition, or null. */
  transactionFirstOffset: bigint | null;
  /** A transactional batch of the ongoing transaction is still being appended. */
  transactionPending: boolean;
  /**
   * While that first batch is being appended: an offset it cannot land below (the log end when
   * it was checked), so the LSO stays below it even before its real offset is known.
   */
  transactionPendingFrom: bigint | null;
}

/** What a produced batch header says about its producer. */
export interface ProducerBatchHeader {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  baseSequence: number;
  /** recordsCount - 1 for client batches. */
  lastOffsetDelta: number;
  transactional: boolean;
}

export type BatchCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; offsets: Promise<AppendedOffsets> | AppendedOffsets }
  | { kind: 'error'; errorCode: number; message: string };

/** An aborted transaction as the fetch response and the .txnindex carry it. */
export interface AbortedTransactionEntry {
  producerId: ProducerId;
  firstOffset: bigint;
  lastOffset: bigint;
}

export function sequenceAfter(sequence: number, delta: number): number {
  const next = sequence + delta;
  return next > sequenceMax ? next - sequenceMax - 1 : next;
}

function isNextSequence(lastSequence: number, firstSequence: number): boolean {
  return firstSequence === sequenceAfter(lastSequence, 1);
}

export class PartitionProducerState {
  readonly producers = new Map<ProducerId, ProducerEntry>();
  /** Appends this state is waiting on (snapshots are only taken when there are none). */
  pendingCount = 0;

  get(producerId: ProducerId): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  /**
   * Kafka's ProducerAppendInfo checks: epoch fencing, duplicate detection against the retained
   * batches, sequence continuity. Does not change anything.
   */
  check(header: ProducerBatchHeader): BatchCheck {
    const entry = this.producers.get(header.producerId);
    const lastSequence = sequenceAfter(header.baseSequence, header.lastOffsetDelta);
    if (entry === undefined) {
      // KIP-360: a producer we know nothing about (expired, or its records deleted) must start at
      // sequence 0; otherwise the client resets with an epoch bump.
      if (header.baseSequence !== 0 && !header.transactional) {
        return error(ErrorCode.UNKNOWN_PRODUCER_ID, `unknown producer id ${header.producerId}`);
      }
      return { kind: 'append' };
    }
    if (header.producerEpoch < entry.epoch) {
      return error(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${header.producerId} epoch ${header.producerEpoch} is older than ${entry.epoch}`,
      );
    }
    if (header.producerEpoch > entry.epoch) {
      if (header.baseSequence !== 0) {
        return error(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `new epoch ${header.producerEpoch} must start at sequence 0, got ${header.baseSequence}`,
        );
      }
      return { kind: 'append' };
    }
    for (const batch of entry.batches) {
      if (batch.firstSequence === header.baseSequence && batch.lastSequence === lastSequence) {
        return { kind: 'duplicate', offsets: batch.offsets ?? batch.pending! };
      }
    }
    const newest = entry.batches.at(-1);
    if (newest !== undefined && !isNextSequence(newest.lastSequence, header.baseSequence)) {
      return error(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${header.producerId}: expected sequence ${sequenceAfter(newest.lastSequence, 1)}, got ${header.baseSequence}`,
      );
    }
    return { kind: 'append' };
  }

  /**
   * Records a checked batch whose append has started; `offsets` resolves when storage wrote it.
   * Returns the promise that resolves after the state has been updated (use it instead of the
   * raw append so the state changes before the high watermark moves).
   */
  begin(
    header: ProducerBatchHeader,
    offsets: Promise<AppendedOffsets>,
    nowMs: number,
    logEndOffset = 0n,
  ): Promise<AppendedOffsets> {
    const entry = this.entryFor(header.producerId, header.producerEpoch, nowMs);
    const batch: BatchMetadata = {
      firstSequence: header.baseSequence,
      lastSequence: sequenceAfter(header.baseSequence, header.lastOffsetDelta),
      offsets: null,
      pending: null,
    };
    pushBatch(entry, batch);
    const opensTransaction = header.transactional && entry.transactionFirstOffset === null;
    if (opensTransaction) {
      entry.transactionPending = true;
      entry.transactionPendingFrom = logEndOffset;
    }
    this.pendingCount++;
    const tracked = offsets.then(
      (appended) => {
        this.pendingCount--;
        batch.offsets = appended;
        batch.pending = null;
        if (opensTransaction) {
          entry.transactionPending = false;
          entry.transactionPendingFrom = null;
          entry.transactionFirstOffset ??= appended.baseOffset;
        }
        return appended;
      },
      (failure: unknown) => {
        this.pendingCount--;
        const index = entry.batches.indexOf(batch);
        if (index >= 0) entry.batches.splice(index, 1);
        if (opensTransaction) {
          entry.transactionPending = false;
          entry.transactionPendingFrom = null;
        }
        throw failure;
      },
    );
    batch.pending = tracked;
    return tracked;
  }

  /** Replays a batch read back from the log (recovery): no checks, offsets known. */
  replayBatch(header: ProducerBatchHeader, offsets: AppendedOffsets, writeMs: number): void {
    const entry = this.entryFor(header.producerId, header.producerEpoch, writeMs);
    if (header.baseSequence >= 0) {
      pushBatch(entry, {
        firstSequence: header.baseSequence,
        lastSequence: sequenceAfter(header.baseSequence, header.lastOffsetDelta),
        offsets,
        pending: null,
      });
    }
    if (header.transactional) entry.transactionFirstOffset ??= offsets.baseOffset;
  }

  /**
   * Checks a transaction marker (WriteTxnMarkers): its producer epoch must not be older than the
   * producer's (a zombie), nor its coordinator epoch older than the last marker's (a stale
   * coordinator) — KIP-98, as Kafka's ProducerAppendInfo.appendEndTxnMarker.
   */
  checkMarker(
    producerId: ProducerId,
    producerEpoch: ProducerEpoch,
    coordinatorEpoch: number,
  ): number {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return ErrorCode.NONE;
    if (producerEpoch < entry.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (coordinatorEpoch < entry.coordinatorEpoch) return ErrorCode.TRANSACTION_COORDINATOR_FENCED;
    return ErrorCode.NONE;
  }

  /**
   * Applies a written marker at `markerOffset`: the ongoing transaction ends. Returns the aborted
   * range for the transaction index when it was an abort of a transaction that wrote here.
   */
  completeTransaction(options: {
    producerId: ProducerId;
    producerEpoch: ProducerEpoch;
    coordinatorEpoch: number;
    commit: boolean;
    markerOffset: bigint;
    writeMs: number;
  }): AbortedTransactionEntry | null {
    const entry = this.entryFor(options.producerId, options.producerEpoch, options.writeMs);
    entry.coordinatorEpoch = options.coordinatorEpoch;
    const firstOffset = entry.transactionFirstOffset;
    entry.transactionFirstOffset = null;
    if (options.commit || firstOffset === null) return null;
    return { producerId: options.producerId, firstOffset, lastOffset: options.markerOffset };
  }

  /**
   * First offset of the oldest ongoing transaction (bounds the LSO), or null. A transaction whose
   * first batch is still being appended counts from the lowest offset that batch can get: the HW
   * may move past it (another append of the same group commit) before its offset is recorded.
   */
  firstUnstableOffset(): bigint | null {
    let first: bigint | null = null;
    for (const entry of this.producers.values()) {
      const offset = entry.transactionFirstOffset ?? entry.transactionPendingFrom;
      if (offset !== null && (first === null || offset < first)) first = offset;
    }
    return first;
  }

  /** True while a transaction's first batch is still being appended (its offset is unknown). */
  hasPendingTransactionStart(): boolean {
    for (const entry of this.producers.values()) if (entry.transactionPending) return true;
    return false;
  }

  ongoingTransactions(): ProducerEntry[] {
    return [...this.producers.values()].filter((entry) => entry.transactionFirstOffset !== null);
  }

  /** producer.id.expiration.ms: forgets idle producers without an ongoing transaction. */
  expire(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (entry.transactionFirstOffset !== null || entry.transactionPending) continue;
      if (entry.batches.some((batch) => batch.pending !== null)) continue;
      if (nowMs - entry.lastWriteMs >= expirationMs) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
  }

  private entryFor(producerId: ProducerId, epoch: ProducerEpoch, nowMs: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = {
        producerId,
        epoch,
        batches: [],
        lastWriteMs: nowMs,
        coordinatorEpoch: -1,
        transactionFirstOffset: null,
        transactionPending: false,
        transactionPendingFrom: null,
      };
      this.producers.set(producerId, entry);
    } else if (epoch > entry.epoch) {
      // A new epoch starts a new sequence space (KIP-360).
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.lastWriteMs = Math.max(entry.lastWriteMs, nowMs);
    return entry;
  }
}

function pushBatch(entry: ProducerEntry, batch: BatchMetadata): void {
  entry.batches.push(batch);
  if (entry.batches.length > producerBatchesRetainedMax) entry.batches.shift();
}

function error(errorCode: number, message: string): BatchCheck {
  return { kind: 'error', errorCode, message };
}
