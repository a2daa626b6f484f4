import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordInput } from '@gregor/protocol';
import {
  Accumulator,
  batchOverheadBytes,
  type Delivery,
  ProducerBatch,
  recordSizeBytesBound,
} from './accumulator.js';

const ignored: Delivery = { resolve: () => undefined, reject: () => undefined };

function record(valueBytes: number): RecordInput {
  return { key: null, value: Buffer.alloc(valueBytes), headers: [], timestamp: 0n };
}

describe('Accumulator', () => {
  it('fills one batch up to batch.size, then starts the next and reports it full', () => {
    const size = recordSizeBytesBound(record(100));
    assert.ok(size >= 100 + 21 && size < 100 + 30, `bound ${size}`);
    const accumulator = new Accumulator({
      batchSizeBytes: batchOverheadBytes + 2 * size + 10,
      lingerMs: 50,
    });
    assert.equal(accumulator.append('t', 0, record(100), size, ignored, 1_000), false);
    assert.equal(accumulator.append('t', 0, record(100), size, ignored, 1_000), false);
    // The third record would pass batch.size: a second batch, so the first is ready now.
    assert.equal(accumulator.append('t', 0, record(100), size, ignored, 1_000), true);
    const queue = accumulator.queue('t', 0);
    assert.deepEqual(
      queue.batches.map((batch) => batch.recordCount),
      [2, 1],
    );
    assert.equal(queue.batches[0].sizeBytes, batchOverheadBytes + 2 * size);
    assert.equal(accumulator.readyAtMs(queue, false), 0);
  });

  it('a lone batch lingers only behind one in flight, at once when flushing, not before a retry backoff', () => {
    const accumulator = new Accumulator({ batchSizeBytes: 16_384, lingerMs: 50 });
    accumulator.append('t', 1, record(10), 40, ignored, 1_000);
    const queue = accumulator.queue('t', 1);
    assert.equal(accumulator.readyAtMs(queue, false), 0);
    queue.inFlight.push(new ProducerBatch('t', 1, 900));
    assert.equal(accumulator.readyAtMs(queue, false), 1_050);
    assert.equal(accumulator.readyAtMs(queue, true), 0);
    queue.retryAtMs = 2_000;
    assert.equal(accumulator.readyAtMs(queue, true), 2_000);
    assert.equal(accumulator.readyAtMs(accumulator.queue('t', 2), false), Infinity);
  });

  it('a record larger than batch.size gets a batch of its own', () => {
    const accumulator = new Accumulator({ batchSizeBytes: 100, lingerMs: 0 });
    assert.equal(accumulator.append('t', 0, record(500), 520, ignored, 0), true);
    assert.equal(accumulator.queue('t', 0).batches.length, 1);
  });

  it('requeues retried batches before queued ones, in sequence order', () => {
    const accumulator = new Accumulator({ batchSizeBytes: 1, lingerMs: 0 });
    for (let index = 0; index < 4; index++) accumulator.append('t', 0, record(1), 30, ignored, 0);
    const queue = accumulator.queue('t', 0);
    // Drain three batches with sequences 0, 1, 2; the fourth stays queued, unstamped.
    const drained = queue.batches.splice(0, 3);
    drained.forEach((batch, index) => {
      batch.baseSequence = index;
    });
    queue.inFlight.push(...drained);
    // Failures come back in response order: 1 then 0 then 2 (e.g. a broker restart).
    queue.requeue(drained[1]);
    queue.requeue(drained[0]);
    queue.requeue(drained[2]);
    assert.deepEqual(
      queue.batches.map((batch) => batch.baseSequence),
      [0, 1, 2, -1],
    );
    assert.equal(queue.inFlight.length, 0);
    assert.equal(accumulator.isEmpty(), false);
  });
});

describe('ProducerBatch.split', () => {
  it('halves keep deliveries, the sequence span and the reserved bytes', async () => {
    const accumulator = new Accumulator({ batchSizeBytes: 16_384, lingerMs: 0 });
    const delivered: number[] = [];
    for (let index = 0; index < 5; index++) {
      const delivery: Delivery = { resolve: () => delivered.push(index), reject: () => undefined };
      accumulator.append('t', 0, record(10), recordSizeBytesBound(record(10)), delivery, 7);
    }
    const batch = accumulator.queue('t', 0).batches[0];
    batch.producerId = 9n;
    batch.producerEpoch = 1;
    batch.baseSequence = 100;
    const [first, second] = batch.split();
    assert.deepEqual([first.recordCount, second.recordCount], [3, 2]);
    assert.deepEqual([first.baseSequence, second.baseSequence], [100, 103]);
    assert.equal(first.reservedBytes + second.reservedBytes, batch.reservedBytes);
    assert.equal(second.createdAtMs, 7);
    second.resolve(3n, -1n);
    first.resolve(0n, -1n);
    await batch.settled;
    assert.deepEqual(delivered, [3, 4, 0, 1, 2]);
  });
});
