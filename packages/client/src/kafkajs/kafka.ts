// kafkajs's entry point: `new Kafka(config)` and its factories. Nothing connects until a
// producer, consumer or admin's `connect()`.

import { Admin, type AdminConfig } from './admin.js';
import type { KafkaConfig, KafkaContext } from './config.js';
import { Consumer, type ConsumerConfig } from './consumer.js';
import { KafkaJSNonRetriableError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { Producer, type ProducerConfig } from './producer.js';

export class Kafka {
  private readonly context: KafkaContext;

  constructor(config: KafkaConfig) {
    if (config === undefined || config.brokers === undefined) {
      throw new KafkaJSNonRetriableError(
        'Failed to connect: expected brokers array and got nothing',
      );
    }
    this.context = {
      config,
      logger: createLogger({ level: config.logLevel, logCreator: config.logCreator }),
    };
  }

  producer(config: ProducerConfig = {}): Producer {
    return new Producer(this.context, config);
  }

  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.context, config);
  }

  admin(config: AdminConfig = {}): Admin {
    return new Admin(this.context, config);
  }

  logger(): Logger {
    return this.context.logger;
  }
}
