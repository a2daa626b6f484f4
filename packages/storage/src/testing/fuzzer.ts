// Seeded random operation-sequence fuzzer (after Redpanda's storage opfuzz): drives a file log on
// the simulated file system through appends, reads, rolls, truncations, deletions, retention,
// checkpoints, clean restarts and crashes, checking after every step that
//   - offsets are monotonic and contiguous (each batch starts where the previous one ended),
//   - reads return exactly the bytes that were appended,
//   - nothing acknowledged as durable ('fsync') is lost by a crash, and what survives beyond it
//     is a prefix of what was appended.

import assert from 'node:assert/strict';
import type { LogConfig } from '../config.js';
import { FileLogManager } from '../log-manager.js';
import { SimulatedFileSystem } from '../simulated-file-system.js';
import type { Durability, PartitionLog } from '../types.js';
import { ManualClock, makeBatch, seededRandom } from './batches.js';

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
  finalLogEndOffset: bigint;
}

const topic = 'fuzz';

export async function runStorageFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const random = seededRandom(options.seed);
  const pick = (count: number): number => Math.floor(random() * count);
  const clock = new ManualClock();
  const fileSystem = new SimulatedFileSystem();
  const config: Partial<LogConfig> = {
    segmentBytes: 400 + pick(3000),
    indexIntervalBytes: 32 + pick(512),
    segmentIndexBytes: 8 * (2 + pick(20)),
    fileDeleteDelayMs: 0,
    retentionMs: -1,
    ...options.config,
  };
  const open = (): Promise<FileLogManager> =>
    FileLogManager.open({
      logDirs: ['/disk1', '/disk2'],
      clock,
      fileSystem,
      defaultConfig: config,
      retentionCheckIntervalMs: 0,
      cleanerIntervalMs: 0,
      checkpointIntervalMs: 0,
    });
  let manager = await open();
  let log: PartitionLog = await manager.createLog(topic, 0);
  let model: ModelBatch[] = [];
  /** Everything below this offset was acknowledged durable (or made durable by a roll/close). */
  let durableEnd = 0n;
  const counts: Record<string, number> = {};
  let crashes = 0;
  let recordCounter = 0;

  const modelEnd = (): bigint =>
    model.at(-1)?.lastOffset === undefined
      ? log.logStartOffset
      : model[model.length - 1].lastOffset + 1n;

  const newBatch = (): Buffer => {
    const records = Array.from({ length: 1 + pick(4) }, () => ({
      key: `key${pick(8)}`,
      value: random() < 0.1 ? null : `v${recordCounter++}-${'x'.repeat(pick(200))}`,
      timestamp: BigInt(clock.nowMs() - pick(1000)),
    }));
    return makeBatch(records);
  };

  const appendSome = async (): Promise<void> => {
    const concurrent = 1 + pick(4);
    const buffers = Array.from({ length: concurrent }, newBatch);
    const durabilities = buffers.map(() => (random() < 0.5 ? 'fsync' : 'write') as Durability);
    const results = await Promise.all(
      buffers.map((buffer, index) =>
        log.append(buffer, { durability: durabilities[index], leaderEpoch: 1 }),
      ),
    );
    for (const [index, result] of results.entries()) {
      const expectedBase = modelEnd();
      assert.equal(result.baseOffset, expectedBase, 'offsets contiguous');
      model.push({
        baseOffset: result.baseOffset,
        lastOffset: result.lastOffset,
        bytes: buffers[index],
      });
      if (durabilities[index] === 'fsync' && result.lastOffset + 1n > durableEnd)
        durableEnd = result.lastOffset + 1n;
    }
    assert.equal(log.logEndOffset, modelEnd());
  };

  const verifyAll = async (): Promise<void> => {
    assert.equal(log.logEndOffset, modelEnd(), 'log end matches model');
    let offset = log.logStartOffset;
    const firstIndex = model.findIndex((batch) => batch.lastOffset >= offset);
    let index = firstIndex < 0 ? model.length : firstIndex;
    while (offset < log.logEndOffset) {
      const read = await log.read(offset, { maxBytes: 1 + pick(2000), minOneBatch: true });
      assert.ok(read.sizeBytes > 0, `read at ${offset} returned nothing`);
      const bytes = Buffer.concat(read.buffers);
      let position = 0;
      while (position < bytes.length) {
        const expected = model[index];
        assert.ok(expected, `log has a batch past the model at ${offset}`);
        const size = bytes.readInt32BE(position + 8) + 12;
        assert.ok(
          bytes.subarray(position, position + size).equals(expected.bytes),
          `batch ${expected.baseOffset} differs`,
        );
        position += size;
        offset = expected.lastOffset + 1n;
        index++;
      }
    }
    assert.equal(index, model.length, 'all model batches read back');
  };

  const crashAndRecover = async (): Promise<void> => {
    crashes++;
    fileSystem.crash({ random });
    manager.abandon();
    manager = await open();
    const reopened = manager.getLog(topic, 0);
    assert.ok(reopened, 'log survives a crash');
    log = reopened;
    const end = log.logEndOffset;
    assert.ok(end >= durableEnd, `acknowledged durable data lost: LEO ${end} < ${durableEnd}`);
    // What survives beyond the durable point must be a prefix of what was appended.
    const keep = model.filter((batch) => batch.lastOffset < end);
    assert.equal(
      keep.at(-1)?.lastOffset === undefined ? end : keep[keep.length - 1].lastOffset + 1n,
      end === log.logStartOffset && keep.length === 0 ? end : end,
      'LEO on a batch boundary',
    );
    model = keep;
    if (model.length > 0)
      assert.equal(
        model[model.length - 1].lastOffset + 1n,
        end,
        'recovered end falls on an appended batch boundary',
      );
    await verifyAll();
    durableEnd = end;
  };

  const operations: [string, number, () => Promise<void>][] = [
    ['append', 40, appendSome],
    ['read', 15, verifyAll],
    [
      'roll',
      4,
      async () => {
        await log.roll();
        durableEnd = modelEnd() > durableEnd ? modelEnd() : durableEnd;
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
    [
      'truncate',
      4,
      async () => {
        const span = Number(modelEnd() - log.logStartOffset);
        if (span <= 0) return;
        const target = log.logStartOffset + BigInt(pick(span + 1));
        await log.truncateTo(target);
        const cut = model.findIndex((batch) => batch.lastOffset >= target);
        if (cut >= 0) model = model.slice(0, cut);
        if (log.logEndOffset < durableEnd) durableEnd = log.logEndOffset;
      },
    ],
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
        log.updateConfig({ retentionBytes: random() < 0.5 ? -1 : pick(4000) });
        await log.enforceRetention();
        assert.ok(log.logStartOffset >= before, 'log start never moves back');
        assert.ok(log.logStartOffset <= log.logEndOffset);
      },
    ],
    ['checkpoint', 3, () => manager.checkpoint()],
    ['advanceClock', 2, async () => clock.advance(pick(10_000))],
    [
      'cleanRestart',
      2,
      async () => {
        await manager.close();
        durableEnd = modelEnd();
        manager = await open();
        log = manager.getLog(topic, 0)!;
        await verifyAll();
      },
    ],
    ['crash', 5, crashAndRecover],
  ];
  const totalWeight = operations.reduce((sum, [, weight]) => sum + weight, 0);
  for (let step = 0; step < options.operations; step++) {
    let roll = random() * totalWeight;
    let chosen = operations[0];
    for (const operation of operations) {
      roll -= operation[1];
      if (roll < 0) {
        chosen = operation;
        break;
      }
    }
    counts[chosen[0]] = (counts[chosen[0]] ?? 0) + 1;
    try {
      await chosen[2]();
    } catch (error) {
      (error as Error).message =
        `seed ${options.seed} step ${step} (${chosen[0]}): ${(error as Error).message}`;
      throw error;
    }
  }
  await verifyAll();
  await crashAndRecover();
  await manager.close();
  return { seed: options.seed, operations: counts, crashes, finalLogEndOffset: log.logEndOffset };
}
