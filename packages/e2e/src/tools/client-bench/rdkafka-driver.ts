import type { BenchDriver, BenchProducer, ConsumeOptions } from './driver.js';
import { requireNative } from './native-clients.js';

/**
 * node-rdkafka 3.6.1 (librdkafka 2.12.0): HighLevelProducer (a callback per record), acks=all,
 * librdkafka's defaults otherwise; KafkaConsumer in batch mode (`consume(n, callback)` in a loop).
 */

interface RdkafkaMessage {
  value: Buffer | null;
}
interface RdkafkaClient {
  connect(options: unknown, callback: (error: Error | null) => void): void;
  disconnect(callback: () => void): void;
}
interface RdkafkaProducer extends RdkafkaClient {
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: Buffer | null,
    timestamp: number | null,
    callback: (error: Error | null) => void,
  ): void;
}
interface RdkafkaConsumer extends RdkafkaClient {
  subscribe(topics: string[]): void;
  setDefaultConsumeTimeout(timeoutMs: number): void;
  consume(count: number, callback: (error: Error | null, messages: RdkafkaMessage[]) => void): void;
}
interface RdkafkaModule {
  HighLevelProducer: new (config: Record<string, unknown>) => RdkafkaProducer;
  KafkaConsumer: new (
    config: Record<string, unknown>,
    topicConfig: Record<string, unknown>,
  ) => RdkafkaConsumer;
}

function load(): RdkafkaModule {
  return requireNative('node-rdkafka') as RdkafkaModule;
}

function connect(client: RdkafkaClient): Promise<void> {
  return new Promise((resolve, reject) =>
    client.connect({}, (error) => (error ? reject(error) : resolve())),
  );
}

function disconnect(client: RdkafkaClient): Promise<void> {
  return new Promise((resolve) => client.disconnect(() => resolve()));
}

export const rdkafkaDriver: BenchDriver = {
  label: 'node-rdkafka 3.6.1',
  async producer(bootstrap: string): Promise<BenchProducer> {
    const producer = new (load().HighLevelProducer)({
      'metadata.broker.list': bootstrap,
      acks: -1,
    });
    await connect(producer);
    const sendOne = (topic: string, value: Buffer) =>
      new Promise<void>((resolve, reject) =>
        producer.produce(topic, null, value, null, null, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    return {
      sendOne,
      async sendMany(topic, values) {
        await Promise.all(values.map((value) => sendOne(topic, value)));
      },
      close: () => disconnect(producer),
    };
  },
  async consume(bootstrap: string, options: ConsumeOptions) {
    const consumer = new (load().KafkaConsumer)(
      { 'metadata.broker.list': bootstrap, 'group.id': options.group },
      { 'auto.offset.reset': 'earliest' },
    );
    await connect(consumer);
    consumer.subscribe([options.topic]);
    consumer.setDefaultConsumeTimeout(10);
    let running = true;
    const next = (): void => {
      if (!running) return;
      consumer.consume(1000, (error, messages) => {
        if (!error && messages.length > 0)
          options.onValues(messages.map((message) => message.value));
        setImmediate(next);
      });
    };
    next();
    return {
      async close() {
        running = false;
        await disconnect(consumer);
      },
    };
  },
};
