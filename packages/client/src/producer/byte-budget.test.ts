import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError } from '../errors.js';
import { ByteBudget } from './byte-budget.js';

describe('ByteBudget', () => {
  it('serves waiters in arrival order as bytes come back', async () => {
    const budget = new ByteBudget(100);
    assert.equal(budget.tryAcquire(80), true);
    const order: string[] = [];
    const large = budget.acquire(60, 5_000).then(() => order.push('large'));
    const small = budget.acquire(10, 5_000).then(() => order.push('small'));
    // The small one fits now but must not overtake the large one (FIFO).
    assert.equal(budget.tryAcquire(10), false);
    budget.release(70);
    await Promise.all([large, small]);
    assert.deepEqual(order, ['large', 'small']);
    assert.equal(budget.usedBytes, 80);
  });

  it('fails a wait after max.block.ms and a record larger than the whole budget at once', async () => {
    const budget = new ByteBudget(100);
    assert.equal(budget.tryAcquire(100), true);
    await assert.rejects(budget.acquire(1, 20), TimeoutError);
    await assert.rejects(budget.acquire(101, 20), /exceeds buffer.memory/);
  });
});
