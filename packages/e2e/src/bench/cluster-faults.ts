import { faultSchedule, runFaults } from '../harness/fault-run.js';
import { describeHistory } from '../harness/history-checker.js';

/**
 * `npm run bench -- cluster-faults`: the fault run (harness/fault-run.ts) with
 * GREGOR_BENCH_CLUSTER_FAULTS faults (24 by default: leader and controller, each by SIGKILL,
 * SIGSTOP past its lease and SIGTERM, four times over). Prints every fault with its failover time
 * (fault to next acknowledged acks=all send), the checker's summary and a JSON line; exits 1 when
 * the checker finds a problem.
 */
const count = Number(process.env.GREGOR_BENCH_CLUSTER_FAULTS ?? 24);
/** `kafka`, `gregor` or both (the default), one after the other in one run. */
const targets = (process.env.GREGOR_BENCH_CLUSTER_TARGETS ?? 'kafka,gregor').split(',') as (
  | 'kafka'
  | 'gregor'
)[];

function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

async function main(): Promise<void> {
  for (const target of targets) {
    console.log(`== ${target}: ${count} faults`);
    await runOne(target);
  }
}

async function runOne(target: 'kafka' | 'gregor'): Promise<void> {
  const result = await runFaults({
    target,
    faults: faultSchedule(count),
    log: (line) => console.log(line),
  });
  for (const fault of result.faults) {
    console.log(
      `${fault.kind} ${fault.target} broker ${fault.victim}: next ack after ${fault.failoverMs === undefined ? 'none' : `${Math.round(fault.failoverMs)} ms`}`,
    );
  }
  console.log(describeHistory(result.summary));
  for (const error of result.readerErrors) console.log(`reader failed: ${error}`);
  const byKind: Record<string, { p50?: number; p99?: number; faults: number }> = {};
  for (const kind of ['SIGKILL', 'SIGSTOP', 'SIGTERM']) {
    for (const target of ['leader', 'controller']) {
      const times = result.faults
        .filter((fault) => fault.kind === kind && fault.target === target)
        .map((fault) => fault.failoverMs ?? Number.POSITIVE_INFINITY)
        .sort((left, right) => left - right);
      byKind[`${kind} ${target}`] = {
        faults: times.length,
        p50: percentile(times, 0.5),
        p99: percentile(times, 0.99),
      };
    }
  }
  console.log(
    JSON.stringify({
      bench: 'cluster-faults',
      target,
      faults: result.faults.length,
      durationMs: Math.round(result.durationMs),
      valid: result.summary.valid,
      counts: result.summary.counts,
      acked: result.summary.acked,
      unknown: result.summary.unknown,
      failoverMs: byKind,
    }),
  );
  if (!result.summary.valid) process.exitCode = 1;
}

await main();
