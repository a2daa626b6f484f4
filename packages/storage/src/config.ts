// Per-log configuration: Kafka's topic-level configs in camelCase, with Kafka's defaults.
// Durability (flushMessages/flushMs vs. per-append `durability`) is described in DESIGN.md.

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type MessageTimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  /** Roll the active segment when it would grow past this (segment.bytes). */
  segmentBytes: number;
  /** Roll the active segment when its first batch is older than this (segment.ms). */
  segmentMs: number;
  /** Roll when the offset index of the active segment reaches this size (segment.index.bytes). */
  segmentIndexBytes: number;
  /** Bytes of log between two sparse index entries (index.interval.bytes). */
  indexIntervalBytes: number;
  /** Delete segments whose newest timestamp is older than this; -1 keeps forever (retention.ms). */
  retentionMs: number;
  /** Delete oldest segments while the log is larger than this; -1 = unbounded (retention.bytes). */
  retentionBytes: number;
  cleanupPolicy: CleanupPolicy;
  /** How long a tombstone survives compaction so consumers can observe it (delete.retention.ms). */
  deleteRetentionMs: number;
  /** A record younger than this is never compacted away (min.compaction.lag.ms). */
  minCompactionLagMs: number;
  /** Force cleaning of a log whose dirty part is older than this (max.compaction.lag.ms). */
  maxCompactionLagMs: number;
  /** Clean only once dirty bytes / total bytes reaches this (min.cleanable.dirty.ratio). */
  minCleanableDirtyRatio: number;
  /** Delay between unlinking a segment from the log and removing its files (file.delete.delay.ms). */
  fileDeleteDelayMs: number;
  messageTimestampType: MessageTimestampType;
  /** Largest record batch accepted (max.message.bytes); checked by the broker's validation. */
  maxMessageBytes: number;
  /** fdatasync after this many unsynced messages even for `durability: 'write'` (flush.messages). */
  flushMessages: number;
  /** fdatasync when the oldest unsynced append is older than this (flush.ms). */
  flushMs: number;
}

const dayMs = 24 * 60 * 60 * 1000;

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * dayMs,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * dayMs,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: dayMs,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
  fileDeleteDelayMs: 60_000,
  messageTimestampType: 'CreateTime',
  maxMessageBytes: 1024 * 1024 + 12,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
});

export function resolveLogConfig(
  base: Readonly<LogConfig>,
  overrides: Partial<LogConfig> | undefined,
): LogConfig {
  const config = { ...base, ...overrides };
  assertPositive(config.segmentBytes, 'segmentBytes');
  assertPositive(config.segmentIndexBytes, 'segmentIndexBytes');
  assertPositive(config.indexIntervalBytes, 'indexIntervalBytes');
  assertPositive(config.segmentMs, 'segmentMs');
  if (config.segmentIndexBytes < 8) throw new RangeError('segmentIndexBytes must hold one entry');
  return config;
}

function assertPositive(value: number, name: string): void {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be > 0`);
}

export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

export function isDeleteEnabled(config: LogConfig): boolean {
  return config.cleanupPolicy !== 'compact';
}
