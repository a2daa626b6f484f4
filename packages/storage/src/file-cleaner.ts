// Compaction of a file log (DESIGN.md "Cleaner"). Placeholder until the cleaner lands.
import type { LogConfig } from './config.js';
import type { FilePartitionLog } from './file-log.js';
import type { FileSystem } from './file-system.js';

export interface FileCleanerOptions {
  fileSystem: FileSystem;
  nowMs: number;
  config: LogConfig;
}

export async function compactFileLog(
  _log: FilePartitionLog,
  _options: FileCleanerOptions,
): Promise<number> {
  return 0;
}
