import { defaultCompressionCodecs } from '@gregor/compression';
import { MemoryLogManager } from './memory-log.js';
import { ManualClock } from './testing/batches.js';
import { describeConformance } from './testing/conformance.js';

describeConformance('memory', async (defaultConfig) => {
  const clock = new ManualClock();
  const manager = await MemoryLogManager.open({
    clock,
    defaultConfig,
    codecs: defaultCompressionCodecs,
  });
  return { manager, clock, cleanup: () => manager.close() };
});
