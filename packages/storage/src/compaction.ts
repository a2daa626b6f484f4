// Placeholder replaced below by the real cleaner core.
import type { LogConfig } from './config.js';

export interface CompactBatchesInput {
  batches: Buffer[];
  nowMs: number;
  config: LogConfig;
  cleanableEndOffset: bigint;
  firstDirtyOffset: bigint;
}

export interface CompactBatchesResult {
  batches: Buffer[];
  cleanedUpTo: bigint;
}

export function compactBatches(input: CompactBatchesInput): CompactBatchesResult {
  return { batches: input.batches, cleanedUpTo: input.firstDirtyOffset };
}
