// kafkajs's consumer examples, "Consuming Messages" (kafka.js.org/docs/consuming, tulios/kafkajs
// docs/Consuming.md at 2.2.4): eachBatch with eachBatchAutoResolve, printing every message as the
// documentation does, then a consumer with autoCommit off that commits with commitOffsets, then
// seek. Only the import differs from kafkajs; brokers and names come from the environment, and
// the program prints 'done' and disconnects after the messages the test produced beforehand
// (`EXPECTED` of them) have been seen, where the documentation's consumer runs forever.
import kafkajs from '@gregor/client/kafkajs';

const { Kafka } = kafkajs;

const kafka = new Kafka({ clientId: 'my-app', brokers: process.env.KAFKA_BROKERS.split(',') });
const prefix = process.env.TOPIC_PREFIX ?? '';
const expected = Number(process.env.EXPECTED ?? '6');
const topic = `${prefix}topic-A`;

let seen = 0;
let allSeen;
const finished = new Promise((resolve) => {
  allSeen = resolve;
});

const consumer = kafka.consumer({ groupId: `${prefix}my-group` });
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await consumer.run({
  eachBatchAutoResolve: true,
  eachBatch: async ({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    uncommittedOffsets,
    isRunning,
    isStale,
    pause,
  }) => {
    for (const message of batch.messages) {
      console.log({
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        message: {
          offset: message.offset,
          key: message.key.toString(),
          value: message.value.toString(),
          headers: message.headers,
        },
      });

      resolveOffset(message.offset);
      await heartbeat();
      seen++;
    }
    if (seen >= expected) allSeen();
  },
});
await finished;
await consumer.disconnect();

// Manual committing
const manual = kafka.consumer({ groupId: `${prefix}manual-group` });
await manual.connect();
await manual.subscribe({ topics: [topic], fromBeginning: true });
let manualSeen = 0;
let manualDone;
const manualFinished = new Promise((resolve) => {
  manualDone = resolve;
});
await manual.run({
  autoCommit: false,
  eachMessage: async ({ topic, partition, message }) => {
    manualSeen++;
    if (manualSeen === expected) manualDone();
  },
});
await manualFinished;
await manual.commitOffsets([
  { topic, partition: 0, offset: '1' },
  { topic, partition: 1, offset: '3' },
]);
await manual.disconnect();

const admin = kafka.admin();
await admin.connect();
console.log(
  'committed',
  JSON.stringify(await admin.fetchOffsets({ groupId: `${prefix}manual-group`, topics: [topic] })),
);
console.log(
  'auto-committed',
  JSON.stringify(await admin.fetchOffsets({ groupId: `${prefix}my-group`, topics: [topic] })),
);
await admin.disconnect();
console.log('done');
