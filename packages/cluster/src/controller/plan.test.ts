import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packUnits, type Unit } from './plan.js';

const unit = (...keys: string[]): Unit => ({
  operations: keys.map((key) => ({ type: 'put', key, value: Buffer.alloc(0) })),
});

test('plan: units pack in order into transactions of at most 127 operations, never split', () => {
  const units = [
    unit('a'),
    ...Array.from({ length: 126 }, (_, index) => unit(`p${index}`)),
    unit('x', 'y'),
    unit('z'),
  ];
  const sizes = packUnits(units).map((batch) =>
    batch.units.reduce((sum, each) => sum + each.operations.length, 0),
  );
  assert.deepEqual(sizes, [127, 3]);
  assert.deepEqual(packUnits([]), []);
  assert.throws(
    () => packUnits([unit(...Array.from({ length: 128 }, (_, index) => `k${index}`))]),
    RangeError,
  );
});

test('plan: a key repeated starts a new transaction (etcd refuses a key twice in one)', () => {
  const batches = packUnits([unit('a'), unit('b'), unit('a'), unit('c')]);
  assert.deepEqual(
    batches.map((batch) =>
      batch.units.flatMap((each) => each.operations.map((operation) => operation.key)),
    ),
    [
      ['a', 'b'],
      ['a', 'c'],
    ],
  );
});

test('plan: independent and ordered units never share a transaction', () => {
  const independent = (key: string): Unit => ({ ...unit(key), independent: true });
  const batches = packUnits([
    independent('p0'),
    independent('p1'),
    unit('topic'),
    independent('q0'),
  ]);
  assert.deepEqual(
    batches.map((batch) => [batch.independent, batch.units.length]),
    [
      [true, 2],
      [false, 1],
      [true, 1],
    ],
  );
});
