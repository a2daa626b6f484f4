import { Kafka, logLevel } from 'kafkajs';
import type { BenchDriver, BenchProducer, ConsumeOptions } from './driver.js';

/** kafkajs 2.2.4 with its defaults and acks=all; consumption through `eachBatch`. */
export const kafkajsDriver: BenchDriver = {
  label: 'kafkajs 2.2.4',
  async producer(bootstrap: string): Promise<BenchProducer> {
    const kafka = new Kafka({
      brokers: [bootstrap],
      clientId: 'bench',
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return {
      async sendOne(topic, value) {
        await producer.send({ topic, acks: -1, messages: [{ value }] });
      },
      async sendMany(topic, values) {
        await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
      },
      close: () => producer.disconnect(),
    };
  },
  async consume(bootstrap: string, options: ConsumeOptions) {
    const kafka = new Kafka({
      brokers: [bootstrap],
      clientId: 'bench',
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: options.group });
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        options.onValues(batch.messages.map((message) => message.value));
      },
    });
    return { close: () => consumer.disconnect() };
  },
};
