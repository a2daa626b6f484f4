import assert from 'node:assert/strict';
import type { ClientEvent } from './json-lines-process.js';

/** A record as the tests see it: where it landed and its exact key and value (UTF-8 text). */
export interface PlacedRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

export function placedRecordFromEvent(event: ClientEvent): PlacedRecord {
  return {
    partition: Number(event.partition),
    offset: Number(event.offset),
    key: (event.key as string | null) ?? null,
    value: (event.value as string | null) ?? null,
  };
}

function placeKey(record: PlacedRecord): string {
  return `${record.partition}@${record.offset}`;
}

export function sortByPlace(records: readonly PlacedRecord[]): PlacedRecord[] {
  return [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Fails when two records claim the same partition and offset. */
export function assertNoDuplicatePlaces(records: readonly PlacedRecord[], what: string): void {
  const seen = new Map<string, PlacedRecord>();
  for (const record of records) {
    const place = placeKey(record);
    assert.ok(!seen.has(place), `${what}: ${place} seen twice (${JSON.stringify(record)})`);
    seen.set(place, record);
  }
}

/** Each partition's offsets are exactly `from, from+1, ...` (no gap, no repeat). */
export function assertContiguousOffsets(
  records: readonly PlacedRecord[],
  options: { from: number; what: string },
): void {
  const byPartition = new Map<number, number[]>();
  for (const record of records) {
    const offsets = byPartition.get(record.partition) ?? [];
    offsets.push(record.offset);
    byPartition.set(record.partition, offsets);
  }
  for (const [partition, offsets] of byPartition) {
    offsets.sort((a, b) => a - b);
    for (const [index, offset] of offsets.entries()) {
      const what = `${options.what}: partition ${partition} offsets ${offsets.join(',')}`;
      assert.equal(offset, options.from + index, what);
    }
  }
}

/** `actual` holds exactly the records of `expected` (same places, keys and values), each once. */
export function assertSameRecords(
  actual: readonly PlacedRecord[],
  expected: readonly PlacedRecord[],
  what: string,
): void {
  assertNoDuplicatePlaces(actual, what);
  const only = ({ partition, offset, key, value }: PlacedRecord): PlacedRecord => ({
    partition,
    offset,
    key,
    value,
  });
  assert.deepEqual(
    sortByPlace(actual).map(only),
    sortByPlace(expected).map(only),
    `${what}: records differ`,
  );
}

/** Records per partition, in the order they were received, must have increasing offsets. */
export function assertInOrderPerPartition(records: readonly PlacedRecord[], what: string): void {
  const last = new Map<number, number>();
  for (const record of records) {
    const previous = last.get(record.partition);
    assert.ok(
      previous === undefined || record.offset > previous,
      `${what}: partition ${record.partition} went from ${previous} to ${record.offset}`,
    );
    last.set(record.partition, record.offset);
  }
}

/** Next offset to read per partition (= count of records when offsets start at 0). */
export function endOffsets(records: readonly PlacedRecord[]): Map<number, number> {
  const ends = new Map<number, number>();
  for (const record of records) {
    ends.set(record.partition, Math.max(ends.get(record.partition) ?? 0, record.offset + 1));
  }
  return ends;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/** A record to send: `<prefix>-key-<i>` / `<prefix>-value-<i>` to partition i % partitions. */
export interface NumberedRecord {
  partition: number;
  key: string;
  value: string;
}

export function numberedRecords(options: {
  count: number;
  partitions: number;
  prefix: string;
}): NumberedRecord[] {
  return Array.from({ length: options.count }, (_, index) => ({
    partition: index % options.partitions,
    key: `${options.prefix}-key-${index}`,
    value: `${options.prefix}-value-${index}`,
  }));
}

/**
 * Where the records of one produce request landed: a partition's records are appended in send
 * order from the base offset the broker acknowledged for that partition.
 */
export function placeFromBaseOffsets(
  records: readonly NumberedRecord[],
  baseOffsets: ReadonlyMap<number, number>,
): PlacedRecord[] {
  const placedSoFar = new Map<number, number>();
  return records.map((record) => {
    const place = placedSoFar.get(record.partition) ?? 0;
    placedSoFar.set(record.partition, place + 1);
    const base = baseOffsets.get(record.partition);
    if (base === undefined) throw new Error(`no acknowledgement for partition ${record.partition}`);
    return {
      partition: record.partition,
      offset: base + place,
      key: record.key,
      value: record.value,
    };
  });
}

/**
 * For an exactly-once check: the values that occur more than once, and the expected values
 * `${prefix}${index}` (index below `count`) that never occur; the first ten of each.
 */
export function duplicatesAndMissing(
  values: readonly string[],
  expected: { prefix: string; count: number },
): { duplicates: string[]; missing: string[] } {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  const duplicates = [...counts].filter(([, count]) => count > 1).map(([value]) => value);
  const missing: string[] = [];
  for (let index = 0; index < expected.count; index++) {
    if (!counts.has(`${expected.prefix}${index}`)) missing.push(`${expected.prefix}${index}`);
  }
  return { duplicates: duplicates.slice(0, 10), missing: missing.slice(0, 10) };
}
