/** How the internal topics are created on first use (single node and cluster alike). */
import type { TopicDefaults } from './topic-manager.js';
import { internalTopicNames } from './topic-names.js';
import type { CreateTopicOptions } from './types.js';

/** The creation of `name` when it is an internal topic, else undefined. */
export function internalTopicCreation(
  name: string,
  defaults: TopicDefaults,
): CreateTopicOptions | undefined {
  if (name === internalTopicNames.consumerOffsets) {
    return {
      name,
      partitionCount: defaults.offsetsTopicNumPartitions,
      configs: {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': String(defaults.offsetsTopicSegmentBytes),
      },
    };
  }
  if (name === internalTopicNames.transactionState) {
    return {
      name,
      partitionCount: defaults.transactionStateLogNumPartitions,
      configs: {
        'cleanup.policy': 'compact',
        'compression.type': 'uncompressed',
        'segment.bytes': String(defaults.transactionStateLogSegmentBytes),
      },
    };
  }
  return undefined;
}
