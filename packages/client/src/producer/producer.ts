// The producer: `send` admits records in call order (metadata, then buffer.memory), the
// accumulator batches them per partition, and the sender drains ready partitions into one
// Produce request per leader at a time, up to `maxInFlightRequestsPerConnection` per broker.
// Idempotence (KIP-98, on by default like Java since 3.0/KIP-679): one producer id, sequences
// per partition stamped at first drain; a failed batch is re-queued in sequence order and its
// partition drains again only once all its in-flight batches came back, so order is kept with
// up to 5 in flight. A batch that fails for good bumps the epoch (KIP-360). With a
// `transactionalId` the producer is transactional (transactions.ts holds the state machine).

import { defaultCompressionCodecs } from '@gregor/compression';
import {
  type CompressionName,
  CompressionType,
  codecForType,
  ErrorCode,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type InitProducerIdResponse,
  initProducerIdApi,
  type ProduceRequest,
  type ProduceResponse,
  produceApi,
  type RecordHeader,
  type RecordInput,
} from '@gregor/protocol';
import { abortable } from '../abortable.js';
import type { TopicPartition } from '../consumer/list-offsets.js';
import {
  ClientError,
  ClosedError,
  ConnectionError,
  invalidatesMetadata,
  KafkaError,
  TimeoutError,
} from '../errors.js';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import { Cluster, type ClusterOptions, sleep, type TopicInfo } from '../network/cluster.js';
import { SerializationError, type Serializer } from '../serdes.js';
import {
  Accumulator,
  type Delivery,
  type PartitionQueue,
  type ProducerBatch,
  type RecordMetadata,
  recordSizeBytesBound,
} from './accumulator.js';
import { ByteBudget } from './byte-budget.js';
import { defaultPartitioner, type Partitioner, StickyPartitions } from './partitioner.js';
import { type OffsetToCommit, TransactionManager, type TransactionState } from './transactions.js';

export type { RecordMetadata } from './accumulator.js';

export type Acks = 0 | 1 | -1 | 'all';

/** Keys and values without serializers: bytes, or text sent as UTF-8. */
export type RawData = Buffer | string;

export interface ProducerOptions<K = RawData, V = RawData> extends ClusterOptions {
  /** Turns keys into bytes (see `serdes`); without it keys must be Buffer or string. */
  keySerializer?: Serializer<K | null>;
  /** Turns values into bytes (see `serdes`); without it values must be Buffer or string. */
  valueSerializer?: Serializer<V | null>;
  /**
   * Upper bound of the exponential retry backoff (Java's retry.backoff.max.ms, KIP-580): a
   * batch's n-th retry waits retryBackoffMs·2^(n-1), ±20%, at most this.
   */
  retryBackoffMaxMs?: number;
  /** -1/'all' (default): the leader waits for the in-sync replicas. */
  acks?: Acks;
  batchSizeBytes?: number;
  lingerMs?: number;
  bufferMemoryBytes?: number;
  /** How long `send` may wait for metadata or buffer.memory. */
  maxBlockMs?: number;
  /** Bound on queueing + in flight + retries of a record. */
  deliveryTimeoutMs?: number;
  /** Default: true when acks is all. Requires acks all and at most 5 in flight. */
  idempotent?: boolean;
  compression?: CompressionName;
  partitioner?: Partitioner;
  /** Upper bound of one Produce request's batches. */
  maxRequestSizeBytes?: number;
  /** Random numbers in [0, 1) for sticky partitioning (injected by tests). */
  random?: () => number;
  /**
   * Makes the producer transactional (implies idempotence): call `initTransactions()` once, then
   * send only between `beginTransaction()` and `commitTransaction()`/`abortTransaction()`.
   */
  transactionalId?: string;
  /** How long the coordinator lets a transaction stay open before aborting it. */
  transactionTimeoutMs?: number;
}

export const producerDefaults = {
  // Java's 16 KiB limits a request to a few hundred small records per partition; librdkafka
  // batches up to 1 MB. Batches are not preallocated here, so a large bound costs nothing.
  batchSizeBytes: 262_144,
  lingerMs: 5, // KIP-1030; applies only behind a batch in flight (accumulator.readyAtMs)
  bufferMemoryBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  deliveryTimeoutMs: 120_000,
  maxRequestSizeBytes: 1_048_576,
  transactionTimeoutMs: 60_000,
  retryBackoffMaxMs: 1_000,
} as const;

export type HeaderValue = Buffer | string | null;

export interface ProducerRecord<K = RawData, V = RawData> {
  topic: string;
  key?: K | null;
  value: V | null;
  /** Repeated keys: pass an array. */
  headers?: Record<string, HeaderValue> | ReadonlyArray<{ key: string; value: HeaderValue }>;
  /** Chosen by the partitioner when absent. */
  partition?: number;
  /** Milliseconds since the epoch; now when absent. */
  timestamp?: number | bigint;
}

interface Admission {
  /** Set when an abort failed the send while it waited for metadata or buffer.memory. */
  cancelled?: boolean;
  /** Called once the record is in a batch (its AbortSignal no longer applies). */
  admitted?: () => void;
  /** Resolves when the send is withdrawn while it waits (see cancelAdmission). */
  cancellation?: Promise<typeof cancelledMark>;
  onCancel?: () => void;
  topic: string;
  partition: number | undefined;
  record: RecordInput;
  sizeBytes: number;
  delivery: Delivery;
}

interface DrainedBatch {
  queue: PartitionQueue;
  batch: ProducerBatch;
}

const sequenceMax = 0x7fffffff;
/** First Produce version with magic v2 record batches. */
const produceVersionMin = 3;

/** `bump-needed`: a batch failed for good; the next epoch starts once nothing is in flight. */
type ProducerIdState = 'none' | 'initializing' | 'ready' | 'bump-needed';
/** Java bumps locally up to here, then asks for a new producer id (the epoch is an int16). */
const producerEpochMax = 32_767;

export interface SendOptions {
  /**
   * Withdraws the send while it still waits for metadata or buffer.memory (it then rejects with
   * the signal's reason). Once the record is in a batch it is sent: Kafka has no way to take it back.
   */
  signal?: AbortSignal;
}

/**
 * An aborted signal ends the wait of a transactional call, not the call: it goes on, and calling
 * the same method again waits for it (as Java does after a timeout).
 */
export interface TransactionCallOptions {
  signal?: AbortSignal;
}

export class Producer<K = RawData, V = RawData> {
  readonly cluster: Cluster;
  private readonly accumulator: Accumulator;
  private readonly budget: ByteBudget;
  private readonly sticky: StickyPartitions;
  private readonly partitioner: Partitioner;
  private readonly acks: 0 | 1 | -1;
  private readonly idempotent: boolean;
  private readonly compression: CompressionType;
  private readonly settings: {
    batchSizeBytes: number;
    lingerMs: number;
    maxBlockMs: number;
    deliveryTimeoutMs: number;
    maxRequestSizeBytes: number;
    maxInFlight: number;
    retryBackoffMs: number;
    retryBackoffMaxMs: number;
    requestTimeoutMs: number;
  };
  private readonly keySerializer: Serializer<K | null> | undefined;
  private readonly valueSerializer: Serializer<V | null> | undefined;
  private readonly admissions: Admission[] = [];
  private admitting = false;
  /** Resolves when the admission queue is empty (flush waits for sends made before it). */
  private admissionsIdle: Promise<void> = Promise.resolve();
  private producerId = -1n;
  private producerEpoch = -1;
  private producerIdState: ProducerIdState = 'none';
  private readonly inFlightByNode = new Map<number, number>();
  private readonly sendChains = new Map<number, Promise<void>>();
  private flushesPending = 0;
  private senderScheduled = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Infinity;
  private closed = false;
  private readonly transactions: TransactionManager | undefined;

  constructor(options: ProducerOptions<K, V>) {
    this.cluster = new Cluster(options);
    this.acks = options.acks === 'all' || options.acks === undefined ? -1 : options.acks;
    const transactional = options.transactionalId !== undefined;
    if (transactional && options.idempotent === false) {
      throw new ClientError('a transactional producer is idempotent', { retriable: false });
    }
    this.idempotent = options.idempotent ?? (transactional || this.acks === -1);
    const maxInFlight = this.cluster.options.maxInFlightRequestsPerConnection;
    if (this.idempotent && (this.acks !== -1 || maxInFlight > 5)) {
      throw new ClientError('idempotence needs acks=all and at most 5 requests in flight', {
        retriable: false,
      });
    }
    this.compression = CompressionType[options.compression ?? 'none'];
    if (this.compression !== CompressionType.none) {
      codecForType(defaultCompressionCodecs, this.compression);
    }
    this.settings = {
      batchSizeBytes: options.batchSizeBytes ?? producerDefaults.batchSizeBytes,
      lingerMs: options.lingerMs ?? producerDefaults.lingerMs,
      maxBlockMs: options.maxBlockMs ?? producerDefaults.maxBlockMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? producerDefaults.deliveryTimeoutMs,
      maxRequestSizeBytes: options.maxRequestSizeBytes ?? producerDefaults.maxRequestSizeBytes,
      maxInFlight,
      retryBackoffMs: this.cluster.options.retryBackoffMs,
      retryBackoffMaxMs: Math.max(
        options.retryBackoffMaxMs ?? producerDefaults.retryBackoffMaxMs,
        this.cluster.options.retryBackoffMs,
      ),
      requestTimeoutMs: this.cluster.options.requestTimeoutMs,
    };
    // Java refuses a delivery timeout that cannot cover one linger and one request.
    if (
      options.deliveryTimeoutMs !== undefined &&
      options.deliveryTimeoutMs < this.settings.lingerMs + this.settings.requestTimeoutMs
    ) {
      throw new ClientError(
        `deliveryTimeoutMs (${options.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${this.settings.lingerMs + this.settings.requestTimeoutMs})`,
        { retriable: false },
      );
    }
    this.keySerializer = options.keySerializer;
    this.valueSerializer = options.valueSerializer;
    this.accumulator = new Accumulator(this.settings);
    this.budget = new ByteBudget(options.bufferMemoryBytes ?? producerDefaults.bufferMemoryBytes);
    this.sticky = new StickyPartitions(this.settings.batchSizeBytes, options.random);
    this.partitioner = options.partitioner ?? defaultPartitioner;
    if (options.transactionalId !== undefined) {
      this.transactions = new TransactionManager(
        this.cluster,
        {
          transactionalId: options.transactionalId,
          transactionTimeoutMs:
            options.transactionTimeoutMs ?? producerDefaults.transactionTimeoutMs,
          timeoutMs: this.settings.maxBlockMs,
        },
        {
          adoptProducerId: (producerId, producerEpoch) =>
            this.adoptProducerId(producerId, producerEpoch),
          flush: () => this.flush(),
          abortUnsent: (error) => this.abortUnsent(error),
          wake: () => this.wake(),
        },
      );
    }
  }

  /** The producer id and epoch in use (-1 before the first one arrives). */
  get producerIdAndEpoch(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  /** Transaction version in use (2: KIP-890); undefined for a producer without `transactionalId`. */
  get transactionVersion(): 1 | 2 | undefined {
    return this.transactions?.transactionVersion;
  }

  /** The transaction state; undefined for a producer without `transactionalId`. */
  get transactionState(): TransactionState | undefined {
    return this.transactions?.state;
  }

  /**
   * Gets the producer id and epoch of the transactional id, fencing any earlier producer with
   * the same id (its open transaction is aborted). Once per producer, before the first transaction.
   */
  initTransactions(options: TransactionCallOptions = {}): Promise<void> {
    return this.requireTransactions('initTransactions').initTransactions(options.signal);
  }

  beginTransaction(): void {
    this.requireTransactions('beginTransaction').beginTransaction();
  }

  /**
   * Commits consumer offsets as part of the transaction (KIP-447): they become visible only if
   * it commits. `group` comes from the consumer (`standaloneGroupMetadata(groupId)` without
   * membership); offsets are the next records to read.
   */
  sendOffsetsToTransaction(
    offsets: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }>,
    group: ConsumerGroupMetadata,
    options: TransactionCallOptions = {},
  ): Promise<void> {
    const entries: OffsetToCommit[] = [...offsets];
    return this.requireTransactions('sendOffsetsToTransaction').sendOffsetsToTransaction(
      entries,
      group,
      options.signal,
    );
  }

  /** Flushes, then commits. A failed send makes this throw TransactionAbortableError: abort. */
  commitTransaction(options: TransactionCallOptions = {}): Promise<void> {
    return this.requireTransactions('commitTransaction').commitTransaction(options.signal);
  }

  /** Drops records not sent yet, waits for those in flight, then aborts. */
  abortTransaction(options: TransactionCallOptions = {}): Promise<void> {
    return this.requireTransactions('abortTransaction').abortTransaction(options.signal);
  }

  private requireTransactions(call: string): TransactionManager {
    if (this.closed) throw new ClosedError('the producer');
    if (this.transactions === undefined) {
      throw new ClientError(`${call} needs the transactionalId option`, { retriable: false });
    }
    return this.transactions;
  }

  /** Whether this producer uses idempotence (sequence numbers, one producer id). */
  get isIdempotent(): boolean {
    return this.idempotent;
  }

  /** Bytes of buffer.memory taken by records not yet acknowledged. */
  get bufferedBytes(): number {
    return this.budget.usedBytes;
  }

  /**
   * Queues a record and resolves once the broker acknowledged it (per `acks`). Records of one
   * producer keep their call order within a partition. Awaiting many sends at once is the fast
   * path: they share batches.
   */
  send(record: ProducerRecord<K, V>, options: SendOptions = {}): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new ClosedError('the producer'));
    let input: RecordInput;
    try {
      options.signal?.throwIfAborted();
      this.transactions?.checkSend();
      input = this.toRecordInput(record);
    } catch (error) {
      return Promise.reject(error);
    }
    const sizeBytes = recordSizeBytesBound(input);
    return new Promise<RecordMetadata>((resolve, reject) => {
      const admission: Admission = {
        topic: record.topic,
        partition: record.partition,
        record: input,
        sizeBytes,
        delivery: { resolve, reject },
      };
      if (this.admissions.length === 0 && this.admitNow(admission)) return;
      const signal = options.signal;
      if (signal !== undefined) {
        const onAbort = () => this.cancelAdmission(admission, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        admission.delivery = {
          resolve: (metadata) => {
            signal.removeEventListener('abort', onAbort);
            resolve(metadata);
          },
          reject: (error) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        admission.admitted = () => signal.removeEventListener('abort', onAbort);
      }
      // While it waits, an abort (AbortSignal, abortTransaction) must stop it blocking the queue.
      admission.cancellation = new Promise<typeof cancelledMark>((resolve) => {
        admission.onCancel = () => resolve(cancelledMark);
      });
      this.admissions.push(admission);
      this.runAdmissions();
    });
  }

  private toRecordInput(record: ProducerRecord<K, V>): RecordInput {
    const headers = toHeaders(record.headers);
    const context = { topic: record.topic, headers };
    const key =
      this.keySerializer === undefined
        ? rawBytes(record.key, 'key')
        : this.keySerializer.serialize(record.key ?? null, context);
    const value =
      this.valueSerializer === undefined
        ? rawBytes(record.value, 'value')
        : this.valueSerializer.serialize(record.value, context);
    const timestamp =
      record.timestamp === undefined ? BigInt(Date.now()) : BigInt(record.timestamp);
    return { key, value, headers, timestamp };
  }

  /**
   * Sends everything queued now, without lingering, and waits until it is acknowledged. An
   * aborted `signal` ends the wait (the records are still sent).
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.flushesPending++;
    try {
      await abortable(this.admissionsIdle, options.signal);
      this.wake();
      const batches: ProducerBatch[] = [];
      for (const queue of this.accumulator.allQueues())
        batches.push(...queue.inFlight, ...queue.batches);
      await abortable(Promise.all(batches.map((batch) => batch.settled)), options.signal);
    } finally {
      this.flushesPending--;
    }
  }

  /**
   * Flushes, then closes every connection. With `timeoutMs`, records still unacknowledged after it
   * fail with ClosedError (Java's close(Duration)); without, close waits as long as
   * delivery.timeout.ms lets records live.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const flushed = this.flush();
      if (options.timeoutMs === undefined) {
        await flushed;
      } else {
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.timeoutMs);
        });
        await Promise.race([flushed, timedOut]);
      }
    } finally {
      clearTimeout(timer);
      this.closed = true;
      clearTimeout(this.wakeTimer);
      const error = new ClosedError('the producer');
      for (const admission of this.admissions.splice(0)) admission.delivery.reject(error);
      for (const queue of this.accumulator.allQueues()) {
        for (const batch of [...queue.inFlight.splice(0), ...queue.batches.splice(0)]) {
          this.finish(batch, error);
        }
      }
      this.budget.close();
      this.cluster.close();
    }
  }

  private admitNow(admission: Admission): boolean {
    const topic = this.cluster.cachedTopic(admission.topic);
    if (topic === undefined || !this.budget.tryAcquire(admission.sizeBytes)) return false;
    this.append(admission, topic);
    return true;
  }

  /** Admits queued sends strictly in call order (metadata first, then buffer.memory). */
  private runAdmissions(): void {
    if (this.admitting) return;
    this.admitting = true;
    this.admissionsIdle = this.admitQueued();
  }

  private async admitQueued(): Promise<void> {
    try {
      while (this.admissions.length > 0) {
        const admission = this.admissions[0];
        if (admission.cancelled === true) {
          this.admissions.shift();
          continue;
        }
        try {
          const topic = await untilCancelled(
            this.cluster.topic(admission.topic, this.settings.maxBlockMs),
            admission,
          );
          if (topic !== cancelledMark) {
            const acquiring = this.budget.acquire(admission.sizeBytes, this.settings.maxBlockMs);
            if ((await untilCancelled(acquiring, admission)) === cancelledMark) {
              // The budget is granted later all the same: give it back then.
              acquiring.then(
                () => this.budget.release(admission.sizeBytes),
                () => undefined,
              );
            } else if (wasCancelled(admission)) {
              this.budget.release(admission.sizeBytes);
            } else {
              this.append(admission, topic);
            }
          }
        } catch (error) {
          admission.delivery.reject(error instanceof Error ? error : new Error(String(error)));
        }
        this.admissions.shift();
      }
    } finally {
      this.admitting = false;
    }
  }

  private append(admission: Admission, topic: TopicInfo): void {
    admission.admitted?.();
    const partitionCount = topic.partitions.length;
    let partition = admission.partition;
    if (partition === undefined) {
      partition =
        this.partitioner({
          topic: admission.topic,
          key: admission.record.key,
          value: admission.record.value,
          partitionCount,
        }) ?? this.sticky.next(admission.topic, partitionCount, admission.sizeBytes);
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      this.budget.release(admission.sizeBytes);
      admission.delivery.reject(
        new ClientError(
          `partition ${partition} of ${admission.topic} does not exist (${partitionCount} partitions)`,
          {
            retriable: false,
          },
        ),
      );
      return;
    }
    const nowMs = Date.now();
    const full = this.accumulator.append(
      admission.topic,
      partition,
      admission.record,
      admission.sizeBytes,
      admission.delivery,
      nowMs,
    );
    if (full || this.budget.hasWaiters) {
      this.wake();
      return;
    }
    // A partition with nothing in flight is ready now (the sender runs after this tick's other
    // sends, so they share the request); behind a batch in flight it waits out linger.ms.
    const queue = this.accumulator.queue(admission.topic, partition);
    const readyAtMs = this.accumulator.readyAtMs(queue, false);
    if (readyAtMs <= nowMs) this.wake();
    else this.wakeAt(readyAtMs);
  }

  private wake(): void {
    if (this.senderScheduled || this.closed) return;
    this.senderScheduled = true;
    setImmediate(() => {
      this.senderScheduled = false;
      this.runSender();
    });
  }

  private wakeAt(timeMs: number): void {
    if (timeMs >= this.wakeAtMs || this.closed) return;
    clearTimeout(this.wakeTimer);
    this.wakeAtMs = timeMs;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAtMs = Infinity;
        this.wake();
      },
      Math.max(0, timeMs - Date.now()),
    );
  }

  /** One pass: expire, pick ready partitions, send at most one request per leader. */
  private runSender(): void {
    const transactions = this.transactions;
    if (transactions !== undefined) {
      const failure = transactions.failure;
      if (failure !== null) this.failQueued(failure);
      if (!transactions.canSend) return;
    } else if (this.idempotent && this.producerIdState !== 'ready') {
      this.prepareProducerId();
      return;
    }
    const nowMs = Date.now();
    const flushing = this.flushesPending > 0 || this.budget.hasWaiters;
    const drainedByNode = new Map<number, DrainedBatch[]>();
    const requestBytesByNode = new Map<number, number>();
    let moreReady = false;
    let nextWakeMs = Infinity;
    for (const queue of this.accumulator.allQueues()) {
      this.expireQueued(queue, nowMs);
      if (queue.batches.length === 0) continue;
      nextWakeMs = Math.min(
        nextWakeMs,
        queue.batches[0].createdAtMs + this.settings.deliveryTimeoutMs,
      );
      if (queue.awaitingInFlight) {
        if (queue.inFlight.length > 0) continue;
        queue.awaitingInFlight = false;
      }
      if (queue.inFlight.length >= this.settings.maxInFlight) continue;
      const readyAtMs = this.accumulator.readyAtMs(queue, flushing);
      if (readyAtMs > nowMs) {
        nextWakeMs = Math.min(nextWakeMs, readyAtMs);
        continue;
      }
      const leader = this.cluster.leaderOf(queue.topic, queue.partition);
      if (leader === undefined) {
        this.refreshMetadataSoon();
        nextWakeMs = Math.min(nextWakeMs, nowMs + this.settings.retryBackoffMs);
        continue;
      }
      if ((this.inFlightByNode.get(leader) ?? 0) >= this.settings.maxInFlight) continue;
      if (transactions !== undefined && !transactions.partitionReady(queue.topic, queue.partition))
        continue;
      const batch = queue.batches[0];
      const requestBytes = requestBytesByNode.get(leader) ?? 0;
      if (requestBytes > 0 && requestBytes + batch.sizeBytes > this.settings.maxRequestSizeBytes) {
        moreReady = true;
        continue;
      }
      requestBytesByNode.set(leader, requestBytes + batch.sizeBytes);
      queue.batches.shift();
      this.stamp(queue, batch);
      queue.inFlight.push(batch);
      if (queue.batches.length > 0) moreReady = true;
      let drained = drainedByNode.get(leader);
      if (drained === undefined) {
        drained = [];
        drainedByNode.set(leader, drained);
      }
      drained.push({ queue, batch });
    }
    for (const [node, drained] of drainedByNode) this.dispatch(node, drained);
    transactions?.addPendingPartitions();
    if (moreReady) this.wake();
    if (nextWakeMs < Infinity) this.wakeAt(nextWakeMs);
  }

  /** Closes the batch and gives it this producer id's next sequence (kept across retries). */
  private stamp(queue: PartitionQueue, batch: ProducerBatch): void {
    batch.closed = true;
    if (!this.idempotent) return;
    if (batch.producerId === this.producerId && batch.producerEpoch === this.producerEpoch) return;
    batch.producerId = this.producerId;
    batch.producerEpoch = this.producerEpoch;
    batch.baseSequence = queue.nextSequence;
    queue.nextSequence = (queue.nextSequence + batch.recordCount) % (sequenceMax + 1);
    batch.encoded = null;
  }

  /** Fails queued batches older than delivery.timeout.ms. */
  private expireQueued(queue: PartitionQueue, nowMs: number): void {
    while (queue.batches.length > 0) {
      const batch = queue.batches[0];
      if (nowMs - batch.createdAtMs < this.settings.deliveryTimeoutMs) return;
      queue.batches.shift();
      const wasStamped = batch.baseSequence >= 0;
      this.finish(
        batch,
        new TimeoutError(
          `delivery.timeout.ms (${this.settings.deliveryTimeoutMs} ms) passed before ${batch.topic}-${batch.partition} acknowledged the batch`,
        ),
      );
      if (wasStamped) this.onSequenceGap(batch, new TimeoutError('delivery.timeout.ms passed'));
    }
  }

  /** Sends one Produce request; requests to a node are enqueued in drain order. */
  private dispatch(node: number, drained: DrainedBatch[]): void {
    this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 0) + 1);
    const previous = this.sendChains.get(node) ?? Promise.resolve();
    const sent = previous.then(() => this.sendProduce(node, drained));
    this.sendChains.set(
      node,
      sent.then(
        () => undefined,
        () => undefined,
      ),
    );
    sent
      .then(({ response }) => this.onProduceResponse(drained, response))
      .catch((error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const { queue, batch } of drained) this.onBatchError(queue, batch, failure);
      })
      .finally(() => {
        this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 1) - 1);
        this.wake();
      });
  }

  /**
   * Encodes, then enqueues the request on the leader's connection. Resolves once enqueued, with
   * the response still pending (wrapped, so the two waits stay apart).
   */
  private async sendProduce(
    node: number,
    drained: DrainedBatch[],
  ): Promise<{ response: Promise<ProduceResponse | undefined> }> {
    for (const { batch } of drained) batch.encoded ??= await this.encode(batch);
    const connection = await this.cluster.connectionToNode(node);
    // A transactional producer under transaction version 1 must stay at v11 (KIP-890).
    const version = Math.min(
      connection.versions.version(produceApi, produceVersionMin),
      this.transactions?.produceVersionMax ?? Infinity,
    );
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const { batch } of drained) {
      let partitions = topics.get(batch.topic);
      if (partitions === undefined) {
        partitions = [];
        topics.set(batch.topic, partitions);
      }
      partitions.push({ index: batch.partition, records: batch.encoded! });
    }
    const request: ProduceRequest = {
      transactionalId: this.transactions?.transactionalId ?? null,
      acks: this.acks,
      timeoutMs: this.settings.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    const response = connection.request<ProduceResponse | undefined>(produceApi, request, {
      version,
      expectResponse: this.acks !== 0,
    });
    return { response };
  }

  private encode(batch: ProducerBatch): Promise<Buffer> | Buffer {
    const options = {
      records: batch.records,
      compression: this.compression,
      codecs: defaultCompressionCodecs,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
      transactional: this.transactions !== undefined,
    };
    return this.compression === CompressionType.none
      ? encodeRecordBatch(options)
      : encodeRecordBatchAsync(options);
  }

  private async onProduceResponse(
    drained: DrainedBatch[],
    responsePromise: Promise<ProduceResponse | undefined>,
  ): Promise<void> {
    let response: ProduceResponse | undefined;
    try {
      response = await responsePromise;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const { queue, batch } of drained) this.onBatchError(queue, batch, failure);
      return;
    }
    for (const { queue, batch } of drained) {
      if (response === undefined) {
        queue.completeInFlight(batch);
        this.finish(batch, null, -1n, -1n);
        continue;
      }
      const partitionResponse = response.responses
        .find((topic) => topic.name === batch.topic)
        ?.partitionResponses.find((partition) => partition.index === batch.partition);
      if (partitionResponse === undefined) {
        this.onBatchError(
          queue,
          batch,
          new ConnectionError(`no Produce result for ${batch.topic}-${batch.partition}`),
        );
        continue;
      }
      const code = partitionResponse.errorCode;
      if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        queue.completeInFlight(batch);
        this.finish(
          batch,
          null,
          partitionResponse.baseOffset,
          partitionResponse.logAppendTimeMs ?? -1n,
          partitionResponse.logStartOffset ?? -1n,
        );
      } else {
        const hint = partitionResponse.currentLeader;
        if (hint !== undefined) {
          this.cluster.applyLeaderHint(batch.topic, batch.partition, hint, response.nodeEndpoints);
        }
        this.onBatchError(queue, batch, new KafkaError(code, `${batch.topic}-${batch.partition}`));
      }
    }
  }

  /** A batch failed: retry it (in sequence order) while delivery.timeout.ms allows, else fail it. */
  private onBatchError(queue: PartitionQueue, batch: ProducerBatch, error: Error): void {
    const nowMs = Date.now();
    const code = error instanceof KafkaError ? error.code : undefined;
    if (code !== undefined && invalidatesMetadata(code)) this.refreshMetadataSoon();
    if (error instanceof ConnectionError) this.refreshMetadataSoon();
    if (code === ErrorCode.MESSAGE_TOO_LARGE && batch.recordCount > 1 && !this.closed) {
      // Java's Sender does the same: split, re-enqueue, no retry spent.
      queue.requeueSplit(batch, batch.split());
      queue.awaitingInFlight = true;
      this.wake();
      return;
    }
    // An out-of-order sequence behind a batch being retried is that batch's echo, not a gap.
    const outOfOrderBehindRetry =
      code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && queue.awaitingInFlight;
    const unknownProducer = code === ErrorCode.UNKNOWN_PRODUCER_ID;
    const retriable =
      (error instanceof ClientError && error.retriable) || outOfOrderBehindRetry || unknownProducer;
    const expired = nowMs - batch.createdAtMs >= this.settings.deliveryTimeoutMs;
    if (retriable && !expired && !this.closed) {
      batch.attempts++;
      queue.requeue(batch);
      queue.awaitingInFlight = true;
      queue.retryAtMs = nowMs + this.retryBackoffMs(batch.attempts);
      if (unknownProducer) this.onSequenceGap(batch, error);
      this.wakeAt(queue.retryAtMs);
      return;
    }
    queue.completeInFlight(batch);
    this.finish(
      batch,
      expired && retriable
        ? new TimeoutError(`delivery.timeout.ms passed: ${error.message}`, error)
        : error,
    );
    // A batch that will never land leaves a gap in this epoch's sequences.
    if (this.idempotent) this.onSequenceGap(batch, error);
  }

  /** KIP-580: exponential backoff with ±20% jitter, from retryBackoffMs up to retryBackoffMaxMs. */
  private retryBackoffMs(attempts: number): number {
    const exponential = this.settings.retryBackoffMs * 2 ** Math.max(0, attempts - 1);
    const capped = Math.min(exponential, this.settings.retryBackoffMaxMs);
    return Math.max(0, Math.round(capped * (0.8 + 0.4 * Math.random())));
  }

  private finish(
    batch: ProducerBatch,
    error: Error | null,
    baseOffset = -1n,
    logAppendTimeMs = -1n,
    logStartOffset = -1n,
  ): void {
    this.budget.release(batch.reservedBytes);
    batch.reservedBytes = 0;
    if (error === null) batch.resolve(baseOffset, logAppendTimeMs, logStartOffset);
    else batch.reject(error);
  }

  /**
   * A stamped batch will not land (or its producer state is gone): its sequences can no longer
   * follow on. Idempotent: bump the epoch (KIP-360). Transactional: the transaction must abort,
   * which bumps the epoch.
   */
  private onSequenceGap(batch: ProducerBatch, error: Error): void {
    if (this.transactions !== undefined) {
      this.transactions.onBatchFailed(error);
      return;
    }
    if (batch.producerId !== this.producerId || batch.producerEpoch !== this.producerEpoch) return;
    if (this.producerIdState === 'ready') this.producerIdState = 'bump-needed';
  }

  /** Takes a producer id and epoch: sequences restart at 0 (nothing is in flight). */
  private adoptProducerId(producerId: bigint, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    for (const queue of this.accumulator.allQueues()) queue.nextSequence = 0;
    this.producerIdState = 'ready';
    this.wake();
  }

  /** Withdraws a send still waiting for admission: it fails with `reason` and stops blocking. */
  private cancelAdmission(admission: Admission, reason: unknown): void {
    if (admission.cancelled === true) return;
    admission.cancelled = true;
    admission.delivery.reject(reason instanceof Error ? reason : new Error(String(reason)));
    admission.onCancel?.();
  }

  /** Fails every batch not sent yet, and every send still waiting for admission. */
  private failQueued(error: Error): void {
    for (const admission of this.admissions) this.cancelAdmission(admission, error);
    for (const queue of this.accumulator.allQueues()) {
      for (const batch of queue.batches.splice(0)) this.finish(batch, error);
    }
  }

  /** Abort: unsent records fail with `error`; waits for the batches in flight. */
  private async abortUnsent(error: Error): Promise<void> {
    this.failQueued(error);
    const inFlight: Promise<void>[] = [];
    for (const queue of this.accumulator.allQueues()) {
      for (const batch of queue.inFlight) inFlight.push(batch.settled);
    }
    await Promise.all(inFlight);
    // Retried batches went back to the queue while we waited: they belong to the aborted transaction.
    this.failQueued(error);
  }

  /**
   * Starts the next epoch once nothing is in flight. KIP-360: the idempotent producer bumps its
   * epoch locally and restarts every partition's sequence at 0; a new producer id only when the
   * epoch is exhausted (or there is none yet).
   */
  private prepareProducerId(): void {
    if (this.producerIdState === 'initializing') return;
    for (const queue of this.accumulator.allQueues()) if (queue.inFlight.length > 0) return;
    if (this.producerIdState === 'bump-needed' && this.producerEpoch < producerEpochMax - 1) {
      this.adoptProducerId(this.producerId, this.producerEpoch + 1);
      return;
    }
    this.producerIdState = 'initializing';
    void this.initProducerId().then(
      ({ producerId, producerEpoch }) => this.adoptProducerId(producerId, producerEpoch),
      (error: unknown) => {
        this.producerIdState = 'none';
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const queue of this.accumulator.allQueues()) {
          for (const batch of queue.batches.splice(0)) this.finish(batch, failure);
        }
      },
    );
  }

  private async initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
    const deadline = Date.now() + this.settings.maxBlockMs;
    for (;;) {
      try {
        const connection = await this.cluster.anyConnection();
        const response = await connection.request<InitProducerIdResponse>(initProducerIdApi, {
          transactionalId: null,
          transactionTimeoutMs: producerDefaults.transactionTimeoutMs,
          producerId: -1n,
          producerEpoch: -1,
        });
        if (response.errorCode !== ErrorCode.NONE)
          throw new KafkaError(response.errorCode, 'InitProducerId');
        return { producerId: response.producerId, producerEpoch: response.producerEpoch };
      } catch (error) {
        const retriable = error instanceof ClientError && error.retriable;
        if (!retriable || Date.now() >= deadline) throw error;
        await sleep(this.settings.retryBackoffMs);
      }
    }
  }

  private refreshMetadataSoon(): void {
    this.cluster.refreshMetadata().then(
      () => this.wake(),
      () => undefined,
    );
  }
}

const cancelledMark = Symbol('cancelled');

/** `promise`'s value, or cancelledMark once the admission is withdrawn, whichever comes first. */
function untilCancelled<T>(
  promise: Promise<T>,
  admission: Admission,
): Promise<T | typeof cancelledMark> {
  if (admission.cancellation === undefined) return promise;
  return Promise.race([promise, admission.cancellation]);
}

function wasCancelled(admission: Admission): boolean {
  return admission.cancelled === true;
}

function asBytes(value: Buffer | string | null | undefined): Buffer | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** A key or value without a serializer: bytes, or text as UTF-8. */
function rawBytes(value: unknown, what: 'key' | 'value'): Buffer | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  throw new SerializationError(
    `the ${what} is a ${typeof value}: pass Buffer or string, or set ${what}Serializer`,
  );
}

function toHeaders(headers: ProducerRecord['headers']): RecordHeader[] {
  const result: RecordHeader[] = [];
  if (Array.isArray(headers)) {
    for (const header of headers) result.push({ key: header.key, value: asBytes(header.value) });
  } else if (headers !== undefined) {
    for (const [key, value] of Object.entries(headers as Record<string, HeaderValue>)) {
      result.push({ key, value: asBytes(value) });
    }
  }
  return result;
}
