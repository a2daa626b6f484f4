import { Kafka, logLevel } from 'kafkajs';
import { BrokerCluster } from '../harness/broker-cluster.js';
import type { FaultableCluster } from '../harness/cluster-queries.js';
import { ReferenceKafkaCluster } from '../harness/reference-kafka-cluster.js';
import { runEndToEndLatency, runProducerPerformance } from '../tools/kafka-performance-tools.js';

/**
 * `npm run bench -- cluster-throughput`: produce throughput (Kafka's ProducerPerformance, 100 B
 * records, acks=all) and end-to-end latency (Kafka's EndToEndLatency, acks=all) on three brokers,
 * RF 3 with min.insync.replicas=2 against RF 1, three partitions each, for Apache Kafka 4.4's three
 * KRaft nodes and Gregor's three brokers on etcd (GREGOR_BENCH_CLUSTER_TARGETS), one after the
 * other in one run, same tools, same topic layout. A row that fails prints its error.
 */
const targets = (process.env.GREGOR_BENCH_CLUSTER_TARGETS ?? 'kafka,gregor').split(',') as (
  | 'kafka'
  | 'gregor'
)[];
const records = Number(process.env.GREGOR_BENCH_CLUSTER_RECORDS ?? 500_000);
const latencyRecords = Number(process.env.GREGOR_BENCH_CLUSTER_LATENCY_RECORDS ?? 2_000);

async function createTopics(bootstraps: readonly string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'cluster-throughput',
    brokers: [...bootstraps],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        { topic: 'rf1', numPartitions: 3, replicationFactor: 1 },
        {
          topic: 'rf3',
          numPartitions: 3,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
        { topic: 'rf1-latency', numPartitions: 1, replicationFactor: 1 },
        {
          topic: 'rf3-latency',
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: true,
      timeout: 30_000,
    });
  } finally {
    await admin.disconnect();
  }
}

async function measure(target: 'kafka' | 'gregor'): Promise<void> {
  const cluster: FaultableCluster =
    target === 'gregor'
      ? await BrokerCluster.start({ brokers: 3 })
      : await ReferenceKafkaCluster.start({ nodes: 3 });
  try {
    const bootstrap = cluster.bootstraps.join(',');
    await createTopics(cluster.bootstraps);
    for (const topic of ['rf1', 'rf3']) {
      try {
        const produced = await runProducerPerformance({
          bootstrap,
          topic,
          records,
          recordBytes: 100,
          acks: 'all',
          warmUpRecords: Math.floor(records / 5),
          properties: { 'linger.ms': '5', 'enable.idempotence': 'true' },
          timeoutMs: 120_000,
        });
        const summary = produced.steadyState ?? produced.total;
        console.log(
          `${target} ${topic} acks=all produce: ${Math.round(summary.recordsPerSecond)} records/s, ${summary.mebibytesPerSecond.toFixed(1)} MiB/s, p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms`,
        );
        console.log(
          JSON.stringify({
            bench: 'cluster-throughput',
            target,
            topic,
            recordsPerSecond: summary.recordsPerSecond,
            mebibytesPerSecond: summary.mebibytesPerSecond,
            p50Ms: summary.p50Ms,
            p99Ms: summary.p99Ms,
          }),
        );
      } catch (error) {
        console.log(`${target} ${topic} produce failed: ${String(error).split('\n')[0]}`);
      }
      try {
        const latency = await runEndToEndLatency({
          bootstrap,
          topic: `${topic}-latency`,
          records: latencyRecords,
          recordBytes: 100,
          acks: 'all',
          timeoutMs: 60_000,
        });
        console.log(
          `${target} ${topic} acks=all end-to-end: average ${latency.averageMs.toFixed(2)} ms, p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`,
        );
        console.log(
          JSON.stringify({
            bench: 'cluster-latency',
            target,
            topic,
            averageMs: latency.averageMs,
            p50Ms: latency.p50Ms,
            p99Ms: latency.p99Ms,
          }),
        );
      } catch (error) {
        console.log(`${target} ${topic} end-to-end failed: ${String(error).split('\n')[0]}`);
      }
    }
  } finally {
    await cluster.dispose();
  }
}

for (const target of targets) await measure(target);
