import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeFileSystem } from './file-system.js';

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
});
