// Test helpers: record batches built with @gregor/protocol's encoder, and a seeded random source.

import { defaultCompressionCodecs } from '@gregor/compression';
import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from '@gregor/protocol';
import { ManualClock as SharedManualClock } from '@gregor/protocol/testing/manual-clock';

export interface TestRecord {
  key: string | null;
  value: string | null;
  timestamp?: bigint;
}

export function makeBatch(records: TestRecord[], options: { baseTimestamp?: bigint } = {}): Buffer {
  return encodeRecordBatch({
    records: records.map((record) => ({
      key: record.key === null ? null : Buffer.from(record.key),
      value: record.value === null ? null : Buffer.from(record.value),
      timestamp: record.timestamp ?? options.baseTimestamp ?? 1_000n,
    })),
  });
}

/** A batch of `count` records with values `${prefix}-${index}` and the given timestamp. */
export function makeSimpleBatch(count: number, prefix: string, timestamp = 1_000n): Buffer {
  const records: TestRecord[] = [];
  for (let index = 0; index < count; index++)
    records.push({ key: `k${index}`, value: `${prefix}-${index}`, timestamp });
  return makeBatch(records);
}

export interface ReadBackRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
  timestamp: bigint;
}

export function decodeAll(buffers: Buffer[]): ReadBackRecord[] {
  const result: ReadBackRecord[] = [];
  for (const buffer of buffers) {
    let position = 0;
    while (position < buffer.length) {
      const size = buffer.readInt32BE(position + 8) + 12;
      const batch = decodeRecordBatch(
        buffer.subarray(position, position + size),
        defaultCompressionCodecs,
      );
      for (const record of batch.records) {
        result.push({
          offset: record.offset,
          key: record.key?.toString() ?? null,
          value: record.value?.toString() ?? null,
          timestamp: record.timestamp,
        });
      }
      position += size;
    }
  }
  return result;
}

export function batchBaseOffsets(buffers: Buffer[]): bigint[] {
  const result: bigint[] = [];
  for (const buffer of buffers) {
    let position = 0;
    while (position < buffer.length) {
      const header = readBatchHeader(buffer, position);
      result.push(header.baseOffset);
      position += header.batchLength + 12;
    }
  }
  return result;
}

/** mulberry32: small, fast, seeded; enough for test case generation. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The shared manual clock, starting where storage's tests expect (record timestamps ~1000). */
export class ManualClock extends SharedManualClock {
  constructor(startMs = 1_000_000) {
    super(startMs);
  }
}
