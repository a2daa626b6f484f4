import { runFaults } from '../harness/fault-run.js';
import { describeHistory } from '../harness/history-checker.js';

/**
 * `npm run bench -- cluster-failover`: failover time, from a partition leader's SIGKILL to the
 * acknowledgement of the first acks=all send begun after it (an idempotent kafkajs producer, RF 3,
 * min.insync.replicas=2, broker defaults: no lease override),
 * p50 and p99 over GREGOR_BENCH_CLUSTER_KILLS kills (20 by default), for Apache Kafka's three
 * KRaft nodes and Gregor's three brokers on etcd (GREGOR_BENCH_CLUSTER_TARGETS), one after the
 * other in one run. The killed node is restarted 2 s later, so a failover slower than that also
 * counts the restart.
 */
const kills = Number(process.env.GREGOR_BENCH_CLUSTER_KILLS ?? 20);
const targets = (process.env.GREGOR_BENCH_CLUSTER_TARGETS ?? 'kafka,gregor').split(',') as (
  | 'kafka'
  | 'gregor'
)[];

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

for (const target of targets) {
  console.log(`== ${target}: ${kills} leader SIGKILLs`);
  const result = await runFaults({
    target,
    faults: Array.from({ length: kills }, () => ({ kind: 'SIGKILL', target: 'leader' }) as const),
    log: (line) => console.log(line),
  });
  const times = result.faults
    .map((fault) => fault.failoverMs ?? Number.POSITIVE_INFINITY)
    .sort((left, right) => left - right);
  console.log(describeHistory(result.summary));
  for (const error of result.readerErrors) console.log(`reader failed: ${error}`);
  console.log(
    JSON.stringify({
      bench: 'cluster-failover',
      target,
      kills: times.length,
      p50Ms: Math.round(percentile(times, 0.5)),
      p99Ms: Math.round(percentile(times, 0.99)),
      maxMs: Math.round(times.at(-1) ?? Number.NaN),
      checkerValid: result.summary.valid,
      acked: result.summary.acked,
    }),
  );
  if (!result.summary.valid) process.exitCode = 1;
}
