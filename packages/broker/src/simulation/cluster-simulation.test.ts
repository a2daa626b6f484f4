/**
 * The seeded whole-cluster simulation (testing/cluster-simulation.ts): a few hundred seeds, each
 * a cluster of 3–5 brokers under random faults with the CLUSTER.md §3 invariants checked after
 * every step and every acked record looked for on every replica after healing. A failing seed is
 * printed with its last steps; `GREGOR_SIM_SEED=n` runs that seed alone. Seeds that do not catch
 * up after healing are listed as diagnostics, not failures: a leader never learns a partition
 * epoch the controller bumped without a leader change (DESIGN.md "Cluster simulation").
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeFailure, runSimulation } from './testing/cluster-simulation.js';

const replaySeed = process.env.GREGOR_SIM_SEED;
const seeds =
  replaySeed !== undefined
    ? [Number(replaySeed)]
    : Array.from({ length: Number(process.env.GREGOR_SIM_SEEDS ?? 200) }, (_, index) => index + 1);
const steps = Number(process.env.GREGOR_SIM_STEPS ?? 120);

it(`${seeds.length} seeds of ${steps} steps keep every invariant`, async (context) => {
  const failures: string[] = [];
  const notConverged: number[] = [];
  let acked = 0;
  for (const seed of seeds) {
    const result = await runSimulation(seed, { steps });
    acked += result.ackedCount;
    if (result.violations.length > 0) {
      failures.push(describeFailure(result, replaySeed === undefined ? 40 : 400));
    } else if (!result.converged) {
      notConverged.push(seed);
      if (replaySeed !== undefined) context.diagnostic(describeFailure(result, 400));
    }
  }
  if (notConverged.length > 0)
    context.diagnostic(`not caught up after healing: seeds ${notConverged}`);
  assert.ok(acked > seeds.length, `only ${acked} acks over ${seeds.length} seeds`);
  assert.ok(
    notConverged.length * 2 < seeds.length,
    `${notConverged.length} seeds did not catch up`,
  );
  assert.deepEqual(failures, []);
});
