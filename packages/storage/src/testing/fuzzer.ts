// Seeded random operation-sequence fuzzer (after Redpanda's storage opfuzz): drives a file log on
// the simulated file system through appends, reads, rolls, truncations, DeleteRecords, retention,
// compaction, checkpoints, clean restarts and crashes — between operations and in the middle of
// them (the simulated disk "loses power" at a random file system operation) — checking that:
//   - offsets are monotonic and contiguous (each append starts where the previous one ended),
//   - reads return exactly the bytes that were appended (compaction: exactly a subset of them,
//     keeping every key's latest value),
//   - nothing acknowledged as durable ('fsync') is lost, and what survives past it is a prefix of
//     what was appended (appends in flight at the crash may or may not survive, in order),
//   - a full disk or a failed fdatasync fails operations without changing the log: a rejected
//     append leaves no offset behind, and later operations work once the disk does.

import assert from 'node:assert/strict';
import type { LogConfig } from '../config.js';
import { FileLogManager } from '../log-manager.js';
import { SimulatedFileSystem } from '../simulated-file-system.js';
import type { Durability, PartitionLog } from '../types.js';
import { decodeAll, ManualClock, makeBatch, seededRandom } from './batches.js';

interface ModelBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  bytes: Buffer;
}

export interface FuzzOptions {
  seed: number;
  operations: number;
  config?: Partial<LogConfig>;
}

export interface FuzzReport {
  seed: number;
  operations: Record<string, number>;
  crashes: number;
  midOperationCrashes: number;
  finalLogEndOffset: bigint;
}

const topic = 'fuzz';

function summarize(bytes: Buffer): ModelBatch {
  const baseOffset = bytes.readBigInt64BE(0);
  return { baseOffset, lastOffset: baseOffset + BigInt(bytes.readInt32BE(23)), bytes };
}

export async function runStorageFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const random = seededRandom(options.seed);
  const pick = (count: number): number => Math.floor(random() * count);
  const clock = new ManualClock();
  const fileSystem = new SimulatedFileSystem();
  const policies = ['delete', 'compact', 'compact,delete'] as const;
  const config: Partial<LogConfig> = {
    segmentBytes: 400 + pick(3000),
    indexIntervalBytes: 32 + pick(512),
    segmentIndexBytes: 8 * (2 + pick(20)),
    fileDeleteDelayMs: 0,
    retentionMs: -1,
    cleanupPolicy: policies[pick(3)],
    minCleanableDirtyRatio: random() < 0.5 ? 0 : 0.5,
    deleteRetentionMs: pick(20_000),
    ...options.config,
  };
  const open = (): Promise<FileLogManager> =>
    FileLogManager.open({
      logDirs: ['/disk1', '/disk2'],
      clock,
      fileSystem: fileSystem.view(),
      defaultConfig: config,
      retentionCheckIntervalMs: 0,
      cleanerIntervalMs: 0,
      checkpointIntervalMs: 0,
    });
  let manager = await open();
  let log: PartitionLog = await manager.createLog(topic, 0);
  /** Acknowledged batches, in offset order (may start below the log start offset). */
  let model: ModelBatch[] = [];
  /** Everything below this offset was acknowledged durable (or made durable by a roll/close). */
  let durableEnd = 0n;
  const counts: Record<string, number> = {};
  let crashes = 0;
  let midOperationCrashes = 0;
  let recordCounter = 0;
  /** Appends that had not resolved when a crash happened, in call order. */
  let inFlight: Buffer[] = [];

  /**
   * The model makes no claim below this offset: compaction rewrote what lay there, and a crash
   * can bring the log start back below today's (the log-start checkpoint is periodic, as Kafka's).
   */
  let modelFloor = 0n;
  /** The log end offset the model expects (compaction and truncation can leave it in a gap). */
  let endOffset = 0n;
  const modelEnd = (): bigint => endOffset;
  const lastBatchEnd = (): bigint =>
    model.length === 0 ? 0n : model[model.length - 1].lastOffset + 1n;

  const newBatch = (): Buffer => {
    const records = Array.from({ length: 1 + pick(4) }, () => ({
      key: `key${pick(8)}`,
      value: random() < 0.1 ? null : `v${recordCounter++}-${'x'.repeat(pick(200))}`,
      timestamp: BigInt(clock.wallMs() - pick(1000)),
    }));
    return makeBatch(records);
  };

  const appendSome = async (): Promise<void> => {
    const concurrent = 1 + pick(4);
    const buffers = Array.from({ length: concurrent }, newBatch);
    const durabilities = buffers.map(() => (random() < 0.5 ? 'fsync' : 'write') as Durability);
    const outcomes = await Promise.allSettled(
      buffers.map((buffer, index) =>
        log.append(buffer, { durability: durabilities[index], leaderEpoch: 1 }),
      ),
    );
    let failed: unknown = null;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected') {
        failed ??= outcome.reason;
        inFlight.push(buffers[index]);
        continue;
      }
      assert.equal(inFlight.length, 0, 'acknowledgements come in call order');
      const result = outcome.value;
      assert.equal(result.baseOffset, modelEnd(), 'offsets contiguous');
      model.push({
        baseOffset: result.baseOffset,
        lastOffset: result.lastOffset,
        bytes: buffers[index],
      });
      endOffset = result.lastOffset + 1n;
      if (durabilities[index] === 'fsync' && result.lastOffset + 1n > durableEnd)
        durableEnd = result.lastOffset + 1n;
    }
    if (failed) throw failed;
    assert.equal(log.logEndOffset, modelEnd());
  };

  /** Every batch from the log start to the LEO, read with random fetch sizes. */
  const readLogBatches = async (): Promise<Buffer[]> => {
    const batches: Buffer[] = [];
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = await log.read(offset, { maxBytes: 1 + pick(2000), minOneBatch: true });
      if (read.sizeBytes === 0) break;
      const bytes = Buffer.concat(read.buffers);
      for (let position = 0; position < bytes.length; ) {
        const size = bytes.readInt32BE(position + 8) + 12;
        const batch = bytes.subarray(position, position + size);
        batches.push(batch);
        offset = summarize(batch).lastOffset + 1n;
        position += size;
      }
    }
    return batches;
  };

  /**
   * From max(log start, model floor) the log must hold exactly the model's batches below its
   * LEO, then (after a crash) a prefix of the appends that were in flight.
   */
  const verifyAgainstModel = async (extra: Buffer[] = [], afterCrash = false): Promise<void> => {
    const end = log.logEndOffset;
    const low = log.logStartOffset > modelFloor ? log.logStartOffset : modelFloor;
    const got = (await readLogBatches()).filter((batch) => summarize(batch).lastOffset >= low);
    const expected = model.filter((batch) => batch.lastOffset >= low && batch.baseOffset < end);
    for (const [index, batch] of expected.entries()) {
      const actual = got[index];
      assert.ok(actual, `batch ${batch.baseOffset} missing (log end ${end})`);
      assert.ok(
        actual.equals(batch.bytes),
        `batch at ${summarize(actual).baseOffset} differs from ${batch.baseOffset}`,
      );
    }
    const rest = got.slice(expected.length);
    for (const [index, batch] of rest.entries()) {
      assert.ok(
        extra[index]?.equals(batch),
        `log has a batch at ${summarize(batch).baseOffset} that was never appended`,
      );
    }
    if (!afterCrash) {
      assert.equal(rest.length, 0);
      assert.equal(end, endOffset, 'log end matches model');
    }
    model = [
      ...model.filter((batch) => batch.baseOffset < end),
      ...rest.map((batch) => summarize(Buffer.from(batch))),
    ];
    assert.ok(end >= lastBatchEnd(), 'log end covers the surviving batches');
    if (afterCrash) endOffset = end;
  };

  const reopenAfterCrash = async (): Promise<void> => {
    crashes++;
    manager.abandon();
    manager = await open();
    const reopened = manager.getLog(topic, 0);
    assert.ok(reopened, 'log survives a crash');
    log = reopened;
    assert.ok(
      log.logEndOffset >= durableEnd,
      `acknowledged durable data lost: LEO ${log.logEndOffset} < ${durableEnd}`,
    );
    await verifyAgainstModel(inFlight, true);
    inFlight = [];
    durableEnd = log.logEndOffset;
  };

  const crashNow = async (): Promise<void> => {
    fileSystem.crash({ random });
    await reopenAfterCrash();
  };

  const compactAndCheck = async (crashAfterOperations: number | null): Promise<void> => {
    // All of the model: a crash may move the log start back below today's.
    const before = decodeAll(model.map((batch) => batch.bytes));
    if (crashAfterOperations !== null) fileSystem.scheduleCrash(crashAfterOperations, { random });
    let crashed = false;
    try {
      await log.compact();
    } catch {
      crashed = true;
    }
    if (crashAfterOperations !== null) {
      if (!crashed) fileSystem.crash({ random });
      crashes++;
      midOperationCrashes += crashed ? 1 : 0;
      manager.abandon();
      manager = await open();
      log = manager.getLog(topic, 0)!;
      assert.ok(log.logEndOffset >= durableEnd, 'compaction crash lost acknowledged data');
    }
    const batches = await readLogBatches();
    const after = decodeAll(batches);
    const byOffset = new Map(before.map((record) => [record.offset, record]));
    let previous = -1n;
    for (const record of after) {
      assert.ok(record.offset > previous, 'offsets increase after compaction');
      previous = record.offset;
      const original = byOffset.get(record.offset);
      if (record.offset < modelFloor || record.offset < (model[0]?.baseOffset ?? 0n)) continue;
      assert.ok(original, `compaction invented offset ${record.offset}`);
      assert.deepEqual(record, original, `compaction changed the record at ${record.offset}`);
    }
    const latest = new Map<string, (typeof before)[number]>();
    for (const record of before) if (record.key !== null) latest.set(record.key, record);
    const kept = new Set(after.map((record) => record.offset));
    for (const record of latest.values()) {
      if (
        record.value === null ||
        record.offset < log.logStartOffset ||
        record.offset >= log.logEndOffset
      )
        continue;
      assert.ok(
        kept.has(record.offset),
        `latest value of ${record.key} at ${record.offset} was lost`,
      );
    }
    modelFloor = log.logStartOffset;
    model = batches.map((batch) => summarize(Buffer.from(batch)));
    if (crashAfterOperations !== null) {
      durableEnd = log.logEndOffset;
      endOffset = log.logEndOffset;
    }
    assert.equal(log.logEndOffset, modelEnd(), 'compaction keeps the log end offset');
  };

  const truncate = async (): Promise<void> => {
    const span = Number(modelEnd() - log.logStartOffset);
    if (span <= 0) return;
    const target = log.logStartOffset + BigInt(pick(span + 1));
    // A target inside a batch drops that whole batch; one in a compaction gap ends the log at
    // the last batch kept: the LEO lands between the end of the last batch below and the target.
    const below = model.filter((batch) => batch.lastOffset < target).at(-1);
    // (No model batch below: the log may still hold batches under the model floor; no claim.)
    const floor = below ? below.lastOffset + 1n : 0n;
    if (floor < durableEnd) durableEnd = floor;
    if (process.env.GREGOR_FUZZ_TRACE) console.log(`  truncate to ${target}`);
    await log.truncateTo(target);
    const cut = model.findIndex((batch) => batch.lastOffset >= target);
    if (cut >= 0) model = model.slice(0, cut);
    assert.ok(
      log.logEndOffset <= target && log.logEndOffset >= lastBatchEnd(),
      `truncation to ${target} gave LEO ${log.logEndOffset}, kept batches end at ${lastBatchEnd()}`,
    );
    endOffset = log.logEndOffset;
    durableEnd = durableEnd < log.logEndOffset ? durableEnd : log.logEndOffset;
  };

  /** A failure a full or failing disk may cause (the log must then be unchanged). */
  const isDiskError = (error: unknown): boolean => {
    const { code, errorCode } = error as { code?: string; errorCode?: number };
    return errorCode === 56 || code === 'ENOSPC' || code === 'EIO';
  };

  const appendOnFailingDisk = async (): Promise<void> => {
    const buffer = newBatch();
    const durability: Durability = random() < 0.5 ? 'fsync' : 'write';
    try {
      const result = await log.append(buffer, { durability, leaderEpoch: 1 });
      assert.equal(result.baseOffset, modelEnd(), 'offsets contiguous');
      model.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: buffer });
      endOffset = result.lastOffset + 1n;
      if (durability === 'fsync' && endOffset > durableEnd) durableEnd = endOffset;
    } catch (error) {
      assert.ok(isDiskError(error), `unexpected append failure: ${error}`);
      counts.failedOnFullDisk = (counts.failedOnFullDisk ?? 0) + 1;
    }
    assert.equal(log.logEndOffset, modelEnd(), 'a failed append leaves the log end alone');
  };

  /** The disk fills up (and may fail an fdatasync) for a few operations, then space returns. */
  const diskFullEpisode = async (): Promise<void> => {
    fileSystem.capacityBytes = fileSystem.usedBytes + pick(3000);
    if (random() < 0.4) fileSystem.failDatasyncs(1, { evictPages: false });
    for (let step = 1 + pick(5); step > 0; step--) {
      const choice = pick(6);
      if (choice === 4) {
        await compactAndCheck(null);
        continue;
      }
      try {
        if (choice <= 2) await appendOnFailingDisk();
        else if (choice === 3) {
          await log.flush();
          durableEnd = modelEnd();
        } else await manager.checkpoint();
      } catch (error) {
        assert.ok(isDiskError(error), `unexpected failure: ${error}`);
        counts.failedOnFullDisk = (counts.failedOnFullDisk ?? 0) + 1;
      }
    }
    fileSystem.clearFaults();
    await verifyAgainstModel();
  };

  const simpleOperations: [string, number, () => Promise<void>][] = [
    ['append', 40, appendSome],
    ['read', 12, () => verifyAgainstModel()],
    [
      'roll',
      4,
      async () => {
        await log.roll();
        if (modelEnd() > durableEnd) durableEnd = modelEnd();
      },
    ],
    [
      'flush',
      3,
      async () => {
        await log.flush();
        durableEnd = modelEnd();
      },
    ],
    ['truncate', 3, truncate],
    [
      'deleteRecords',
      3,
      async () => {
        const span = Number(modelEnd() - log.logStartOffset);
        const target = log.logStartOffset + BigInt(pick(span + 1));
        await log.deleteRecordsBefore(target);
        assert.equal(log.logStartOffset, target);
      },
    ],
    [
      'retention',
      3,
      async () => {
        const before = log.logStartOffset;
        log.updateConfig({
          retentionBytes: random() < 0.5 ? -1 : pick(4000),
          retentionMs: random() < 0.7 ? -1 : pick(20_000),
        });
        await log.enforceRetention();
        assert.ok(log.logStartOffset >= before, 'log start never moves back');
        assert.ok(log.logStartOffset <= log.logEndOffset);
      },
    ],
    ['checkpoint', 3, () => manager.checkpoint()],
    ['advanceClock', 3, async () => clock.advance(pick(10_000))],
    [
      'cleanRestart',
      2,
      async () => {
        await manager.close();
        durableEnd = modelEnd();
        manager = await open();
        log = manager.getLog(topic, 0)!;
        await verifyAgainstModel();
      },
    ],
  ];
  const operations: [string, number, () => Promise<void>][] = [
    ...simpleOperations,
    ['compact', 4, () => compactAndCheck(null)],
    ['diskFull', 4, diskFullEpisode],
    ['crash', 3, crashNow],
    ['crashDuringCompact', 2, () => compactAndCheck(1 + pick(60))],
    [
      'crashDuring',
      6,
      async () => {
        const [name, , operation] = choose(
          simpleOperations.filter(([candidate]) => candidate !== 'read'),
        );
        counts[`crashDuring:${name}`] = (counts[`crashDuring:${name}`] ?? 0) + 1;
        if (process.env.GREGOR_FUZZ_TRACE) console.log(`  crash during ${name}`);
        fileSystem.scheduleCrash(1 + pick(40), { random });
        let crashed = false;
        try {
          await operation();
        } catch {
          crashed = true;
        }
        if (fileSystem.crashPending || !crashed) fileSystem.crash({ random });
        midOperationCrashes += crashed ? 1 : 0;
        await reopenAfterCrash();
      },
    ],
  ];
  function choose<T extends [string, number, unknown]>(list: T[]): T {
    const total = list.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = random() * total;
    for (const entry of list) {
      roll -= entry[1];
      if (roll < 0) return entry;
    }
    return list[0];
  }
  for (let step = 0; step < options.operations; step++) {
    const [name, , operation] = choose(operations);
    counts[name] = (counts[name] ?? 0) + 1;
    if (process.env.GREGOR_FUZZ_TRACE)
      console.log(
        `step ${step} ${name} start=${log.logStartOffset} leo=${log.logEndOffset} durable=${durableEnd} segments=${log.segmentCount}`,
      );
    try {
      await operation();
    } catch (error) {
      (error as Error).message =
        `seed ${options.seed} step ${step} (${name}): ${(error as Error).message}`;
      throw error;
    }
  }
  await verifyAgainstModel();
  await crashNow();
  await manager.close();
  return {
    seed: options.seed,
    operations: counts,
    crashes,
    midOperationCrashes,
    finalLogEndOffset: log.logEndOffset,
  };
}
