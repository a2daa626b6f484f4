// kafkajs's "Getting Started" (kafka.js.org/docs/getting-started, tulios/kafkajs
// docs/GettingStarted.md at 2.2.4): produce one message, then consume it in a group from the
// beginning. Only the import differs from kafkajs (`require('kafkajs')` there); the brokers and
// a name prefix come from the environment where the documentation has placeholders. The program
// keeps consuming, as the documentation's does, until it is stopped.
import { Kafka } from '@gregor/client/kafkajs';

const kafka = new Kafka({
  clientId: 'my-app',
  brokers: process.env.KAFKA_BROKERS.split(','),
});
const prefix = process.env.TOPIC_PREFIX ?? '';

const producer = kafka.producer();

await producer.connect();
await producer.send({
  topic: `${prefix}test-topic`,
  messages: [{ value: 'Hello KafkaJS user!' }],
});

await producer.disconnect();

const consumer = kafka.consumer({ groupId: `${prefix}test-group` });

await consumer.connect();
await consumer.subscribe({ topic: `${prefix}test-topic`, fromBeginning: true });

await consumer.run({
  eachMessage: async ({ topic, partition, message }) => {
    console.log({
      value: message.value.toString(),
    });
  },
});
