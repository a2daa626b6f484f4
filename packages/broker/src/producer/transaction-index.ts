/**
 * The aborted-transaction index of one partition (Kafka's `.txnindex`, KIP-98): one entry per
 * abort marker that ended a transaction with data here, so a read_committed fetch can tell the
 * client which ranges to drop. Kafka keeps one file per segment; Gregor keeps one append-only
 * file per partition, `transactions.txnindex`, with Kafka's 34-byte entry layout:
 *   version int16 (0) | producerId int64 | firstOffset int64 | lastOffset int64 | lastStableOffset int64
 * Entries are appended in marker order (so sorted by lastOffset). A torn tail entry is dropped on
 * load and rebuilt by the producer-state replay, which re-derives every marker above the snapshot.
 */
import type { FileHandle, FileSystem } from '@gregor/storage';
import type { AbortedTransactionEntry } from './producer-state.js';

export const transactionIndexFileName = 'transactions.txnindex';
const entrySizeBytes = 34;

export class TransactionIndex {
  readonly entries: AbortedTransactionEntry[] = [];
  private file: FileHandle | null = null;
  /** Bytes of the file that hold durable entries. */
  private sizeBytes = 0;
  /** Encoded entries added but not yet durable, in order; written at `sizeBytes`. */
  private unwritten: Buffer[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly fileSystem: FileSystem | null,
    private readonly path: string | null,
  ) {}

  /** Reads the file; entries at or beyond `logEndOffset` (a truncated log) are dropped. */
  async load(logEndOffset: bigint): Promise<void> {
    if (this.fileSystem === null || this.path === null) return;
    const data = await this.fileSystem.readFile(this.path);
    if (data === null) return;
    const whole = data.length - (data.length % entrySizeBytes);
    for (let position = 0; position < whole; position += entrySizeBytes) {
      const entry = {
        producerId: data.readBigInt64BE(position + 2),
        firstOffset: data.readBigInt64BE(position + 10),
        lastOffset: data.readBigInt64BE(position + 18),
      };
      if (entry.lastOffset >= logEndOffset) break;
      this.entries.push(entry);
    }
    const keptBytes = this.entries.length * entrySizeBytes;
    if (keptBytes !== data.length) {
      await this.fileSystem.writeFileAtomic(this.path, data.subarray(0, keptBytes));
    }
    this.sizeBytes = keptBytes;
  }

  /** Offset after the last indexed marker (replay adds only entries beyond it). */
  get indexedEnd(): bigint {
    const last = this.entries.at(-1);
    return last === undefined ? -1n : last.lastOffset;
  }

  /**
   * Adds the entry in memory at once (fetches see it before the marker's offset is readable) and
   * persists it; the returned promise resolves once the entry is durable.
   */
  add(entry: AbortedTransactionEntry, lastStableOffset: bigint): Promise<void> {
    if (entry.lastOffset <= this.indexedEnd) return this.writes;
    this.entries.push(entry);
    if (this.fileSystem === null || this.path === null) return Promise.resolve();
    const record = Buffer.alloc(entrySizeBytes);
    record.writeInt16BE(0, 0);
    record.writeBigInt64BE(entry.producerId, 2);
    record.writeBigInt64BE(entry.firstOffset, 10);
    record.writeBigInt64BE(entry.lastOffset, 18);
    record.writeBigInt64BE(lastStableOffset, 26);
    this.unwritten.push(record);
    const fileSystem = this.fileSystem;
    const path = this.path;
    // Each write carries every entry not yet durable, so one that failed (a full disk) is written
    // again by the next instead of leaving a hole, and a failure never blocks later writes.
    this.writes = this.writes
      .catch(() => undefined)
      .then(() => this.writeUnwritten(fileSystem, path));
    return this.writes;
  }

  private async writeUnwritten(fileSystem: FileSystem, path: string): Promise<void> {
    // Entries added while this write is in flight wait for the next one.
    const count = this.unwritten.length;
    if (count === 0) return;
    this.file ??= await fileSystem.openFile(path, { create: true });
    await this.file.writev(this.unwritten.slice(0, count), this.sizeBytes);
    await this.file.datasync();
    this.sizeBytes += count * entrySizeBytes;
    this.unwritten = this.unwritten.slice(count);
  }

  /** Aborted transactions overlapping [startOffset, endOffset) (FetchResponse.AbortedTransactions). */
  overlapping(startOffset: bigint, endOffset: bigint): AbortedTransactionEntry[] {
    const result: AbortedTransactionEntry[] = [];
    // Sorted by lastOffset: skip the ones that ended before the fetch offset.
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.lastOffset < startOffset) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < this.entries.length; index++) {
      const entry = this.entries[index]!;
      if (entry.firstOffset < endOffset) result.push(entry);
    }
    return result;
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    await this.file?.close();
    this.file = null;
  }
}
