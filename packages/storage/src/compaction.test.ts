// The cleaner's offset map (DESIGN.md "Cleaner", step 3): latest offset per key, bounded in bytes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignOffsets, validateRecordBatches } from '@gregor/protocol';
import { OffsetMap } from './compaction.js';
import { cleanerOffsetMapEntryOverheadBytes } from './limits.js';
import { makeBatch, type TestRecord } from './testing/batches.js';

function batchAt(baseOffset: bigint, records: TestRecord[]): Buffer {
  const batch = makeBatch(records);
  const validation = validateRecordBatches(batch);
  assert.ok(validation.ok);
  assignOffsets(batch, validation, baseOffset, { leaderEpoch: 0 });
  return batch;
}

describe('OffsetMap', () => {
  it('keeps the latest offset per key; a key repeated in one batch is charged once', async () => {
    const entryBytes = 1 + cleanerOffsetMapEntryOverheadBytes;
    const map = new OffsetMap(2 * entryBytes);
    const first = batchAt(10n, [
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
      { key: null, value: 'unkeyed' },
      { key: 'a', value: '3' },
    ]);
    assert.equal(await map.addBatch(first), true);
    assert.equal(map.size, 1);
    assert.equal(map.get(Buffer.from('a')), 13n);
    // Exactly one more key fits in the budget: 'a' again is free, 'b' takes the last entry.
    assert.equal(
      await map.addBatch(
        batchAt(20n, [
          { key: 'a', value: '4' },
          { key: 'b', value: '5' },
        ]),
      ),
      true,
    );
    assert.equal(map.get(Buffer.from('a')), 20n);
    assert.equal(map.get(Buffer.from('b')), 21n);
  });

  it('refuses a batch that does not fit and leaves the map unchanged', async () => {
    const map = new OffsetMap(1 + cleanerOffsetMapEntryOverheadBytes);
    assert.equal(await map.addBatch(batchAt(0n, [{ key: 'a', value: '1' }])), true);
    const refused = batchAt(1n, [
      { key: 'a', value: '2' },
      { key: 'c', value: '3' },
    ]);
    assert.equal(await map.addBatch(refused), false);
    assert.equal(map.size, 1);
    assert.equal(map.get(Buffer.from('a')), 0n);
    assert.equal(map.get(Buffer.from('c')), undefined);
  });

  it('takes a first batch larger than the budget (a pass always makes progress)', async () => {
    const map = new OffsetMap(1);
    assert.equal(await map.addBatch(batchAt(0n, [{ key: 'big-key', value: 'v' }])), true);
    assert.equal(map.get(Buffer.from('big-key')), 0n);
  });
});
