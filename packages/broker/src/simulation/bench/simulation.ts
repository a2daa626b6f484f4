/**
 * `npm run bench -- simulation`: thousands of seeds of the whole-cluster simulation
 * (GREGOR_SIM_SEEDS, default 2,000, from GREGOR_SIM_FIRST_SEED, default 1; GREGOR_SIM_STEPS
 * steps each, default 200; followers are held to their own HW too unless GREGOR_SIM_STRICT=0). Prints
 * every failing seed with its last steps, then one summary line; exits 1 when a seed failed.
 */
import { describeFailure, runSimulation } from '../testing/cluster-simulation.js';

const seedCount = Number(process.env.GREGOR_SIM_SEEDS ?? 2_000);
const firstSeed = Number(process.env.GREGOR_SIM_FIRST_SEED ?? 1);
const steps = Number(process.env.GREGOR_SIM_STEPS ?? 200);
const strict = process.env.GREGOR_SIM_STRICT !== '0';

const startedMs = performance.now();
let failed = 0;
let notConverged = 0;
let acked = 0;
let faults = 0;
for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
  const result = await runSimulation(seed, { steps, strict });
  acked += result.ackedCount;
  faults += result.faultCount;
  if (result.violations.length > 0) {
    failed++;
    console.log(describeFailure(result, 80));
  } else if (!result.converged) {
    notConverged++;
    console.log(describeFailure(result, 30));
  }
}
const seconds = (performance.now() - startedMs) / 1000;
console.log(
  `simulation: ${seedCount} seeds × ${steps} steps${strict ? '' : ' (not strict)'}: ${failed} violating, ${notConverged} not converged; ${acked} acks, ${faults} faults, ${seconds.toFixed(1)} s`,
);
if (failed + notConverged > 0) process.exitCode = 1;
