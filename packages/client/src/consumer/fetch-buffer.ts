// Fetched batches waiting to be handed out. Records are decoded as they are taken, not when the
// response arrives: a response holds tens of thousands of small records, and decoding them all
// at once keeps them alive across young-generation collections, which then copy every one of
// them (a third of a consumer's time went to that). Taken a poll at a time, only the records in
// the caller's hands are alive.

import { emptyRecordFields, type OpenedRecordBatch, RecordReader } from '@gregor/protocol';
import { type ConsumerRecord, FetchedRecord } from './fetched-record.js';

/** The part of a partition's consumer state the buffer moves. */
export interface BufferedPartition {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to hand out. */
  position: bigint | null;
}

interface PendingBatch {
  readonly owner: BufferedPartition;
  readonly batch: OpenedRecordBatch;
  readonly reader: RecordReader;
  /** Records below this offset delta are before the fetch offset: skipped. */
  readonly firstDelta: number;
  /**
   * The position once the batch is handed out: past its last offset, or for a partition's last
   * batch of a response past the control batches and aborted data that followed it (the
   * position never stops on a transaction marker, as in Java's consumer).
   */
  positionAfter: bigint;
}

export class FetchBuffer {
  private pending: PendingBatch[] = [];
  private index = 0;
  private readonly fields = emptyRecordFields();

  /** True when every buffered record was handed out (or dropped). */
  get isEmpty(): boolean {
    return this.index >= this.pending.length;
  }

  /** Queues a data batch of `owner`; `firstOffset` is where the fetch started. */
  add(owner: BufferedPartition, batch: OpenedRecordBatch, firstOffset: bigint): void {
    const header = batch.header;
    if (this.isEmpty && this.pending.length > 0) this.clear();
    this.pending.push({
      owner,
      batch,
      reader: new RecordReader(header, batch.section),
      firstDelta: firstOffset > header.baseOffset ? Number(firstOffset - header.baseOffset) : 0,
      positionAfter: header.baseOffset + BigInt(header.lastOffsetDelta) + 1n,
    });
  }

  /** Moves where the position goes after the last batch queued for `owner` (see PendingBatch). */
  setPositionAfterLast(owner: BufferedPartition, position: bigint): void {
    for (let index = this.pending.length - 1; index >= this.index; index--) {
      if (this.pending[index].owner === owner) {
        this.pending[index].positionAfter = position;
        return;
      }
    }
  }

  /**
   * Decodes and hands out up to `count` records into `out`, in fetch order, moving each
   * partition's position past what it handed out.
   */
  take(count: number, out: ConsumerRecord[]): void {
    const fields = this.fields;
    const limit = out.length + count;
    while (out.length < limit && this.index < this.pending.length) {
      const entry = this.pending[this.index];
      const { owner, batch, reader, firstDelta } = entry;
      let lastDelta = -1;
      while (out.length < limit && reader.hasMore) {
        reader.next(fields);
        if (fields.offsetDelta < firstDelta) continue;
        lastDelta = fields.offsetDelta;
        out.push(new FetchedRecord(owner.topic, owner.partition, batch, fields));
      }
      if (!reader.hasMore) {
        owner.position = entry.positionAfter;
        this.index++;
      } else if (lastDelta >= 0) {
        owner.position = batch.header.baseOffset + BigInt(lastDelta) + 1n;
      }
    }
    if (this.isEmpty) this.clear();
  }

  /** Drops what is buffered for `owner` (seek, revocation). */
  drop(owner: BufferedPartition): void {
    this.pending = this.pending.slice(this.index).filter((entry) => entry.owner !== owner);
    this.index = 0;
  }

  clear(): void {
    this.pending = [];
    this.index = 0;
  }
}
