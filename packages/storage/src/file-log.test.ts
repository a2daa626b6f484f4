import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCompressionCodecs } from '@gregor/compression';
import { FileLogManager } from './log-manager.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import { ManualClock } from './testing/batches.js';
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
