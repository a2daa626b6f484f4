import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultCompressionCodecs } from '@gregor/compression';
import { FileLogManager } from './log-manager.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import { ManualClock, makeSimpleBatch } from './testing/batches.js';
import { describeConformance } from './testing/conformance.js';

const quiet = { retentionCheckIntervalMs: 0, cleanerIntervalMs: 0, checkpointIntervalMs: 0 };

describeConformance('file (real disk)', async (defaultConfig) => {
  const clock = new ManualClock();
  const directory = await mkdtemp(join(tmpdir(), 'gregor-storage-'));
  const manager = await FileLogManager.open({
    logDirs: [directory],
    clock,
    defaultConfig: { fileDeleteDelayMs: 0, ...defaultConfig },
    codecs: defaultCompressionCodecs,
    ...quiet,
  });
  return {
    manager,
    clock,
    cleanup: async () => {
      await manager.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});

describeConformance('file (simulated disk)', async (defaultConfig) => {
  const clock = new ManualClock();
  const fileSystem = new SimulatedFileSystem();
  const manager = await FileLogManager.open({
    logDirs: ['/data'],
    clock,
    fileSystem,
    defaultConfig: { fileDeleteDelayMs: 0, ...defaultConfig },
    codecs: defaultCompressionCodecs,
    ...quiet,
  });
  return { manager, clock, cleanup: () => manager.close() };
});

test('a full truncation keeps the log offsets and reads working at every step (simulated disk)', async () => {
  const fileSystem = new SimulatedFileSystem();
  const manager = await FileLogManager.open({
    logDirs: ['/data'],
    clock: new ManualClock(),
    fileSystem,
    defaultConfig: { fileDeleteDelayMs: 1_000, segmentBytes: 200 },
    ...quiet,
  });
  try {
    const log = await manager.createLog('t', 0);
    for (let index = 0; index < 6; index++) {
      await log.append(makeSimpleBatch(2, `r${index}`), { durability: 'write', leaderEpoch: 0 });
    }
    let done = false;
    const truncation = log.truncateFullyAndStartAt(40n).then(() => {
      done = true;
    });
    // Every file operation yields a microtask: look at the offsets between each of them.
    const seen = new Set<string>();
    const reads: Promise<string>[] = [];
    while (!done) {
      seen.add(`${log.logStartOffset}-${log.logEndOffset}`);
      if (log.logEndOffset === 12n) {
        reads.push(
          log.read(10n, { maxBytes: 1_000, minOneBatch: true }).then(
            (read) => `${read.buffers.length > 0}`,
            (error: Error) => error.message,
          ),
        );
      }
      await Promise.resolve();
    }
    await truncation;
    seen.add(`${log.logStartOffset}-${log.logEndOffset}`);
    assert.deepEqual([...seen], ['0-12', '40-40']);
    assert.ok(reads.length > 1);
    assert.deepEqual(new Set(await Promise.all(reads)), new Set(['true']));
  } finally {
    await manager.close();
  }
});
