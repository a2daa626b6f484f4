// An in-memory FileSystem with a durable view and a page-cache view per file, for deterministic
// crash tests. `crash()` invalidates every open handle and replaces each file's content by what a
// real disk could hold after power loss: the synced bytes, plus any prefix of the unsynced tail,
// optionally torn (garbage appended or the last bytes scrambled), or the old synced content.
// Directory operations (create, rename, remove) are modelled as immediately durable.
// Faults: a byte capacity (a write that does not fit stores what fits, then fails with ENOSPC)
// and failing fdatasyncs with Linux's semantics (the dirty pages are marked clean without
// reaching the disk: a later fdatasync succeeds without writing them, "fsyncgate"; optionally
// the pages are evicted too, so reads return what the disk holds), and a stalled device
// (`stallWrites`: writes and syncs wait, reads go on).

import { posix } from 'node:path';
import type { FileHandle, FileSystem } from './file-system.js';

interface SimulatedFile {
  current: Buffer;
  durable: Buffer;
  /** Bytes before this are identical in both views; Infinity when the file is clean. */
  dirtyFrom: number;
}

export type RandomSource = () => number;

export interface CrashOptions {
  random: RandomSource;
  /** Probability that a dirty file also gets garbage appended or its kept tail scrambled. */
  tearProbability?: number;
  /** Only the process dies (SIGKILL): every write it made stays, synced or not. */
  processOnly?: boolean;
}

export interface SimulatedFileSystemStatistics {
  datasyncs: number;
  writes: number;
  bytesWritten: number;
}

class SimulatedHandle implements FileHandle {
  // Holds the file itself, like a descriptor: renames and unlinks do not affect it.
  constructor(
    private readonly fileSystem: SimulatedFileSystem,
    private readonly entry: SimulatedFile,
    private readonly generation: number,
  ) {}

  private file(): SimulatedFile {
    return this.fileSystem.fileForHandle(this.entry, this.generation);
  }

  async read(
    buffer: Buffer,
    bufferOffset: number,
    length: number,
    position: number,
  ): Promise<number> {
    await this.fileSystem.yieldTurn(this.generation);
    const file = this.file();
    const end = Math.min(file.current.length, position + length);
    if (end <= position) return 0;
    file.current.copy(buffer, bufferOffset, position, end);
    return end - position;
  }

  async writev(buffers: Buffer[], position: number): Promise<void> {
    await this.fileSystem.deviceReady();
    await this.fileSystem.yieldTurn(this.generation);
    const file = this.file();
    const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    const oldLength = file.current.length;
    const fitting = this.fileSystem.bytesThatFit(oldLength, position + total);
    if (fitting < position + total) {
      // Disk full: like a real short write, the bytes that fit land before the error.
      const partial = Math.max(0, fitting - position);
      if (partial > 0) await this.writev([Buffer.concat(buffers).subarray(0, partial)], position);
      throw errno('ENOSPC', 'no space left on device, write');
    }
    const newLength = Math.max(oldLength, position + total);
    const next = Buffer.alloc(newLength);
    file.current.copy(next, 0, 0, oldLength);
    let at = position;
    for (const buffer of buffers) {
      buffer.copy(next, at);
      at += buffer.length;
    }
    file.current = next;
    file.dirtyFrom = Math.min(file.dirtyFrom, position, oldLength);
    this.fileSystem.statistics.writes++;
    this.fileSystem.statistics.bytesWritten += total;
  }

  async datasync(): Promise<void> {
    await this.fileSystem.deviceReady();
    await this.fileSystem.yieldTurn(this.generation);
    const file = this.file();
    const fault = this.fileSystem.takeDatasyncFault();
    if (fault) {
      // Linux: the writeback error is reported once and the pages are marked clean anyway.
      if (fault.evictPages) file.current = writtenBack(file);
      file.dirtyFrom = Number.POSITIVE_INFINITY;
      throw errno(fault.code, 'fdatasync failed');
    }
    file.durable = writtenBack(file, file.current);
    file.dirtyFrom = Number.POSITIVE_INFINITY;
    this.fileSystem.statistics.datasyncs++;
  }

  async truncate(sizeBytes: number): Promise<void> {
    await this.fileSystem.deviceReady();
    await this.fileSystem.yieldTurn(this.generation);
    const file = this.file();
    const next = Buffer.alloc(sizeBytes);
    file.current.copy(next, 0, 0, Math.min(sizeBytes, file.current.length));
    file.dirtyFrom = Math.min(file.dirtyFrom, sizeBytes, file.current.length);
    file.current = next;
  }

  async sizeBytes(): Promise<number> {
    await this.fileSystem.yieldTurn(this.generation);
    return this.file().current.length;
  }

  async close(): Promise<void> {
    await this.fileSystem.yieldTurn(this.generation);
  }
}

export class SimulatedFileSystem implements FileSystem {
  private readonly files = new Map<string, SimulatedFile>();
  private readonly directories = new Set<string>(['/']);
  private generation = 0;
  private operationCount = 0;
  private scheduledCrash: { afterOperation: number; options: CrashOptions } | null = null;
  readonly statistics: SimulatedFileSystemStatistics = { datasyncs: 0, writes: 0, bytesWritten: 0 };
  /** Total bytes all files may hold; writes past it fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  private datasyncFaults: DatasyncFault[] = [];
  private stall: { released: Promise<void>; release: () => void } | null = null;

  /**
   * The device stops answering (a stall: a dying disk, a saturated controller): writes,
   * truncations, atomic file writes and syncs wait until the returned function is called or the
   * power goes (`crash`, not `processOnly`); reads are served from the page cache meanwhile.
   */
  stallWrites(): () => void {
    if (this.stall === null) {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.stall = { released, release };
    }
    const stall = this.stall;
    return () => {
      if (this.stall !== stall) return;
      this.stall = null;
      stall.release();
    };
  }

  get writesStalled(): boolean {
    return this.stall !== null;
  }

  /** Resolves once the device answers writes again (at once unless stalled). */
  async deviceReady(): Promise<void> {
    while (this.stall !== null) await this.stall.released;
  }

  /** The next `count` fdatasyncs fail with `code` (EIO by default); see the file comment. */
  failDatasyncs(count: number, options: { code?: string; evictPages?: boolean } = {}): void {
    for (let index = 0; index < count; index++)
      this.datasyncFaults.push({
        code: options.code ?? 'EIO',
        evictPages: options.evictPages ?? false,
      });
  }

  /** The disk works again: no capacity limit, no pending fdatasync failures. */
  clearFaults(): void {
    this.capacityBytes = Number.POSITIVE_INFINITY;
    this.datasyncFaults = [];
  }

  takeDatasyncFault(): DatasyncFault | undefined {
    return this.datasyncFaults.shift();
  }

  /** Bytes used by every file (page-cache view). */
  get usedBytes(): number {
    let total = 0;
    for (const file of this.files.values()) total += file.current.length;
    return total;
  }

  /** The new length a file growing from `oldLength` toward `wantedLength` can reach. */
  bytesThatFit(oldLength: number, wantedLength: number): number {
    if (wantedLength <= oldLength) return wantedLength;
    const free = this.capacityBytes - this.usedBytes;
    return Math.max(oldLength, Math.min(wantedLength, oldLength + Math.max(0, free)));
  }

  /**
   * Every operation starts here: lets other tasks run (deterministically: a microtask), counts
   * the operation, fires a scheduled crash, and fails operations of a crashed "process".
   */
  async yieldTurn(generation: number): Promise<void> {
    await Promise.resolve();
    this.operationCount++;
    if (this.scheduledCrash && this.operationCount >= this.scheduledCrash.afterOperation) {
      const options = this.scheduledCrash.options;
      this.scheduledCrash = null;
      this.crash(options);
    }
    if (generation !== this.generation) throw errno('EIO', 'the process crashed');
  }

  /** Crashes at the start of the `operations`-th file system operation from now. */
  scheduleCrash(operations: number, options: CrashOptions): void {
    this.scheduledCrash = {
      afterOperation: this.operationCount + Math.max(1, operations),
      options,
    };
  }

  get crashPending(): boolean {
    return this.scheduledCrash !== null;
  }

  /**
   * A FileSystem bound to the current "process": once a crash happens, every operation through
   * it fails, as the process would be gone. Open a new view to model the restart.
   */
  view(): FileSystem {
    const generation = this.generation;
    return {
      openFile: (path, options) => this.openFileAs(generation, path, options),
      readFile: (path) => this.readFileAs(generation, path),
      writeFileAtomic: (path, data, options) =>
        this.writeFileAtomicAs(generation, path, data, options),
      exists: (path) => this.existsAs(generation, path),
      rename: (from, to) => this.renameAs(generation, from, to),
      removeFile: (path) => this.removeFileAs(generation, path),
      removeDirectory: (path) => this.removeDirectoryAs(generation, path),
      makeDirectory: (path) => this.makeDirectoryAs(generation, path),
      listDirectory: (path) => this.listDirectoryAs(generation, path),
      syncDirectory: (path) => this.syncDirectoryAs(generation, path),
    };
  }

  fileForHandle(file: SimulatedFile, generation: number): SimulatedFile {
    if (generation !== this.generation) throw errno('EBADF', 'stale handle after crash');
    return file;
  }

  openFile(path: string, options: { create: boolean }): Promise<FileHandle> {
    return this.openFileAs(this.generation, path, options);
  }

  private async openFileAs(
    generation: number,
    path: string,
    options: { create: boolean },
  ): Promise<FileHandle> {
    await this.yieldTurn(generation);
    const normalized = posix.normalize(path);
    if (!this.files.has(normalized)) {
      if (!options.create) throw errno('ENOENT', `no such file: ${normalized}`);
      this.requireDirectory(posix.dirname(normalized));
      this.files.set(normalized, {
        current: Buffer.alloc(0),
        durable: Buffer.alloc(0),
        dirtyFrom: Number.POSITIVE_INFINITY,
      });
    }
    return new SimulatedHandle(this, this.files.get(normalized)!, generation);
  }

  readFile(path: string): Promise<Buffer | null> {
    return this.readFileAs(this.generation, path);
  }

  private async readFileAs(generation: number, path: string): Promise<Buffer | null> {
    await this.yieldTurn(generation);
    const file = this.files.get(posix.normalize(path));
    return file ? Buffer.from(file.current) : null;
  }

  writeFileAtomic(path: string, data: Buffer, options?: { durable?: boolean }): Promise<void> {
    return this.writeFileAtomicAs(this.generation, path, data, options);
  }

  private async writeFileAtomicAs(
    generation: number,
    path: string,
    data: Buffer,
    options?: { durable?: boolean },
  ): Promise<void> {
    await this.deviceReady();
    await this.yieldTurn(generation);
    const normalized = posix.normalize(path);
    this.requireDirectory(posix.dirname(normalized));
    // The temporary copy needs the whole size while the old file still exists.
    if (this.bytesThatFit(0, data.length) < data.length)
      throw errno('ENOSPC', 'no space left on device, write');
    if (options?.durable === false) {
      // Not synced: a crash keeps the old durable content or any (torn) prefix of the new one.
      this.files.set(normalized, {
        current: Buffer.from(data),
        durable: Buffer.from(this.files.get(normalized)?.durable ?? Buffer.alloc(0)),
        dirtyFrom: 0,
      });
      return;
    }
    this.files.set(normalized, {
      current: Buffer.from(data),
      durable: Buffer.from(data),
      dirtyFrom: Number.POSITIVE_INFINITY,
    });
  }

  exists(path: string): Promise<boolean> {
    return this.existsAs(this.generation, path);
  }

  private async existsAs(generation: number, path: string): Promise<boolean> {
    await this.yieldTurn(generation);
    const normalized = posix.normalize(path);
    return this.files.has(normalized) || this.directories.has(normalized);
  }

  rename(from: string, to: string): Promise<void> {
    return this.renameAs(this.generation, from, to);
  }

  private async renameAs(generation: number, from: string, to: string): Promise<void> {
    await this.yieldTurn(generation);
    const source = posix.normalize(from);
    const target = posix.normalize(to);
    const file = this.files.get(source);
    if (file) {
      this.files.delete(source);
      this.files.set(target, file);
      return;
    }
    if (!this.directories.has(source)) throw errno('ENOENT', `no such file: ${source}`);
    for (const directory of [...this.directories]) {
      if (directory === source || directory.startsWith(`${source}/`)) {
        this.directories.delete(directory);
        this.directories.add(target + directory.slice(source.length));
      }
    }
    for (const [path, entry] of [...this.files]) {
      if (path.startsWith(`${source}/`)) {
        this.files.delete(path);
        this.files.set(target + path.slice(source.length), entry);
      }
    }
  }

  removeFile(path: string): Promise<void> {
    return this.removeFileAs(this.generation, path);
  }

  private async removeFileAs(generation: number, path: string): Promise<void> {
    await this.yieldTurn(generation);
    this.files.delete(posix.normalize(path));
  }

  removeDirectory(path: string): Promise<void> {
    return this.removeDirectoryAs(this.generation, path);
  }

  private async removeDirectoryAs(generation: number, path: string): Promise<void> {
    await this.yieldTurn(generation);
    const normalized = posix.normalize(path);
    for (const directory of [...this.directories]) {
      if (directory === normalized || directory.startsWith(`${normalized}/`))
        this.directories.delete(directory);
    }
    for (const file of [...this.files.keys()]) {
      if (file.startsWith(`${normalized}/`)) this.files.delete(file);
    }
  }

  makeDirectory(path: string): Promise<boolean> {
    return this.makeDirectoryAs(this.generation, path);
  }

  private async makeDirectoryAs(generation: number, path: string): Promise<boolean> {
    await this.yieldTurn(generation);
    let current = posix.normalize(path);
    const prefix = `${current}/`;
    const created =
      !this.directories.has(current) &&
      ![...this.files.keys()].some((file) => file.startsWith(prefix));
    while (current !== '/' && current !== '.') {
      this.directories.add(current);
      current = posix.dirname(current);
    }
    return created;
  }

  listDirectory(path: string): Promise<string[]> {
    return this.listDirectoryAs(this.generation, path);
  }

  private async listDirectoryAs(generation: number, path: string): Promise<string[]> {
    await this.yieldTurn(generation);
    const normalized = posix.normalize(path);
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.directories]) {
      if (posix.dirname(entry) === normalized && entry !== normalized)
        names.add(posix.basename(entry));
    }
    return [...names].sort();
  }

  syncDirectory(_path: string): Promise<void> {
    return this.syncDirectoryAs(this.generation, _path);
  }

  private async syncDirectoryAs(generation: number, _path: string): Promise<void> {
    await this.deviceReady();
    await this.yieldTurn(generation);
  }

  /**
   * Power loss (or, with `processOnly`, a killed process): see the file comment. Every handle
   * opened before becomes unusable.
   */
  crash(options: CrashOptions): void {
    this.generation++;
    this.scheduledCrash = null;
    if (options.processOnly) return;
    // Power loss ends a stall; the writes waiting on it die with the process (stale generation).
    const stall = this.stall;
    this.stall = null;
    stall?.release();
    const tearProbability = options.tearProbability ?? 0.3;
    for (const file of this.files.values()) {
      if (file.dirtyFrom === Number.POSITIVE_INFINITY) {
        // Clean pages: what the disk holds (differs only after a failed fdatasync).
        file.current = file.durable;
        continue;
      }
      file.current = survivingContent(file, options.random, tearProbability);
      file.durable = Buffer.from(file.current);
      file.dirtyFrom = Number.POSITIVE_INFINITY;
    }
  }

  /** Test helper: overwrite bytes of a file directly (both views), e.g. to corrupt a segment. */
  corrupt(path: string, position: number, bytes: Buffer): void {
    const file = this.files.get(posix.normalize(path));
    if (!file) throw errno('ENOENT', path);
    const length = Math.max(file.current.length, position + bytes.length);
    const next = Buffer.alloc(length);
    file.current.copy(next);
    bytes.copy(next, position);
    file.current = next;
    file.durable = Buffer.from(next);
  }

  fileSizeBytes(path: string): number | undefined {
    return this.files.get(posix.normalize(path))?.current.length;
  }

  private requireDirectory(path: string): void {
    if (!this.directories.has(path)) throw errno('ENOENT', `no such directory: ${path}`);
  }
}

function survivingContent(
  file: SimulatedFile,
  random: RandomSource,
  tearProbability: number,
): Buffer {
  const stable = file.dirtyFrom;
  if (random() < 0.2) return Buffer.from(file.durable);
  const unsynced = file.current.length - stable;
  const kept = unsynced <= 0 ? 0 : Math.floor(random() * (unsynced + 1));
  const result = writtenBack(file, file.current.subarray(0, stable + kept));
  if (random() >= tearProbability) return result;
  if (random() < 0.5 && kept > 0) {
    const scrambled = Math.min(kept, 1 + Math.floor(random() * 16));
    for (let index = result.length - scrambled; index < result.length; index++) {
      result[index] = Math.floor(random() * 256);
    }
    return result;
  }
  const garbage = Buffer.alloc(1 + Math.floor(random() * 100));
  for (let index = 0; index < garbage.length; index++) garbage[index] = Math.floor(random() * 256);
  return Buffer.concat([result, garbage]);
}

interface DatasyncFault {
  code: string;
  evictPages: boolean;
}

/**
 * The disk's content once the dirty range of `file` is written back from `pages` (the page
 * cache, or a prefix of it): the durable bytes before the dirty range, the pages after it. Bytes
 * the disk never received (a failed writeback marked clean) read as zeros. Without `pages`: what
 * the disk holds for the current size, nothing written back.
 */
function writtenBack(file: SimulatedFile, pages?: Buffer): Buffer {
  const length = pages ? pages.length : file.current.length;
  const result = Buffer.alloc(length);
  const stable = Math.min(file.dirtyFrom, length);
  file.durable.copy(result, 0, 0, Math.min(stable, file.durable.length));
  if (pages && stable < length) pages.copy(result, stable, stable, length);
  return result;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  error.code = code;
  return error;
}
