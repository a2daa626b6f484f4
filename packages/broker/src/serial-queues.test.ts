import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerialQueues } from './serial-queues.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

describe('SerialQueues', () => {
  it('runs the tasks of one key in issue order, one at a time; other keys run alongside', async () => {
    const queues = new SerialQueues<number>();
    const events: string[] = [];
    const first = deferred();
    const second = deferred();
    const a1 = queues.run(1, async () => {
      events.push('a1 start');
      await first.promise;
      events.push('a1 end');
    });
    const a2 = queues.run(1, async () => {
      events.push('a2 start');
      return 'a2';
    });
    const b1 = queues.run(2, async () => {
      events.push('b1 start');
      await second.promise;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['a1 start', 'b1 start']);
    assert.equal(queues.size, 2);
    first.reject(new Error('disk full'));
    await assert.rejects(a1, /disk full/);
    assert.equal(await a2, 'a2', 'a failed task does not stop the next');
    assert.deepEqual(events, ['a1 start', 'b1 start', 'a2 start']);
    let settled = false;
    const all = queues.settled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'key 2 is still running');
    second.resolve();
    await b1;
    await all;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(queues.size, 0, 'idle keys are forgotten');
  });
});
