// Many logs on one manager: bounded segment descriptors (the handle cache) under concurrent
// reads, retention and truncation; a clean restart that opens nothing until a log is used (the
// clean-stop summary); power loss at every file operation of a batch creation and of a stop;
// new logs without files until their first write, and kills and power losses around it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageError } from './errors.js';
import type { FileSystem } from './file-system.js';
import { FileLogManager } from './log-manager.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import { decodeAll, ManualClock, makeSimpleBatch, seededRandom } from './testing/batches.js';
import { countingFileSystem } from './testing/counting-file-system.js';
import { listOffsetsTimestamp, type PartitionLog } from './types.js';

const topic = 'wide';

function openManager(
  fileSystem: FileSystem,
  options: { handlesMax?: number; clock?: ManualClock } = {},
): Promise<FileLogManager> {
  return FileLogManager.open({
    logDirs: ['/data/a', '/data/b'],
    clock: options.clock ?? new ManualClock(),
    fileSystem,
    defaultConfig: { segmentBytes: 600, indexIntervalBytes: 100, fileDeleteDelayMs: 0 },
    segmentFileHandlesMax: options.handlesMax,
    retentionCheckIntervalMs: 0,
    cleanerIntervalMs: 0,
    checkpointIntervalMs: 0,
  });
}

/** Value of the record at `offset` of `partition` as `fill` wrote it. */
function valueAt(partition: number, offset: bigint): string {
  return `p${partition}-o${offset}`;
}

/** `batches` one-record batches per log, values named by partition and offset, timestamps rising. */
async function fill(manager: FileLogManager, partitions: number[], batches: number): Promise<void> {
  for (let index = 0; index < batches; index++) {
    await Promise.all(
      partitions.map(async (partition) => {
        const log = manager.getLog(topic, partition)!;
        const offset = log.logEndOffset;
        const batch = makeSimpleBatch(1, valueAt(partition, offset), 1_000n + offset);
        await log.append(batch, { durability: 'fsync', leaderEpoch: 0 });
      }),
    );
  }
}

async function expectRecordAt(
  manager: FileLogManager,
  partition: number,
  offset: bigint,
): Promise<void> {
  const log = manager.getLog(topic, partition)!;
  const read = await log.read(offset, { maxBytes: 1, minOneBatch: true });
  const record = decodeAll(read.buffers).find((candidate) => candidate.offset === offset);
  assert.equal(record?.value, `${valueAt(partition, offset)}-0`, `${topic}-${partition}@${offset}`);
}

const partitionList = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

describe('many logs on one log manager', () => {
  it('keeps at most log.segment.file.handles.max segment descriptors open, under concurrent reads, retention and truncation', async () => {
    const { fileSystem, counts } = countingFileSystem(new SimulatedFileSystem().view());
    const handlesMax = 6;
    const manager = await openManager(fileSystem, { handlesMax });
    const partitions = partitionList(24);
    await manager.createLogs(topic, partitions);
    await fill(manager, partitions, 30);
    assert.ok(manager.getLog(topic, 0)!.segmentCount >= 4, 'several segments per log');
    assert.ok(manager.handles.openCount <= handlesMax);
    assert.ok(counts.openNow <= handlesMax + 1, `${counts.openNow} descriptors open`);

    // Concurrent reads everywhere: evicted descriptors are reopened, no read sees another's file.
    const random = seededRandom(12);
    const probes = Array.from({ length: 400 }, () => ({
      partition: Math.floor(random() * partitions.length),
      offset: BigInt(Math.floor(random() * 30)),
    }));
    await Promise.all(
      probes.map((probe) => expectRecordAt(manager, probe.partition, probe.offset)),
    );
    // Reads racing with retention (whole segments deleted) and truncation: each read returns the
    // right record or OFFSET_OUT_OF_RANGE, nothing else.
    const racing = probes.slice(0, 200).map(async (probe) => {
      try {
        await expectRecordAt(manager, probe.partition, probe.offset);
      } catch (error) {
        assert.ok(error instanceof StorageError && error.errorCode === 1, String(error));
      }
    });
    const mutations = partitions.map(async (partition) => {
      const log = manager.getLog(topic, partition)!;
      if (partition % 2 === 0) await log.deleteRecordsBefore(12n);
      else await log.truncateTo(20n);
    });
    await Promise.all([...racing, ...mutations]);
    for (const partition of partitions) {
      const log = manager.getLog(topic, partition)!;
      if (partition % 2 === 0) {
        assert.equal(log.logStartOffset, 12n);
        await expectRecordAt(manager, partition, 12n);
        await expectRecordAt(manager, partition, 29n);
      } else {
        assert.equal(log.logEndOffset, 20n);
        await expectRecordAt(manager, partition, 19n);
      }
    }
    assert.ok(manager.handles.openCount <= handlesMax);
    await manager.close();
    assert.equal(counts.openNow, 0, 'close closes every descriptor');
  });

  it('starts after a clean stop without opening a segment file, then reads, appends and searches as before', async () => {
    const simulated = new SimulatedFileSystem();
    const partitions = partitionList(30);
    let manager = await openManager(simulated.view(), { handlesMax: 8 });
    await manager.createLogs(topic, partitions);
    await fill(manager, partitions, 12);
    const ends = partitions.map((partition) => manager.getLog(topic, partition)!.logEndOffset);
    const segmentCounts = partitions.map((p) => manager.getLog(topic, p)!.segmentCount);
    await manager.close();

    const { fileSystem, counts } = countingFileSystem(simulated.view());
    manager = await openManager(fileSystem, { handlesMax: 8 });
    assert.equal(manager.loadStatistics.deferredLogCount, partitions.length);
    assert.equal(counts.opened, 0, 'no file opened at start-up');
    for (const partition of partitions) {
      const log = manager.getLog(topic, partition)!;
      assert.equal(log.logEndOffset, ends[partition]);
      assert.equal(log.segmentCount, segmentCounts[partition]);
      assert.equal(log.latestLeaderEpoch(), 0);
    }
    // First use: reads, a timestamp search and appends on the lazily loaded logs.
    for (const partition of [0, 7, 29]) {
      for (let offset = 0n; offset < ends[partition]; offset++)
        await expectRecordAt(manager, partition, offset);
      const log = manager.getLog(topic, partition)!;
      const found = await log.offsetForTimestamp(1_005n);
      assert.equal(found?.offset, 5n);
      const latest = await log.offsetForTimestamp(listOffsetsTimestamp.maxTimestamp);
      assert.equal(latest?.offset, ends[partition] - 1n);
    }
    await fill(manager, [3, 7], 5);
    assert.equal(manager.getLog(topic, 3)!.logEndOffset, ends[3] + 5n);
    assert.ok(counts.opened > 0 && counts.opened <= 3 * 8, `${counts.opened} opens`);
    await manager.close();

    manager = await openManager(simulated.view());
    assert.equal(manager.loadStatistics.deferredLogCount, partitions.length);
    for (let offset = 0n; offset < ends[7] + 5n; offset++) await expectRecordAt(manager, 7, offset);
    await expectRecordAt(manager, 28, ends[28] - 1n);
    await manager.close();
  });

  it('after a crash builds the logs unchanged since the last clean stop from its summary and recovers the changed ones', async () => {
    const partitions = partitionList(20);
    for (let operations = 1; ; operations++) {
      const simulated = new SimulatedFileSystem();
      let manager = await openManager(simulated.view());
      await manager.createLogs(topic, partitions);
      await fill(manager, partitions, 5);
      await manager.close();
      manager = await openManager(simulated.view());
      assert.equal(manager.loadStatistics.deferredLogCount, partitions.length);
      const random = seededRandom(100 + operations);
      simulated.scheduleCrash(operations, { random });
      const acknowledged = { append: false, truncation: false, recreation: false };
      try {
        await fill(manager, [3], 1);
        acknowledged.append = true;
        await manager.getLog(topic, 4)!.truncateTo(2n);
        acknowledged.truncation = true;
        await manager.deleteLog(topic, 5);
        await manager.createLogs(topic, [5]);
        await fill(manager, [5], 1);
        acknowledged.recreation = true;
      } catch {}
      const finished = acknowledged.recreation && simulated.crashPending;
      if (simulated.crashPending) simulated.crash({ random });
      manager.abandon();

      manager = await openManager(simulated.view());
      assert.ok(
        manager.loadStatistics.deferredLogCount >= partitions.length - 3,
        `run ${operations}: ${manager.loadStatistics.deferredLogCount} logs from the summary`,
      );
      for (const partition of partitions) {
        const log = manager.getLog(topic, partition);
        if (partition === 5) {
          // Deleted and re-created: absent, the old log or the new one with its record.
          if (log === undefined) continue;
          assert.ok(log.logEndOffset <= 5n, `run ${operations}: ${topic}-5`);
          if (acknowledged.recreation) assert.equal(log.logEndOffset, 1n);
          for (let offset = 0n; offset < log.logEndOffset; offset++)
            await expectRecordAt(manager, partition, offset);
          continue;
        }
        let end = 5n;
        if (partition === 3 && acknowledged.append) end = 6n;
        if (partition === 4 && acknowledged.truncation) end = 2n;
        if (partition === 3 && !acknowledged.append)
          assert.ok([5n, 6n].includes(log!.logEndOffset), `run ${operations}: ${topic}-3`);
        else if (partition === 4 && !acknowledged.truncation)
          assert.ok([2n, 5n].includes(log!.logEndOffset), `run ${operations}: ${topic}-4`);
        else assert.equal(log!.logEndOffset, end, `run ${operations}: ${topic}-${partition}`);
        for (let offset = 0n; offset < log!.logEndOffset; offset++)
          await expectRecordAt(manager, partition, offset);
      }
      await manager.close();
      if (finished) break;
    }
  });

  it('loses no acknowledged record and no usable log when power fails at any file operation of a batch creation or a stop', async () => {
    const existing = partitionList(3);
    const created = [3, 4, 5, 6, 7];
    let crashedRuns = 0;
    for (let operations = 1; ; operations++) {
      const simulated = new SimulatedFileSystem();
      let manager = await openManager(simulated.view());
      await manager.createLogs(topic, existing);
      await fill(manager, existing, 4);
      const random = seededRandom(operations);
      simulated.scheduleCrash(operations, { random });
      let crashed = false;
      let acknowledged = false;
      try {
        await manager.createLogs(topic, created);
        await fill(manager, [created[0]], 1);
        acknowledged = true;
        await manager.close();
      } catch {
        crashed = true;
      }
      // Every operation of the creation and the stop ran before the crash point: all covered.
      if (!crashed) break;
      crashedRuns++;
      manager.abandon();

      manager = await openManager(simulated.view());
      for (const partition of existing) {
        const log = manager.getLog(topic, partition)!;
        assert.equal(log.logEndOffset, 4n, `run ${operations}: ${topic}-${partition}`);
        for (let offset = 0n; offset < 4n; offset++)
          await expectRecordAt(manager, partition, offset);
      }
      // The owner recreates what the crash lost (the broker's reconcile); every log works.
      await manager.createLogs(topic, created);
      for (const partition of created) {
        const log = manager.getLog(topic, partition)!;
        const expectedEnd: bigint =
          acknowledged && partition === created[0] ? 1n : log.logEndOffset;
        assert.equal(log.logEndOffset, expectedEnd, `run ${operations}: ${topic}-${partition}`);
        assert.ok(log.logEndOffset <= 1n, `run ${operations}: ${topic}-${partition}`);
        if (log.logEndOffset === 1n) await expectRecordAt(manager, partition, 0n);
        const result = await log.append(makeSimpleBatch(1, 'after'), {
          durability: 'fsync',
          leaderEpoch: 0,
        });
        assert.equal(result.baseOffset, log.logEndOffset - 1n);
      }
      await manager.close();
    }
    assert.ok(crashedRuns > 20, `${crashedRuns} crash points`);
  });
});

/** Each batch's partitionLeaderEpoch, by base offset, as the log returns them. */
async function batchEpochs(log: PartitionLog): Promise<Map<bigint, number>> {
  const epochs = new Map<bigint, number>();
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1 << 20, minOneBatch: true });
    const data = Buffer.concat(read.buffers);
    let position = 0;
    while (position + 17 <= data.length) {
      const baseOffset = data.readBigInt64BE(position);
      const length = data.readInt32BE(position + 8);
      epochs.set(baseOffset, data.readInt32BE(position + 12));
      offset = baseOffset + BigInt(data.readInt32BE(position + 23)) + 1n;
      position += 12 + length;
    }
  }
  return epochs;
}

/** The epoch the log's leader-epoch entries give to `offset`. */
function epochAt(log: PartitionLog, offset: bigint): number | undefined {
  let epoch: number | undefined;
  for (const entry of log.leaderEpochEntries())
    if (entry.startOffset <= offset) epoch = entry.epoch;
  return epoch;
}

describe('logs created without files', () => {
  it('creates only the directory of a new log, and a clean stop and start keep its epochs without writing a file', async () => {
    const simulated = new SimulatedFileSystem();
    const counted = countingFileSystem(simulated.view());
    let manager = await openManager(counted.fileSystem);
    const partitions = partitionList(6);
    await manager.createLogs(topic, partitions);
    for (const partition of partitions) await manager.getLog(topic, partition)!.beginLeaderEpoch(4);
    const logDirectoryFiles = async (): Promise<string[]> => {
      const names: string[] = [];
      for (const logDir of ['/data/a', '/data/b'])
        for (const name of await simulated.view().listDirectory(logDir))
          if (name.startsWith(`${topic}-`))
            names.push(...(await simulated.view().listDirectory(`${logDir}/${name}`)));
      return names;
    };
    assert.deepEqual(await logDirectoryFiles(), []);
    assert.equal(counted.counts.opened, 0);
    await manager.close();
    assert.deepEqual(await logDirectoryFiles(), []);

    manager = await openManager(simulated.view());
    assert.equal(manager.loadStatistics.deferredLogCount, partitions.length);
    for (const partition of partitions)
      assert.deepEqual(manager.getLog(topic, partition)!.leaderEpochEntries(), [
        { epoch: 4, startOffset: 0n },
      ]);
    const log = manager.getLog(topic, 2)!;
    await log.append(makeSimpleBatch(1, 'first'), { durability: 'fsync', leaderEpoch: 4 });
    assert.deepEqual(await simulated.view().listDirectory(`/data/a/${topic}-2`), [
      '00000000000000000000.log',
      'leader-epoch-checkpoint',
    ]);
    manager.abandon();
    manager = await openManager(simulated.view());
    assert.equal(manager.getLog(topic, 2)!.logEndOffset, 1n);
    assert.deepEqual(manager.getLog(topic, 2)!.leaderEpochEntries(), [
      { epoch: 4, startOffset: 0n },
    ]);
    await manager.close();
  });

  it('a kill or a power loss at any file operation of new logs first epochs and appends leaves every batch under its epoch, and no acknowledged record lost', async () => {
    let crashedRuns = 0;
    for (const processOnly of [true, false]) {
      for (const restartedFirst of [false, true]) {
        for (let operations = 1; ; operations++) {
          const simulated = new SimulatedFileSystem();
          let manager = await openManager(simulated.view());
          await manager.createLogs(topic, [0, 1, 2]);
          for (const partition of [0, 1, 2])
            await manager.getLog(topic, partition)!.beginLeaderEpoch(1);
          if (restartedFirst) {
            await manager.close();
            manager = await openManager(simulated.view());
          }
          const random = seededRandom(operations);
          simulated.scheduleCrash(operations, { random, processOnly });
          const acknowledged = new Map<number, bigint>();
          try {
            await manager
              .getLog(topic, 0)!
              .append(makeSimpleBatch(1, valueAt(0, 0n)), { durability: 'fsync', leaderEpoch: 1 });
            acknowledged.set(0, 1n);
            const log = manager.getLog(topic, 1)!;
            await log.beginLeaderEpoch(2);
            await log.append(makeSimpleBatch(1, valueAt(1, 0n)), {
              durability: 'fsync',
              leaderEpoch: 2,
            });
            acknowledged.set(1, 1n);
            await manager.close();
          } catch {}
          const finished = simulated.crashPending;
          if (simulated.crashPending) simulated.crash({ random, processOnly });
          else crashedRuns++;
          manager.abandon();

          manager = await openManager(simulated.view());
          // The owner recreates what a power loss lost and leads again (the broker's reconcile).
          await manager.createLogs(topic, [0, 1, 2]);
          for (const partition of [0, 1, 2]) {
            const log = manager.getLog(topic, partition)!;
            const run = `${processOnly ? 'kill' : 'power loss'} ${restartedFirst ? 'after a restart ' : ''}at ${operations}: ${topic}-${partition}`;
            if (log.latestLeaderEpoch() === undefined) await log.beginLeaderEpoch(1);
            assert.ok(log.logEndOffset >= (acknowledged.get(partition) ?? 0n), run);
            assert.ok(log.logEndOffset <= (partition === 2 ? 0n : 1n), run);
            for (const [baseOffset, epoch] of await batchEpochs(log))
              assert.equal(
                epochAt(log, baseOffset),
                epoch,
                `${run}: epoch of offset ${baseOffset}`,
              );
            if (log.logEndOffset === 1n) await expectRecordAt(manager, partition, 0n);
            const result = await log.append(makeSimpleBatch(1, 'after'), {
              durability: 'fsync',
              leaderEpoch: log.latestLeaderEpoch()!,
            });
            assert.equal(result.baseOffset, log.logEndOffset - 1n, run);
          }
          await manager.close();
          if (finished) break;
        }
      }
    }
    assert.ok(crashedRuns > 40, `${crashedRuns} crash points`);
  });
});
