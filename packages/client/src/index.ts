export type {
  AclBinding,
  AclFilter,
  AclOperation,
  AclPatternType,
  AclPermission,
  AclResourceType,
} from './admin/acls.js';
export type { ClusterDescription, LogDirDescription } from './admin/cluster-info.js';
export type {
  ConfigAlteration,
  ConfigEntry,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ResourceConfigs,
} from './admin/configs.js';
export type {
  GroupDescription,
  GroupListing,
  GroupMemberDescription,
  GroupOffset,
  PartitionLag,
} from './admin/groups.js';
export type { QuotaEntity, QuotaEntry, QuotaFilterComponent } from './admin/quotas.js';
export type { OngoingReassignment } from './admin/reassignments.js';
export type { PartitionLowWatermark } from './admin/records.js';
export type {
  ActiveProducer,
  TransactionDescription,
  TransactionListing,
} from './admin/transactions.js';
export { Admin, type NewTopic } from './admin.js';
export {
  type AssignorMember,
  builtInAssignors,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
} from './consumer/assignors.js';
export {
  type AssignorName,
  type BatchContext,
  type CommittedOffset,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  consumerDefaults,
  type GroupProtocol,
  type IsolationLevel,
  type OffsetQuery,
  type PartitionAssignor,
  type PartitionOffset,
  type PollOptions,
  type RebalanceListener,
  type StartOffset,
  type TopicPartition,
} from './consumer/consumer.js';
export * from './errors.js';
export { type ConsumerGroupMetadata, standaloneGroupMetadata } from './group-metadata.js';
export { ApiVersionTable, UnsupportedVersionError } from './network/api-versions.js';
export { type ClusterOptions, clusterDefaults } from './network/cluster.js';
export { type RequestTrace, requestChannel } from './network/connection.js';
export type {
  OauthBearerToken,
  SaslOptions,
  ScramMechanismName,
  TlsOptions,
} from './network/security.js';
export { murmur2, partitionForKey, toPositive } from './producer/murmur2.js';
export {
  defaultPartitioner,
  type Partitioner,
  type PartitionerInput,
} from './producer/partitioner.js';
export {
  type Acks,
  type HeaderValue,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  producerDefaults,
  type RawData,
  type RecordMetadata,
  type SendOptions,
  type TransactionCallOptions,
} from './producer/producer.js';
export type { TransactionState, TransactionVersion } from './producer/transactions.js';
export {
  type Deserializer,
  deserializeRecord,
  type Serde,
  type SerdeContext,
  SerializationError,
  type Serializer,
  serdes,
} from './serdes.js';
