/**
 * One broker per log dir. Two processes appending to the same segment files would interleave
 * bytes and corrupt the log, so start-up takes `<log dir>/.lock`, which names the owning process.
 * Node has no flock, so the lock is a file created exclusively (O_EXCL); a lock left by a process
 * that no longer exists (kill -9) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const lockFileName = '.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockLogDirs(logDirs: readonly string[]): Promise<DataDirLock> {
  const taken: string[] = [];
  try {
    for (const directory of logDirs) {
      const path = join(directory, lockFileName);
      await takeLock(path);
      taken.push(path);
    }
  } catch (error) {
    await Promise.all(taken.map((path) => unlink(path).catch(() => undefined)));
    throw error;
  }
  return {
    async release() {
      await Promise.all(taken.map((path) => unlink(path).catch(() => undefined)));
    },
  };
}

async function takeLock(path: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `${path} is held by process ${owner}: another broker uses this log dir (stop it, or use another --data-dir)`,
      );
    }
    // Stale (its process is gone) or our own from an earlier in-process broker: take it over.
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`cannot take ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
