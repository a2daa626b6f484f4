// The client side of Kafka transactions (KIP-98; Java's TransactionManager): the state machine,
// and the requests to the transaction coordinator (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn) and to the group coordinator (TxnOffsetCommit, KIP-447).
//
//   uninitialized → initializing → ready → in-transaction → committing | aborting → ready
//   in-transaction | committing → abortable-error → (abortTransaction) → ready
//   any → fatal-error (fenced, unauthorised, invalid state): only close remains
//
// Under transaction version 1 a partition takes part only after AddPartitionsToTxn said so: the
// sender holds its batches and the partitions first touched in one sender pass are added in one
// request. Failed sends make the transaction abortable; the abort then bumps the epoch with
// InitProducerId(current id and epoch) (KIP-360) so sequences restart cleanly.
//
// Transaction version 2 (KIP-890 part 2), used when the cluster finalized `transaction.version`
// ≥ 2 and speaks Produce v12, TxnOffsetCommit v5 and EndTxn v5: Produce v12 adds partitions and
// TxnOffsetCommit v5 the group implicitly (no AddPartitionsToTxn / AddOffsetsToTxn), and every
// EndTxn v5 answers the next epoch (sometimes a new producer id), so sequences restart with each
// transaction. The version is chosen at initTransactions.

import {
  type AddOffsetsToTxnResponse,
  type AddPartitionsToTxnResponse,
  addOffsetsToTxnApi,
  addPartitionsToTxnApi,
  type EndTxnResponse,
  ErrorCode,
  endTxnApi,
  type InitProducerIdResponse,
  initProducerIdApi,
  produceApi,
  type TxnOffsetCommitResponse,
  txnOffsetCommitApi,
} from '@gregor/protocol';
import { abortable } from '../abortable.js';
import type { TopicPartition } from '../consumer/list-offsets.js';
import {
  KafkaError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from '../errors.js';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import type { Cluster } from '../network/cluster.js';
import { coordinatorRequest } from '../network/coordinator-request.js';

export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'in-transaction'
  | 'committing'
  | 'aborting'
  | 'abortable-error'
  | 'fatal-error';

/** What the transaction manager needs from the producer it belongs to. */
export interface TransactionHost {
  /** Takes a producer id and epoch: every partition's sequence restarts at 0. */
  adoptProducerId(producerId: bigint, producerEpoch: number): void;
  /** Waits until every record sent so far is acknowledged or failed. */
  flush(): Promise<void>;
  /** Fails records not sent yet with `error`, then waits for those in flight. */
  abortUnsent(error: Error): Promise<void>;
  /** Runs the sender (partitions were added, or queued batches must fail). */
  wake(): void;
}

export interface TransactionOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** Bound of each transactional call (Java's max.block.ms). */
  timeoutMs: number;
}

export type OffsetToCommit = TopicPartition & { offset: bigint; metadata?: string | null };

/** AddPartitionsToTxn v4+ is for brokers verifying transactions (KIP-890 part 1). */
const addPartitionsToTxnClientVersionMax = 3;
/** InitProducerId v3+ takes the current id and epoch, which lets an abort bump the epoch. */
const initProducerIdBumpVersionMin = 3;
/** Versions of transaction version 1; the next ones belong to version 2 (KIP-890). */
const endTxnVersion1Max = 4;
const produceVersion1Max = 11;
const txnOffsetCommitVersion1Max = 4;
const endTxnVersion2Min = 5;
const produceVersion2Min = 12;
const txnOffsetCommitVersion2Min = 5;
export type TransactionVersion = 1 | 2;
/** TxnOffsetCommit v3+ carries member id, generation and instance id (KIP-447). */
const txnOffsetCommitGroupMetadataVersionMin = 3;

/** Errors after which the producer can only close (Java's fatal errors). */
const fatalCodes: ReadonlySet<number> = new Set([
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_TXN_STATE,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
]);
const fencedCodes: ReadonlySet<number> = new Set([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_EPOCH,
]);

function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function byTopic<T extends TopicPartition>(entries: Iterable<T>): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const entry of entries) {
    const list = topics.get(entry.topic) ?? [];
    list.push(entry);
    topics.set(entry.topic, list);
  }
  return topics;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class TransactionManager {
  private currentState: TransactionState = 'uninitialized';
  producerId = -1n;
  producerEpoch = -1;
  /** The abortable or fatal error; thrown by the calls that state forbids. */
  private lastError: Error | null = null;
  private readonly added = new Set<string>();
  private readonly pending = new Map<string, TopicPartition>();
  private adding = false;
  private offsetsAdded = false;
  /** Version 2: something was produced in this transaction (partitions added implicitly). */
  private produced = false;
  private epochBumpNeeded = false;
  private pendingOperation: { call: string; promise: Promise<void> } | null = null;
  private version: TransactionVersion = 1;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: TransactionOptions,
    private readonly host: TransactionHost,
  ) {}

  get state(): TransactionState {
    return this.currentState;
  }

  get transactionalId(): string {
    return this.options.transactionalId;
  }

  get transactionVersion(): TransactionVersion {
    return this.version;
  }

  /** Highest Produce version for this producer's batches (v12 only under version 2). */
  get produceVersionMax(): number {
    return this.version === 2 ? produceVersion2Min : produceVersion1Max;
  }

  /** The error that queued batches fail with (abortable or fatal state), else null. */
  get failure(): Error | null {
    return this.currentState === 'abortable-error' || this.currentState === 'fatal-error'
      ? this.lastError
      : null;
  }

  /** True while the sender may drain batches of this producer. */
  get canSend(): boolean {
    return (
      this.currentState === 'in-transaction' ||
      this.currentState === 'committing' ||
      this.currentState === 'aborting'
    );
  }

  initTransactions(signal?: AbortSignal): Promise<void> {
    return this.operation('initTransactions', ['uninitialized'], signal, () => this.initialize());
  }

  private async initialize(): Promise<void> {
    this.currentState = 'initializing';
    try {
      const { producerId, producerEpoch } = await this.initProducerId(-1n, -1);
      this.version = await this.detectVersion();
      this.producerId = producerId;
      this.producerEpoch = producerEpoch;
      this.host.adoptProducerId(producerId, producerEpoch);
      this.currentState = 'ready';
    } catch (error) {
      const failure = this.fail(error);
      if (this.currentState === 'initializing') this.currentState = 'uninitialized';
      throw failure;
    }
  }

  beginTransaction(): void {
    this.requireState('beginTransaction', ['ready']);
    this.added.clear();
    this.pending.clear();
    this.offsetsAdded = false;
    this.produced = false;
    this.currentState = 'in-transaction';
  }

  /** Throws unless a record may be sent now (inside a transaction without an error). */
  checkSend(): void {
    this.requireState('send', ['in-transaction']);
  }

  /**
   * Whether the sender may drain a batch of this partition. Under transaction version 1 a
   * partition first has to be added; until then it is queued for the next AddPartitionsToTxn.
   */
  partitionReady(topic: string, partition: number): boolean {
    if (this.version === 2) {
      this.produced = true;
      return true;
    }
    const key = partitionKey(topic, partition);
    if (this.added.has(key)) return true;
    if (!this.pending.has(key)) this.pending.set(key, { topic, partition });
    return false;
  }

  /** Sends one AddPartitionsToTxn for the partitions queued so far (none in flight already). */
  addPendingPartitions(): void {
    if (this.adding || this.pending.size === 0 || !this.canSend) return;
    if (this.currentState === 'aborting') return;
    this.adding = true;
    const partitions = [...this.pending.values()];
    this.addPartitions(partitions)
      .then(
        () => {
          for (const { topic, partition } of partitions) {
            const key = partitionKey(topic, partition);
            this.added.add(key);
            this.pending.delete(key);
          }
        },
        (error: unknown) => {
          this.fail(error);
        },
      )
      .finally(() => {
        this.adding = false;
        this.host.wake();
      });
  }

  /** A batch of this transaction failed for good: the transaction can only abort. */
  onBatchFailed(error: Error): void {
    this.epochBumpNeeded = true;
    this.fail(error);
  }

  sendOffsetsToTransaction(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.operation('sendOffsetsToTransaction', ['in-transaction'], signal, () =>
      this.sendOffsets(offsets, group),
    );
  }

  private async sendOffsets(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    try {
      if (this.version === 1) await this.addOffsets(group.groupId);
      this.offsetsAdded = true;
      await this.commitOffsets(offsets, group);
    } catch (error) {
      throw this.fail(error);
    }
  }

  commitTransaction(signal?: AbortSignal): Promise<void> {
    return this.operation('commitTransaction', ['in-transaction'], signal, () => this.commit());
  }

  private async commit(): Promise<void> {
    this.currentState = 'committing';
    try {
      await this.host.flush();
      // A batch that failed during the flush made the transaction abortable.
      if (this.failure !== null) throw this.failure;
      if (this.started) await this.endTransaction(true);
      this.currentState = 'ready';
    } catch (error) {
      throw this.fail(error);
    }
  }

  abortTransaction(signal?: AbortSignal): Promise<void> {
    return this.operation('abortTransaction', ['in-transaction', 'abortable-error'], signal, () =>
      this.abort(),
    );
  }

  private async abort(): Promise<void> {
    this.currentState = 'aborting';
    try {
      await this.host.abortUnsent(new TransactionAbortedError());
      // Version 2: EndTxn itself answers the next epoch.
      const bumpedByEndTxn = this.version === 2 && this.started;
      if (this.started) await this.endTransaction(false);
      if (this.epochBumpNeeded && !bumpedByEndTxn) await this.bumpEpoch();
      this.epochBumpNeeded = false;
      this.lastError = null;
      this.currentState = 'ready';
    } catch (error) {
      const failure = this.fail(error);
      // A failed abort (a timeout) may be called again.
      if (this.currentState === 'aborting') this.currentState = 'abortable-error';
      throw failure;
    }
  }

  /**
   * Runs one transactional call. Its caller may stop waiting (signal); the call goes on, and the
   * same call made again while it runs waits for it instead of starting another.
   */
  private operation(
    call: string,
    allowed: readonly TransactionState[],
    signal: AbortSignal | undefined,
    body: () => Promise<void>,
  ): Promise<void> {
    const pending = this.pendingOperation;
    if (pending !== null && pending.call === call) return abortable(pending.promise, signal);
    try {
      this.requireState(call, allowed);
      signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = body();
    const entry = { call, promise };
    this.pendingOperation = entry;
    const clear = () => {
      if (this.pendingOperation === entry) this.pendingOperation = null;
    };
    // Handled here too: a caller that stopped waiting leaves no unhandled rejection behind.
    promise.then(clear, clear);
    return abortable(promise, signal);
  }

  /** Whether the coordinator knows of this transaction (so EndTxn must end it). */
  private get started(): boolean {
    return this.added.size > 0 || this.offsetsAdded || this.produced;
  }

  /** Version 2 when the cluster finalized it and speaks its request versions (KIP-890). */
  private detectVersion(): Promise<TransactionVersion> {
    return this.transactionCoordinator('ApiVersions', async (connection) => {
      const versions = connection.versions;
      const feature = versions.finalizedFeatures.get('transaction.version') ?? 0;
      const speaks = (apiKey: number, minVersion: number) =>
        (versions.brokerRange(apiKey)?.maxVersion ?? -1) >= minVersion;
      const version2 =
        feature >= 2 &&
        speaks(endTxnApi.apiKey, endTxnVersion2Min) &&
        speaks(produceApi.apiKey, produceVersion2Min) &&
        speaks(txnOffsetCommitApi.apiKey, txnOffsetCommitVersion2Min) &&
        (versions.tryVersion(produceApi) ?? 0) >= produceVersion2Min &&
        (versions.tryVersion(txnOffsetCommitApi) ?? 0) >= txnOffsetCommitVersion2Min;
      return version2 ? 2 : 1;
    });
  }

  /** Records a failure: fatal codes end the producer; anything else inside a transaction makes it abortable. */
  private fail(error: unknown): Error {
    if (this.currentState === 'fatal-error') return this.lastError!;
    const failure = asError(error);
    if (failure instanceof TransactionAbortableError) return failure;
    const fatal = this.fatalFor(failure);
    if (fatal !== null) {
      this.currentState = 'fatal-error';
      this.lastError = fatal;
      this.host.wake();
      return fatal;
    }
    if (this.currentState === 'in-transaction' || this.currentState === 'committing') {
      this.currentState = 'abortable-error';
      this.lastError = new TransactionAbortableError(
        `transaction of ${this.transactionalId} must abort: ${failure.message}`,
        failure,
      );
      this.host.wake();
      return this.lastError;
    }
    return failure;
  }

  private fatalFor(error: Error): TransactionFatalError | null {
    if (error instanceof TransactionFatalError) return error;
    if (!(error instanceof KafkaError)) return null;
    const context = `transactional id ${this.transactionalId}`;
    if (fencedCodes.has(error.code)) return new ProducerFencedError(error.code, context);
    if (fatalCodes.has(error.code)) {
      return new TransactionFatalError(`${context}: ${error.message}`, error);
    }
    return null;
  }

  private requireState(call: string, allowed: readonly TransactionState[]): void {
    if (allowed.includes(this.currentState)) return;
    if (this.lastError !== null && this.failure !== null) throw this.lastError;
    const hint = this.currentState === 'uninitialized' ? ' (call initTransactions first)' : '';
    throw new TransactionStateError(`${call} is not allowed in state ${this.currentState}${hint}`);
  }

  private deadlineMs(): number {
    return Date.now() + this.options.timeoutMs;
  }

  private transactionCoordinator<T>(
    what: string,
    attempt: Parameters<typeof coordinatorRequest<T>>[1],
    retriableCodes?: ReadonlySet<number>,
  ): Promise<T> {
    return coordinatorRequest(
      {
        cluster: this.cluster,
        type: 'transaction',
        key: this.transactionalId,
        what: `${what} for ${this.transactionalId}`,
        deadlineMs: this.deadlineMs(),
        retriableCodes,
      },
      attempt,
    );
  }

  private initProducerId(
    producerId: bigint,
    producerEpoch: number,
  ): Promise<{ producerId: bigint; producerEpoch: number }> {
    return this.transactionCoordinator('InitProducerId', async (connection) => {
      const version = connection.versions.version(initProducerIdApi);
      if (producerId >= 0n && version < initProducerIdBumpVersionMin) {
        throw new TransactionFatalError(
          `the coordinator speaks InitProducerId v${version}: no epoch bump (KIP-360) after an abortable error`,
        );
      }
      const response = await connection.request<InitProducerIdResponse>(
        initProducerIdApi,
        {
          transactionalId: this.transactionalId,
          transactionTimeoutMs: this.options.transactionTimeoutMs,
          producerId,
          producerEpoch,
        },
        { version },
      );
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(response.errorCode, `InitProducerId ${this.transactionalId}`);
      }
      return { producerId: response.producerId, producerEpoch: response.producerEpoch };
    });
  }

  /** KIP-360: the same producer id with the next epoch, so sequences restart from 0. */
  private async bumpEpoch(): Promise<void> {
    const bumped = await this.initProducerId(this.producerId, this.producerEpoch);
    this.producerId = bumped.producerId;
    this.producerEpoch = bumped.producerEpoch;
    this.host.adoptProducerId(bumped.producerId, bumped.producerEpoch);
    this.epochBumpNeeded = false;
  }

  private addPartitions(partitions: readonly TopicPartition[]): Promise<void> {
    const retriable = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.REQUEST_TIMED_OUT]);
    return this.transactionCoordinator(
      'AddPartitionsToTxn',
      async (connection) => {
        const version = Math.min(
          connection.versions.version(addPartitionsToTxnApi),
          addPartitionsToTxnClientVersionMax,
        );
        const response = await connection.request<AddPartitionsToTxnResponse>(
          addPartitionsToTxnApi,
          {
            v3AndBelowTransactionalId: this.transactionalId,
            v3AndBelowProducerId: this.producerId,
            v3AndBelowProducerEpoch: this.producerEpoch,
            v3AndBelowTopics: [...byTopic(partitions)].map(([name, entries]) => ({
              name,
              partitions: entries.map((entry) => entry.partition),
            })),
          },
          { version },
        );
        // One failed partition makes the others OPERATION_NOT_ATTEMPTED: report the real one.
        let failed: KafkaError | undefined;
        for (const topic of response.resultsByTopicV3AndBelow ?? []) {
          for (const result of topic.resultsByPartition) {
            const code = result.partitionErrorCode;
            if (code === ErrorCode.NONE) continue;
            if (code === ErrorCode.OPERATION_NOT_ATTEMPTED && failed !== undefined) continue;
            failed = new KafkaError(
              code,
              `AddPartitionsToTxn ${topic.name}-${result.partitionIndex}`,
            );
          }
        }
        if (failed !== undefined) throw failed;
      },
      retriable,
    );
  }

  private addOffsets(groupId: string): Promise<void> {
    return this.transactionCoordinator('AddOffsetsToTxn', async (connection) => {
      const response = await connection.request<AddOffsetsToTxnResponse>(addOffsetsToTxnApi, {
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        groupId,
      });
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(response.errorCode, `AddOffsetsToTxn ${groupId}`);
      }
    });
  }

  private commitOffsets(
    offsets: readonly OffsetToCommit[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    const retriable = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.REQUEST_TIMED_OUT]);
    return coordinatorRequest(
      {
        cluster: this.cluster,
        type: 'group',
        key: group.groupId,
        what: `TxnOffsetCommit for group ${group.groupId}`,
        deadlineMs: this.deadlineMs(),
        retriableCodes: retriable,
      },
      async (connection) => {
        const version = Math.min(
          connection.versions.version(txnOffsetCommitApi),
          this.version === 2 ? Infinity : txnOffsetCommitVersion1Max,
        );
        const withMember = version >= txnOffsetCommitGroupMetadataVersionMin;
        const response = await connection.request<TxnOffsetCommitResponse>(
          txnOffsetCommitApi,
          {
            transactionalId: this.transactionalId,
            groupId: group.groupId,
            producerId: this.producerId,
            producerEpoch: this.producerEpoch,
            generationId: withMember ? group.generationId : undefined,
            memberId: withMember ? group.memberId : undefined,
            groupInstanceId: withMember ? (group.groupInstanceId ?? null) : undefined,
            topics: [...byTopic(offsets)].map(([name, entries]) => ({
              name,
              partitions: entries.map((entry) => ({
                partitionIndex: entry.partition,
                committedOffset: entry.offset,
                committedLeaderEpoch: -1,
                committedMetadata: entry.metadata ?? null,
              })),
            })),
          },
          { version },
        );
        for (const topic of response.topics) {
          for (const partition of topic.partitions) {
            if (partition.errorCode !== ErrorCode.NONE) {
              throw new KafkaError(
                partition.errorCode,
                `TxnOffsetCommit ${group.groupId} ${topic.name}-${partition.partitionIndex}`,
              );
            }
          }
        }
      },
    );
  }

  private async endTransaction(committed: boolean): Promise<void> {
    const ended = await this.transactionCoordinator(
      committed ? 'EndTxn(commit)' : 'EndTxn(abort)',
      async (connection) => {
        const version = Math.min(
          connection.versions.version(endTxnApi),
          this.version === 2 ? Infinity : endTxnVersion1Max,
        );
        const response = await connection.request<EndTxnResponse>(
          endTxnApi,
          {
            transactionalId: this.transactionalId,
            producerId: this.producerId,
            producerEpoch: this.producerEpoch,
            committed,
          },
          { version },
        );
        if (response.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(response.errorCode, `EndTxn ${this.transactionalId}`);
        }
        return version >= endTxnVersion2Min ? response : undefined;
      },
    );
    this.added.clear();
    this.pending.clear();
    this.offsetsAdded = false;
    this.produced = false;
    // Version 2: the coordinator bumped the epoch (or gave a new id when it ran out).
    if (ended?.producerId !== undefined && ended.producerId >= 0n) {
      this.producerId = ended.producerId;
      this.producerEpoch = ended.producerEpoch ?? this.producerEpoch;
      this.host.adoptProducerId(this.producerId, this.producerEpoch);
    }
  }
}
