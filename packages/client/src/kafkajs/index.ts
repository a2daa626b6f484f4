// `@gregor/client/kafkajs`: kafkajs 2.2.4's API on @gregor/client, so a kafkajs application
// switches by changing its import. Named exports, and a default export with the same members
// (what `import kafkajs from 'kafkajs'` gives an ES module, kafkajs being CommonJS).

import { Admin, ConfigResourceTypes, ConfigSource } from './admin.js';
import { AssignerProtocol } from './assigner-protocol.js';
import { PartitionAssigners } from './assigners.js';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
} from './constants.js';
import { Consumer } from './consumer.js';
import * as errors from './errors.js';
import { Kafka } from './kafka.js';
import { logLevel } from './logger.js';
import { Partitioners } from './partitioners.js';
import { CompressionCodecs, CompressionTypes, Producer } from './producer.js';

export { Admin, ConfigResourceTypes, ConfigSource } from './admin.js';
export { AssignerProtocol } from './assigner-protocol.js';
export { type PartitionAssigner, PartitionAssigners } from './assigners.js';
export type { KafkaConfig, RetryOptions } from './config.js';
export {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
} from './constants.js';
export {
  type Batch,
  Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type EachBatchPayload,
  type EachMessagePayload,
  type KafkaMessage,
} from './consumer.js';
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
export { Transaction } from './transaction.js';

export default {
  ...errors,
  Kafka,
  Admin,
  Producer,
  Consumer,
  PartitionAssigners,
  AssignerProtocol,
  Partitioners,
  logLevel,
  CompressionTypes,
  CompressionCodecs,
  ConfigResourceTypes,
  ConfigSource,
  AclResourceTypes,
  AclOperationTypes,
  AclPermissionTypes,
  ResourcePatternTypes,
};
