import * as gregorClient from '@gregor/client';
import type { BenchDriver, BenchProducer, ConsumeOptions } from './driver.js';

/** The part of @gregor/client the bench uses: this build's, or an older build's (`--baseline`). */
export interface GregorClientModule {
  Producer: typeof gregorClient.Producer;
  Consumer: typeof gregorClient.Consumer;
}

/** @gregor/client with its defaults (idempotence on, linger 5 ms) and acks=all. */
export const gregorDriver: BenchDriver = gregorDriverOf(gregorClient, '@gregor/client 0.1.0');

export function gregorDriverOf(
  { Producer, Consumer }: GregorClientModule,
  label: string,
): BenchDriver {
  return {
    label,
    async producer(bootstrap: string): Promise<BenchProducer> {
      const producer = new Producer({ bootstrapServers: [bootstrap], acks: 'all' });
      return {
        async sendOne(topic, value) {
          await producer.send({ topic, value });
        },
        async sendMany(topic, values) {
          await Promise.all(values.map((value) => producer.send({ topic, value })));
        },
        close: () => producer.close(),
      };
    },
    async consume(bootstrap: string, options: ConsumeOptions) {
      const consumer = new Consumer({
        bootstrapServers: [bootstrap],
        groupId: options.group,
        autoOffsetReset: 'earliest',
      });
      const admin = await consumer.cluster.topic(options.topic, 30_000);
      consumer.assign(
        admin.partitions.map((partition) => ({
          topic: options.topic,
          partition: partition.partition,
          offset: 'earliest' as const,
        })),
      );
      let running = true;
      const loop = (async () => {
        while (running) {
          const records = await consumer.poll();
          if (records.length > 0) options.onValues(records.map((record) => record.value));
        }
      })().catch((error: unknown) => {
        if (running) throw error;
      });
      return {
        async close() {
          running = false;
          consumer.close();
          await loop;
        },
      };
    },
  };
}
