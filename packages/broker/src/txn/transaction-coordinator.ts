/**
 * The transaction coordinator (KIP-98): owns the transactional ids of the `__transaction_state`
 * partitions it serves (single node: all; cluster mode: those this broker leads), persists each
 * state change to `__transaction_state` before answering, writes commit/abort markers to every
 * partition of a transaction, aborts transactions idle past their timeout, and fences zombies by
 * bumping the producer epoch.
 *
 * State machine per transactional id (Kafka's TransactionState):
 *   Empty/Complete* --AddPartitions/AddOffsets--> Ongoing --EndTxn--> Prepare* --markers--> Complete*
 *   Ongoing --InitProducerId from a new instance / timeout--> (epoch bump) PrepareAbort --> CompleteAbort
 * While a change is being written the id has a pending transition and requests get
 * CONCURRENT_TRANSACTIONS (the clients retry).
 *
 * Protections:
 * - KIP-360: InitProducerId v3+ carries the client's producer id/epoch; a mismatch is fenced and an
 *   exhausted epoch moves to a new producer id.
 * - KIP-890 part 1: a transactional produce is accepted only for a partition added to the ongoing
 *   transaction (`verifyTransactionalBatch`), so a delayed write of a finished transaction cannot
 *   leave a hanging transaction.
 * - KIP-890 part 2 (EndTxn v5+): the epoch is bumped at every transaction end; a delayed EndTxn of an
 *   earlier transaction carries an old epoch and can no longer end a later one (KAFKA-17754), while
 *   a genuine retry of the last EndTxn is recognised (epoch = lastProducerEpoch) and answered again.
 *
 * Cluster mode (`followsLeadership`): `loadPartition` on becoming a partition's leader replays it
 * with the coordinator epoch = that leader epoch (COORDINATOR_LOAD_IN_PROGRESS meanwhile), then
 * finishes what was in flight (Prepare* → markers → Complete*, Ongoing past its timeout → abort);
 * `unloadPartition` forgets its ids (NOT_COORDINATOR). Every write and every marker carries the
 * coordinator epoch, and a write is refused once the partition is no longer led here at it.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { ProducerEpoch, ProducerId } from '../producer/producer-state.js';
import {
  copyMetadata,
  partitionKey,
  splitPartitionKey,
  type TransactionMetadata,
  type TransactionStatus,
} from './transaction-metadata.js';
import { CoordinatorMovedError, type TransactionStateLog } from './transaction-state-log.js';

/** Kafka bumps to a new producer id before the int16 epoch overflows. */
const producerEpochMax = 32767 - 1;
const markerRetryBackoffMs = 100;
const markerAttemptsMax = 5;

export interface TransactionCoordinatorConfig {
  /** transaction.max.timeout.ms */
  maxTimeoutMs: () => number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortCheckIntervalMs: () => number;
  /** transactional.id.expiration.ms */
  idExpirationMs: () => number;
}

/** Writes commit/abort markers to the partitions of a transaction (and completes group offsets). */
export type MarkerWriter = (options: {
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  commit: boolean;
  partitions: { topic: string; partition: number }[];
  /** The leader epoch of the transactional id's `__transaction_state` partition (0 on one node). */
  coordinatorEpoch: number;
  /** False once this coordinator no longer owns the transaction at that epoch: stop retrying. */
  isCurrent: () => boolean;
}) => Promise<void>;

export interface TransactionCoordinatorDependencies {
  clock: Clock;
  logger: Logger;
  stateLog: TransactionStateLog;
  allocateProducerId: () => Promise<ProducerId>;
  writeMarkers: MarkerWriter;
  partitionExists: (topic: string, partition: number) => boolean;
  /** The `__consumer_offsets` partition of a group (AddOffsetsToTxn). */
  offsetsPartitionFor: (groupId: string) => { topic: string; partition: number };
  config: TransactionCoordinatorConfig;
  /**
   * Cluster mode: start with no partition; serve those given to `loadPartition` (the partitions
   * this broker leads) and answer NOT_COORDINATOR for the others.
   */
  followsLeadership?: boolean;
}

/** A `__transaction_state` partition served here (cluster mode). */
interface ServedPartition {
  state: 'loading' | 'loaded';
  coordinatorEpoch: number;
}

/** The coordinator epoch of a single node, whose `__transaction_state` leader epoch never moves. */
const singleNodeCoordinatorEpoch = 0;

export interface ProducerIdAndEpoch {
  errorCode: number;
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
}

export interface TransactionRequest {
  transactionalId: string;
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
}

export interface DescribedTransaction {
  errorCode: number;
  transactionalId: string;
  transactionState: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: bigint;
  producerId: ProducerId;
  producerEpoch: ProducerEpoch;
  topics: { topic: string; partitions: number[] }[];
}

type Status = 'created' | 'loading' | 'active' | 'stopped';

/** A transactional id DescribeTransactions cannot describe: only the error and the id. */
export function undescribedTransaction(
  transactionalId: string,
  errorCode: number,
): DescribedTransaction {
  return {
    errorCode,
    transactionalId,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1n,
    producerId: -1n,
    producerEpoch: -1,
    topics: [],
  };
}

export class TransactionCoordinator {
  private readonly transactions = new Map<string, TransactionMetadata>();
  /** producer id -> transactional id, for produce verification. */
  private readonly byProducerId = new Map<ProducerId, string>();
  private timer: TimerHandle | null = null;
  private status: Status = 'created';
  private readonly completions = new Set<Promise<unknown>>();
  /** Cluster mode: the `__transaction_state` partitions served here; undefined: all of them. */
  private readonly served: Map<number, ServedPartition> | undefined;

  constructor(private readonly dependencies: TransactionCoordinatorDependencies) {
    this.served = dependencies.followsLeadership === true ? new Map() : undefined;
  }

  /** Replays `__transaction_state`, then finishes transactions a crash left in Prepare*. */
  async start(): Promise<void> {
    if (this.served !== undefined) {
      // Partitions are loaded as this broker becomes their leader (loadPartition).
      this.status = 'active';
      this.scheduleChecks();
      return;
    }
    this.status = 'loading';
    const loaded = await this.dependencies.stateLog.load();
    for (const metadata of loaded.values()) this.remember(metadata);
    this.status = 'active';
    let resumed = 0;
    for (const metadata of this.transactions.values()) {
      if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') {
        resumed++;
        this.track(this.resumeCompletion(metadata));
      }
    }
    if (loaded.size > 0) {
      this.dependencies.logger.info('transaction coordinator loaded', {
        transactionalIds: loaded.size,
        resumedCompletions: resumed,
      });
    }
    this.scheduleChecks();
  }

  /**
   * Cluster mode: this broker leads `partition` at `coordinatorEpoch` (its leader epoch): its
   * transactional ids are replayed from the log and served from now on, transactions left in
   * Prepare* are completed and Ongoing ones past their timeout aborted. A new epoch of a partition
   * already served reloads it. Resolves when loaded (or superseded).
   */
  async loadPartition(partition: number, coordinatorEpoch: number): Promise<void> {
    const served = this.served;
    if (served === undefined || this.status === 'stopped') return;
    const current = served.get(partition);
    if (current !== undefined && current.coordinatorEpoch === coordinatorEpoch) return;
    if (current !== undefined) this.unloadPartition(partition);
    const entry: ServedPartition = { state: 'loading', coordinatorEpoch };
    served.set(partition, entry);
    let loaded: Map<string, TransactionMetadata>;
    try {
      loaded = await this.dependencies.stateLog.loadPartition(partition);
    } catch (error) {
      if (served.get(partition) === entry) served.delete(partition);
      this.dependencies.logger.warn('loading a __transaction_state partition failed', {
        partition,
        coordinatorEpoch,
        error: String(error),
      });
      return;
    }
    if (served.get(partition) !== entry || (this.status as Status) === 'stopped') return; // superseded
    for (const metadata of loaded.values()) this.remember(metadata);
    entry.state = 'loaded';
    const nowMs = this.dependencies.clock.wallMs();
    let resumed = 0;
    let timedOut = 0;
    for (const metadata of loaded.values()) {
      if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') {
        resumed++;
        this.track(this.resumeCompletion(metadata));
      } else if (
        metadata.status === 'Ongoing' &&
        nowMs - metadata.startTimestampMs > metadata.timeoutMs
      ) {
        timedOut++;
        this.track(this.abortWithEpochBump(metadata, 'transaction timed out'));
      }
    }
    this.dependencies.logger.info('__transaction_state partition loaded', {
      partition,
      coordinatorEpoch,
      transactionalIds: loaded.size,
      resumedCompletions: resumed,
      timedOutAborts: timedOut,
    });
  }

  /**
   * Cluster mode: `partition`'s leadership moved away: its ids are forgotten (NOT_COORDINATOR from
   * now on). Work in flight for them fails at its next write or marker (their epoch check).
   */
  unloadPartition(partition: number): void {
    const served = this.served;
    if (served === undefined || !served.delete(partition)) return;
    let dropped = 0;
    for (const [transactionalId, metadata] of [...this.transactions]) {
      if (this.partitionFor(transactionalId) !== partition) continue;
      this.transactions.delete(transactionalId);
      if (this.byProducerId.get(metadata.producerId) === transactionalId) {
        this.byProducerId.delete(metadata.producerId);
      }
      dropped++;
    }
    this.dependencies.logger.info('__transaction_state partition unloaded', {
      partition,
      transactionalIds: dropped,
    });
  }

  async stop(): Promise<void> {
    this.status = 'stopped';
    this.timer?.cancel();
    this.timer = null;
    await Promise.allSettled([...this.completions]);
    await this.dependencies.stateLog.flush();
  }

  availability(): number {
    if (this.status === 'active') return ErrorCode.NONE;
    return this.status === 'loading'
      ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
      : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /**
   * NONE when `transactionalId` is coordinated here now; cluster mode: COORDINATOR_LOAD_IN_PROGRESS
   * while its partition loads, NOT_COORDINATOR when another broker leads it.
   */
  availabilityFor(transactionalId: string): number {
    const availability = this.availability();
    if (availability !== ErrorCode.NONE || this.served === undefined) return availability;
    const entry = this.served.get(this.partitionFor(transactionalId));
    if (entry === undefined) return ErrorCode.NOT_COORDINATOR;
    return entry.state === 'loaded' ? ErrorCode.NONE : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
  }

  /** The coordinator epoch `transactionalId` is served at; undefined when not (or not yet) here. */
  private coordinatorEpochOf(transactionalId: string): number | undefined {
    if (this.served === undefined) return singleNodeCoordinatorEpoch;
    const entry = this.served.get(this.partitionFor(transactionalId));
    return entry?.state === 'loaded' ? entry.coordinatorEpoch : undefined;
  }

  /** Whether `metadata` is still this coordinator's, at `coordinatorEpoch`. */
  private owns(metadata: TransactionMetadata, coordinatorEpoch: number): boolean {
    return (
      this.status !== 'stopped' &&
      this.transactions.get(metadata.transactionalId) === metadata &&
      this.coordinatorEpochOf(metadata.transactionalId) === coordinatorEpoch
    );
  }

  get partitionCount(): number {
    return this.dependencies.stateLog.partitionCount;
  }

  partitionFor(transactionalId: string): number {
    return this.dependencies.stateLog.partitionFor(transactionalId);
  }

  /** Metadata of one id (tests, admin). */
  metadata(transactionalId: string): TransactionMetadata | undefined {
    return this.transactions.get(transactionalId);
  }

  // ---------------------------------------------------------------- InitProducerId

  async initProducerId(request: {
    transactionalId: string | null;
    transactionTimeoutMs: number;
    producerId: ProducerId;
    producerEpoch: ProducerEpoch;
  }): Promise<ProducerIdAndEpoch> {
    const failed = (errorCode: number) => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (request.transactionalId === null) {
      // Idempotent producer: a fresh id every time (KIP-98).
      return {
        errorCode: ErrorCode.NONE,
        producerId: await this.dependencies.allocateProducerId(),
        producerEpoch: 0,
      };
    }
    if (request.transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    const availability = this.availabilityFor(request.transactionalId);
    if (availability !== ErrorCode.NONE) return failed(availability);
    if (
      request.transactionTimeoutMs <= 0 ||
      request.transactionTimeoutMs > this.dependencies.config.maxTimeoutMs()
    ) {
      return failed(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    let metadata = this.transactions.get(request.transactionalId);
    if (metadata === undefined) {
      const producerId = await this.dependencies.allocateProducerId();
      // The partition may have moved while the id was allocated.
      const stillHere = this.availabilityFor(request.transactionalId);
      if (stillHere !== ErrorCode.NONE) return failed(stillHere);
      metadata = this.transactions.get(request.transactionalId);
      if (metadata === undefined) {
        metadata = this.newMetadata(
          request.transactionalId,
          producerId,
          request.transactionTimeoutMs,
        );
        this.remember(metadata);
      }
    }
    if (metadata.pendingTransition) return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
    const fenced = this.checkInitProducer(metadata, request.producerId, request.producerEpoch);
    if (fenced !== null) return fenced;
    switch (metadata.status) {
      case 'PrepareCommit':
      case 'PrepareAbort':
      case 'PrepareEpochFence':
        return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Ongoing':
        // A new instance of the producer: fence the old one by aborting its transaction with a
        // bumped epoch, then hand out the next epoch (Kafka answers CONCURRENT_TRANSACTIONS and
        // lets the client retry; we wait for the abort instead).
        await this.abortWithEpochBump(metadata, 'fenced by a new producer instance');
        if ((metadata.status as TransactionStatus) !== 'CompleteAbort') {
          return failed(ErrorCode.CONCURRENT_TRANSACTIONS);
        }
        break;
      default:
        break;
    }
    const next = copyMetadata(metadata);
    if (metadata.producerEpoch >= producerEpochMax) {
      next.previousProducerId = metadata.producerId;
      next.producerId = await this.dependencies.allocateProducerId();
      next.producerEpoch = 0;
      next.lastProducerEpoch = -1;
    } else {
      next.lastProducerEpoch = metadata.producerEpoch;
      next.producerEpoch = metadata.producerEpoch + 1;
    }
    next.status = 'Empty';
    next.partitions = new Set();
    next.timeoutMs = request.transactionTimeoutMs;
    next.startTimestampMs = -1;
    next.bumpsEpochPerTransaction = false;
    const errorCode = await this.transition(metadata, next);
    if (errorCode !== ErrorCode.NONE) return failed(errorCode);
    return {
      errorCode: ErrorCode.NONE,
      producerId: next.producerId,
      producerEpoch: next.producerEpoch,
    };
  }

  /** KIP-360: the producer id/epoch a client resumes with must be the current (or just-bumped) one. */
  private checkInitProducer(
    metadata: TransactionMetadata,
    producerId: ProducerId,
    producerEpoch: ProducerEpoch,
  ): ProducerIdAndEpoch | null {
    if (producerId < 0n) return null;
    if (producerId === metadata.producerId) {
      if (
        producerEpoch === metadata.producerEpoch ||
        producerEpoch === metadata.lastProducerEpoch
      ) {
        return null;
      }
    } else if (producerId === metadata.previousProducerId && metadata.status === 'Empty') {
      // A retry of the InitProducerId that moved to a new producer id: answer it again.
      return {
        errorCode: ErrorCode.NONE,
        producerId: metadata.producerId,
        producerEpoch: metadata.producerEpoch,
      };
    }
    return { errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 };
  }

  // ---------------------------------------------------------------- AddPartitions / AddOffsets

  async addPartitions(
    request: TransactionRequest & { partitions: { topic: string; partition: number }[] },
  ): Promise<{ errorCode: number; partitionErrors: Map<string, number> }> {
    const partitionErrors = new Map<string, number>();
    const all = (errorCode: number) => {
      for (const entry of request.partitions) {
        partitionErrors.set(partitionKey(entry.topic, entry.partition), errorCode);
      }
      return { errorCode, partitionErrors };
    };
    const unknown = request.partitions.filter(
      (entry) => !this.dependencies.partitionExists(entry.topic, entry.partition),
    );
    if (unknown.length > 0) {
      all(ErrorCode.OPERATION_NOT_ATTEMPTED);
      for (const entry of unknown) {
        partitionErrors.set(
          partitionKey(entry.topic, entry.partition),
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        );
      }
      return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitionErrors };
    }
    const errorCode = await this.addToTransaction(request, request.partitions);
    return all(errorCode);
  }

  addOffsets(request: TransactionRequest & { groupId: string }): Promise<number> {
    return this.addToTransaction(request, [this.dependencies.offsetsPartitionFor(request.groupId)]);
  }

  private async addToTransaction(
    request: TransactionRequest,
    partitions: { topic: string; partition: number }[],
  ): Promise<number> {
    const checked = this.checkProducer(request);
    if (typeof checked === 'number') return checked;
    const metadata = checked;
    if (metadata.pendingTransition) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (
      metadata.status === 'PrepareCommit' ||
      metadata.status === 'PrepareAbort' ||
      metadata.status === 'PrepareEpochFence'
    ) {
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    }
    if (metadata.status === 'Dead') return ErrorCode.INVALID_TXN_STATE;
    const keys = partitions.map((entry) => partitionKey(entry.topic, entry.partition));
    if (metadata.status === 'Ongoing' && keys.every((key) => metadata.partitions.has(key))) {
      return ErrorCode.NONE;
    }
    const next = copyMetadata(metadata);
    if (metadata.status !== 'Ongoing') {
      next.partitions = new Set();
      next.startTimestampMs = this.dependencies.clock.wallMs();
    }
    for (const key of keys) next.partitions.add(key);
    next.status = 'Ongoing';
    return this.transition(metadata, next);
  }

  // ---------------------------------------------------------------- EndTxn

  async endTransaction(
    request: TransactionRequest & { commit: boolean; bumpEpoch: boolean },
  ): Promise<ProducerIdAndEpoch> {
    const answer = (errorCode: number, metadata?: TransactionMetadata): ProducerIdAndEpoch => ({
      errorCode,
      producerId: metadata?.producerId ?? -1n,
      producerEpoch: metadata?.producerEpoch ?? -1,
    });
    const availability = this.availabilityFor(request.transactionalId);
    if (availability !== ErrorCode.NONE) return answer(availability);
    const metadata = this.transactions.get(request.transactionalId);
    if (metadata === undefined || metadata.producerId !== request.producerId) {
      return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    }
    const expectedStatus: TransactionStatus = request.commit ? 'CompleteCommit' : 'CompleteAbort';
    if (request.producerEpoch !== metadata.producerEpoch) {
      // KIP-890 part 2: the retry of the EndTxn that bumped the epoch.
      if (
        metadata.bumpsEpochPerTransaction &&
        request.producerEpoch === metadata.lastProducerEpoch &&
        metadata.status === expectedStatus &&
        !metadata.pendingTransition
      ) {
        return answer(ErrorCode.NONE, metadata);
      }
      return answer(ErrorCode.PRODUCER_FENCED);
    }
    if (metadata.pendingTransition) return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
    switch (metadata.status) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        // A retry of an EndTxn already done (TV1, where the epoch does not move).
        if (metadata.status === expectedStatus && !metadata.bumpsEpochPerTransaction) {
          return answer(ErrorCode.NONE, metadata);
        }
        if (!request.commit && request.bumpEpoch) break;
        return answer(ErrorCode.INVALID_TXN_STATE);
      case 'PrepareCommit':
        return answer(
          request.commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE,
        );
      case 'PrepareAbort':
        return answer(
          request.commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS,
        );
      case 'Empty':
        // TV2 producers may abort an empty transaction (to bump the epoch).
        if (!request.commit && request.bumpEpoch) break;
        return answer(ErrorCode.INVALID_TXN_STATE);
      default:
        return answer(ErrorCode.INVALID_TXN_STATE);
    }
    const errorCode = await this.complete(metadata, {
      commit: request.commit,
      bumpEpoch: request.bumpEpoch,
      clientBumpsEpoch: request.bumpEpoch,
    });
    return answer(errorCode, metadata);
  }

  // ---------------------------------------------------------------- verification (KIP-890 part 1)

  /** Whether a transactional batch of this producer may be written to the partition now. */
  verifyTransactionalBatch(options: {
    producerId: ProducerId;
    producerEpoch: ProducerEpoch;
    topic: string;
    partition: number;
  }): number {
    const transactionalId = this.byProducerId.get(options.producerId);
    const metadata =
      transactionalId === undefined ? undefined : this.transactions.get(transactionalId);
    // Cluster mode: the producer's coordinator may be another broker, which this partition leader
    // cannot ask yet (AddPartitionsToTxn v4 verifyOnly): such batches are not verified.
    if (metadata === undefined && this.served !== undefined) return ErrorCode.NONE;
    if (metadata === undefined || metadata.producerId !== options.producerId) {
      return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    }
    if (options.producerEpoch < metadata.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (
      metadata.status !== 'Ongoing' ||
      options.producerEpoch !== metadata.producerEpoch ||
      !metadata.partitions.has(partitionKey(options.topic, options.partition))
    ) {
      return ErrorCode.INVALID_TXN_STATE;
    }
    return ErrorCode.NONE;
  }

  /**
   * TxnOffsetCommit (KIP-447 with KIP-890 verification): the producer must be current and the
   * group's offsets partition part of its ongoing transaction.
   */
  verifyOffsetCommit(request: TransactionRequest & { groupId: string }): number {
    const availability = this.availabilityFor(request.transactionalId);
    // Cluster mode: the group's coordinator need not be the transaction's; only the transaction
    // coordinator can verify, so another broker accepts the commit as Kafka did before KIP-890.
    if (availability === ErrorCode.NOT_COORDINATOR) return ErrorCode.NONE;
    if (availability !== ErrorCode.NONE) return availability;
    const checked = this.checkProducer(request);
    if (typeof checked === 'number') return checked;
    const { topic, partition } = this.dependencies.offsetsPartitionFor(request.groupId);
    if (checked.status !== 'Ongoing' || !checked.partitions.has(partitionKey(topic, partition))) {
      return ErrorCode.INVALID_TXN_STATE;
    }
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- admin

  describe(transactionalId: string): DescribedTransaction {
    const metadata = this.transactions.get(transactionalId);
    const availability = this.availabilityFor(transactionalId);
    if (metadata === undefined || availability !== ErrorCode.NONE) {
      return undescribedTransaction(
        transactionalId,
        availability !== ErrorCode.NONE ? availability : ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
      );
    }
    const byTopic = new Map<string, number[]>();
    for (const key of metadata.partitions) {
      const { topic, partition } = splitPartitionKey(key);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: metadata.status,
      transactionTimeoutMs: metadata.timeoutMs,
      transactionStartTimeMs: BigInt(Math.floor(metadata.startTimestampMs)),
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    };
  }

  /** ListTransactions (KIP-664), with the v1 duration filter (KIP-994). */
  list(filters: {
    states: readonly string[];
    producerIds: readonly ProducerId[];
    durationMs: number;
  }): { transactionalId: string; producerId: ProducerId; transactionState: string }[] {
    const nowMs = this.dependencies.clock.wallMs();
    const result = [];
    for (const metadata of this.transactions.values()) {
      if (filters.states.length > 0 && !filters.states.includes(metadata.status)) continue;
      if (filters.producerIds.length > 0 && !filters.producerIds.includes(metadata.producerId)) {
        continue;
      }
      if (
        filters.durationMs >= 0 &&
        (metadata.status !== 'Ongoing' || nowMs - metadata.startTimestampMs < filters.durationMs)
      ) {
        continue;
      }
      result.push({
        transactionalId: metadata.transactionalId,
        producerId: metadata.producerId,
        transactionState: metadata.status,
      });
    }
    return result;
  }

  // ---------------------------------------------------------------- timers

  /** Aborts transactions past their timeout; removes ids idle past transactional.id.expiration.ms. */
  async checkTimeouts(): Promise<void> {
    if (this.status !== 'active') return;
    const nowMs = this.dependencies.clock.wallMs();
    for (const metadata of [...this.transactions.values()]) {
      if (metadata.pendingTransition) continue;
      if (metadata.status === 'Ongoing' && nowMs - metadata.startTimestampMs > metadata.timeoutMs) {
        this.track(this.abortWithEpochBump(metadata, 'transaction timed out'));
      } else if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') {
        this.track(this.resumeCompletion(metadata));
      } else if (
        (metadata.status === 'Empty' ||
          metadata.status === 'CompleteCommit' ||
          metadata.status === 'CompleteAbort') &&
        nowMs - metadata.lastUpdateTimestampMs > this.dependencies.config.idExpirationMs()
      ) {
        this.track(this.expire(metadata));
      }
    }
  }

  private scheduleChecks(): void {
    if (this.status === 'stopped') return;
    this.timer = this.dependencies.clock.schedule(
      this.dependencies.config.abortCheckIntervalMs(),
      () => {
        this.scheduleChecks();
        void this.checkTimeouts();
      },
    );
  }

  // ---------------------------------------------------------------- transitions

  private checkProducer(request: TransactionRequest): TransactionMetadata | number {
    const availability = this.availabilityFor(request.transactionalId);
    if (availability !== ErrorCode.NONE) return availability;
    const metadata = this.transactions.get(request.transactionalId);
    if (metadata === undefined || metadata.producerId !== request.producerId) {
      return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    }
    if (request.producerEpoch !== metadata.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    return metadata;
  }

  /** Aborts the ongoing transaction with epoch + 1 so the current producer instance is fenced. */
  private async abortWithEpochBump(metadata: TransactionMetadata, reason: string): Promise<void> {
    if (metadata.pendingTransition || metadata.status !== 'Ongoing') return;
    this.dependencies.logger.info('aborting transaction', {
      transactionalId: metadata.transactionalId,
      producerId: String(metadata.producerId),
      producerEpoch: metadata.producerEpoch,
      reason,
    });
    await this.complete(metadata, { commit: false, bumpEpoch: true });
  }

  /** Prepare -> markers -> Complete, each state durable before the next step. */
  private async complete(
    metadata: TransactionMetadata,
    options: { commit: boolean; bumpEpoch: boolean; clientBumpsEpoch?: boolean },
  ): Promise<number> {
    const prepare = copyMetadata(metadata);
    prepare.status = options.commit ? 'PrepareCommit' : 'PrepareAbort';
    if (options.clientBumpsEpoch) prepare.bumpsEpochPerTransaction = true;
    if (options.bumpEpoch && metadata.producerEpoch < producerEpochMax) {
      prepare.lastProducerEpoch = metadata.producerEpoch;
      prepare.producerEpoch = metadata.producerEpoch + 1;
    }
    const errorCode = await this.transition(metadata, prepare);
    if (errorCode !== ErrorCode.NONE) return errorCode;
    return this.resumeCompletion(metadata);
  }

  /** Writes the markers of a Prepare* transaction and moves it to Complete*. */
  private async resumeCompletion(metadata: TransactionMetadata): Promise<number> {
    if (metadata.pendingTransition) return ErrorCode.CONCURRENT_TRANSACTIONS;
    const commit = metadata.status === 'PrepareCommit';
    if (!commit && metadata.status !== 'PrepareAbort') return ErrorCode.NONE;
    const coordinatorEpoch = this.coordinatorEpochOf(metadata.transactionalId);
    if (coordinatorEpoch === undefined || !this.owns(metadata, coordinatorEpoch)) {
      return ErrorCode.NOT_COORDINATOR;
    }
    metadata.pendingTransition = true;
    try {
      await this.writeMarkersWithRetry(metadata, commit, coordinatorEpoch);
    } catch (error) {
      metadata.pendingTransition = false;
      if (!this.owns(metadata, coordinatorEpoch)) return ErrorCode.NOT_COORDINATOR;
      this.dependencies.logger.warn('transaction markers not written yet; will retry', {
        transactionalId: metadata.transactionalId,
        error: String(error),
      });
      return ErrorCode.NONE;
    }
    metadata.pendingTransition = false;
    if (!this.owns(metadata, coordinatorEpoch)) return ErrorCode.NOT_COORDINATOR;
    const done = copyMetadata(metadata);
    done.status = commit ? 'CompleteCommit' : 'CompleteAbort';
    done.partitions = new Set();
    return this.transition(metadata, done);
  }

  private async writeMarkersWithRetry(
    metadata: TransactionMetadata,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<void> {
    const partitions = [...metadata.partitions].map(splitPartitionKey);
    const isCurrent = () => this.owns(metadata, coordinatorEpoch);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dependencies.writeMarkers({
          producerId: metadata.producerId,
          producerEpoch: metadata.producerEpoch,
          commit,
          partitions,
          coordinatorEpoch,
          isCurrent,
        });
        return;
      } catch (error) {
        if (attempt >= markerAttemptsMax || !isCurrent()) throw error;
        await new Promise<void>((resolve) =>
          this.dependencies.clock.schedule(markerRetryBackoffMs * attempt, resolve),
        );
      }
    }
  }

  private async expire(metadata: TransactionMetadata): Promise<void> {
    const coordinatorEpoch = this.coordinatorEpochOf(metadata.transactionalId);
    if (coordinatorEpoch === undefined) return;
    metadata.pendingTransition = true;
    try {
      await this.dependencies.stateLog.write(
        metadata.transactionalId,
        null,
        this.served === undefined ? undefined : coordinatorEpoch,
      );
      if (!this.owns(metadata, coordinatorEpoch)) return;
      this.transactions.delete(metadata.transactionalId);
      if (this.byProducerId.get(metadata.producerId) === metadata.transactionalId) {
        this.byProducerId.delete(metadata.producerId);
      }
    } finally {
      metadata.pendingTransition = false;
    }
  }

  /** Makes `next` durable, then applies it to `current` in place. */
  private async transition(
    current: TransactionMetadata,
    next: TransactionMetadata,
  ): Promise<number> {
    if (current.pendingTransition) return ErrorCode.CONCURRENT_TRANSACTIONS;
    const coordinatorEpoch = this.coordinatorEpochOf(current.transactionalId);
    if (coordinatorEpoch === undefined || !this.owns(current, coordinatorEpoch)) {
      return ErrorCode.NOT_COORDINATOR;
    }
    next.lastUpdateTimestampMs = this.dependencies.clock.wallMs();
    next.pendingTransition = false;
    current.pendingTransition = true;
    try {
      await this.dependencies.stateLog.write(
        current.transactionalId,
        next,
        this.served === undefined ? undefined : coordinatorEpoch,
      );
    } catch (error) {
      current.pendingTransition = false;
      const moved = error instanceof CoordinatorMovedError || !this.owns(current, coordinatorEpoch);
      this.dependencies.logger.warn('__transaction_state write failed', {
        transactionalId: current.transactionalId,
        coordinatorEpoch,
        error: String(error),
      });
      return moved ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    current.pendingTransition = false;
    // Durable, but the partition moved meanwhile: the new coordinator replays this write.
    if (!this.owns(current, coordinatorEpoch)) return ErrorCode.NOT_COORDINATOR;
    if (current.producerId !== next.producerId) this.byProducerId.delete(current.producerId);
    Object.assign(current, next);
    this.byProducerId.set(current.producerId, current.transactionalId);
    return ErrorCode.NONE;
  }

  private newMetadata(
    transactionalId: string,
    producerId: ProducerId,
    timeoutMs: number,
  ): TransactionMetadata {
    const nowMs = this.dependencies.clock.wallMs();
    return {
      transactionalId,
      producerId,
      previousProducerId: -1n,
      producerEpoch: -1,
      lastProducerEpoch: -1,
      timeoutMs,
      status: 'Empty',
      partitions: new Set(),
      startTimestampMs: -1,
      lastUpdateTimestampMs: nowMs,
      bumpsEpochPerTransaction: false,
      pendingTransition: false,
    };
  }

  private remember(metadata: TransactionMetadata): void {
    this.transactions.set(metadata.transactionalId, metadata);
    this.byProducerId.set(metadata.producerId, metadata.transactionalId);
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => {
      this.dependencies.logger.warn('transaction completion failed', { error: String(error) });
    });
    this.completions.add(tracked);
    void tracked.finally(() => this.completions.delete(tracked));
  }
}
