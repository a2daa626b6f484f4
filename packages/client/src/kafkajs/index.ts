// `@gregor/client/kafkajs`: kafkajs 2.2.4's API on @gregor/client, so a kafkajs application
// switches by changing its import.

export { Admin, ConfigResourceTypes, ConfigSource, ResourceTypes } from './admin.js';
export type { KafkaConfig, RetryOptions } from './config.js';
export * from './errors.js';
export { Kafka } from './kafka.js';
export { type LogCreator, type LogEntry, type Logger, logLevel } from './logger.js';
export { type ICustomPartitioner, Partitioners, type PartitionMetadata } from './partitioners.js';
export {
  CompressionCodecs,
  CompressionTypes,
  type Message,
  Producer,
  type ProducerBatch,
  type ProducerConfig,
  type ProducerRecord,
  type RecordMetadata,
} from './producer.js';
