// @gregor/storage: the partition log engine. See DESIGN.md.

export { parseOffsetCheckpoint, serializeOffsetCheckpoint } from './checkpoint-file.js';
export * from './config.js';
export * from './errors.js';
export { FilePartitionLog } from './file-log.js';
export * from './file-system.js';
export * from './leader-epoch-cache.js';
export {
  cleanShutdownMarkerFile,
  FileLogManager,
  LogManager,
  type LogManagerOptions,
  parseLogDirectoryName,
} from './log-manager.js';
export {
  MemoryLogManager,
  type MemoryLogManagerOptions,
  MemoryPartitionLog,
} from './memory-log.js';
export * from './simulated-file-system.js';
export * from './types.js';
