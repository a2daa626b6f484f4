/**
 * Brokers coming and going, handled level-triggered: after any broker change (and when a
 * controller takes over) the controller compares every partition with the registered brokers,
 * so a change missed during a controller failover is still handled by the next one.
 *
 * - A broker whose lease is gone is fenced: it leaves every ISR and loses its leaderships
 *   (KRaft's handleBrokerFenced). A broker in controlled shutdown is treated the same while still
 *   registered.
 * - A new registration is recorded in `broker-states/<id>`; when its previous-clean-shutdown
 *   epoch is not the epoch recorded for its last session, it restarted after an unclean shutdown
 *   and leaves every ISR and ELR before it may lead (KIP-966).
 * - Leaderless partitions elect again (a broker came back).
 * - Partition records no topic shows (a cut-short creation or deletion) are deleted.
 *
 * Controlled shutdown (the broker's request): mark it shutting down first, then move its
 * leaderships away and take it out of the ISRs (KRaft's handleBrokerInControlledShutdown).
 */
import { ErrorCode } from '@gregor/protocol';
import type { BrokerImage, PartitionImage } from '../image.js';
import type { Election } from '../partition-change.js';
import { noLeader } from '../partition-registration.js';
import { brokerStateKey, encodeBrokerState, partitionKey } from '../records.js';
import {
  activeLeaderPredicate,
  type ControllerContext,
  minInsyncReplicasFor,
  onlineElectionFor,
} from './context.js';
import { changePartition, partitionChangeUnit } from './partition-updates.js';
import { answerOnly, onCommit, type Plan, type Unit } from './plan.js';

/** The broker's view of its controlled shutdown (ControlledShutdown v3's response). */
export interface ControlledShutdownResult {
  errorCode: number;
  /** Partitions the broker still leads (none once every change committed). */
  remainingPartitions: { topicName: string; partitionIndex: number }[];
}

/**
 * Partition changes planned per reconciliation event: a bigger cluster is reconciled in several
 * events, so one event never blocks the event loop (and the lease keepalives) for long. 5000 took
 * over half a second of planning at 30,000 partitions on a loaded 2-core machine, several
 * seconds (past the 3 s election lease) at load 25; each later event scans the partitions again
 * from the start, which costs far less than planning the changes.
 */
export const reconcileChangesMax = 1000;

/** Answers whether everything was planned (false: reconcile again for the rest). */
export function planBrokerReconciliation(
  context: ControllerContext,
  changesMax = reconcileChangesMax,
): Plan<boolean> {
  const { image } = context;
  const newRegistrations = image
    .brokers()
    .filter(
      (broker) => image.brokerState(broker.brokerId)?.value.brokerEpoch !== broker.brokerEpoch,
    );
  const uncleanlyRestarted = new Set(
    newRegistrations
      .filter((broker) => restartedUncleanly(context, broker))
      .map((broker) => broker.brokerId),
  );
  const units: Unit[] = [];
  const active = activeLeaderPredicate(image);
  const acceptable = (brokerId: number) => active(brokerId) && !uncleanlyRestarted.has(brokerId);
  const reasons = new Map<string, string>();
  for (const topic of image.topics()) {
    const topicOptions = {
      minInsyncReplicas: minInsyncReplicasFor(context, topic.name),
      election: onlineElectionFor(context, topic.name),
    };
    for (const partition of image.partitions(topic.name)) {
      if (units.length >= changesMax) return { units, respond: () => false };
      const unit = reconcilePartition(context, topic.name, partition, {
        acceptable,
        uncleanlyRestarted,
        topicOptions,
        reasons,
      });
      if (unit !== undefined) units.push(unit);
    }
  }
  for (const orphan of image.orphanPartitions()) {
    if (units.length >= changesMax) return { units, respond: () => false };
    units.push({
      operations: [
        {
          type: 'delete',
          key: partitionKey(orphan.topicId, orphan.partition),
          expectedModRevision: orphan.modRevision,
        },
      ],
      independent: true,
    });
  }
  // Recorded last: until then a later controller still sees the registration as new.
  for (const broker of newRegistrations) {
    units.push({
      operations: [
        {
          type: 'put',
          key: brokerStateKey(broker.brokerId),
          value: encodeBrokerState({
            brokerEpoch: broker.brokerEpoch,
            inControlledShutdown: false,
          }),
          expectedModRevision: image.brokerState(broker.brokerId)?.modRevision ?? 0n,
        },
      ],
      committed: () => {
        if (uncleanlyRestarted.has(broker.brokerId)) {
          context.logger.warn(`Broker ${broker.brokerId} restarted after an unclean shutdown`, {
            brokerId: broker.brokerId,
          });
        }
        context.logger.info(`Broker ${broker.brokerId} registered at epoch ${broker.brokerEpoch}`, {
          brokerId: broker.brokerId,
          brokerEpoch: broker.brokerEpoch,
          rack: broker.registration.rack,
        });
      },
    });
  }
  return { units, respond: () => true };
}

function restartedUncleanly(context: ControllerContext, broker: BrokerImage): boolean {
  const recorded = context.image.brokerState(broker.brokerId);
  return (
    context.settings.eligibleLeaderReplicasEnabled &&
    recorded !== undefined &&
    broker.registration.previousBrokerEpoch !== recorded.value.brokerEpoch
  );
}

interface ReconcileScope {
  acceptable: (brokerId: number) => boolean;
  uncleanlyRestarted: ReadonlySet<number>;
  /** The topic's election and min.insync.replicas, read once per topic. */
  topicOptions: { minInsyncReplicas: number; election: Election };
  /** Reasons by the brokers that left, computed once per combination. */
  reasons: Map<string, string>;
}

function reconcilePartition(
  context: ControllerContext,
  topicName: string,
  partition: PartitionImage,
  scope: ReconcileScope,
): Unit | undefined {
  const { acceptable, uncleanlyRestarted } = scope;
  const targetIsr = partition.isr.filter(acceptable);
  const uncleanHere = partition.replicas.filter((replica) => uncleanlyRestarted.has(replica));
  const needed =
    targetIsr.length !== partition.isr.length ||
    partition.leader === noLeader ||
    !acceptable(partition.leader) ||
    uncleanHere.some((replica) => partition.elr.includes(replica));
  if (!needed) return undefined;
  const change = changePartition(context, topicName, partition, {
    ...scope.topicOptions,
    isAcceptableLeader: acceptable,
    targetIsr,
    uncleanShutdownReplicas: uncleanHere,
  });
  if (change === undefined) return undefined;
  return partitionChangeUnit(
    context.logger,
    topicName,
    partition,
    change,
    reasonFor(context, partition, targetIsr, scope.reasons),
  );
}

function reasonFor(
  context: ControllerContext,
  partition: PartitionImage,
  targetIsr: readonly number[],
  cache: Map<string, string>,
): string {
  const { image } = context;
  const gone = [...new Set([partition.leader, ...partition.isr])].filter(
    (brokerId) => brokerId !== noLeader && !targetIsr.includes(brokerId),
  );
  const key = gone.join(',');
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const reasons = gone.map((brokerId) =>
    !image.isBrokerRegistered(brokerId)
      ? `broker ${brokerId} lost its session`
      : image.broker(brokerId)!.inControlledShutdown
        ? `broker ${brokerId} is shutting down`
        : `broker ${brokerId} restarted after an unclean shutdown`,
  );
  const reason =
    reasons.length > 0 ? reasons.join(', ') : 'electing a leader for a leaderless partition';
  cache.set(key, reason);
  return reason;
}

export function planControlledShutdown(
  context: ControllerContext,
  brokerId: number,
  brokerEpoch: bigint,
): Plan<ControlledShutdownResult> {
  const { image } = context;
  const broker = image.broker(brokerId);
  if (broker === undefined || broker.brokerEpoch !== brokerEpoch) {
    return answerOnly({ errorCode: ErrorCode.STALE_BROKER_EPOCH, remainingPartitions: [] });
  }
  const units: Unit[] = [];
  const remaining = new Map<string, { topicName: string; partitionIndex: number }>();
  if (!broker.inControlledShutdown) {
    units.push({
      operations: [
        {
          type: 'put',
          key: brokerStateKey(brokerId),
          value: encodeBrokerState({ brokerEpoch, inControlledShutdown: true }),
          expectedModRevision: image.brokerState(brokerId)?.modRevision ?? 0n,
        },
      ],
      committed: () =>
        context.logger.info(`Broker ${brokerId} began a controlled shutdown`, { brokerId }),
    });
  }
  const active = activeLeaderPredicate(image);
  const acceptable = (candidate: number) => candidate !== brokerId && active(candidate);
  for (const topic of image.topics()) {
    for (const partition of image.partitions(topic.name)) {
      if (!partition.isr.includes(brokerId) && partition.leader !== brokerId) continue;
      const change = changePartition(context, topic.name, partition, {
        isAcceptableLeader: acceptable,
        targetIsr: partition.isr.filter((replica) => replica !== brokerId),
      });
      if (change === undefined) continue;
      const id = `${topic.name}/${partition.partition}`;
      if (partition.leader === brokerId) {
        remaining.set(id, { topicName: topic.name, partitionIndex: partition.partition });
      }
      const unit = partitionChangeUnit(
        context.logger,
        topic.name,
        partition,
        change,
        `broker ${brokerId} is shutting down`,
      );
      units.push(onCommit(unit, () => remaining.delete(id)));
    }
  }
  return {
    units,
    respond: (allCommitted) => ({
      errorCode: allCommitted ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER,
      remainingPartitions: [...remaining.values()],
    }),
  };
}
