// Owns every partition log of a broker across its log dirs: loading and recovery at start-up,
// placement of new logs, per-log-dir checkpoints, the clean-shutdown marker and the background
// retention / cleaner / flush tasks.

import { randomBytes } from 'node:crypto';
import type { CompressionCodecs } from '@gregor/protocol';
import { ChangedLogsJournal, changedLogsFile, parseChangedLogs } from './changed-logs-journal.js';
import { parseOffsetCheckpoint, serializeOffsetCheckpoint } from './checkpoint-file.js';
import { defaultLogConfig, type LogConfig, resolveLogConfig } from './config.js';
import { FileHandleCache } from './file-handle-cache.js';
import { FilePartitionLog, type FilePartitionLogOptions } from './file-log.js';
import { type FileSystem, joinPath, nodeFileSystem } from './file-system.js';
import {
  type LogSummary,
  logSummaryFile,
  parseLogSummaries,
  serializeLogSummaries,
} from './log-summary.js';
import { MemoryLogManager, type MemoryLogManagerOptions } from './memory-log.js';
import type {
  Clock,
  LogManager as LogManagerInterface,
  PartitionLog,
  TimerHandle,
} from './types.js';

export const cleanShutdownMarkerFile = '.kafka_cleanshutdown';
export const recoveryPointCheckpointFile = 'recovery-point-offset-checkpoint';
export const logStartOffsetCheckpointFile = 'log-start-offset-checkpoint';
export const cleanerOffsetCheckpointFile = 'cleaner-offset-checkpoint';
/** Logs one recovery "thread" keeps in flight: a log's load or close mostly waits for I/O. */
const logsInFlightPerRecoveryThread = 8;
const segmentFileHandlesMaxDefault = 1024;

export interface LogManagerOptions {
  logDirs: string[];
  clock: Clock;
  fileSystem?: FileSystem;
  defaultConfig?: Partial<LogConfig>;
  /** Per-topic overrides known at start-up (the broker's topic configs). */
  topicConfigs?: (topic: string) => Partial<LogConfig> | undefined;
  /** Codecs the cleaner uses for compressed batches (`defaultCompressionCodecs`). */
  codecs?: CompressionCodecs;
  /** Verify the CRC of every batch read from disk (default true). */
  verifyReadChecksums?: boolean;
  /** Cleaner I/O budget per log (Kafka's log.cleaner.io.max.bytes.per.second); default unbounded. */
  cleanerIoBytesPerSecondMax?: number;
  /**
   * Kafka's num.recovery.threads.per.data.dir: bounds the logs loaded at start-up and closed at
   * stop at once, per log dir. Loading and closing are chains of awaited I/O, not CPU, so each
   * "thread" keeps `logsInFlightPerRecoveryThread` logs in flight (default 2).
   */
  recoveryThreads?: number;
  /**
   * Segment file descriptors kept open while idle, over all logs (least recently used ones are
   * closed and reopened on demand); default 1,024.
   */
  segmentFileHandlesMax?: number;
  /** Period of the retention task (log.retention.check.interval.ms); 0 disables it. */
  retentionCheckIntervalMs?: number;
  /** Period of the cleaner task (log.cleaner.backoff.ms); 0 disables it. */
  cleanerIntervalMs?: number;
  /** Period of recovery-point checkpoints and flush.ms checks; 0 disables it. */
  checkpointIntervalMs?: number;
  onRecovery?: (event: {
    topic: string;
    partition: number;
    baseOffset: bigint;
    truncatedBytes: number;
    reason: string | null;
  }) => void;
}

export interface LoadStatistics {
  logCount: number;
  /** Logs built from the clean-stop summary without opening a file. */
  deferredLogCount: number;
  cleanShutdown: boolean;
  durationMs: number;
}

export class FileLogManager implements LogManagerInterface {
  private readonly logs = new Map<string, FilePartitionLog>();
  private readonly logDirOf = new Map<string, string>();
  private readonly topicConfigs = new Map<string, Partial<LogConfig>>();
  private readonly baseConfig: LogConfig;
  private readonly fileSystem: FileSystem;
  private readonly timers: TimerHandle[] = [];
  private closed = false;
  loadStatistics: LoadStatistics = {
    logCount: 0,
    deferredLogCount: 0,
    cleanShutdown: true,
    durationMs: 0,
  };

  private constructor(private readonly options: LogManagerOptions) {
    if (options.logDirs.length === 0) throw new RangeError('at least one log dir is needed');
    this.baseConfig = resolveLogConfig(defaultLogConfig, options.defaultConfig);
    this.fileSystem = options.fileSystem ?? nodeFileSystem;
    this.handles = new FileHandleCache({
      fileSystem: this.fileSystem,
      handlesMax: options.segmentFileHandlesMax ?? segmentFileHandlesMaxDefault,
    });
  }

  /** Segment file descriptors shared by every log (tests read `openCount`). */
  readonly handles: FileHandleCache;

  static async open(options: LogManagerOptions): Promise<FileLogManager> {
    const manager = new FileLogManager(options);
    await manager.loadAll();
    manager.startBackgroundTasks();
    return manager;
  }

  private configFor(topic: string): LogConfig {
    const overrides = { ...this.options.topicConfigs?.(topic), ...this.topicConfigs.get(topic) };
    return resolveLogConfig(this.baseConfig, overrides);
  }

  /** `configFor`, resolved once per topic while loading (logs never mutate their config object). */
  private readonly loadingConfigs = new Map<string, LogConfig>();

  private configWhileLoading(topic: string): LogConfig {
    let config = this.loadingConfigs.get(topic);
    if (config === undefined) {
      config = this.configFor(topic);
      this.loadingConfigs.set(topic, config);
    }
    return config;
  }

  private async loadAll(): Promise<void> {
    const startedMs = this.options.clock.monotonicMs();
    let allClean = true;
    let deferredLogCount = 0;
    const jobs: (() => Promise<void>)[] = [];
    for (const logDir of this.options.logDirs) {
      await this.fileSystem.makeDirectory(logDir);
      const markerPath = joinPath(logDir, cleanShutdownMarkerFile);
      const cleanShutdown = await this.fileSystem.exists(markerPath);
      allClean &&= cleanShutdown;
      const recoveryPoints = parseOffsetCheckpoint(
        await this.fileSystem.readFile(joinPath(logDir, recoveryPointCheckpointFile)),
      );
      const startOffsets = parseOffsetCheckpoint(
        await this.fileSystem.readFile(joinPath(logDir, logStartOffsetCheckpointFile)),
      );
      const cleanerOffsets = parseOffsetCheckpoint(
        await this.fileSystem.readFile(joinPath(logDir, cleanerOffsetCheckpointFile)),
      );
      // The last clean stop's summary describes every log it lists that has not changed since:
      // all of them after a clean stop, those the changed-logs journal does not name after a
      // crash (no journal: none).
      const changed = cleanShutdown
        ? new Set<string>()
        : parseChangedLogs(await this.fileSystem.readFile(joinPath(logDir, changedLogsFile)));
      const summaries =
        changed === null
          ? null
          : parseLogSummaries(await this.fileSystem.readFile(joinPath(logDir, logSummaryFile)));
      const journal = new ChangedLogsJournal(this.fileSystem, joinPath(logDir, changedLogsFile));
      this.journals.set(logDir, journal);
      for (const name of await this.fileSystem.listDirectory(logDir)) {
        if (name.endsWith('-delete')) {
          await this.fileSystem.removeDirectory(joinPath(logDir, name));
          continue;
        }
        const parsed = parseLogDirectoryName(name);
        if (!parsed) continue;
        const options: FilePartitionLogOptions = {
          topic: parsed.topic,
          partition: parsed.partition,
          directory: joinPath(logDir, name),
          fileSystem: this.fileSystem,
          clock: this.options.clock,
          config: this.configWhileLoading(parsed.topic),
          recoveryPoint: recoveryPoints.get(name) ?? 0n,
          logStartOffset: startOffsets.get(name) ?? 0n,
          cleanShutdown,
          codecs: this.options.codecs,
          verifyReadChecksums: this.options.verifyReadChecksums,
          cleanerIoBytesPerSecondMax: this.options.cleanerIoBytesPerSecondMax,
          handleCache: this.handles,
          onRecovery: (event) =>
            this.options.onRecovery?.({
              topic: parsed.topic,
              partition: parsed.partition,
              ...event,
            }),
        };
        const adopt = (log: FilePartitionLog): void => {
          log.cleanerCheckpoint = cleanerOffsets.get(name) ?? 0n;
          this.logs.set(name, log);
          this.placeLog(name, logDir);
        };
        const summary = changed?.has(name) ? undefined : summaries?.get(name);
        if (summary) {
          this.summarized.add(name);
          adopt(
            FilePartitionLog.fromSummary(
              { ...options, beforeFirstWrite: () => this.noteChanged(name, logDir) },
              summary,
            ),
          );
          deferredLogCount++;
          continue;
        }
        jobs.push(async () => adopt(await FilePartitionLog.open(options)));
      }
    }
    await runWithConcurrency(jobs, this.logsInFlight * this.options.logDirs.length);
    this.loadingConfigs.clear();
    // Only now may a crash be treated as unclean again.
    for (const logDir of this.options.logDirs) {
      const markerPath = joinPath(logDir, cleanShutdownMarkerFile);
      if (await this.fileSystem.exists(markerPath)) {
        await this.fileSystem.removeFile(markerPath);
        await this.fileSystem.syncDirectory(logDir);
      }
    }
    this.loadStatistics = {
      logCount: this.logs.size,
      deferredLogCount,
      cleanShutdown: allClean,
      durationMs: this.options.clock.monotonicMs() - startedMs,
    };
  }

  /**
   * Each task skips a tick while its previous run is still going, but the tasks do not wait for
   * one another (as Kafka's scheduler): a long, I/O-throttled cleaner pass must not hold back
   * flush.ms syncs and recovery-point checkpoints. Logs serialize their own mutations.
   */
  private startBackgroundTasks(): void {
    const every = (intervalMs: number | undefined, task: () => Promise<unknown>): void => {
      if (!intervalMs || intervalMs <= 0) return;
      let running = false;
      const slot = this.timers.length;
      const tick = (): void => {
        if (this.closed) return;
        this.timers[slot] = this.options.clock.schedule(intervalMs, tick);
        if (running) return;
        running = true;
        task()
          .catch(() => undefined)
          .finally(() => {
            running = false;
          });
      };
      this.timers.push(this.options.clock.schedule(intervalMs, tick));
    };
    every(this.options.retentionCheckIntervalMs ?? 300_000, () => this.enforceRetention());
    every(this.options.cleanerIntervalMs ?? 15_000, () => this.runCleaner());
    every(this.options.checkpointIntervalMs ?? 60_000, async () => {
      for (const log of this.logs.values()) await log.flushIfDue();
      await this.checkpoint();
    });
  }

  /** Logs loaded or closed at once per log dir (see `recoveryThreads`). */
  private get logsInFlight(): number {
    return (this.options.recoveryThreads ?? 2) * logsInFlightPerRecoveryThread;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  /** Returns the existing log when there is one; concurrent calls for one partition share one creation. */
  async createLog(
    topic: string,
    partition: number,
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog> {
    const [log] = await this.createLogs(topic, [partition], config);
    return log;
  }

  /**
   * Creates the logs of several partitions of one topic (those that exist are returned as they
   * are): `logsInFlight` at once, no fsync per log, then one fsync per log dir for the new
   * directories' names (FilePartitionLog.create).
   */
  async createLogs(
    topic: string,
    partitions: readonly number[],
    config?: Partial<LogConfig>,
  ): Promise<PartitionLog[]> {
    if (config) this.topicConfigs.set(topic, { ...this.topicConfigs.get(topic), ...config });
    const results: PartitionLog[] = new Array(partitions.length);
    const touchedDirs = new Set<string>();
    // Resolved once for the batch (logs never mutate their config object).
    let batchConfig: LogConfig | undefined;
    const jobs = partitions.map((partition, index) => async (): Promise<void> => {
      const name = `${topic}-${partition}`;
      const existing = this.logs.get(name);
      if (existing) {
        results[index] = existing;
        return;
      }
      let creation = this.creating.get(name);
      if (!creation) {
        const logDir = this.leastLoadedLogDir();
        // Counted at once, so that the logs of one batch spread over the log dirs.
        this.placeLog(name, logDir);
        touchedDirs.add(logDir);
        batchConfig ??= this.configFor(topic);
        creation = this.createNewLog(topic, partition, logDir, batchConfig)
          .catch((error: unknown) => {
            this.forgetLog(name);
            throw error;
          })
          .finally(() => this.creating.delete(name));
        this.creating.set(name, creation);
      }
      results[index] = await creation;
    });
    await runWithConcurrency(jobs, this.logsInFlight);
    for (const logDir of touchedDirs) await this.fileSystem.syncDirectory(logDir);
    return results;
  }

  private readonly creating = new Map<string, Promise<PartitionLog>>();

  private async createNewLog(
    topic: string,
    partition: number,
    logDir: string,
    config: LogConfig,
  ): Promise<PartitionLog> {
    const name = `${topic}-${partition}`;
    await this.noteChanged(name, logDir);
    const log = await FilePartitionLog.create({
      topic,
      partition,
      directory: joinPath(logDir, name),
      fileSystem: this.fileSystem,
      clock: this.options.clock,
      config,
      recoveryPoint: 0n,
      logStartOffset: 0n,
      cleanShutdown: false,
      codecs: this.options.codecs,
      verifyReadChecksums: this.options.verifyReadChecksums,
      cleanerIoBytesPerSecondMax: this.options.cleanerIoBytesPerSecondMax,
      handleCache: this.handles,
    });
    this.logs.set(name, log);
    return log;
  }

  private leastLoadedLogDir(): string {
    let best = this.options.logDirs[0];
    for (const dir of this.options.logDirs)
      if ((this.logCounts.get(dir) ?? 0) < (this.logCounts.get(best) ?? 0)) best = dir;
    return best;
  }

  /** Logs per log dir, kept with `logDirOf` (placement is then O(log dirs), not O(logs)). */
  private readonly logCounts = new Map<string, number>();

  private placeLog(name: string, logDir: string): void {
    this.logDirOf.set(name, logDir);
    this.logCounts.set(logDir, (this.logCounts.get(logDir) ?? 0) + 1);
  }

  private forgetLog(name: string): void {
    const logDir = this.logDirOf.get(name);
    if (logDir === undefined) return;
    this.logDirOf.delete(name);
    this.logCounts.set(logDir, (this.logCounts.get(logDir) ?? 1) - 1);
  }

  async deleteLog(topic: string, partition: number): Promise<void> {
    const name = `${topic}-${partition}`;
    const log = this.logs.get(name);
    const logDir = this.logDirOf.get(name);
    if (!log || !logDir) return;
    await this.noteChanged(name, logDir);
    this.logs.delete(name);
    this.forgetLog(name);
    await log.close();
    const doomed = joinPath(logDir, `${name}.${randomBytes(8).toString('hex')}-delete`);
    await this.fileSystem.rename(log.directory, doomed);
    await this.fileSystem.syncDirectory(logDir);
    await this.fileSystem.removeDirectory(doomed);
  }

  updateConfig(topic: string, config: Partial<LogConfig>): void {
    this.topicConfigs.set(topic, { ...this.topicConfigs.get(topic), ...config });
    for (const log of this.logs.values()) if (log.topic === topic) log.updateConfig(config);
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  async enforceRetention(): Promise<number> {
    let freed = 0;
    for (const log of [...this.logs.values()]) freed += await log.enforceRetention().catch(() => 0);
    return freed;
  }

  async runCleaner(): Promise<number> {
    let freed = 0;
    for (const log of [...this.logs.values()]) freed += await log.compact().catch(() => 0);
    return freed;
  }

  async checkpoint(): Promise<void> {
    for (const logDir of this.options.logDirs) {
      const recoveryPoints = new Map<string, bigint>();
      const startOffsets = new Map<string, bigint>();
      const cleanerOffsets = new Map<string, bigint>();
      for (const [name, log] of this.logs) {
        if (this.logDirOf.get(name) !== logDir) continue;
        recoveryPoints.set(name, log.recoveryPoint);
        startOffsets.set(name, log.logStartOffset);
        cleanerOffsets.set(name, log.cleanerCheckpoint);
      }
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, recoveryPointCheckpointFile),
        serializeOffsetCheckpoint(recoveryPoints),
      );
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, logStartOffsetCheckpointFile),
        serializeOffsetCheckpoint(startOffsets),
      );
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, cleanerOffsetCheckpointFile),
        serializeOffsetCheckpoint(cleanerOffsets),
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) timer.cancel();
    // Every log is closed even when one fails; then no clean-shutdown marker is written.
    let failure: unknown = null;
    const closes = [...this.logs.values()].map((log) => async (): Promise<void> => {
      await log.close().catch((error: unknown) => {
        failure ??= error;
      });
    });
    await runWithConcurrency(closes, this.logsInFlight * this.options.logDirs.length);
    if (failure) throw failure;
    for (const journal of this.journals.values()) await journal.close();
    await this.checkpoint();
    await this.writeLogSummaries();
    for (const logDir of this.options.logDirs) {
      // The new summary describes every log: nothing has changed since.
      await this.fileSystem.writeFileAtomic(joinPath(logDir, changedLogsFile), Buffer.alloc(0));
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, cleanShutdownMarkerFile),
        Buffer.alloc(0),
      );
    }
  }

  /** Names whose log the last clean stop's summary still describes (not journaled as changed). */
  private readonly summarized = new Set<string>();
  private readonly journals = new Map<string, ChangedLogsJournal>();

  /**
   * Before the first change to a log the summary describes (a write, its deletion, a new log of
   * that name): the name goes durably into the dir's changed-logs journal, so a start after a
   * crash loads that log from its files.
   */
  private async noteChanged(name: string, logDir: string): Promise<void> {
    if (!this.summarized.has(name)) return;
    await this.journals.get(logDir)?.append(name);
    this.summarized.delete(name);
  }

  /** The clean-stop summary of each log dir (after every log closed, before the marker). */
  private async writeLogSummaries(): Promise<void> {
    for (const logDir of this.options.logDirs) {
      const summaries = new Map<string, LogSummary>();
      for (const [name, log] of this.logs) {
        if (this.logDirOf.get(name) === logDir) summaries.set(name, log.summary());
      }
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, logSummaryFile),
        serializeLogSummaries(summaries),
      );
    }
  }

  /** For crash tests with a simulated file system: drop everything without flushing. */
  abandon(): void {
    this.closed = true;
    for (const timer of this.timers) timer.cancel();
    for (const log of this.logs.values()) log.abandon();
    for (const journal of this.journals.values()) void journal.close().catch(() => undefined);
  }
}

/** `<topic>-<partition>`; topic names may contain '-' so the last one separates. */
export function parseLogDirectoryName(name: string): { topic: string; partition: number } | null {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (!match) return null;
  return { topic: match[1], partition: Number(match[2]) };
}

async function runWithConcurrency(
  jobs: (() => Promise<void>)[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const workers = Array.from(
    { length: Math.max(1, Math.min(concurrency, jobs.length)) },
    async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        await job();
      }
    },
  );
  await Promise.all(workers);
}

/** `LogManager.open(...)` opens the file implementation; `LogManager.openInMemory(...)` the memory one. */
export const LogManager = {
  open: (options: LogManagerOptions): Promise<FileLogManager> => FileLogManager.open(options),
  openInMemory: (options: MemoryLogManagerOptions): Promise<MemoryLogManager> =>
    MemoryLogManager.open(options),
};
export type LogManager = LogManagerInterface;
