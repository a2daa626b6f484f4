export { consumerProtocolEnabled, groupCoordinatorConfigFrom } from './config.js';
export { GroupCoordinator } from './coordinator.js';
export { offsetsPartitionFor } from './hash.js';
export { offsetsTopicStorage } from './offsets-storage.js';
export type {
  GroupCoordinatorConfig,
  GroupCoordinatorDependencies,
  OffsetsTopicStorage,
} from './types.js';
