import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runStorageFuzz } from './testing/fuzzer.js';

// GREGOR_FUZZ_SEEDS / GREGOR_FUZZ_OPERATIONS widen the search locally; CI keeps it short.
const seeds = Number(process.env.GREGOR_FUZZ_SEEDS ?? 40);
const operations = Number(process.env.GREGOR_FUZZ_OPERATIONS ?? 150);
const firstSeed = Number(process.env.GREGOR_FUZZ_FIRST_SEED ?? 1);

it(`storage op-sequence fuzzer: ${seeds} seeds x ${operations} operations`, async () => {
  let crashes = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const report = await runStorageFuzz({ seed, operations });
    crashes += report.crashes;
  }
  assert.ok(crashes > 0);
});
