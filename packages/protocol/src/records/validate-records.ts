// Record-level checks a broker may add on top of validateRecordBatches, which never decodes
// records: what Kafka's LogValidator checks per record. Needed for compacted topics (every record
// must have a key) and whenever the broker wants the records' framing proven before it stores
// them (a producer computes the CRC over whatever it sends, lies included).

import type { CompressionCodecs } from './compression.js';
import { decodeRecordBatch } from './decode.js';
import {
  RecordBatchError,
  type RecordBatchFailure,
  recordBatchFailure,
  recordErrorCode,
} from './errors.js';
import type { BatchValidation } from './validate.js';

export interface ValidateRecordsOptions {
  codecs?: CompressionCodecs;
  /** Compacted topics: a record without a key is INVALID_RECORD (Kafka's rule). */
  requireKeys?: boolean;
  decompressedSizeBytesMax?: number;
}

export type RecordsValidation = { ok: true } | RecordBatchFailure;

function checkBatchRecords(batch: Buffer, position: number, options: ValidateRecordsOptions): void {
  const { header, records } = decodeRecordBatch(batch, options.codecs, {
    verifyCrc: false,
    decompressedSizeBytesMax: options.decompressedSizeBytesMax,
  });
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    if (record.offset - header.baseOffset !== BigInt(index)) {
      throw new RecordBatchError(
        'bad-offset-delta',
        recordErrorCode.invalidRecord,
        `record ${index} has offset delta ${record.offset - header.baseOffset}`,
        position,
      );
    }
    if (options.requireKeys && record.key === null) {
      throw new RecordBatchError(
        'missing-key',
        recordErrorCode.invalidRecord,
        `record ${index} has no key, which a compacted topic requires`,
        position,
      );
    }
  }
}

/**
 * Decodes every record of batches that passed validateRecordBatches (origin 'client') and checks
 * framing, counts, consecutive offset deltas and, on request, keys. The CRC is not re-checked.
 */
export function validateRecords(
  buffer: Buffer,
  validation: Extract<BatchValidation, { ok: true }>,
  options: ValidateRecordsOptions = {},
): RecordsValidation {
  try {
    for (const { position, sizeBytes } of validation.batches) {
      checkBatchRecords(buffer.subarray(position, position + sizeBytes), position, options);
    }
    return { ok: true };
  } catch (error) {
    return recordBatchFailure(error);
  }
}
