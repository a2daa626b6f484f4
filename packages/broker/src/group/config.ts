/**
 * The coordinator's settings from the broker configuration (config/, Kafka's names).
 */
import type { BrokerConfig } from '../config/index.js';
import type { GroupCoordinatorConfig } from './types.js';

/** Assignor names as Kafka accepts them: short names or the Java class names of 3.x. */
function assignorName(text: string): string {
  const lower = text.trim().toLowerCase();
  if (lower.endsWith('uniformassignor')) return 'uniform';
  if (lower.endsWith('rangeassignor')) return 'range';
  return lower;
}

export function groupCoordinatorConfigFrom(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    initialRebalanceDelayMs: config.get('group.initial.rebalance.delay.ms'),
    sessionTimeoutMsMin: config.get('group.min.session.timeout.ms'),
    sessionTimeoutMsMax: config.get('group.max.session.timeout.ms'),
    groupSizeMax: config.get('group.max.size'),
    offsetsRetentionMs: config.get('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: config.get('offsets.retention.check.interval.ms'),
    offsetMetadataBytesMax: config.get('offset.metadata.max.bytes'),
    offsetsTopicPartitionCount: config.get('offsets.topic.num.partitions'),
    offsetsLoadBufferBytes: config.get('offsets.load.buffer.size'),
    consumerHeartbeatIntervalMs: config.get('group.consumer.heartbeat.interval.ms'),
    consumerSessionTimeoutMs: config.get('group.consumer.session.timeout.ms'),
    consumerGroupSizeMax: config.get('group.consumer.max.size'),
    consumerAssignors: config.get('group.consumer.assignors').map(assignorName),
  };
}

/** Whether KIP-848 groups are enabled (group.coordinator.rebalance.protocols contains "consumer"). */
export function consumerProtocolEnabled(config: BrokerConfig): boolean {
  return config
    .get('group.coordinator.rebalance.protocols')
    .some((protocol: string) => protocol.trim().toLowerCase() === 'consumer');
}
