// ListOffsets precision inside one batch: the broker answers with the first *record* at or after
// the timestamp, and for MAX_TIMESTAMP the record holding it (KIP-734), which needs the records
// decoded. Only the one batch the indexes led to is decoded; a compressed batch without its codec
// falls back to batch granularity.

import { type CompressionCodecs, decodeRecordBatch } from '@gregor/protocol';
import { canDecode, summarizeBatch } from './batch-layout.js';

export interface RecordPosition {
  offset: bigint;
  timestamp: bigint;
}

/** First record of `batch` with timestamp ≥ `timestamp` and offset ≥ `minOffset`. */
export function firstRecordAtOrAfter(
  batch: Buffer,
  timestamp: bigint,
  minOffset: bigint,
  codecs?: CompressionCodecs,
): RecordPosition {
  const summary = summarizeBatch(batch, 0);
  if (canDecode(summary, codecs)) {
    try {
      for (const record of decodeRecordBatch(batch, codecs, { verifyCrc: false }).records) {
        if (record.timestamp >= timestamp && record.offset >= minOffset)
          return { offset: record.offset, timestamp: record.timestamp };
      }
    } catch {
      // A batch we cannot decode is answered at batch granularity.
    }
  }
  const offset = summary.baseOffset < minOffset ? minOffset : summary.baseOffset;
  return { offset, timestamp: summary.maxTimestamp };
}

/** The record holding the batch's max timestamp (the first one, if several). */
export function recordWithMaxTimestamp(batch: Buffer, codecs?: CompressionCodecs): RecordPosition {
  const summary = summarizeBatch(batch, 0);
  if (canDecode(summary, codecs)) {
    try {
      for (const record of decodeRecordBatch(batch, codecs, { verifyCrc: false }).records) {
        if (record.timestamp === summary.maxTimestamp)
          return { offset: record.offset, timestamp: record.timestamp };
      }
    } catch {
      // Fall through to batch granularity.
    }
  }
  return { offset: summary.lastOffset, timestamp: summary.maxTimestamp };
}
