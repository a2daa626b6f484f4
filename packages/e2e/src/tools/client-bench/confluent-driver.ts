import type { BenchDriver, BenchProducer, ConsumeOptions } from './driver.js';
import { requireNative } from './native-clients.js';

/**
 * @confluentinc/kafka-javascript 1.10.1 (librdkafka 2.15.1) through its kafkajs-style API (the one
 * its documentation recommends), acks=all, librdkafka's defaults otherwise (linger 5 ms).
 */

interface ConfluentMessage {
  value: Buffer | null;
}
interface ConfluentProducer {
  connect(): Promise<void>;
  send(options: { topic: string; messages: { value: Buffer }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface ConfluentConsumer {
  connect(): Promise<void>;
  subscribe(options: { topics: string[] }): Promise<void>;
  run(options: {
    eachBatch: (payload: { batch: { messages: ConfluentMessage[] } }) => Promise<void>;
  }): Promise<void>;
  disconnect(): Promise<void>;
}
interface ConfluentKafka {
  producer(options: unknown): ConfluentProducer;
  consumer(options: unknown): ConfluentConsumer;
}
interface ConfluentModule {
  KafkaJS: { Kafka: new (options: unknown) => ConfluentKafka; logLevel: { NOTHING: number } };
}

function kafka(bootstrap: string): ConfluentKafka {
  const module = requireNative('@confluentinc/kafka-javascript') as ConfluentModule;
  return new module.KafkaJS.Kafka({
    kafkaJS: { brokers: [bootstrap], logLevel: module.KafkaJS.logLevel.NOTHING },
  });
}

export const confluentDriver: BenchDriver = {
  label: '@confluentinc/kafka-javascript 1.10.1',
  async producer(bootstrap: string): Promise<BenchProducer> {
    const producer = kafka(bootstrap).producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    return {
      async sendOne(topic, value) {
        await producer.send({ topic, messages: [{ value }] });
      },
      async sendMany(topic, values) {
        await producer.send({ topic, messages: values.map((value) => ({ value })) });
      },
      close: () => producer.disconnect(),
    };
  },
  async consume(bootstrap: string, options: ConsumeOptions) {
    const consumer = kafka(bootstrap).consumer({
      kafkaJS: { groupId: options.group, fromBeginning: true },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic] });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        options.onValues(batch.messages.map((message) => message.value));
      },
    });
    return { close: () => consumer.disconnect() };
  },
};
