import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runStorageFuzz } from './testing/fuzzer.js';

// GREGOR_FUZZ_SEEDS / GREGOR_FUZZ_OPERATIONS / GREGOR_FUZZ_FIRST_SEED widen the search locally.
const seeds = Number(process.env.GREGOR_FUZZ_SEEDS ?? 40);
const operations = Number(process.env.GREGOR_FUZZ_OPERATIONS ?? 150);
const firstSeed = Number(process.env.GREGOR_FUZZ_FIRST_SEED ?? 1);

it(`storage op-sequence fuzzer: ${seeds} seeds x ${operations} operations`, async () => {
  let crashes = 0;
  let midOperationCrashes = 0;
  let failedOnFullDisk = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const report = await runStorageFuzz({ seed, operations });
    crashes += report.crashes;
    midOperationCrashes += report.midOperationCrashes;
    failedOnFullDisk += report.operations.failedOnFullDisk ?? 0;
  }
  assert.ok(crashes > seeds, 'crashes happened');
  assert.ok(midOperationCrashes > 0, 'some crashes hit an operation in flight');
  assert.ok(failedOnFullDisk > seeds, `operations failed on a full disk (${failedOnFullDisk})`);
});
