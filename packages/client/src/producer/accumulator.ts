// The record accumulator: one deque of batches per partition (Java's RecordAccumulator). Records
// append to the partition's last open batch until it holds `batch.size` bytes; a partition is
// ready to drain when a batch is full, lingered `linger.ms`, or a flush is pending. Sequence
// numbers are stamped when a batch is first drained, never at append (KIP-98), so batches that
// wait for a retry keep theirs and re-enter the deque in sequence order.

import type { RecordHeader, RecordInput } from '@gregor/protocol';
import { varintSizeBytes } from '@gregor/protocol/records/varint';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0 (nothing comes back) and for a duplicate the broker recognised. */
  offset: bigint;
  timestamp: bigint;
  /** The partition's log start offset when the broker answered (Produce v5+), else -1. */
  logStartOffset: bigint;
}

export interface Delivery {
  resolve: (metadata: RecordMetadata) => void;
  reject: (error: Error) => void;
}

/** Upper bound of a record's encoded size inside a batch (varints at their widest for deltas). */
export function recordSizeBytesBound(record: RecordInput): number {
  // length varint (5) + attributes (1) + timestamp delta (10) + offset delta (5)
  let size = 21;
  size += nullableSize(record.key) + nullableSize(record.value);
  const headers = record.headers ?? [];
  size += varintSizeBytes(headers.length);
  for (const header of headers) size += headerSize(header);
  return size;
}

function nullableSize(value: Buffer | null): number {
  return value === null ? 1 : varintSizeBytes(value.length) + value.length;
}

function headerSize(header: RecordHeader): number {
  const keySize = Buffer.byteLength(header.key, 'utf8');
  return varintSizeBytes(keySize) + keySize + nullableSize(header.value);
}

/** Bytes of a v2 batch before its records. */
export const batchOverheadBytes = 61;

export class ProducerBatch {
  readonly records: RecordInput[] = [];
  readonly deliveries: Delivery[] = [];
  /** Estimated encoded size (an upper bound). */
  sizeBytes = batchOverheadBytes;
  /** Bytes taken from buffer.memory for this batch's records. */
  reservedBytes = 0;
  /** No more appends (drained once, or a newer batch follows). */
  closed = false;
  attempts = 0;
  producerId = -1n;
  producerEpoch = -1;
  baseSequence = -1;
  /** Encoded bytes for the current (producerId, epoch, sequence); null until drained. */
  encoded: Buffer | null = null;
  /** Resolves once every record of the batch is resolved or rejected (flush waits on it). */
  readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAtMs: number,
  ) {
    this.settled = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get recordCount(): number {
    return this.records.length;
  }

  append(record: RecordInput, sizeBytes: number, delivery: Delivery): void {
    this.records.push(record);
    this.deliveries.push(delivery);
    this.sizeBytes += sizeBytes;
    this.reservedBytes += sizeBytes;
  }

  /**
   * Splits a batch the broker found too large (MESSAGE_TOO_LARGE) into two halves that keep the
   * deliveries, creation time and, when stamped, the same sequence span (first half from the
   * base sequence, second half after it), so sequences stay contiguous for the partition.
   */
  split(): [ProducerBatch, ProducerBatch] {
    const half = Math.ceil(this.records.length / 2);
    const halves: [ProducerBatch, ProducerBatch] = [
      new ProducerBatch(this.topic, this.partition, this.createdAtMs),
      new ProducerBatch(this.topic, this.partition, this.createdAtMs),
    ];
    for (let index = 0; index < this.records.length; index++) {
      const target = halves[index < half ? 0 : 1];
      const size = recordSizeBytesBound(this.records[index]);
      target.records.push(this.records[index]);
      target.deliveries.push(this.deliveries[index]);
      target.sizeBytes += size;
    }
    // The reserved buffer.memory moves with the halves (estimates, so keep the exact total).
    halves[0].reservedBytes = Math.min(
      this.reservedBytes,
      halves[0].sizeBytes - batchOverheadBytes,
    );
    halves[1].reservedBytes = this.reservedBytes - halves[0].reservedBytes;
    for (const [index, batch] of halves.entries()) {
      batch.closed = true;
      batch.attempts = this.attempts;
      if (this.baseSequence >= 0) {
        batch.producerId = this.producerId;
        batch.producerEpoch = this.producerEpoch;
        batch.baseSequence = index === 0 ? this.baseSequence : (this.baseSequence + half) % 2 ** 31;
      }
    }
    // Whoever waits for this batch (flush) waits for both halves.
    void Promise.all(halves.map((batch) => batch.settled)).then(() => this.settle());
    return halves;
  }

  resolve(baseOffset: bigint, logAppendTimeMs: bigint, logStartOffset = -1n): void {
    for (let index = 0; index < this.deliveries.length; index++) {
      const record = this.records[index];
      this.deliveries[index].resolve({
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(index),
        timestamp: logAppendTimeMs >= 0n ? logAppendTimeMs : (record.timestamp ?? -1n),
        logStartOffset,
      });
    }
    this.settle();
  }

  reject(error: Error): void {
    for (const delivery of this.deliveries) delivery.reject(error);
    this.settle();
  }
}

/** Per-partition state: queued batches, batches on the wire, idempotence sequence. */
export class PartitionQueue {
  readonly batches: ProducerBatch[] = [];
  /** Drained batches awaiting a response, in sequence order. */
  readonly inFlight: ProducerBatch[] = [];
  nextSequence = 0;
  /** No drain before this time (retry backoff). */
  retryAtMs = 0;
  /** Set after a retriable failure: drain again only once every in-flight batch came back. */
  awaitingInFlight = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Puts a batch back for a retry, before queued ones and in sequence order. */
  requeue(batch: ProducerBatch): void {
    const index = this.inFlight.indexOf(batch);
    if (index >= 0) this.inFlight.splice(index, 1);
    let position = 0;
    while (
      position < this.batches.length &&
      this.batches[position].baseSequence >= 0 &&
      this.batches[position].baseSequence < batch.baseSequence
    ) {
      position++;
    }
    this.batches.splice(position, 0, batch);
  }

  /** Replaces an in-flight batch by its halves, queued first (they keep its sequence span). */
  requeueSplit(batch: ProducerBatch, halves: readonly ProducerBatch[]): void {
    this.completeInFlight(batch);
    for (const half of [...halves].reverse()) this.requeue(half);
  }

  completeInFlight(batch: ProducerBatch): void {
    const index = this.inFlight.indexOf(batch);
    if (index >= 0) this.inFlight.splice(index, 1);
  }
}

export interface AccumulatorOptions {
  batchSizeBytes: number;
  lingerMs: number;
}

export class Accumulator {
  private readonly queues = new Map<string, PartitionQueue>();

  constructor(private readonly options: AccumulatorOptions) {}

  queue(topic: string, partition: number): PartitionQueue {
    const key = `${partition}:${topic}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new PartitionQueue(topic, partition);
      this.queues.set(key, queue);
    }
    return queue;
  }

  allQueues(): IterableIterator<PartitionQueue> {
    return this.queues.values();
  }

  /** Appends a record; returns true when this filled a batch (the sender should wake now). */
  append(
    topic: string,
    partition: number,
    record: RecordInput,
    sizeBytes: number,
    delivery: Delivery,
    nowMs: number,
  ): boolean {
    const queue = this.queue(topic, partition);
    let batch = queue.batches.at(-1);
    if (
      batch === undefined ||
      batch.closed ||
      (batch.recordCount > 0 && batch.sizeBytes + sizeBytes > this.options.batchSizeBytes)
    ) {
      if (batch !== undefined) batch.closed = true;
      batch = new ProducerBatch(topic, partition, nowMs);
      queue.batches.push(batch);
    }
    batch.append(record, sizeBytes, delivery);
    return queue.batches.length > 1 || batch.sizeBytes >= this.options.batchSizeBytes;
  }

  /**
   * When the first batch of `queue` may drain (ms since epoch); Infinity when empty. A partial
   * batch lingers only while a batch of the same partition is on the wire: with nothing in
   * flight, waiting cannot save a request, it only adds latency (Nagle's rule); with one in
   * flight, records gather for up to linger.ms (or until batch.size) before the next request.
   */
  readyAtMs(queue: PartitionQueue, flushing: boolean): number {
    const first = queue.batches[0];
    if (first === undefined) return Infinity;
    const full =
      queue.batches.length > 1 || first.closed || first.sizeBytes >= this.options.batchSizeBytes;
    const lingering = !full && !flushing && queue.inFlight.length > 0;
    const lingerDoneMs = lingering ? first.createdAtMs + this.options.lingerMs : 0;
    return Math.max(lingerDoneMs, queue.retryAtMs);
  }

  /** True when no batch is queued or in flight anywhere. */
  isEmpty(): boolean {
    for (const queue of this.queues.values()) {
      if (queue.batches.length > 0 || queue.inFlight.length > 0) return false;
    }
    return true;
  }
}
