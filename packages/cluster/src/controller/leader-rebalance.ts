/**
 * Automatic preferred-leader rebalance (Kafka's auto.leader.rebalance.enable, the ZooKeeper
 * controller's checkAndTriggerAutoLeaderRebalance): after failovers leadership piles up on the
 * brokers that stayed up. Every leader.imbalance.check.interval the controller counts, per
 * broker, the partitions whose preferred replica (replicas[0]) it is but which another broker
 * leads; above leader.imbalance.per.broker.percentage it moves those partitions back, each only
 * when the preferred replica is active and in the ISR.
 */
import type { ControllerContext } from './context.js';
import { changePartition, partitionChangeUnit } from './partition-updates.js';
import type { Plan, Unit } from './plan.js';

export interface LeaderRebalanceSettings {
  /** leader.imbalance.check.interval.seconds, in ms (Kafka: 300 s). */
  intervalMs: number;
  /** leader.imbalance.per.broker.percentage (Kafka: 10). */
  imbalancePercentage: number;
}

export const leaderRebalanceDefaults: LeaderRebalanceSettings = {
  intervalMs: 300_000,
  imbalancePercentage: 10,
};

/** At most this many elections per round (KRaft's maxElectionsPerImbalance). */
export const rebalanceElectionsMax = 1000;

export function planLeaderRebalance(
  context: ControllerContext,
  imbalancePercentage: number,
): Plan<number> {
  const { image } = context;
  const preferredCounts = new Map<number, number>();
  const misplaced = new Map<number, { topicName: string; partition: number }[]>();
  for (const topic of image.topics()) {
    for (const partition of image.partitions(topic.name)) {
      const preferred = partition.replicas[0];
      if (preferred === undefined) continue;
      preferredCounts.set(preferred, (preferredCounts.get(preferred) ?? 0) + 1);
      if (partition.leader === preferred) continue;
      const list = misplaced.get(preferred) ?? [];
      list.push({ topicName: topic.name, partition: partition.partition });
      misplaced.set(preferred, list);
    }
  }
  const units: Unit[] = [];
  let elected = 0;
  for (const [brokerId, partitions] of [...misplaced].sort(([left], [right]) => left - right)) {
    const ratio = partitions.length / preferredCounts.get(brokerId)!;
    if (ratio * 100 <= imbalancePercentage || !image.isBrokerActive(brokerId)) continue;
    for (const { topicName, partition: index } of partitions) {
      if (units.length >= rebalanceElectionsMax) break;
      const partition = image.partition(topicName, index)!;
      if (!partition.isr.includes(brokerId)) continue;
      const change = changePartition(context, topicName, partition, { election: 'preferred' });
      if (change === undefined || change.partition.leader !== brokerId) continue;
      units.push({
        ...partitionChangeUnit(
          context.logger,
          topicName,
          partition,
          change,
          'preferred leader rebalance',
        ),
      });
      elected += 1;
    }
  }
  return { units, respond: (allCommitted) => (allCommitted ? elected : 0) };
}
