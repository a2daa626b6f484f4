import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { GoClient } from './harness/go-client.js';
import { placedRecordFromEvent } from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/**
 * sarama 1.22.1 (Debian's golang-github-shopify-sarama-dev, speaking Kafka 2.2's request
 * versions): ClusterAdmin creates the topic, the SyncProducer sends with acks=all, a
 * ConsumerGroup consumes and commits the marked offsets when its session ends, and a second
 * member run resumes from them.
 */

let broker: BrokerProcess;
let sarama: GoClient;
before(async () => {
  sarama = await GoClient.build('sarama');
  broker = await BrokerProcess.start({ label: 'broker(sarama)' });
});
after(async () => {
  await broker?.dispose();
  await sarama?.dispose();
});

test('sarama 1.22.1: produce, consume in a group, commit, resume from the commit', {
  timeout: 60_000,
}, async () => {
  const bootstrap = broker.bootstrap;
  await runRoundTripScenario(
    {
      async createTopic(options) {
        await sarama.run('create-topic', { bootstrap, ...options }, { timeoutMs: 15_000 });
      },
      async produce(options) {
        const events = await sarama.run(
          'produce',
          { bootstrap, topic: options.topic, count: options.count, prefix: options.prefix },
          { timeoutMs: 15_000 },
        );
        return events.filter((event) => event.event === 'ack').map(placedRecordFromEvent);
      },
      async consumeGroup(options) {
        const events = await sarama.run(
          'consume-group',
          { bootstrap, ...options, timeoutS: 20 },
          { timeoutMs: 30_000 },
        );
        return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
      },
      async committedOffsets(options) {
        const events = await sarama.run(
          'committed',
          {
            bootstrap,
            topic: options.topic,
            group: options.group,
            partitions: Array.from({ length: options.partitions }, (_, partition) => partition),
          },
          { timeoutMs: 15_000 },
        );
        const offsets = (events.find((event) => event.event === 'committed-offsets')?.offsets ??
          []) as { partition: number; offset: number }[];
        return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
      },
    },
    { name: 'sarama', partitions: 3, firstCount: 300, secondCount: 90 },
  );
});
