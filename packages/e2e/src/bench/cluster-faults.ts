import { availableParallelism, loadavg } from 'node:os';
import type { FaultProducerName } from '../harness/fault-producers.js';
import { type FaultRecord, faultSchedule, runFaults } from '../harness/fault-run.js';
import { describeHistory } from '../harness/history-checker.js';

/**
 * `npm run bench -- cluster-faults`: the fault run (harness/fault-run.ts) with
 * GREGOR_BENCH_CLUSTER_FAULTS faults (24 by default: leader and controller, each by SIGKILL,
 * SIGSTOP past its lease and SIGTERM, four times over) and both producers (kafkajs and
 * librdkafka; GREGOR_BENCH_CLUSTER_PRODUCERS). Prints every fault with its failover time (fault
 * to next acknowledged acks=all send, per producer), the checker's summary, acks per producer,
 * the machine's load average over the run and a JSON line; exits 1 when the checker finds a
 * problem.
 */
const count = Number(process.env.GREGOR_BENCH_CLUSTER_FAULTS ?? 24);
/** `kafka`, `gregor` or both (the default), one after the other in one run. */
const targets = (process.env.GREGOR_BENCH_CLUSTER_TARGETS ?? 'kafka,gregor').split(',') as (
  | 'kafka'
  | 'gregor'
)[];

const producers = (process.env.GREGOR_BENCH_CLUSTER_PRODUCERS ?? 'kafkajs,librdkafka').split(
  ',',
) as FaultProducerName[];

function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

/** p50, p99 and max of one fault kind's failover times; a fault without a next ack counts as infinite. */
function failoverPercentiles(times: readonly (number | undefined)[]): {
  p50?: number;
  p99?: number;
  max?: number;
} {
  const sorted = times
    .map((time) => (time === undefined ? Number.POSITIVE_INFINITY : Math.round(time)))
    .sort((left, right) => left - right);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1),
  };
}

async function main(): Promise<void> {
  for (const target of targets) {
    console.log(`== ${target}: ${count} faults`);
    await runOne(target);
  }
}

async function runOne(target: 'kafka' | 'gregor'): Promise<void> {
  // The 1-minute load average every 5 s: the machine is shared, and its load explains timings.
  const loads: number[] = [loadavg()[0]!];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 5_000);
  const result = await runFaults({
    target,
    faults: faultSchedule(count),
    producers,
    log: (line) => console.log(line),
  }).finally(() => clearInterval(sampler));
  const shown = (time: number | undefined) =>
    time === undefined ? 'none' : `${Math.round(time)} ms`;
  for (const fault of result.faults) {
    const perProducer = producers
      .map((producer) => `${producer} ${shown(fault.failoverMsByProducer[producer])}`)
      .join(', ');
    console.log(
      `${fault.kind} ${fault.target} broker ${fault.victim}: next ack after ${shown(fault.failoverMs)} (${perProducer})`,
    );
  }
  console.log(describeHistory(result.summary));
  for (const error of result.readerErrors) console.log(`reader failed: ${error}`);
  for (const tally of result.producers) {
    console.log(
      `${tally.name}: ${tally.sends} sends, ${tally.acked} acked (${tally.ackedWithoutOffset} without an offset), ${tally.unknown} unknown`,
    );
    for (const error of tally.errors) console.log(`  ${tally.name} ${error}`);
  }
  const load = {
    cpus: availableParallelism(),
    min: Math.min(...loads),
    mean: loads.reduce((sum, value) => sum + value, 0) / loads.length,
    max: Math.max(...loads),
  };
  console.log(
    `load average (1 min) over the run: min ${load.min.toFixed(2)}, mean ${load.mean.toFixed(2)}, max ${load.max.toFixed(2)} on ${load.cpus} cpus`,
  );
  const byKind: Record<string, Record<string, ReturnType<typeof failoverPercentiles>>> = {};
  for (const kind of ['SIGKILL', 'SIGSTOP', 'SIGTERM']) {
    for (const target of ['leader', 'controller']) {
      const faults = result.faults.filter(
        (fault) => fault.kind === kind && fault.target === target,
      );
      const row: Record<string, ReturnType<typeof failoverPercentiles>> = {
        any: failoverPercentiles(faults.map((fault) => fault.failoverMs)),
      };
      for (const producer of producers) {
        row[producer] = failoverPercentiles(
          faults.map((fault: FaultRecord) => fault.failoverMsByProducer[producer]),
        );
      }
      byKind[`${kind} ${target}`] = row;
      console.log(
        `${kind} ${target}: ${Object.entries(row)
          .map(([who, figures]) => `${who} p50 ${shown(figures.p50)} max ${shown(figures.max)}`)
          .join('; ')} (${faults.length} faults)`,
      );
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
      producers: result.producers,
      readerErrors: result.readerErrors.length,
      load,
      failoverMs: byKind,
    }),
  );
  if (!result.summary.valid || result.readerErrors.length > 0) process.exitCode = 1;
}

await main();
