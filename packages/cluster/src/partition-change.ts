/**
 * The pure partition change builder: given a partition's registration and the wanted ISR,
 * replicas or election, the change record to commit, or nothing when nothing changes (KRaft's
 * PartitionChangeBuilder, metadata version ≥ 3.6 semantics).
 *
 * Steps, in order:
 * 1. complete a reassignment when every target replica has joined the ISR (KIP-455);
 * 2. with ELR on and the target ISR below min.insync.replicas, replicas leaving the ISR become
 *    eligible leader replicas, minus those that shut down uncleanly (KIP-966); at or above the
 *    minimum both ELR lists clear;
 * 3. elect: keep an acceptable current leader; else the first acceptable replica (assignment
 *    order) in the ISR, or in the ELR when the ISR is empty; else the last known leader when ISR
 *    and ELR are both empty; else, for an unclean election, any acceptable replica, which resets
 *    the ISR to that leader alone and marks it RECOVERING. A preferred election tries
 *    replicas[0] first;
 * 4. bump the leader epoch when the leader changes or a replica leaves the assignment; an ISR
 *    change alone bumps only the partition epoch;
 * 5. without ELR the ISR is never set empty (the last member stays, leaderless); with ELR the
 *    ISR may empty and the last leader is kept in lastKnownElr.
 *
 * One deliberate difference: Kafka elects the last known leader even when it is fenced (its
 * check logs "not alive" but goes on); here it must be an acceptable leader, so an election never
 * names a broker that cannot lead.
 */
import {
  applyPartitionChange,
  containsAll,
  isNoOpChange,
  LeaderRecoveryState,
  noLeader,
  type PartitionChangeRecord,
  type PartitionRegistration,
  sameMembers,
} from './partition-registration.js';

export type Election =
  /** Keep the partition online from the ISR (or ELR); the current leader stays if it may. */
  | 'online'
  /** Move leadership to replicas[0] when it is an acceptable ISR member. */
  | 'preferred'
  /** As online, then any acceptable replica even outside the ISR (data loss possible). */
  | 'unclean';

export interface PartitionChangeOptions {
  /** Whether a broker may lead: registered, unfenced, not in controlled shutdown. */
  isAcceptableLeader: (brokerId: number) => boolean;
  election?: Election;
  minInsyncReplicas: number;
  eligibleLeaderReplicasEnabled: boolean;
  /** Elect the last known leader when ISR and ELR are empty (KIP-966 balanced recovery). */
  useLastKnownLeader?: boolean;
  targetIsr?: readonly number[];
  targetReplicas?: readonly number[];
  targetRemoving?: readonly number[];
  targetAdding?: readonly number[];
  targetLeaderRecoveryState?: LeaderRecoveryState;
  /** Replicas whose broker restarted after an unclean shutdown: never eligible (KIP-966). */
  uncleanShutdownReplicas?: readonly number[];
}

export interface PartitionChange {
  readonly record: PartitionChangeRecord;
  /** The registration after the change: epochs bumped as a store replay would. */
  readonly partition: PartitionRegistration;
  /** The new leader was elected from outside the ISR/ELR (unclean or last known leader). */
  readonly uncleanElection: boolean;
}

interface Targets {
  isr: readonly number[];
  replicas: readonly number[];
  removing: readonly number[];
  adding: readonly number[];
  elr: readonly number[];
  lastKnownElr: readonly number[];
  leaderRecoveryState: LeaderRecoveryState;
}

interface ElectionResult {
  leader: number;
  unclean: boolean;
}

/** The change to commit, or undefined when the partition already is in the wanted state. */
export function buildPartitionChange(
  partition: PartitionRegistration,
  options: PartitionChangeOptions,
): PartitionChange | undefined {
  const elrEnabled = options.eligibleLeaderReplicasEnabled;
  const useLastKnownLeader = options.useLastKnownLeader ?? true;
  const targets: Targets = {
    isr: options.targetIsr ?? partition.isr,
    replicas: options.targetReplicas ?? partition.replicas,
    removing: options.targetRemoving ?? partition.removingReplicas,
    adding: options.targetAdding ?? partition.addingReplicas,
    elr: partition.elr,
    lastKnownElr: partition.lastKnownElr,
    leaderRecoveryState: options.targetLeaderRecoveryState ?? partition.leaderRecoveryState,
  };
  const record: Mutable<PartitionChangeRecord> = {};

  completeReassignmentIfDone(targets);
  if (elrEnabled) populateTargetElr(partition, targets, options);

  const election = electLeader(partition, targets, options, elrEnabled && useLastKnownLeader);
  if (election.leader !== partition.leader) {
    if (targets.elr.includes(election.leader)) {
      // Elected from the ELR: it becomes the ISR.
      targets.isr = [election.leader];
      targets.elr = targets.elr.filter((replica) => replica !== election.leader);
    }
    record.leader = election.leader;
    if (election.unclean) {
      record.isr = [election.leader];
      if (partition.leaderRecoveryState !== LeaderRecoveryState.recovering) {
        record.leaderRecoveryState = LeaderRecoveryState.recovering;
      }
    }
  }

  // A replica leaving the assignment bumps the leader epoch, so its fetches are fenced.
  if (record.leader === undefined && !containsAll(targets.replicas, partition.replicas)) {
    record.leader = partition.leader;
  }

  updateRecordElr(partition, targets, record, { elrEnabled, useLastKnownLeader });

  if (
    record.isr === undefined &&
    (targets.isr.length > 0 || elrEnabled) &&
    !sameMembers(targets.isr, partition.isr)
  ) {
    record.isr = [...targets.isr];
  }

  if (
    useLastKnownLeader &&
    elrEnabled &&
    record.isr !== undefined &&
    record.isr.length === 0 &&
    (partition.lastKnownElr.length !== 1 || partition.lastKnownElr[0] !== partition.leader)
  ) {
    // The first time the partition loses its whole ISR, remember who led it last.
    record.lastKnownElr = [partition.leader];
  }

  if (targets.replicas.length > 0 && !sameMembers(targets.replicas, partition.replicas)) {
    record.replicas = [...targets.replicas];
  }
  if (!sameMembers(targets.removing, partition.removingReplicas)) {
    record.removingReplicas = [...targets.removing];
  }
  if (!sameMembers(targets.adding, partition.addingReplicas)) {
    record.addingReplicas = [...targets.adding];
  }
  if (
    record.leaderRecoveryState === undefined &&
    targets.leaderRecoveryState !== partition.leaderRecoveryState
  ) {
    record.leaderRecoveryState = targets.leaderRecoveryState;
  }

  if (isNoOpChange(record)) return undefined;
  return {
    record,
    partition: applyPartitionChange(partition, record),
    uncleanElection: election.leader !== partition.leader && election.unclean,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function completeReassignmentIfDone(targets: Targets): void {
  if (targets.removing.length === 0 && targets.adding.length === 0) return;
  let isr = targets.isr;
  let replicas = targets.replicas;
  if (targets.removing.length > 0) {
    isr = isr.filter((replica) => !targets.removing.includes(replica));
    replicas = replicas.filter((replica) => !targets.removing.includes(replica));
  }
  // Never complete onto an empty ISR; wait until every target replica is in sync.
  if (isr.length === 0) return;
  if (!replicas.every((replica) => isr.includes(replica))) return;
  targets.isr = isr;
  targets.replicas = replicas;
  targets.removing = [];
  targets.adding = [];
}

function populateTargetElr(
  partition: PartitionRegistration,
  targets: Targets,
  options: PartitionChangeOptions,
): void {
  if (targets.isr.length >= options.minInsyncReplicas) {
    targets.elr = [];
    targets.lastKnownElr = [];
    return;
  }
  const unclean = options.uncleanShutdownReplicas ?? [];
  // Ascending order, as Kafka's hash set of small integers iterates.
  const candidates = [...new Set([...targets.elr, ...partition.isr])].sort((a, b) => a - b);
  const elr = candidates.filter(
    (replica) => !targets.isr.includes(replica) && !unclean.includes(replica),
  );
  const lastKnownCandidates = [...new Set([...candidates, ...targets.lastKnownElr])].sort(
    (a, b) => a - b,
  );
  targets.elr = elr;
  targets.lastKnownElr = lastKnownCandidates.filter(
    (replica) => !targets.isr.includes(replica) && !elr.includes(replica),
  );
}

function electLeader(
  partition: PartitionRegistration,
  targets: Targets,
  options: PartitionChangeOptions,
  lastKnownLeaderAllowed: boolean,
): ElectionResult {
  const acceptable = options.isAcceptableLeader;
  const validNewLeader = (replica: number) =>
    (targets.isr.includes(replica) ||
      (targets.isr.length === 0 && targets.elr.includes(replica))) &&
    acceptable(replica);
  const election = options.election ?? 'online';

  if (election === 'preferred') {
    const preferred = targets.replicas[0];
    if (preferred !== undefined && validNewLeader(preferred))
      return { leader: preferred, unclean: false };
  }
  if (validNewLeader(partition.leader)) return { leader: partition.leader, unclean: false };
  const candidates = election === 'preferred' ? targets.replicas.slice(1) : targets.replicas;
  const online = candidates.find(validNewLeader);
  if (online !== undefined) return { leader: online, unclean: false };

  if (
    lastKnownLeaderAllowed &&
    targets.elr.length === 0 &&
    targets.isr.length === 0 &&
    partition.lastKnownElr.length === 1 &&
    acceptable(partition.lastKnownElr[0]!)
  ) {
    return { leader: partition.lastKnownElr[0]!, unclean: true };
  }
  if (election === 'unclean') {
    const unclean = targets.replicas.find(acceptable);
    if (unclean !== undefined) return { leader: unclean, unclean: true };
  }
  return { leader: noLeader, unclean: false };
}

function updateRecordElr(
  partition: PartitionRegistration,
  targets: Targets,
  record: Mutable<PartitionChangeRecord>,
  options: { elrEnabled: boolean; useLastKnownLeader: boolean },
): void {
  // An unclean election set the ISR already; it and a disabled ELR clear both lists.
  const cleanElection = record.isr === undefined;
  if (!cleanElection || !options.elrEnabled) {
    targets.elr = [];
    targets.lastKnownElr = [];
  }
  if (!sameMembers(targets.elr, partition.elr)) record.elr = [...targets.elr];
  const stillLeaderless =
    record.leader === noLeader || (record.leader === undefined && partition.leader === noLeader);
  if (options.useLastKnownLeader && partition.lastKnownElr.length === 1 && stillLeaderless) {
    // The stored last known leader stays while the partition has no leader.
    targets.lastKnownElr = partition.lastKnownElr;
  }
  if (!sameMembers(targets.lastKnownElr, partition.lastKnownElr)) {
    record.lastKnownElr = [...targets.lastKnownElr];
  }
}
