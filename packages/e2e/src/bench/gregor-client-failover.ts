import type { GroupProtocol } from '@gregor/client';
import { BrokerCluster } from '../harness/broker-cluster.js';
import type { FaultableCluster } from '../harness/cluster-queries.js';
import {
  exactlyOnceProblems,
  type FailoverRunResult,
  runClientFailover,
} from '../harness/gregor-client-failover.js';
import { ReferenceKafkaCluster } from '../harness/reference-kafka-cluster.js';

/**
 * `npm run bench -- gregor-client-failover`: the client failover run of
 * `gregor-client-cluster.test.ts` on three Gregor brokers (etcd, 2 s leases) and on three Apache
 * Kafka 4.4 KRaft nodes, with the classic group protocol and KIP-848's. Prints per run whether
 * every acknowledged record was delivered exactly once and the longest wait for an ack per
 * partition after the SIGKILL.
 */

function summary(label: string, result: FailoverRunResult): string {
  const problems = exactlyOnceProblems(result);
  const verdict = problems.length === 0 ? 'exactly once' : `FAILED: ${problems.join('; ')}`;
  return `${label}: killed broker ${result.victim} (coordinator: ${result.victimWasCoordinator}, led ${result.victimLedPartitions.join(',')}); ${result.acked.length} acked, ${result.delivered.length} delivered: ${verdict}; longest ack gap per partition ${result.longestAckGapMsByPartition.join(' / ')} ms; ${result.commitErrors.length} failed commits`;
}

async function run(
  label: string,
  start: () => Promise<FaultableCluster>,
  groupProtocol: GroupProtocol,
): Promise<string> {
  const cluster = await start();
  try {
    const result = await runClientFailover(cluster, { groupProtocol, afterKillMs: 15_000 });
    return summary(`${label} ${groupProtocol}`, result);
  } finally {
    await cluster.dispose();
  }
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const gregor = () =>
    BrokerCluster.start({
      brokers: 3,
      sessionTimeoutMs: 2_000,
      extraArguments: ['--override', 'offsets.topic.replication.factor=3'],
    });
  const kafka = () => ReferenceKafkaCluster.start({ nodes: 3 });
  for (const groupProtocol of ['classic', 'consumer'] as const) {
    for (const [label, start] of [
      ['gregor', gregor],
      ['kafka', kafka],
    ] as const) {
      lines.push(await run(label, start, groupProtocol));
      console.log(lines.at(-1));
    }
  }
  console.log(`\n${lines.join('\n')}`);
}

await main();
