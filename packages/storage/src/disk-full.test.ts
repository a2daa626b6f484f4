// Disk full and failing fdatasync (DESIGN.md "Disk full and I/O errors"): a failed append leaves
// no offsets and no partial batch behind, acknowledged data stays intact (also across a crash),
// and appends resume in place once the disk accepts writes again.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type StorageError, storageErrorCode } from './errors.js';
import { joinPath } from './file-system.js';
import { FileLogManager, type LogManagerOptions } from './log-manager.js';
import { segmentFileName } from './segment.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import {
  decodeAll,
  ManualClock,
  makeSimpleBatch,
  type ReadBackRecord,
  seededRandom,
} from './testing/batches.js';
import type { Durability, PartitionLog } from './types.js';

function harness(defaultConfig: LogManagerOptions['defaultConfig'] = {}) {
  const fileSystem = new SimulatedFileSystem();
  const options = (): LogManagerOptions => ({
    logDirs: ['/data'],
    clock: new ManualClock(),
    fileSystem: fileSystem.view(),
    defaultConfig: { indexIntervalBytes: 100, fileDeleteDelayMs: 0, ...defaultConfig },
    retentionCheckIntervalMs: 0,
    cleanerIntervalMs: 0,
    checkpointIntervalMs: 0,
  });
  return { fileSystem, open: () => FileLogManager.open(options()) };
}

async function readAll(log: PartitionLog): Promise<ReadBackRecord[]> {
  const records: ReadBackRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1 << 20, minOneBatch: true });
    if (read.buffers.length === 0) break;
    const decoded = decodeAll(read.buffers);
    records.push(...decoded);
    offset = decoded[decoded.length - 1].offset + 1n;
  }
  return records;
}

const values = (records: ReadBackRecord[]): string[] =>
  records.map((record) => `${record.offset}:${record.value}`);

function isStorageError(error: unknown): boolean {
  return (error as StorageError).errorCode === storageErrorCode.kafkaStorageError;
}

const activeSegmentPath = (log: PartitionLog, baseOffset = 0n) =>
  joinPath('/data', `${log.topic}-${log.partition}`, segmentFileName(baseOffset, '.log'));

describe('disk full', () => {
  it('fails the appends that do not fit, keeps no partial batch and resumes when space returns', async () => {
    const { fileSystem, open } = harness();
    const manager = await open();
    const log = await manager.createLog('orders', 0);
    for (let index = 0; index < 3; index++)
      await log.append(makeSimpleBatch(2, `a${index}`), { durability: 'fsync', leaderEpoch: 0 });
    const acknowledged = values(await readAll(log));
    const sizeBefore = fileSystem.fileSizeBytes(activeSegmentPath(log));
    // Room for part of one batch: the write lands partly, then fails with ENOSPC.
    fileSystem.capacityBytes = fileSystem.usedBytes + 40;
    const failed = await Promise.allSettled([
      log.append(makeSimpleBatch(2, 'lost1'), { durability: 'fsync', leaderEpoch: 0 }),
      log.append(makeSimpleBatch(2, 'lost2'), { durability: 'write', leaderEpoch: 0 }),
    ]);
    for (const outcome of failed) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(isStorageError((outcome as PromiseRejectedResult).reason));
    }
    assert.equal(log.logEndOffset, 6n, 'the log end does not move');
    assert.equal(fileSystem.fileSizeBytes(activeSegmentPath(log)), sizeBefore, 'no partial batch');
    assert.deepEqual(values(await readAll(log)), acknowledged);
    // Still full: each attempt fails the same way and changes nothing.
    await assert.rejects(
      log.append(makeSimpleBatch(1, 'lost3'), { durability: 'write', leaderEpoch: 0 }),
      isStorageError,
    );
    assert.equal(log.logEndOffset, 6n);
    fileSystem.capacityBytes = Number.POSITIVE_INFINITY;
    const resumed = await log.append(makeSimpleBatch(1, 'back'), {
      durability: 'fsync',
      leaderEpoch: 0,
    });
    assert.equal(resumed.baseOffset, 6n, 'the failed appends left no offsets behind');
    assert.deepEqual(values(await readAll(log)), [...acknowledged, '6:back-0']);
    fileSystem.crash({ random: seededRandom(3) });
    const reopened = await open();
    assert.deepEqual(values(await readAll(reopened.getLog('orders', 0)!)), [
      ...acknowledged,
      '6:back-0',
    ]);
    await reopened.close();
  });

  it('keeps exactly the acknowledged batches under random ENOSPC and fdatasync failures, across rolls and a crash', async () => {
    const seeds = Number(process.env.GREGOR_DISK_FULL_SEEDS ?? 6);
    let failures = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const random = seededRandom(seed);
      const { fileSystem, open } = harness({ segmentBytes: 600, segmentIndexBytes: 64 });
      const manager = await open();
      const log = await manager.createLog('events', 0);
      const acknowledged: string[] = [];
      let durableCount = 0;
      for (let step = 0; step < 120; step++) {
        if (random() < 0.1) {
          fileSystem.capacityBytes =
            random() < 0.5
              ? Number.POSITIVE_INFINITY
              : fileSystem.usedBytes + Math.floor(random() * 300);
        }
        // A failed fdatasync whose pages stay cached: nothing acknowledged may be lost.
        if (random() < 0.05) fileSystem.failDatasyncs(1);
        const durability: Durability = random() < 0.5 ? 'fsync' : 'write';
        const count = 1 + Math.floor(random() * 3);
        const prefix = `s${step}`;
        try {
          const result = await log.append(makeSimpleBatch(count, prefix), {
            durability,
            leaderEpoch: 0,
          });
          assert.equal(result.baseOffset, BigInt(acknowledged.length), `seed ${seed} step ${step}`);
          for (let index = 0; index < count; index++)
            acknowledged.push(`${result.baseOffset + BigInt(index)}:${prefix}-${index}`);
          if (durability === 'fsync') durableCount = acknowledged.length;
        } catch (error) {
          assert.ok(isStorageError(error), `seed ${seed} step ${step}: ${error}`);
          failures++;
        }
        assert.equal(log.logEndOffset, BigInt(acknowledged.length), `seed ${seed} step ${step}`);
      }
      assert.deepEqual(values(await readAll(log)), acknowledged, `seed ${seed}`);
      fileSystem.clearFaults();
      fileSystem.crash({ random });
      const reopened = await open();
      const recovered = values(await readAll(reopened.getLog('events', 0)!));
      assert.ok(recovered.length >= durableCount, `seed ${seed}: synced data survives the crash`);
      assert.deepEqual(recovered, acknowledged.slice(0, recovered.length), `seed ${seed}`);
      await reopened.close();
    }
    assert.ok(failures > seeds, `the disk failed often enough (${failures} failed appends)`);
  });

  it('frees space by retention on a full disk, after which appends succeed again', async () => {
    const { fileSystem, open } = harness({ segmentBytes: 500, retentionBytes: 1000 });
    const manager = await open();
    const log = await manager.createLog('metrics', 0);
    fileSystem.capacityBytes = fileSystem.usedBytes + 3000;
    let appended = 0;
    for (; appended < 100; appended++) {
      const outcome = await log
        .append(makeSimpleBatch(2, `m${appended}`), { durability: 'fsync', leaderEpoch: 0 })
        .catch((error: unknown) => error);
      if (outcome instanceof Error) {
        assert.ok(isStorageError(outcome));
        break;
      }
    }
    assert.ok(appended < 100, 'the disk filled up');
    const end = log.logEndOffset;
    assert.ok((await log.enforceRetention()) > 0, 'retention deleted segments');
    const next = await log.append(makeSimpleBatch(1, 'after'), {
      durability: 'fsync',
      leaderEpoch: 0,
    });
    assert.equal(next.baseOffset, end);
    await manager.close();
  });

  it('rewrites the unsynced tail after a failed fdatasync, so a later one really persists it', async () => {
    const { fileSystem, open } = harness();
    const manager = await open();
    const log = await manager.createLog('orders', 0);
    await log.append(makeSimpleBatch(1, 'synced'), { durability: 'fsync', leaderEpoch: 0 });
    for (let index = 0; index < 3; index++)
      await log.append(makeSimpleBatch(1, `cached${index}`), {
        durability: 'write',
        leaderEpoch: 0,
      });
    // The kernel reports the writeback error once and marks the pages clean (not on disk).
    fileSystem.failDatasyncs(1);
    await assert.rejects(
      log.append(makeSimpleBatch(1, 'failed'), { durability: 'fsync', leaderEpoch: 0 }),
      isStorageError,
    );
    assert.equal(log.logEndOffset, 4n, 'the append whose fdatasync failed is rolled back');
    const next = await log.append(makeSimpleBatch(1, 'after'), {
      durability: 'fsync',
      leaderEpoch: 0,
    });
    assert.equal(next.baseOffset, 4n);
    const expected = ['0:synced-0', '1:cached0-0', '2:cached1-0', '3:cached2-0', '4:after-0'];
    assert.deepEqual(values(await readAll(log)), expected);
    // Power loss now: had the log only synced again, the pages marked clean would be lost.
    fileSystem.crash({ random: seededRandom(9) });
    const reopened = await open();
    assert.deepEqual(values(await readAll(reopened.getLog('orders', 0)!)), expected);
    await reopened.close();
  });

  it('ends the log at the first unsynced batch that reads back damaged (pages evicted)', async () => {
    const { fileSystem, open } = harness();
    const manager = await open();
    const log = await manager.createLog('orders', 0);
    await log.append(makeSimpleBatch(2, 'synced'), { durability: 'fsync', leaderEpoch: 0 });
    await log.append(makeSimpleBatch(1, 'cached'), { durability: 'write', leaderEpoch: 0 });
    fileSystem.failDatasyncs(1, { evictPages: true });
    await assert.rejects(log.flush(), /fdatasync failed/);
    // The next append repairs first: the evicted batch reads back as zeros and is cut off.
    const next = await log.append(makeSimpleBatch(1, 'after'), {
      durability: 'fsync',
      leaderEpoch: 0,
    });
    assert.equal(next.baseOffset, 2n);
    assert.deepEqual(values(await readAll(log)), ['0:synced-0', '1:synced-1', '2:after-0']);
    await manager.close();
    const reopened = await open();
    assert.deepEqual(values(await readAll(reopened.getLog('orders', 0)!)), [
      '0:synced-0',
      '1:synced-1',
      '2:after-0',
    ]);
    await reopened.close();
  });

  it('stays usable while repair itself fails and recovers once fdatasync works again', async () => {
    const { fileSystem, open } = harness();
    const manager = await open();
    const log = await manager.createLog('orders', 0);
    await log.append(makeSimpleBatch(1, 'a'), { durability: 'fsync', leaderEpoch: 0 });
    fileSystem.failDatasyncs(4);
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(
        log.append(makeSimpleBatch(1, 'x'), { durability: 'fsync', leaderEpoch: 0 }),
        isStorageError,
      );
      assert.equal(log.logEndOffset, 1n);
    }
    // Reads keep working meanwhile.
    assert.deepEqual(values(await readAll(log)), ['0:a-0']);
    let result = null;
    for (let attempt = 0; attempt < 5 && !result; attempt++) {
      result = await log
        .append(makeSimpleBatch(1, 'b'), { durability: 'fsync', leaderEpoch: 0 })
        .catch(() => null);
    }
    assert.equal(result?.baseOffset, 1n);
    await manager.close();
    const reopened = await open();
    assert.deepEqual(values(await readAll(reopened.getLog('orders', 0)!)), ['0:a-0', '1:b-0']);
    await reopened.close();
  });
});

describe('stalled disk', () => {
  it('holds appends and their fdatasync until the device answers; reads go on meanwhile', async () => {
    const { fileSystem, open } = harness();
    const logs = await open();
    const log = await logs.createLog('t', 0);
    await log.append(makeSimpleBatch(2, 'before'), { durability: 'fsync', leaderEpoch: 0 });
    const release = fileSystem.stallWrites();
    let done = false;
    const stalled = log
      .append(makeSimpleBatch(1, 'stalled'), { durability: 'fsync', leaderEpoch: 0 })
      .then(() => {
        done = true;
      });
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    assert.deepEqual(values(await readAll(log)), ['0:before-0', '1:before-1']);
    release();
    await stalled;
    assert.deepEqual(values(await readAll(log)), ['0:before-0', '1:before-1', '2:stalled-0']);
    await logs.close();
  });

  it('loses the stalled writes in a crash and works after the restart', async () => {
    const { fileSystem, open } = harness();
    const logs = await open();
    const log = await logs.createLog('t', 0);
    await log.append(makeSimpleBatch(1, 'synced'), { durability: 'fsync', leaderEpoch: 0 });
    fileSystem.stallWrites();
    const stalled = log.append(makeSimpleBatch(1, 'stalled'), {
      durability: 'fsync',
      leaderEpoch: 0,
    });
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
    fileSystem.crash({ random: seededRandom(1) });
    await assert.rejects(stalled);
    assert.equal(fileSystem.writesStalled, false);
    const reopened = await open();
    const again = reopened.getLog('t', 0)!;
    assert.deepEqual(values(await readAll(again)), ['0:synced-0']);
    await again.append(makeSimpleBatch(1, 'after'), { durability: 'fsync', leaderEpoch: 0 });
    assert.deepEqual(values(await readAll(again)), ['0:synced-0', '1:after-0']);
    await reopened.close();
  });
});
