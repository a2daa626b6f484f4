import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { encodeRecordBatch, openRecordBatch, type RecordInput } from '@gregor/protocol';
import { type BufferedPartition, FetchBuffer } from './fetch-buffer.js';
import type { ConsumerRecord } from './fetched-record.js';

function batchOf(baseOffset: bigint, values: string[], options: { lastOffsetDelta?: number } = {}) {
  const records: RecordInput[] = values.map((value, index) => ({
    key: index === 0 ? Buffer.from(`key-${value}`) : null,
    value: Buffer.from(value),
    headers: index === 1 ? [{ key: 'trace', value: Buffer.from(value) }] : [],
    timestamp: 1_000n + BigInt(index),
  }));
  return openRecordBatch(encodeRecordBatch({ records, baseOffset, ...options }));
}

function partition(index: number): BufferedPartition {
  return { topic: 'orders', partition: index, position: 0n };
}

const summary = (records: ConsumerRecord[]) =>
  records.map((record) => [record.partition, record.offset, record.value?.toString()]);

describe('FetchBuffer', () => {
  it('hands out records in fetch order a poll at a time, moving each position', () => {
    const buffer = new FetchBuffer();
    const zero = partition(0);
    const one = partition(1);
    buffer.add(zero, batchOf(10n, ['a', 'b', 'c']), 10n);
    buffer.add(zero, batchOf(13n, ['d']), 10n);
    buffer.add(one, batchOf(0n, ['x', 'y']), 0n);
    // A control batch followed partition 0's last data batch at offset 14.
    buffer.setPositionAfterLast(zero, 15n);

    const first: ConsumerRecord[] = [];
    buffer.take(2, first);
    assert.deepEqual(summary(first), [
      [0, 10n, 'a'],
      [0, 11n, 'b'],
    ]);
    assert.equal(zero.position, 12n);
    assert.equal(buffer.isEmpty, false);

    const second: ConsumerRecord[] = [];
    buffer.take(3, second);
    assert.deepEqual(summary(second), [
      [0, 12n, 'c'],
      [0, 13n, 'd'],
      [1, 0n, 'x'],
    ]);
    assert.equal(zero.position, 15n);
    assert.equal(one.position, 1n);

    const third: ConsumerRecord[] = [];
    buffer.take(10, third);
    assert.deepEqual(summary(third), [[1, 1n, 'y']]);
    assert.equal(one.position, 2n);
    assert.equal(buffer.isEmpty, true);
  });

  it('skips records before the fetch offset and moves past a compacted batch span', () => {
    const buffer = new FetchBuffer();
    const zero = partition(0);
    // Compaction removed the records after 21: the batch still spans to offset 24.
    buffer.add(zero, batchOf(20n, ['a', 'b'], { lastOffsetDelta: 4 }), 21n);
    const records: ConsumerRecord[] = [];
    buffer.take(10, records);
    assert.deepEqual(summary(records), [[0, 21n, 'b']]);
    assert.equal(zero.position, 25n);
  });

  it('drops what is buffered for a partition, keeping the others', () => {
    const buffer = new FetchBuffer();
    const zero = partition(0);
    const one = partition(1);
    buffer.add(zero, batchOf(0n, ['a', 'b']), 0n);
    buffer.add(one, batchOf(5n, ['x']), 5n);
    const taken: ConsumerRecord[] = [];
    buffer.take(1, taken);
    buffer.drop(zero);
    const rest: ConsumerRecord[] = [];
    buffer.take(10, rest);
    assert.deepEqual(summary(rest), [[1, 5n, 'x']]);
    assert.equal(zero.position, 1n);
  });

  it('makes offset, timestamp and headers on first read, the same headers on every read', () => {
    const buffer = new FetchBuffer();
    buffer.add(partition(3), batchOf(7n, ['a', 'b']), 7n);
    const records: ConsumerRecord[] = [];
    buffer.take(2, records);
    assert.equal(records[0].key?.toString(), 'key-a');
    assert.equal(records[1].key, null);
    assert.deepEqual(records[0].headers, []);
    assert.deepEqual(records[1].headers, [{ key: 'trace', value: Buffer.from('b') }]);
    assert.equal(records[1].headers, records[1].headers);
    assert.equal(records[1].timestamp, 1_001n);
    assert.equal(records[1].offset, 8n);
    assert.match(inspect(records[1]), /offset: 8n/);
  });
});
