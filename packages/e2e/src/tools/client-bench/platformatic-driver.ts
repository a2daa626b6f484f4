import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import type { BenchDriver, BenchProducer, ConsumeOptions } from './driver.js';

/** @platformatic/kafka 1.35.0 (the newest 1.x; 2.x needs Node 22) with acks=all. */
export const platformaticDriver: BenchDriver = {
  label: '@platformatic/kafka 1.35.0',
  async producer(bootstrap: string): Promise<BenchProducer> {
    const producer = new Producer({ clientId: 'bench', bootstrapBrokers: [bootstrap] });
    return {
      async sendOne(topic, value) {
        await producer.send({ messages: [{ topic, value }], acks: ProduceAcks.ALL });
      },
      async sendMany(topic, values) {
        await producer.send({
          messages: values.map((value) => ({ topic, value })),
          acks: ProduceAcks.ALL,
        });
      },
      close: () => producer.close(),
    };
  },
  async consume(bootstrap: string, options: ConsumeOptions) {
    const consumer = new Consumer({
      clientId: 'bench',
      bootstrapBrokers: [bootstrap],
      groupId: options.group,
    });
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: 'earliest',
      autocommit: true,
    });
    const loop = (async () => {
      for await (const message of stream) options.onValues([message.value ?? null]);
    })();
    return {
      async close() {
        await stream.close();
        await loop.catch(() => undefined);
        await consumer.close(true);
      },
    };
  },
};
