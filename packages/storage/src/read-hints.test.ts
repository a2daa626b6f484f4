// Which reads carry the "recently written" hint (file-system.ts ReadHint): only the tail of the
// active segment that this process wrote, not a tail found on disk at start-up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileHandle, FileSystem, ReadHint } from './file-system.js';
import { FileLogManager } from './log-manager.js';
import { SimulatedFileSystem } from './simulated-file-system.js';
import { ManualClock, makeSimpleBatch } from './testing/batches.js';

/** A view of `disk` whose segment-file reads record their hints. */
function recordingHints(disk: SimulatedFileSystem, hints: (boolean | undefined)[]): FileSystem {
  const view = disk.view();
  return {
    ...view,
    async openFile(path, options) {
      const file = await view.openFile(path, options);
      if (!path.endsWith('.log')) return file;
      const recording: FileHandle = {
        read: (buffer, offset, length, position, hint?: ReadHint) => {
          hints.push(hint?.recentlyWritten);
          return file.read(buffer, offset, length, position, hint);
        },
        writev: (buffers, position) => file.writev(buffers, position),
        datasync: () => file.datasync(),
        truncate: (sizeBytes) => file.truncate(sizeBytes),
        sizeBytes: () => file.sizeBytes(),
        close: () => file.close(),
      };
      return recording;
    },
  };
}

describe('read hints', () => {
  it('are given for the tail this process wrote, not for a tail loaded from disk', async () => {
    const disk = new SimulatedFileSystem();
    const hints: (boolean | undefined)[] = [];
    const open = () =>
      FileLogManager.open({
        logDirs: ['/data'],
        clock: new ManualClock(),
        fileSystem: recordingHints(disk, hints),
        retentionCheckIntervalMs: 0,
        cleanerIntervalMs: 0,
        checkpointIntervalMs: 0,
      });
    const readAt = async (manager: FileLogManager, offset: bigint) => {
      hints.length = 0;
      const log = manager.getLog('t', 0)!;
      const result = await log.read(offset, { maxBytes: 1 << 20 });
      assert.ok(result.sizeBytes > 0);
      return [...hints];
    };

    const first = await open();
    const log = await first.createLog('t', 0);
    await log.append(makeSimpleBatch(3, 'a'), { durability: 'fsync', leaderEpoch: 0 });
    assert.deepEqual(await readAt(first, 0n), [true]);
    await first.close();

    const second = await open();
    const reopened = second.getLog('t', 0)!;
    assert.ok(!(await readAt(second, 0n)).includes(true), 'the tail found on disk is not fresh');
    await reopened.append(makeSimpleBatch(2, 'b'), { durability: 'write', leaderEpoch: 0 });
    assert.deepEqual(await readAt(second, 3n), [true], 'what this process appended is');
    await second.close();
  });
});
