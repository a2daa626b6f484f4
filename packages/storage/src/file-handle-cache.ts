// Segment files opened on demand through a bounded LRU of open descriptors: a broker with
// 100,000 segments holds at most `handlesMax` of them open (plus those with a call in flight).
// DESIGN.md "File handles".

import type { FileHandle, FileSystem, ReadHint } from './file-system.js';

export interface FileHandleCacheOptions {
  fileSystem: FileSystem;
  /** Descriptors kept open when idle (log.segment.file.handles.max). */
  handlesMax: number;
}

export class FileHandleCache {
  /** Files whose descriptor is open, least recently used first (Map keeps insertion order). */
  private readonly openFiles = new Map<CachedFile, true>();
  /** Descriptors opened since the cache was made (tests, metrics). */
  opens = 0;

  constructor(private readonly options: FileHandleCacheOptions) {}

  get fileSystem(): FileSystem {
    return this.options.fileSystem;
  }

  get openCount(): number {
    return this.openFiles.size;
  }

  /**
   * A file at `path`, opened when first used. With `create` the first open creates it (call
   * `ensureOpen` to create it at once); later opens (after an eviction) require it to exist.
   */
  file(path: string, options: { create: boolean }): CachedFile {
    return new CachedFile(this, path, options.create);
  }

  /**
   * A file that is absent or empty and that nothing reads before writing: until its first write
   * it reads as empty, and a sync or a truncation to 0 has nothing to do, without a descriptor or
   * a file; the first write creates it. A new log's first segment costs no file until used.
   */
  emptyFile(path: string): CachedFile {
    const file = new CachedFile(this, path, true);
    file.markEmptyUntilWritten();
    return file;
  }

  /** Opens `path` now (an existing file, or a new one with `create`). */
  async open(path: string, options: { create: boolean }): Promise<CachedFile> {
    const file = this.file(path, options);
    await file.ensureOpen();
    return file;
  }

  /** @internal */
  noteUsed(file: CachedFile): void {
    this.openFiles.delete(file);
    this.openFiles.set(file, true);
  }

  /** @internal */
  noteOpened(file: CachedFile): void {
    this.opens++;
    this.noteUsed(file);
    this.evictBeyondLimit();
  }

  /** @internal */
  evictIfOverLimit(): void {
    if (this.openFiles.size > this.options.handlesMax) this.evictBeyondLimit();
  }

  /** @internal */
  noteClosed(file: CachedFile): void {
    this.openFiles.delete(file);
  }

  /**
   * Closes least recently used descriptors with no call in flight until within the limit. Run
   * when a descriptor opens and when a call ends while over the limit (descriptors busy at the
   * last open go then).
   */
  evictBeyondLimit(): void {
    if (this.openFiles.size <= this.options.handlesMax) return;
    for (const file of this.openFiles.keys()) {
      if (this.openFiles.size <= this.options.handlesMax) return;
      if (file.evict()) this.openFiles.delete(file);
    }
  }
}

/**
 * A FileHandle whose descriptor may be closed between calls (evicted) and reopened by the next
 * call. A call in flight holds its descriptor: eviction skips it. `close` is final: later calls
 * fail with EBADF, as on a closed descriptor.
 */
export class CachedFile implements FileHandle {
  private handle: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  private callsInFlight = 0;
  private closed = false;

  constructor(
    private readonly cache: FileHandleCache,
    private currentPath: string,
    private create: boolean,
  ) {}

  get path(): string {
    return this.currentPath;
  }

  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** The file was renamed: a reopen after an eviction must use the new name. */
  renamed(path: string): void {
    this.currentPath = path;
  }

  /**
   * Its name now belongs to another file (a compaction swap put the replacement there): the open
   * descriptor is kept until `close`, never evicted, and without one calls fail with ENOENT.
   */
  unlinked(): void {
    this.nameUnlinked = true;
  }

  private nameUnlinked = false;

  /** @internal See FileHandleCache.emptyFile. */
  markEmptyUntilWritten(): void {
    this.emptyUntilWritten = true;
  }

  /** No descriptor was ever opened and nothing written: the file may not exist (emptyFile). */
  private emptyUntilWritten = false;

  /** Whether a descriptor was ever opened for this file (false: it may not exist yet). */
  get created(): boolean {
    return !this.emptyUntilWritten;
  }

  async ensureOpen(): Promise<void> {
    await this.run(async () => undefined);
  }

  read(
    buffer: Buffer,
    bufferOffset: number,
    length: number,
    position: number,
    hint?: ReadHint,
  ): Promise<number> {
    if (this.emptyUntilWritten && !this.closed) return Promise.resolve(0);
    return this.run((handle) => handle.read(buffer, bufferOffset, length, position, hint));
  }

  writev(buffers: Buffer[], position: number): Promise<void> {
    return this.run((handle) => handle.writev(buffers, position));
  }

  datasync(): Promise<void> {
    if (this.emptyUntilWritten && !this.closed) return Promise.resolve();
    return this.run((handle) => handle.datasync());
  }

  truncate(sizeBytes: number): Promise<void> {
    if (this.emptyUntilWritten && sizeBytes === 0 && !this.closed) return Promise.resolve();
    return this.run((handle) => handle.truncate(sizeBytes));
  }

  sizeBytes(): Promise<number> {
    if (this.emptyUntilWritten && !this.closed) return Promise.resolve(0);
    return this.run((handle) => handle.sizeBytes());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.noteClosed(this);
    // A reopen in progress closes its own descriptor when it sees `closed`.
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /** Closes the descriptor if no call uses it; the next call reopens. False when busy. */
  evict(): boolean {
    const handle = this.handle;
    if (handle === null || this.callsInFlight > 0 || this.nameUnlinked) return false;
    this.handle = null;
    void handle.close().catch(() => undefined);
    return true;
  }

  private async run<T>(call: (handle: FileHandle) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    this.callsInFlight++;
    try {
      let handle = this.handle;
      if (handle === null) handle = await this.reopen();
      else this.cache.noteUsed(this);
      return await call(handle);
    } finally {
      this.callsInFlight--;
      this.cache.evictIfOverLimit();
    }
  }

  private async reopen(): Promise<FileHandle> {
    if (this.nameUnlinked) throw notFoundError(this.currentPath);
    this.opening ??= this.cache.fileSystem
      .openFile(this.currentPath, { create: this.create })
      .finally(() => {
        this.opening = null;
      });
    const handle = await this.opening;
    if (this.closed) {
      // Closed while opening: this descriptor was never handed out.
      await handle.close().catch(() => undefined);
      throw closedError();
    }
    if (this.handle === null) {
      this.handle = handle;
      this.create = false;
      this.emptyUntilWritten = false;
      this.cache.noteOpened(this);
    } else if (this.handle !== handle) {
      await handle.close().catch(() => undefined);
    }
    return this.handle;
  }
}

function notFoundError(path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${path} was replaced`);
  error.code = 'ENOENT';
  return error;
}

function closedError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('file closed');
  error.code = 'EBADF';
  return error;
}
