export { joinError, syncError } from './classic-protocol.js';
export { consumerProtocolEnabled, groupCoordinatorConfigFrom } from './config.js';
export { heartbeatErrorResult } from './consumer-protocol.js';
export { GroupCoordinator, partitionErrors } from './coordinator.js';
export { offsetsPartitionFor } from './hash.js';
export { offsetsTopicStorage } from './offsets-storage.js';
export type {
  GroupCoordinatorConfig,
  GroupCoordinatorDependencies,
  OffsetsTopicStorage,
} from './types.js';
