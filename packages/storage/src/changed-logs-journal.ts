// `logs-changed-since-summary`: the names of the logs that changed since the last clean stop
// wrote `clean-shutdown-log-summary`, one per line, appended and fdatasync'ed before the change
// (LogManager.noteChanged). After a crash every log the summary lists and this file does not
// name is exactly as the summary describes it, so the start builds it without opening a file;
// only the logs named here are recovered from their files. A torn last line names a log that
// never changed (its change waited for the sync); it may match another name, which only costs
// that log a recovery. A line that names no log (zeros left by a failed fdatasync) is ignored.
// The clean stop empties the file after writing the new summary.

import type { FileHandle, FileSystem } from './file-system.js';

export const changedLogsFile = 'logs-changed-since-summary';

/** The names in the file; null when there is none (then no summary line can be trusted). */
export function parseChangedLogs(data: Buffer | null): Set<string> | null {
  if (data === null) return null;
  return new Set(
    data
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0),
  );
}

/** Appends names with group commit: names asked for while a sync runs share the next one. */
export class ChangedLogsJournal {
  private file: FileHandle | null = null;
  private sizeBytes = 0;
  private waiting: string[] = [];
  private next: Promise<void> | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly fileSystem: FileSystem,
    private readonly path: string,
  ) {}

  append(name: string): Promise<void> {
    this.waiting.push(name);
    this.next ??= this.running.then(() => this.writeWaiting());
    this.running = this.next.catch(() => undefined);
    return this.next;
  }

  private async writeWaiting(): Promise<void> {
    this.next = null;
    const names = this.waiting;
    this.waiting = [];
    if (this.file === null) {
      this.file = await this.fileSystem.openFile(this.path, { create: true });
      this.sizeBytes = await this.file.sizeBytes();
      // The file's own name must be durable before a line in it can matter.
      if (this.sizeBytes === 0) await this.fileSystem.syncDirectory(parentOf(this.path));
    }
    // Each write starts a line of its own: after a failed fdatasync (pages dropped unwritten, the
    // caller retries) the bytes before it may read back as zeros, never as part of a name.
    const data = Buffer.from(`\n${names.join('\n')}\n`);
    await this.file.writev([data], this.sizeBytes);
    this.sizeBytes += data.length;
    await this.file.datasync();
  }

  async close(): Promise<void> {
    await this.running;
    await this.file?.close();
    this.file = null;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}
