// The file system the file log runs on, injected so tests can simulate crashes and torn writes
// (simulated-file-system.ts). Only what the log needs: positional I/O, datasync, truncate,
// atomic small-file replacement and directory operations.

import { randomBytes } from 'node:crypto';
import {
  close as fsClose,
  constants as fsConstants,
  fdatasync as fsFdatasync,
  fstat as fsFstat,
  ftruncate as fsFtruncate,
  open as fsOpen,
  read as fsRead,
  readdir as fsReaddir,
  readFile as fsReadFile,
  readSync as fsReadSync,
  writev as fsWritev,
  writevSync as fsWritevSync,
} from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { syncIoBytesMax } from './limits.js';

/** What the caller knows about a read range; a file system may use it to pick how to read. */
export interface ReadHint {
  /** Written moments ago, so almost surely in the page cache: cheap to read without waiting. */
  recentlyWritten: boolean;
}

export interface FileHandle {
  /** Reads up to `length` bytes at `position`; returns the count read (short at end of file). */
  read(
    buffer: Buffer,
    bufferOffset: number,
    length: number,
    position: number,
    hint?: ReadHint,
  ): Promise<number>;
  /** Writes every byte of `buffers` contiguously at `position`. */
  writev(buffers: Buffer[], position: number): Promise<void>;
  /** fdatasync: the data and the size needed to read it back are durable when it resolves. */
  datasync(): Promise<void>;
  truncate(sizeBytes: number): Promise<void>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** Opens for reading and writing; creates the file when `create` is set. */
  openFile(path: string, options: { create: boolean }): Promise<FileHandle>;
  /** The whole file, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /**
   * Replaces the file so that a crash leaves either the old or the new content (temp + sync +
   * rename + directory sync). With `durable: false` nothing is synced: a process crash still
   * leaves the old or the new content, a power loss may leave the old, the new or a damaged file
   * (for files whose loss the caller tolerates until it writes them again durably).
   */
  writeFileAtomic(path: string, data: Buffer, options?: { durable?: boolean }): Promise<void>;
  exists(path: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  removeFile(path: string): Promise<void>;
  /** Removes a directory and everything in it. */
  removeDirectory(path: string): Promise<void>;
  /** Creates the directory and missing parents; true when the directory did not exist. */
  makeDirectory(path: string): Promise<boolean>;
  /** Names in the directory, sorted; empty when it does not exist. */
  listDirectory(path: string): Promise<string[]>;
  /** Makes creations, renames and removals in the directory durable. */
  syncDirectory(path: string): Promise<void>;
}

/**
 * Reads and writes go through the callback `fs.read` / `fs.writev` on the descriptor rather than
 * the FileHandle's promise methods: the same thread-pool call with less per-call work (measured
 * about 4 µs less CPU per call on the produce and fetch paths; each small produce request and each
 * tail fetch makes one). Small writes and small reads of recently written ranges (up to
 * `syncIoBytesMax`) run synchronously instead: they only copy to or from the page cache, and
 * skipping the thread pool's two hand-offs cut broker CPU per small produce request by about 13%
 * and the median end-to-end latency by about a quarter (BENCHMARKS.md). The cost: a write that the kernel
 * throttles (too many dirty pages), or a "recent" page that was evicted, blocks the event loop
 * for that call, as a write blocks a request thread in Kafka. Like FileHandle, `close` waits for
 * the calls in flight, and a call after `close` began fails with EBADF instead of reaching a
 * descriptor number the OS may have reused.
 */
class NodeFile implements FileHandle {
  private inFlight = 0;
  private closing = false;
  private readonly idleWaiters: (() => void)[] = [];

  /** A raw descriptor with the callback API: no FileHandle object per open file. */
  constructor(private readonly fd: number) {}

  async read(
    buffer: Buffer,
    bufferOffset: number,
    length: number,
    position: number,
    hint?: ReadHint,
  ): Promise<number> {
    const read = hint?.recentlyWritten === true && length <= syncIoBytesMax ? readNow : fsRead;
    let total = 0;
    while (total < length) {
      const bytesRead = await this.track(
        'read',
        (done: (error: Error | null, count: number) => void) =>
          read(this.fd, buffer, bufferOffset + total, length - total, position + total, done),
      );
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  }

  async writev(buffers: Buffer[], position: number): Promise<void> {
    let pending = buffers;
    let at = position;
    let totalBytes = 0;
    for (const buffer of buffers) totalBytes += buffer.length;
    const write = totalBytes <= syncIoBytesMax ? writevNow : fsWritev;
    let remainingBytes = totalBytes;
    while (remainingBytes > 0) {
      const bytesWritten = await this.track(
        'write',
        (done: (error: Error | null, count: number) => void) => write(this.fd, pending, at, done),
      );
      // A write that makes no progress would otherwise loop forever (never seen on a file).
      if (bytesWritten === 0) throw new Error(`writev at ${at} wrote nothing`);
      at += bytesWritten;
      remainingBytes -= bytesWritten;
      pending = skipBytes(pending, bytesWritten);
    }
  }

  async datasync(): Promise<void> {
    await this.track('fdatasync', (done) => fsFdatasync(this.fd, (error) => done(error, 0)));
  }

  async truncate(sizeBytes: number): Promise<void> {
    await this.track('ftruncate', (done) =>
      fsFtruncate(this.fd, sizeBytes, (error) => done(error, 0)),
    );
  }

  sizeBytes(): Promise<number> {
    return this.track('fstat', (done) =>
      fsFstat(this.fd, (error, stats) => done(error, error ? 0 : stats.size)),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    while (this.inFlight > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await closeDescriptor(this.fd);
  }

  /** Runs one callback-style call on the descriptor, counted so `close` can wait for it. */
  private track(
    syscall: string,
    start: (done: (error: Error | null, count: number) => void) => void,
  ): Promise<number> {
    if (this.closing) return Promise.reject(closedError(syscall));
    this.inFlight++;
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, count: number): void => {
        this.inFlight--;
        if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        if (error) reject(error);
        else resolve(count);
      };
      try {
        start(done);
      } catch (error) {
        // fs.read / fs.writev throw (instead of calling back) on invalid arguments.
        done(error as Error, 0);
      }
    });
  }
}

type Done = (error: Error | null, count: number) => void;

/** `fs.read`'s signature, done synchronously: the callback runs before it returns. */
function readNow(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
  done: Done,
): void {
  let count: number;
  try {
    count = fsReadSync(fd, buffer, offset, length, position);
  } catch (error) {
    done(error as Error, 0);
    return;
  }
  done(null, count);
}

/** `fs.writev`'s signature, done synchronously: the callback runs before it returns. */
function writevNow(fd: number, buffers: Buffer[], position: number, done: Done): void {
  let count: number;
  try {
    count = fsWritevSync(fd, buffers, position);
  } catch (error) {
    done(error as Error, 0);
    return;
  }
  done(null, count);
}

const openDescriptor = promisify(fsOpen);
const closeDescriptor = promisify(fsClose);
const readWholeFile = promisify(fsReadFile);
const readDirectory = promisify(fsReaddir);

function closedError(syscall: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('file closed');
  error.code = 'EBADF';
  error.syscall = syscall;
  return error;
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let remaining = count;
  let index = 0;
  while (index < buffers.length && remaining >= buffers[index].length) {
    remaining -= buffers[index].length;
    index++;
  }
  if (index >= buffers.length) return [];
  const rest = buffers.slice(index);
  rest[0] = rest[0].subarray(remaining);
  return rest;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** The real file system through node:fs/promises (libuv thread pool). */
export const nodeFileSystem: FileSystem = {
  async openFile(path, options) {
    const flags = options.create ? fsConstants.O_RDWR | fsConstants.O_CREAT : fsConstants.O_RDWR;
    return new NodeFile(await openDescriptor(path, flags, 0o644));
  },
  async readFile(path) {
    try {
      return await readWholeFile(path);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  },
  async writeFileAtomic(path, data, options) {
    const durable = options?.durable ?? true;
    const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temporary, 'w', 0o644);
    try {
      try {
        await handle.writeFile(data);
        if (durable) await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      // A full disk must not also collect temporary files.
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    if (durable) await nodeFileSystem.syncDirectory(dirname(path));
  },
  async exists(path) {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async removeFile(path) {
    try {
      await unlink(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
  async removeDirectory(path) {
    await rm(path, { recursive: true, force: true });
  },
  async makeDirectory(path) {
    // The recursive form returns the first directory it created, nothing when all existed.
    return (await mkdir(path, { recursive: true })) !== undefined;
  },
  async listDirectory(path) {
    try {
      return (await readDirectory(path)).sort();
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  },
  async syncDirectory(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** A `.` or `..` segment, a doubled or trailing slash: what `path.join` would rewrite. */
const unnormalizedPath = /(^|\/)\.\.?(\/|$)|\/\/|\/$/;

/**
 * `path.join`. A normalized directory and one plain name (the common case: a log's files, a log
 * dir's logs) are concatenated without normalizing again: start-up joins a few paths per log.
 */
export function joinPath(...parts: string[]): string {
  if (parts.length === 2) {
    const [directory, name] = parts;
    if (
      directory !== '' &&
      name !== '' &&
      name !== '.' &&
      name !== '..' &&
      !name.includes('/') &&
      !unnormalizedPath.test(directory)
    )
      return `${directory}/${name}`;
  }
  return join(...parts);
}
