// File-log specifics: restarts (clean and unclean), torn and corrupt tails, log dirs, indexes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StorageError } from './errors.js';
import { IoThrottle } from './file-cleaner.js';
import { joinPath } from './file-system.js';
import { cleanShutdownMarkerFile, FileLogManager, type LogManagerOptions } from './log-manager.js';
import { segmentFileName } from './segment.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import {
  batchBaseOffsets,
  decodeAll,
  ManualClock,
  makeSimpleBatch,
  seededRandom,
} from './testing/batches.js';

interface RecoveryEvent {
  baseOffset: bigint;
  truncatedBytes: number;
  reason: string | null;
}

function harness(logDirs = ['/data']) {
  const fileSystem = new SimulatedFileSystem();
  const clock = new ManualClock();
  const events: RecoveryEvent[] = [];
  const options = (): LogManagerOptions => ({
    logDirs,
    clock,
    fileSystem: fileSystem.view(),
    defaultConfig: { segmentBytes: 1000, indexIntervalBytes: 100, fileDeleteDelayMs: 0 },
    retentionCheckIntervalMs: 0,
    cleanerIntervalMs: 0,
    checkpointIntervalMs: 0,
    onRecovery: (event) => events.push(event),
  });
  return { fileSystem, clock, events, open: () => FileLogManager.open(options()) };
}

async function fill(manager: FileLogManager, batches: number): Promise<Buffer[]> {
  const log = await manager.createLog('orders', 0);
  const written: Buffer[] = [];
  for (let index = 0; index < batches; index++) {
    const batch = makeSimpleBatch(1 + (index % 4), `b${index}`);
    await log.append(batch, { durability: 'fsync', leaderEpoch: 1 + Math.floor(index / 10) });
    written.push(batch);
  }
  return written;
}

describe('file log recovery', () => {
  it('restarts cleanly without scanning and keeps offsets, start offset and epochs', async () => {
    const { open, events } = harness();
    let manager = await open();
    const written = await fill(manager, 40);
    const log = manager.getLog('orders', 0)!;
    await log.deleteRecordsBefore(7n);
    const end = log.logEndOffset;
    const epochs = log.leaderEpochEntries();
    const segments = log.segmentCount;
    await manager.close();
    manager = await open();
    const reopened = manager.getLog('orders', 0)!;
    assert.equal(events.length, 0, 'a clean restart scans nothing');
    assert.equal(reopened.logEndOffset, end);
    assert.equal(reopened.logStartOffset, 7n);
    assert.equal(reopened.segmentCount, segments);
    assert.deepEqual(reopened.leaderEpochEntries(), epochs);
    const random = seededRandom(3);
    for (let probe = 0; probe < 50; probe++) {
      const offset = 7n + BigInt(Math.floor(random() * Number(end - 7n)));
      const read = await reopened.read(offset, { maxBytes: 1, minOneBatch: true });
      const [record] = decodeAll(read.buffers).filter((candidate) => candidate.offset === offset);
      assert.ok(record, `offset ${offset} found after restart`);
      assert.ok(written.some((batch) => batch.equals(read.buffers[0])));
    }
    await manager.close();
  });

  it('cuts a torn tail with garbage after an unclean stop and takes new appends', async () => {
    const { open, events, fileSystem } = harness();
    let manager = await open();
    await fill(manager, 25);
    const log = manager.getLog('orders', 0)!;
    const end = log.logEndOffset;
    const active = joinPath(
      '/data',
      'orders-0',
      segmentFileName(
        (log as unknown as { activeSegment: { baseOffset: bigint } }).activeSegment.baseOffset,
        '.log',
      ),
    );
    const size = fileSystem.fileSizeBytes(active)!;
    const garbage = Buffer.from('garbage after the last batch, not a batch at all, definitely not');
    fileSystem.corrupt(active, size, garbage);
    manager.abandon();
    manager = await open();
    const reopened = manager.getLog('orders', 0)!;
    assert.equal(reopened.logEndOffset, end);
    const cut = events.filter((event) => event.truncatedBytes > 0);
    assert.equal(cut.length, 1);
    assert.equal(cut[0].truncatedBytes, garbage.length);
    assert.notEqual(cut[0].reason, null);
    assert.equal(fileSystem.fileSizeBytes(active), size, 'exactly the garbage is cut off');
    const next = await reopened.append(makeSimpleBatch(1, 'after'), {
      durability: 'fsync',
      leaderEpoch: 9,
    });
    assert.equal(next.baseOffset, end);
    await manager.close();
  });

  it('truncates at a corrupt batch (bad CRC) and drops every later segment', async () => {
    const { open, fileSystem, events } = harness();
    let manager = await open();
    await fill(manager, 40);
    const log = manager.getLog('orders', 0)!;
    assert.ok(log.segmentCount >= 3);
    const second = (log as unknown as { segments: { baseOffset: bigint }[] }).segments[1]
      .baseOffset;
    const path = joinPath('/data', 'orders-0', segmentFileName(second, '.log'));
    // Flip a byte inside the first batch's records: the header stays plausible, the CRC does not.
    fileSystem.corrupt(path, 70, Buffer.from([0xff]));
    manager.abandon();
    // Unclean and with no recovery-point checkpoint: everything is scanned.
    manager = await open();
    const reopened = manager.getLog('orders', 0)!;
    assert.equal(reopened.logEndOffset, second);
    assert.equal(reopened.segmentCount, 2);
    assert.deepEqual(
      events.filter((event) => event.truncatedBytes > 0).map((event) => event.reason),
      ['CRC mismatch'],
    );
    // Reads return one segment at a time: walk the whole log, every offset below the cut is there.
    const offsets: bigint[] = [];
    while (offsets.length < Number(second)) {
      const read = await reopened.read(BigInt(offsets.length), { maxBytes: 1 << 20 });
      assert.ok(read.sizeBytes > 0, `data at offset ${offsets.length}`);
      offsets.push(...decodeAll(read.buffers).map((record) => record.offset));
    }
    assert.deepEqual(
      offsets,
      Array.from({ length: Number(second) }, (_, index) => BigInt(index)),
    );
    await manager.close();
  });

  it('after a crash trusts only logs unchanged since the clean stop, and removes the marker on start', async () => {
    const { open, fileSystem, events } = harness();
    let manager = await open();
    await fill(manager, 5);
    await manager.close();
    assert.ok(await fileSystem.exists(joinPath('/data', cleanShutdownMarkerFile)));
    manager = await open();
    assert.equal(await fileSystem.exists(joinPath('/data', cleanShutdownMarkerFile)), false);
    assert.equal(manager.loadStatistics.cleanShutdown, true);
    assert.equal(events.length, 0, 'a clean start scans nothing');
    manager.abandon();
    manager = await open();
    assert.equal(manager.loadStatistics.cleanShutdown, false);
    assert.equal(events.length, 0, 'an unchanged log is built from the clean-stop summary');
    assert.equal(manager.loadStatistics.deferredLogCount, 1);
    const log = manager.getLog('orders', 0)!;
    await log.append(makeSimpleBatch(1, 'changed'), { durability: 'fsync', leaderEpoch: 9 });
    manager.abandon();
    manager = await open();
    assert.equal(manager.loadStatistics.deferredLogCount, 0);
    assert.ok(events.length > 0, 'a changed log is scanned (from the recovery point)');
    assert.ok(events.every((event) => event.truncatedBytes === 0 && event.reason === null));
    assert.equal(manager.getLog('orders', 0)!.logEndOffset, 12n);
    await manager.close();
  });

  it('spreads partitions over log dirs and finds them all again', async () => {
    const { open, fileSystem } = harness(['/disk1', '/disk2', '/disk3']);
    let manager = await open();
    for (let partition = 0; partition < 9; partition++) {
      const log = await manager.createLog('spread', partition);
      await log.append(makeSimpleBatch(1, `p${partition}`), {
        durability: 'write',
        leaderEpoch: 0,
      });
    }
    for (const dir of ['/disk1', '/disk2', '/disk3']) {
      const logs = (await fileSystem.listDirectory(dir)).filter((name) =>
        name.startsWith('spread-'),
      );
      assert.equal(logs.length, 3, `${dir} holds a third of the partitions`);
    }
    await manager.close();
    manager = await open();
    assert.equal(manager.allLogs().length, 9);
    await manager.deleteLog('spread', 4);
    assert.equal(manager.getLog('spread', 4), undefined);
    await manager.close();
    manager = await open();
    assert.equal(manager.allLogs().length, 8);
    await manager.close();
  });

  it('restores the leader epoch cache and truncates it with the log', async () => {
    const { open } = harness();
    let manager = await open();
    await fill(manager, 30);
    const log = manager.getLog('orders', 0)!;
    await log.truncateTo(20n);
    const entries = log.leaderEpochEntries();
    assert.ok(entries.every((entry) => entry.startOffset < 20n));
    manager.abandon();
    manager = await open();
    assert.deepEqual(manager.getLog('orders', 0)!.leaderEpochEntries(), entries);
    await manager.close();
  });

  it('stops waiting for data on abort', async () => {
    const { open } = harness();
    const manager = await open();
    const log = await manager.createLog('wait', 0);
    const controller = new AbortController();
    const waiting = log.waitForData(0n, {
      bound: 'logEnd',
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort();
    assert.equal(await waiting, false);
    await manager.close();
  });

  it('checks the CRC of batches read back from disk', async () => {
    const { open, fileSystem } = harness();
    const manager = await open();
    await fill(manager, 20);
    const log = manager.getLog('orders', 0)!;
    const path = joinPath('/data', 'orders-0', segmentFileName(0n, '.log'));
    fileSystem.corrupt(path, 70, Buffer.from([0xee]));
    await assert.rejects(
      log.read(0n, { maxBytes: 1 << 20 }),
      (error: StorageError) => error.errorCode === 2 && /byte 0: CRC mismatch/.test(error.message),
    );
    // Only the damaged batch (offset 0) is unreadable: the next one is checked and served.
    const after = await log.read(1n, { maxBytes: 1 << 20 });
    assert.equal(batchBaseOffsets(after.buffers)[0], 1n);
    assert.ok(after.sizeBytes > 0);
    await manager.close();
  });

  it('throttles cleaner I/O to its byte budget', async () => {
    const sleeps: number[] = [];
    const throttle = new IoThrottle(1000, new ManualClock(), async (ms) => {
      sleeps.push(ms);
    });
    await throttle.consumed(5000);
    assert.equal(sleeps.length, 1);
    assert.ok(sleeps[0] > 4000 && sleeps[0] <= 5000);
  });

  it('creates one log when the same partition is created concurrently', async () => {
    const { open, fileSystem } = harness(['/disk1', '/disk2']);
    const manager = await open();
    const [first, second] = await Promise.all([
      manager.createLog('race', 0),
      manager.createLog('race', 0),
    ]);
    assert.equal(first, second);
    const copies = [
      ...(await fileSystem.listDirectory('/disk1')),
      ...(await fileSystem.listDirectory('/disk2')),
    ].filter((name) => name === 'race-0');
    assert.equal(copies.length, 1);
    await manager.close();
  });

  it('rolls by segment.ms, by a full offset index and by segment.bytes', async () => {
    const { open, clock } = harness();
    const manager = await open();
    const log = await manager.createLog('rolls', 0, {
      segmentMs: 60_000,
      segmentBytes: 1 << 20,
      segmentIndexBytes: 16,
      indexIntervalBytes: 1,
    });
    await log.append(makeSimpleBatch(1, 'a'), { durability: 'write', leaderEpoch: 0 });
    await log.append(makeSimpleBatch(1, 'b'), { durability: 'write', leaderEpoch: 0 });
    // Two index entries fill 16 bytes: the third batch opens a new segment.
    await log.append(makeSimpleBatch(1, 'c'), { durability: 'write', leaderEpoch: 0 });
    assert.equal(log.segmentCount, 2);
    clock.advance(60_000);
    await log.append(makeSimpleBatch(1, 'd'), { durability: 'write', leaderEpoch: 0 });
    assert.equal(log.segmentCount, 3);
    log.updateConfig({ segmentBytes: 200, segmentIndexBytes: 1 << 20 });
    await log.append(makeSimpleBatch(3, 'e'), { durability: 'write', leaderEpoch: 0 });
    await log.append(makeSimpleBatch(3, 'f'), { durability: 'write', leaderEpoch: 0 });
    assert.equal(log.segmentCount, 4);
    await manager.close();
  });

  it('syncs write-durability appends after flush.messages', async () => {
    const { open, fileSystem } = harness();
    const manager = await open();
    const log = await manager.createLog('flushes', 0, { flushMessages: 3 });
    const before = fileSystem.statistics.datasyncs;
    await log.append(makeSimpleBatch(1, 'a'), { durability: 'write', leaderEpoch: 0 });
    await log.append(makeSimpleBatch(1, 'b'), { durability: 'write', leaderEpoch: 0 });
    assert.equal(fileSystem.statistics.datasyncs, before);
    await log.append(makeSimpleBatch(1, 'c'), { durability: 'write', leaderEpoch: 0 });
    assert.equal(fileSystem.statistics.datasyncs, before + 1);
    await manager.close();
  });

  it('shares one fdatasync among concurrent fsync appends (group commit)', async () => {
    const { open, fileSystem } = harness();
    const manager = await open();
    const log = await manager.createLog('group', 0, { segmentBytes: 1 << 20 });
    await log.append(makeSimpleBatch(1, 'warm'), { durability: 'fsync', leaderEpoch: 0 });
    const before = fileSystem.statistics.datasyncs;
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        log.append(makeSimpleBatch(1, `g${index}`), { durability: 'fsync', leaderEpoch: 0 }),
      ),
    );
    const syncs = fileSystem.statistics.datasyncs - before;
    assert.ok(syncs >= 1 && syncs <= 2, `20 concurrent appends took ${syncs} syncs`);
    await manager.close();
  });
});
