// The records the consumer hands out, decoded straight from a fetched batch. Consuming small
// records is bound by allocation: per record this makes the object itself and the value's view
// (the key's when it has one); the offset, timestamp (bigints) and headers are made on first use
// and kept.

import { inspect } from 'node:util';
import {
  type BatchHeader,
  decodeHeadersAt,
  type RecordFields,
  type RecordHeader,
  recordTimestamp,
} from '@gregor/protocol';

export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  /** Computed on first read (a getter): an object spread does not copy it. */
  readonly offset: bigint;
  /** Milliseconds since the epoch; computed on first read (a getter), like `offset`. */
  readonly timestamp: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Decoded on first read (a getter), like `offset`; the same array on every read. */
  readonly headers: RecordHeader[];
}

/** What the records of one batch share. */
export interface FetchedBatch {
  readonly header: BatchHeader;
  /** The batch's records section (decompressed): headers are decoded from it on demand. */
  readonly section: Buffer;
}

export class FetchedRecord implements ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly #batch: FetchedBatch;
  readonly #offsetDelta: number;
  readonly #timestampDelta: number | bigint;
  /** -1 when the record has no headers. */
  readonly #headersPosition: number;
  #offset: bigint | undefined = undefined;
  #headers: RecordHeader[] | undefined = undefined;

  constructor(topic: string, partition: number, batch: FetchedBatch, fields: RecordFields) {
    this.topic = topic;
    this.partition = partition;
    this.key = fields.key;
    this.value = fields.value;
    this.#batch = batch;
    this.#offsetDelta = fields.offsetDelta;
    this.#timestampDelta = fields.timestampDelta;
    this.#headersPosition = fields.headerCount === 0 ? -1 : fields.headersPosition;
  }

  get offset(): bigint {
    this.#offset ??= this.#batch.header.baseOffset + BigInt(this.#offsetDelta);
    return this.#offset;
  }

  get timestamp(): bigint {
    return recordTimestamp(this.#batch.header, this.#timestampDelta);
  }

  get headers(): RecordHeader[] {
    this.#headers ??=
      this.#headersPosition < 0 ? [] : decodeHeadersAt(this.#batch.section, this.#headersPosition);
    return this.#headers;
  }

  /** Shown by console.log and util.inspect as the plain object it stands for. */
  [inspect.custom](): Record<string, unknown> {
    return {
      topic: this.topic,
      partition: this.partition,
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.key,
      value: this.value,
      headers: this.headers,
    };
  }
}
