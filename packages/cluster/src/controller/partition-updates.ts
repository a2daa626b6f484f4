/**
 * Turning a partition change into a store unit, and the operator's view of it: an ISR shrink or
 * expansion, a leader change and an unclean election are each a WARN line naming the topic, the
 * partition and the old and new sets (Kafka logs these at INFO or TRACE, which is how an ISR
 * shrink went unseen in the seed outage). Lines are written once the change is committed, the
 * first ones of a controller event one by one and the rest as one summary (EventLogger).
 */
import type { PartitionImage } from '../image.js';
import type { ClusterLogger } from '../logger.js';
import {
  buildPartitionChange,
  type PartitionChange,
  type PartitionChangeOptions,
} from '../partition-change.js';
import type { PartitionRegistration } from '../partition-registration.js';
import { encodePartitionRecord, partitionKey } from '../records.js';
import {
  activeLeaderPredicate,
  type ControllerContext,
  minInsyncReplicasFor,
  onlineElectionFor,
} from './context.js';
import { logPartitionChangeLine } from './event-logger.js';
import type { Unit } from './plan.js';

/** The store unit writing a change, compare-and-set on the record the change was built from. */
export function partitionChangeUnit(
  logger: ClusterLogger,
  topicName: string,
  current: PartitionImage,
  change: PartitionChange,
  reason: string,
): Unit {
  return {
    operations: [
      {
        type: 'put',
        key: partitionKey(current.topicId, current.partition),
        value: encodePartitionRecord(change.partition),
        expectedModRevision: current.modRevision,
      },
    ],
    independent: true,
    committed: () =>
      logPartitionChange(logger, {
        topicName,
        partition: current.partition,
        before: current,
        after: change.partition,
        unclean: change.uncleanElection,
        reason,
      }),
  };
}

/**
 * The change for a partition under the controller's usual rules (the topic's election, ELR,
 * min.insync.replicas, active brokers as leaders), with `overrides` on top.
 */
export function changePartition(
  context: ControllerContext,
  topicName: string,
  partition: PartitionImage,
  overrides: Partial<PartitionChangeOptions>,
): PartitionChange | undefined {
  return buildPartitionChange(partition, {
    isAcceptableLeader: activeLeaderPredicate(context.image),
    election: onlineElectionFor(context, topicName),
    minInsyncReplicas: minInsyncReplicasFor(context, topicName),
    eligibleLeaderReplicasEnabled: context.settings.eligibleLeaderReplicasEnabled,
    ...overrides,
  });
}

export interface LoggedChange {
  topicName: string;
  partition: number;
  before: PartitionRegistration;
  after: PartitionRegistration;
  unclean: boolean;
  /** What caused it: "AlterPartition from broker 2", "broker 3 lost its session", ... */
  reason: string;
}

const setText = (replicas: readonly number[]) => `[${replicas.join(',')}]`;

export function logPartitionChange(logger: ClusterLogger, change: LoggedChange): void {
  const { topicName, partition, before, after, reason } = change;
  const name = `${topicName}-${partition}`;
  const fields = {
    topic: topicName,
    partition,
    oldLeader: before.leader,
    newLeader: after.leader,
    oldIsr: before.isr,
    newIsr: after.isr,
    leaderEpoch: after.leaderEpoch,
    partitionEpoch: after.partitionEpoch,
    reason,
  };
  if (change.unclean) {
    logPartitionChangeLine(
      logger,
      `Unclean leader election for ${name}: leader ${before.leader} -> ${after.leader}, ISR ${setText(before.isr)} -> ${setText(after.isr)} (records not on the new leader are lost) (${reason})`,
      fields,
      { always: true },
    );
    return;
  }
  if (before.leader !== after.leader) {
    logPartitionChangeLine(
      logger,
      `Leader of ${name} changed from ${before.leader} to ${after.leader} at leader epoch ${after.leaderEpoch} (${reason})`,
      fields,
    );
  }
  const removed = before.isr.filter((replica) => !after.isr.includes(replica));
  const added = after.isr.filter((replica) => !before.isr.includes(replica));
  if (removed.length > 0 || added.length > 0) {
    const kind = added.length === 0 ? 'shrank' : removed.length === 0 ? 'expanded' : 'changed';
    logPartitionChangeLine(
      logger,
      `ISR of ${name} ${kind} from ${setText(before.isr)} to ${setText(after.isr)} (${reason})`,
      fields,
    );
  }
}
