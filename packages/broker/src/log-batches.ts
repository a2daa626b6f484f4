/**
 * Reading a range of a partition log batch by batch, as the internal logs' replays do on start
 * (`__consumer_offsets` in group/offsets-log.ts; `__transaction_state` and producer state replay
 * the same way).
 */
import { type BatchHeader, iterateRecordBatches, readBatchHeader } from '@gregor/protocol';

/** What a replay needs of a partition log. */
export interface ReadableLog {
  read(
    offset: bigint,
    options: { maxBytes: number; minOneBatch?: boolean },
  ): Promise<{ buffers: Buffer[]; sizeBytes: number }>;
}

export interface LogBatch {
  /** The whole batch (a view of the read, not a copy). */
  batch: Buffer;
  header: BatchHeader;
}

/**
 * Every batch of `log` with a base offset in [from, to), in order, each once. Reads up to
 * `readBytesMax` at a time (at least one whole batch) and skips batches a read returns again
 * below the next offset; stops early when a read returns nothing or makes no progress.
 */
export async function* readLogBatches(
  log: ReadableLog,
  range: { from: bigint; to: bigint; readBytesMax: number },
): AsyncGenerator<LogBatch> {
  let offset = range.from;
  while (offset < range.to) {
    const read = await log.read(offset, { maxBytes: range.readBytesMax, minOneBatch: true });
    if (read.sizeBytes === 0 || read.buffers.length === 0) return;
    const data = read.buffers.length === 1 ? read.buffers[0]! : Buffer.concat(read.buffers);
    let advanced = false;
    for (const slice of iterateRecordBatches(data)) {
      const header = readBatchHeader(slice.batch);
      const next = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      if (next <= offset) continue;
      offset = next;
      advanced = true;
      if (header.baseOffset >= range.to) return;
      yield { batch: slice.batch, header };
    }
    if (!advanced) return;
  }
}
