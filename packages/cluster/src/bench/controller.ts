/**
 * `npm run bench -- cluster`: the controller on a real etcd (started here, loopback), three
 * registered brokers, for 10,000 and 100,000 partitions (RF 3):
 * - CreateTopics: partitions created per second (1,000 partitions per topic, 10,000 per request,
 *   Kafka's request limit), commits of ≤ 127 operations;
 * - broker loss: from revoking a broker's lease to every ISR without it and its leaderships moved
 *   (the controller's reconciliation: one CAS write per partition);
 * - controller failover: from the active controller resigning to the successor active, with its
 *   image listed and the cluster reconciled;
 * - image: listing and building the image of the whole cluster, as a broker does at start.
 * CLUSTER.md's etcd figures on this machine (etcd3 directly): 100k partition keys = 25 MB,
 * created at 21.6k keys/s; read + CAS 2.6 ms.
 */
import { EtcdMetadataStore } from '@gregor/metadata';
import { EtcdServer } from '@gregor/metadata/testing/etcd-server';
import { Controller } from '../controller/controller.js';
import { MetadataListener } from '../metadata-listener.js';
import { registerTestBroker, waitUntil } from '../testing/brokers.js';
import { RecordingLogger, testTopicId } from '../testing/images.js';

const sizes = (process.env.CLUSTER_BENCH_PARTITIONS ?? '10000,100000').split(',').map(Number);
const partitionsPerTopic = 1000;
const topicsPerRequest = 10;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function unplannedStepDowns(loggers: RecordingLogger[]): string {
  const lines = loggers
    .flatMap((logger) => logger.warnings())
    .filter((line) => / is no longer the active controller: /.test(line) && !/closing/.test(line));
  return lines.length === 0 ? 'none' : lines.join('; ');
}

async function run(partitionCount: number): Promise<void> {
  const etcd = await EtcdServer.start({ autoCompactionRevisions: 1_000_000 });
  const endpoints = [etcd.endpoint];
  const brokersStore = new EtcdMetadataStore({ endpoints });
  const firstStore = new EtcdMetadataStore({ endpoints });
  const secondStore = new EtcdMetadataStore({ endpoints });
  let topicIds = 0;
  const loggers = [new RecordingLogger(), new RecordingLogger()];
  const options = (nodeId: number) => ({
    nodeId,
    logger: loggers[nodeId - 1],
    // Long enough that a loaded machine's event-loop stalls do not end terms mid-measure.
    sessionTtlMs: 10_000,
    randomTopicId: () => testTopicId(`b${nodeId}x${++topicIds}`),
    leaderRebalance: 'off' as const,
    imageCatchUpTimeoutMs: 120_000,
  });
  try {
    const sessions = [];
    for (const id of [1, 2, 3])
      sessions.push(await registerTestBroker(brokersStore, id, { ttlMs: 60_000 }));
    const first = Controller.start(firstStore, options(1));
    await first.whenActive();
    const second = Controller.start(secondStore, options(2));

    const createStartMs = performance.now();
    let created = 0;
    for (let request = 0; created < partitionCount; request++) {
      const topics = [];
      for (let index = 0; index < topicsPerRequest && created < partitionCount; index++) {
        topics.push({
          name: `bench-${request}-${index}`,
          numPartitions: partitionsPerTopic,
          replicationFactor: 3,
          assignments: [],
          configs: [],
        });
        created += partitionsPerTopic;
      }
      const response = await first.createTopics({ topics, timeoutMs: 600_000 });
      const failed = response.topics.filter((topic) => topic.errorCode !== 0);
      if (failed.length > 0) throw new Error(`creation failed: ${JSON.stringify(failed[0])}`);
    }
    const createMs = performance.now() - createStartMs;

    const listStartMs = performance.now();
    const observer = await MetadataListener.start(brokersStore);
    const listMs = performance.now() - listStartMs;
    const listed = observer.image
      .topics()
      .reduce((sum, topic) => sum + observer.image.partitions(topic.name).length, 0);
    observer.close();

    const lossStartMs = performance.now();
    await sessions[2]!.close();
    await waitUntil(
      () => {
        const image = first.image ?? second.image;
        if (image === undefined) return false;
        return image
          .topics()
          .every((topic) =>
            image
              .partitions(topic.name)
              .every((partition) => !partition.isr.includes(3) && partition.leader !== 3),
          );
      },
      600_000,
      'broker 3 out of every ISR',
      100,
    );
    const lossMs = performance.now() - lossStartMs;

    const failoverStartMs = performance.now();
    await first.close();
    await second.whenActive();
    const activeMs = performance.now() - failoverStartMs;
    const failoverCheck = await second.createTopics({
      topics: [
        {
          name: 'after-failover',
          numPartitions: 1,
          replicationFactor: 2,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 60_000,
    });
    const failoverMs = performance.now() - failoverStartMs;
    if (failoverCheck.topics[0]!.errorCode !== 0) throw new Error('creation after failover failed');
    await second.close();

    process.stdout.write(
      [
        `cluster/controller on etcd ${partitionCount} partitions (RF 3, 3 brokers, ${partitionsPerTopic} per topic):`,
        `  create: ${seconds(createMs)} (${Math.round(partitionCount / (createMs / 1000))} partitions/s)`,
        `  image from a list of the whole cluster: ${seconds(listMs)} (${listed} partitions)`,
        `  broker lost -> every ISR without it, leaders moved: ${seconds(lossMs)} (${Math.round(partitionCount / (lossMs / 1000))} partition changes/s)`,
        `  controller resigns -> successor active: ${seconds(activeMs)}; -> its first request answered: ${seconds(failoverMs)}`,
        `  terms ended other than by the resignation: ${unplannedStepDowns(loggers)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all([brokersStore.close(), firstStore.close(), secondStore.close()]);
    await etcd.stop();
  }
}

for (const size of sizes) await run(size);
