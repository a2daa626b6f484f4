/** How the internal topics are created on first use (single node and cluster alike). */
import type { TopicDefaults } from './topic-manager.js';
import { internalTopicNames } from './topic-names.js';
import type { CreateTopicOptions } from './types.js';

/**
 * The creation of `name` when it is an internal topic, else undefined. A replicated
 * `__transaction_state` gets min.insync.replicas = transaction.state.log.min.isr, capped at its
 * replication factor, as Kafka creates it (so a coordinator's state write is on two replicas
 * before it answers, with the defaults).
 */
export function internalTopicCreation(
  name: string,
  defaults: TopicDefaults,
  replicationFactor = 1,
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
        ...(replicationFactor > 1 && defaults.transactionStateLogMinIsr !== undefined
          ? {
              'min.insync.replicas': String(
                Math.min(defaults.transactionStateLogMinIsr, replicationFactor),
              ),
            }
          : {}),
      },
    };
  }
  return undefined;
}
