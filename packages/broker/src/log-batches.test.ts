import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@gregor/protocol/testing/manual-clock';
import { MemoryLogManager } from '@gregor/storage';
import { readLogBatches } from './log-batches.js';
import { recordBatch } from './testing/test-client.js';

async function collect(iterable: AsyncIterable<{ header: { baseOffset: bigint } }>) {
  const offsets: bigint[] = [];
  for await (const { header } of iterable) offsets.push(header.baseOffset);
  return offsets;
}

describe('readLogBatches', () => {
  it('yields every batch in [from, to) once, in order, over many small reads', async () => {
    const logs = await MemoryLogManager.open({ clock: new ManualClock(0) });
    const log = await logs.createLog('replayed', 0);
    // Batches of 1, 2, ..., 6 records: base offsets 0, 1, 3, 6, 10, 15; log end 21.
    for (let count = 1; count <= 6; count++) {
      await log.append(recordBatch({ count, valueBytes: 40 }), {
        durability: 'write',
        leaderEpoch: 0,
      });
    }
    assert.equal(log.logEndOffset, 21n);
    let reads = 0;
    const counted = {
      read: (offset: bigint, options: { maxBytes: number; minOneBatch?: boolean }) => {
        reads++;
        return log.read(offset, options);
      },
    };
    // A read of 1 byte still returns one whole batch (minOneBatch).
    assert.deepEqual(
      await collect(readLogBatches(counted, { from: 0n, to: 21n, readBytesMax: 1 })),
      [0n, 1n, 3n, 6n, 10n, 15n],
    );
    assert.equal(reads, 6);
    // Large reads: the same batches, fewer reads.
    assert.deepEqual(
      await collect(readLogBatches(log, { from: 0n, to: 21n, readBytesMax: 1 << 20 })),
      [0n, 1n, 3n, 6n, 10n, 15n],
    );
    // From the middle of a batch: that batch (it holds the offset), never one at or after `to`.
    assert.deepEqual(
      await collect(readLogBatches(log, { from: 4n, to: 10n, readBytesMax: 1 << 20 })),
      [3n, 6n],
    );
    assert.deepEqual(
      await collect(readLogBatches(log, { from: 21n, to: 21n, readBytesMax: 1 << 20 })),
      [],
    );
  });
});
