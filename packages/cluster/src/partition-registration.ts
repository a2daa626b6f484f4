/**
 * A partition's replication state, as KRaft's PartitionRecord holds it, and the change record
 * that moves it from one state to the next (PartitionChangeRecord). Every applied change bumps the
 * partition epoch; a change that names a leader, even the same one, bumps the leader epoch.
 */

/** No leader: the partition is offline. */
export const noLeader = -1;

export const LeaderRecoveryState = {
  /** The leader holds every committed record. */
  recovered: 0,
  /** The leader was elected uncleanly and has not yet been confirmed by an ISR expansion. */
  recovering: 1,
} as const;
export type LeaderRecoveryState = (typeof LeaderRecoveryState)[keyof typeof LeaderRecoveryState];

export interface PartitionRegistration {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** Eligible leader replicas (KIP-966): left the ISR while it was below min.insync.replicas. */
  readonly elr: readonly number[];
  /** ELR members that were later fenced or, once the ISR empties, the last leader (KIP-966). */
  readonly lastKnownElr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly leaderRecoveryState: LeaderRecoveryState;
}

/** Fields a change sets; an absent field is unchanged. A present `leader` bumps the leader epoch. */
export interface PartitionChangeRecord {
  readonly replicas?: readonly number[];
  readonly isr?: readonly number[];
  readonly elr?: readonly number[];
  readonly lastKnownElr?: readonly number[];
  readonly removingReplicas?: readonly number[];
  readonly addingReplicas?: readonly number[];
  readonly leader?: number;
  readonly leaderRecoveryState?: LeaderRecoveryState;
}

/** The registration of a new partition: every replica in the ISR, the first one leading. */
export function newPartitionRegistration(
  replicas: readonly number[],
  isr: readonly number[] = replicas,
): PartitionRegistration {
  return {
    replicas: [...replicas],
    isr: [...isr],
    elr: [],
    lastKnownElr: [],
    removingReplicas: [],
    addingReplicas: [],
    leader: isr[0] ?? noLeader,
    leaderEpoch: 0,
    partitionEpoch: 0,
    leaderRecoveryState: LeaderRecoveryState.recovered,
  };
}

export function isNoOpChange(record: PartitionChangeRecord): boolean {
  return (
    record.replicas === undefined &&
    record.isr === undefined &&
    record.elr === undefined &&
    record.lastKnownElr === undefined &&
    record.removingReplicas === undefined &&
    record.addingReplicas === undefined &&
    record.leader === undefined &&
    record.leaderRecoveryState === undefined
  );
}

export function applyPartitionChange(
  partition: PartitionRegistration,
  record: PartitionChangeRecord,
): PartitionRegistration {
  const leaderChanged = record.leader !== undefined;
  return {
    replicas: record.replicas ?? partition.replicas,
    isr: record.isr ?? partition.isr,
    elr: record.elr ?? partition.elr,
    lastKnownElr: record.lastKnownElr ?? partition.lastKnownElr,
    removingReplicas: record.removingReplicas ?? partition.removingReplicas,
    addingReplicas: record.addingReplicas ?? partition.addingReplicas,
    leader: leaderChanged ? record.leader! : partition.leader,
    leaderEpoch: leaderChanged ? partition.leaderEpoch + 1 : partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch + 1,
    leaderRecoveryState: record.leaderRecoveryState ?? partition.leaderRecoveryState,
  };
}

export function sameMembers(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** Whether every element of `subset` is in `superset`. */
export function containsAll(superset: readonly number[], subset: readonly number[]): boolean {
  return subset.every((value) => superset.includes(value));
}
