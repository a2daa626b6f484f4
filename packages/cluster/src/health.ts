/**
 * The cluster-health counts an operator watches (CLUSTER.md §4, Kafka's controller and broker
 * gauges), computed from an image: expected 0 everywhere but `partitions`, and exactly one
 * active controller. A broker exports them as metrics; tests assert them.
 */
import type { MetadataImage } from './image.js';
import { noLeader } from './partition-registration.js';

export interface ClusterHealth {
  readonly partitions: number;
  /** No leader (OfflinePartitionsCount). */
  readonly offlinePartitions: number;
  /** ISR smaller than the replicas (UnderReplicatedPartitions). */
  readonly underReplicatedPartitions: number;
  /** ISR below the topic's min.insync.replicas: acks=all fails (UnderMinIsrPartitionCount). */
  readonly underMinIsrPartitions: number;
  /** ISR exactly at min.insync.replicas: one more loss blocks acks=all (AtMinIsrPartitionCount). */
  readonly atMinIsrPartitions: number;
  /** Led by another broker than the preferred replica (PreferredReplicaImbalanceCount). */
  readonly preferredReplicaImbalance: number;
  /** Leaders elected uncleanly and not yet confirmed (leader recovery state RECOVERING). */
  readonly recoveringLeaders: number;
}

/** Counts over every visible partition; `minInsyncReplicasDefault` when no config sets it. */
export function clusterHealth(image: MetadataImage, minInsyncReplicasDefault = 1): ClusterHealth {
  let partitions = 0;
  let offline = 0;
  let underReplicated = 0;
  let underMinIsr = 0;
  let atMinIsr = 0;
  let imbalance = 0;
  let recovering = 0;
  for (const topic of image.topics()) {
    const configured = Number(image.topicConfigValue(topic.name, 'min.insync.replicas'));
    const minIsr =
      Number.isInteger(configured) && configured >= 1 ? configured : minInsyncReplicasDefault;
    for (const partition of image.partitions(topic.name)) {
      partitions += 1;
      if (partition.leader === noLeader) offline += 1;
      if (partition.isr.length < partition.replicas.length) underReplicated += 1;
      const required = Math.min(minIsr, partition.replicas.length);
      if (partition.isr.length < required) underMinIsr += 1;
      else if (partition.isr.length === required) atMinIsr += 1;
      if (partition.leader !== partition.replicas[0]) imbalance += 1;
      if (partition.leaderRecoveryState === 1) recovering += 1;
    }
  }
  return {
    partitions,
    offlinePartitions: offline,
    underReplicatedPartitions: underReplicated,
    underMinIsrPartitions: underMinIsr,
    atMinIsrPartitions: atMinIsr,
    preferredReplicaImbalance: imbalance,
    recoveringLeaders: recovering,
  };
}
