import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeFileSystem } from './file-system.js';
import { syncIoBytesMax } from './limits.js';

describe('nodeFileSystem file handles', () => {
  it('writes buffers at a position and reads them back, short at the end of the file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-fs-'));
    try {
      const file = await nodeFileSystem.openFile(join(directory, 'data'), { create: true });
      await file.writev([Buffer.from('hello '), Buffer.from('world')], 0);
      await file.writev([Buffer.from('W')], 6);
      const buffer = Buffer.alloc(20);
      assert.equal(await file.read(buffer, 2, 20 - 2, 0), 11);
      assert.equal(buffer.subarray(2, 13).toString(), 'hello World');
      assert.equal(await file.sizeBytes(), 11);
      await file.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('close waits for reads and writes in flight; a call after close fails with EBADF', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-fs-'));
    try {
      const file = await nodeFileSystem.openFile(join(directory, 'data'), { create: true });
      const data = Buffer.alloc(1 << 20, 7);
      const written = file.writev([data], 0);
      const closed = file.close();
      await written;
      await closed;
      await assert.rejects(file.read(Buffer.alloc(4), 0, 4, 0), { code: 'EBADF' });
      await assert.rejects(file.writev([Buffer.from('x')], 0), { code: 'EBADF' });
      const reopened = await nodeFileSystem.openFile(join(directory, 'data'), { create: false });
      const check = Buffer.alloc(data.length);
      assert.equal(await reopened.read(check, 0, check.length, 0), data.length);
      assert.deepEqual(check, data);
      await reopened.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('small writes (on the event loop) and large ones (thread pool) land in order; hinted reads match', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-fs-'));
    try {
      const file = await nodeFileSystem.openFile(join(directory, 'data'), { create: true });
      const small = Buffer.alloc(100, 1);
      const large = Buffer.alloc(syncIoBytesMax + 1, 2);
      const atLimit = Buffer.alloc(syncIoBytesMax, 3);
      // Started back to back without awaiting: the positions, not the completion order, decide.
      await Promise.all([
        file.writev([small], 0),
        file.writev([large], small.length),
        file.writev([atLimit.subarray(0, 10), atLimit.subarray(10)], small.length + large.length),
      ]);
      const expected = Buffer.concat([small, large, atLimit]);
      for (const recentlyWritten of [true, false]) {
        const back = Buffer.alloc(expected.length);
        assert.equal(await file.read(back, 0, back.length, 0, { recentlyWritten }), back.length);
        assert.deepEqual(back, expected);
      }
      await file.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('a failing write rejects with the OS error on both paths (ENOSPC from /dev/full)', async () => {
    const full = await nodeFileSystem.openFile('/dev/full', { create: false });
    try {
      await assert.rejects(full.writev([Buffer.alloc(10)], 0), { code: 'ENOSPC' });
      await assert.rejects(full.writev([Buffer.alloc(syncIoBytesMax + 1)], 0), {
        code: 'ENOSPC',
      });
    } finally {
      await full.close();
    }
  });
});
