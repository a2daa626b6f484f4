import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '@gregor/protocol/testing/manual-clock';
import type { ReadableLog } from '../log-batches.js';
import { silentLogger } from '../logging/logger.js';
import { OffsetsLog } from './offsets-log.js';
import type { OffsetsPartitionLog, OffsetsTopicStorage } from './types.js';

/**
 * A partition log whose appends become durable only when the test says so: shows which appends
 * were issued while earlier ones were still waiting for their fsync.
 */
function holdingStorage() {
  const issued: { bytes: number; durable: () => void }[] = [];
  const log: OffsetsPartitionLog = {
    logStartOffset: 0n,
    logEndOffset: 0n,
    log: {} as ReadableLog,
    appendAsLeader(batches) {
      return new Promise((resolve) => {
        issued.push({
          bytes: batches.length,
          durable: () => resolve({ baseOffset: 0n, lastOffset: 0n }),
        });
      });
    },
  };
  const storage: OffsetsTopicStorage = {
    existingPartitionCount: () => 1,
    partitionLog: async () => log,
  };
  return { storage, issued };
}

test('commits to one offsets partition are issued in order without waiting for the previous fsync', async () => {
  const { storage, issued } = holdingStorage();
  const offsets = new OffsetsLog({
    storage,
    clock: new ManualClock(),
    logger: silentLogger,
    defaultPartitionCount: 1,
  });
  const settled: number[] = [];
  const appends = [1, 2, 3].map((size, index) =>
    offsets
      .append('group', [{ key: Buffer.alloc(size), value: Buffer.alloc(size) }])
      .then(() => settled.push(index)),
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(issued.length, 3, 'all three appends issued while none is durable');
  assert.ok(
    issued[0]!.bytes < issued[1]!.bytes && issued[1]!.bytes < issued[2]!.bytes,
    'issued in call order',
  );
  let flushed = false;
  const flush = offsets.flush().then(() => {
    flushed = true;
  });
  issued[1]!.durable();
  issued[0]!.durable();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(settled.sort(), [0, 1]);
  assert.equal(flushed, false, 'flush waits for the third append to be durable');
  issued[2]!.durable();
  await Promise.all([...appends, flush]);
  assert.equal(flushed, true);
});
