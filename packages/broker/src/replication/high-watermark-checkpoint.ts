/**
 * Kafka's `replication-offset-checkpoint`: one file per log dir holding the high watermark of
 * every partition in it ("0\n<count>\n<topic> <partition> <offset>\n…", storage's checkpoint
 * envelope), replaced atomically. A missing or malformed file restores nothing (each HW then starts
 * at its log start offset and is recomputed as leader).
 */
import {
  type FileSystem,
  joinPath,
  type PartitionLog,
  parseOffsetCheckpoint,
  serializeOffsetCheckpoint,
} from '@gregor/storage';

export const highWatermarkCheckpointFileName = 'replication-offset-checkpoint';

export class HighWatermarkCheckpoints {
  /** What was last written per dir, so an unchanged dir is not rewritten every interval. */
  private readonly written = new Map<string, Buffer>();

  constructor(
    private readonly fileSystem: FileSystem,
    private readonly logDirOf: (log: PartitionLog) => string | undefined,
  ) {}

  /** High watermarks by `<topic>-<partition>` over every dir. */
  async read(logDirs: readonly string[]): Promise<Map<string, bigint>> {
    const result = new Map<string, bigint>();
    for (const logDir of logDirs) {
      const data = await this.fileSystem.readFile(
        joinPath(logDir, highWatermarkCheckpointFileName),
      );
      for (const [name, offset] of parseOffsetCheckpoint(data)) result.set(name, offset);
    }
    return result;
  }

  /** One file per dir holding logs; a dir whose content did not change is left alone. */
  async write(logs: readonly PartitionLog[]): Promise<void> {
    const byDir = new Map<string, Map<string, bigint>>();
    for (const log of logs) {
      const logDir = this.logDirOf(log);
      if (logDir === undefined) continue;
      let entries = byDir.get(logDir);
      if (entries === undefined) {
        entries = new Map();
        byDir.set(logDir, entries);
      }
      entries.set(`${log.topic}-${log.partition}`, log.highWatermark);
    }
    for (const logDir of new Set([...this.written.keys(), ...byDir.keys()])) {
      const data = serializeOffsetCheckpoint(byDir.get(logDir) ?? new Map());
      if (this.written.get(logDir)?.equals(data)) continue;
      await this.fileSystem.writeFileAtomic(
        joinPath(logDir, highWatermarkCheckpointFileName),
        data,
      );
      this.written.set(logDir, data);
    }
  }
}
