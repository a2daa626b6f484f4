import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedFileSystem } from '@gregor/storage';
import { TransactionIndex } from './transaction-index.js';

const path = '/data/t-0/transactions.txnindex';

function entry(lastOffset: bigint) {
  return { producerId: 7n, firstOffset: lastOffset - 5n, lastOffset };
}

describe('transaction index', () => {
  it('writes again what a full disk refused, so no entry is lost and later writes go on', async () => {
    const disk = new SimulatedFileSystem();
    const fileSystem = disk.view();
    await fileSystem.makeDirectory('/data/t-0');
    const index = new TransactionIndex(fileSystem, path);
    await index.add(entry(10n), 11n);
    disk.capacityBytes = disk.usedBytes; // full: the next entry does not fit
    await assert.rejects(index.add(entry(20n), 21n), { code: 'ENOSPC' });
    disk.clearFaults();
    // The next add writes both the refused entry and its own.
    await index.add(entry(30n), 31n);
    await index.close();

    const reloaded = new TransactionIndex(fileSystem, path);
    await reloaded.load(100n);
    assert.deepEqual(
      reloaded.entries.map((indexed) => indexed.lastOffset),
      [10n, 20n, 30n],
    );
    await reloaded.close();
  });
});
