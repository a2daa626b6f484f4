/**
 * The classic rebalance protocol (Kafka's GroupCoordinator for JoinGroup/SyncGroup/Heartbeat/
 * LeaveGroup): state transitions, timers and generation fencing. Group lookup, validation of the
 * group id and coordinator state, and persistence are the caller's (coordinator.ts).
 *
 * Timers (all through the injected clock):
 * - member heartbeat expiry: session timeout since the last heartbeat/join/sync;
 * - join completion: the group's rebalance timeout (largest member rebalance.timeout.ms), which
 *   also evicts members that stopped polling (max.poll.interval.ms);
 * - initial rebalance delay for a new group (group.initial.rebalance.delay.ms);
 * - pending sync: members that got a JoinGroup response must send SyncGroup within the rebalance
 *   timeout or are removed;
 * - pending member (KIP-394): an id handed out with MEMBER_ID_REQUIRED expires after the session timeout.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import {
  type ClassicGroup,
  ClassicMember,
  type JoinGroupResult,
  type ProtocolChoice,
  type SyncGroupResult,
} from './classic-group.js';
import type { GroupCoordinatorConfig, MemberId } from './types.js';

/** Kafka's new.member.join.timeout: how long a new member may wait in a rebalance without rejoining. */
export const newMemberJoinTimeoutMs = 5 * 60_000;

export interface JoinGroupInput {
  apiVersion: number;
  memberId: MemberId;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ProtocolChoice[];
}

export interface SyncGroupInput {
  memberId: MemberId;
  groupInstanceId: string | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: MemberId; assignment: Buffer }[];
}

export interface HeartbeatInput {
  memberId: MemberId;
  groupInstanceId: string | null;
  generationId: number;
}

export interface LeaveMemberInput {
  memberId: MemberId;
  groupInstanceId: string | null;
}

export interface ClassicProtocolDependencies {
  clock: Clock;
  logger: Logger;
  config: GroupCoordinatorConfig;
  randomUuid: () => string;
  /** Writes the group's metadata durably (GroupMetadataValue); rejects on failure. */
  persistGroup(group: ClassicGroup): Promise<void>;
}

const emptyBuffer = Buffer.alloc(0);

export function joinError(memberId: MemberId, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: emptyBuffer };
}

export class ClassicProtocol {
  private readonly dependencies: ClassicProtocolDependencies;

  constructor(dependencies: ClassicProtocolDependencies) {
    this.dependencies = dependencies;
  }

  private nowMs(): bigint {
    return BigInt(Math.floor(this.dependencies.clock.wallMs()));
  }

  private get config(): GroupCoordinatorConfig {
    return this.dependencies.config;
  }

  // ---------------------------------------------------------------- JoinGroup

  /** The group exists (created Empty by the caller when the member id is unknown). */
  join(group: ClassicGroup, input: JoinGroupInput): Promise<JoinGroupResult> {
    if (group.state === 'Dead') {
      return Promise.resolve(joinError(input.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
    if (!group.supportsProtocols(input.protocolType, input.protocols)) {
      return Promise.resolve(joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (input.memberId === '') return this.joinUnknownMember(group, input);
    return this.joinKnownMember(group, input);
  }

  private joinUnknownMember(group: ClassicGroup, input: JoinGroupInput): Promise<JoinGroupResult> {
    const newMemberId = `${input.clientId}-${this.dependencies.randomUuid()}`;
    if (input.groupInstanceId !== null) {
      const existing = group.staticMembers.get(input.groupInstanceId);
      if (existing !== undefined) {
        return this.replaceStaticMember(group, existing, newMemberId, input);
      }
    }
    if (group.members.size >= this.config.groupSizeMax) {
      return Promise.resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    // KIP-394: from v4 a dynamic member must first learn its id, so a client that retries a
    // join after a lost response does not leave a ghost member behind.
    if (input.groupInstanceId === null && input.apiVersion >= 4) {
      this.addPendingMember(group, newMemberId, input.sessionTimeoutMs);
      return Promise.resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.addMemberAndRebalance(group, newMemberId, input);
  }

  private joinKnownMember(group: ClassicGroup, input: JoinGroupInput): Promise<JoinGroupResult> {
    const memberId = input.memberId;
    if (group.pendingMembers.has(memberId)) {
      group.pendingMembers.get(memberId)?.cancel();
      group.pendingMembers.delete(memberId);
      if (group.members.size >= this.config.groupSizeMax) {
        return Promise.resolve(joinError(memberId, ErrorCode.GROUP_MAX_SIZE_REACHED));
      }
      return this.addMemberAndRebalance(group, memberId, input);
    }
    if (group.isStaticMemberFenced(input.groupInstanceId, memberId)) {
      return Promise.resolve(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
    }
    const member = group.members.get(memberId);
    if (member === undefined) {
      return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, input);
      case 'CompletingRebalance':
        if (member.matches(input.protocols)) {
          // A retried join whose response was lost: answer with the current generation.
          return Promise.resolve(this.joinResponse(group, member, input.apiVersion));
        }
        return this.updateMemberAndRebalance(group, member, input);
      case 'Stable':
        if (group.isLeader(memberId) || !member.matches(input.protocols)) {
          return this.updateMemberAndRebalance(group, member, input);
        }
        this.scheduleHeartbeatExpiry(group, member);
        return Promise.resolve(this.joinResponse(group, member, input.apiVersion));
      default:
        return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private joinResponse(
    group: ClassicGroup,
    member: ClassicMember,
    apiVersion: number,
    options: { skipAssignment?: boolean } = {},
  ): JoinGroupResult {
    const isLeader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: apiVersion >= 9 && (options.skipAssignment ?? false),
      memberId: member.memberId,
      members: isLeader ? this.memberInfos(group) : [],
    };
  }

  private memberInfos(group: ClassicGroup): JoinGroupResult['members'] {
    const protocolName = group.protocolName ?? '';
    return [...group.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: member.metadataFor(protocolName),
    }));
  }

  private addPendingMember(group: ClassicGroup, memberId: MemberId, sessionTimeoutMs: number) {
    const timer = this.dependencies.clock.schedule(sessionTimeoutMs, () => {
      if (group.pendingMembers.get(memberId) !== timer) return;
      group.pendingMembers.delete(memberId);
      this.tryCompleteJoin(group);
    });
    group.pendingMembers.set(memberId, timer);
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: MemberId,
    input: JoinGroupInput,
  ): Promise<JoinGroupResult> {
    const member = new ClassicMember({
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      sessionTimeoutMs: input.sessionTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
    });
    member.isNew = true;
    const result = this.awaitJoin(member, input.apiVersion);
    group.add(member);
    if (group.state === 'PreparingRebalance' && group.generationId === 0) {
      group.newMemberAdded = true;
    }
    // A new member that disconnects during the rebalance must not block it forever.
    this.scheduleHeartbeatExpiry(group, member, newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
    this.tryCompleteJoin(group);
    return result;
  }

  private awaitJoin(member: ClassicMember, apiVersion: number): Promise<JoinGroupResult> {
    // A member that re-sends JoinGroup while one is pending: the older request is answered first.
    member.awaitingJoin?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.awaitingJoinVersion = apiVersion;
    return new Promise((resolve) => {
      member.awaitingJoin = resolve;
    });
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: ClassicMember,
    input: JoinGroupInput,
  ): Promise<JoinGroupResult> {
    member.protocols = input.protocols;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    const result = this.awaitJoin(member, input.apiVersion);
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
    this.tryCompleteJoin(group);
    return result;
  }

  /** KIP-345: a static member rejoining with an unknown member id takes over its old identity. */
  private replaceStaticMember(
    group: ClassicGroup,
    oldMemberId: MemberId,
    newMemberId: MemberId,
    input: JoinGroupInput,
  ): Promise<JoinGroupResult> {
    const oldMember = group.members.get(oldMemberId)!;
    const fencedJoin = oldMember.awaitingJoin;
    const fencedSync = oldMember.awaitingSync;
    oldMember.awaitingJoin = null;
    oldMember.awaitingSync = null;
    fencedJoin?.(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    fencedSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const previous = {
      protocols: oldMember.protocols,
      rebalanceTimeoutMs: oldMember.rebalanceTimeoutMs,
      sessionTimeoutMs: oldMember.sessionTimeoutMs,
      clientId: oldMember.clientId,
      clientHost: oldMember.clientHost,
    };
    this.renameMember(group, oldMember, newMemberId);
    oldMember.protocols = input.protocols;
    oldMember.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    oldMember.sessionTimeoutMs = input.sessionTimeoutMs;
    oldMember.clientId = input.clientId;
    oldMember.clientHost = input.clientHost;
    const member = oldMember;
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== null && group.selectProtocol() === group.protocolName) {
          // Same protocol for the next generation: no rebalance, just persist the new member id.
          this.scheduleHeartbeatExpiry(group, member);
          return this.dependencies.persistGroup(group).then(
            () => this.joinResponseForStaticRejoin(group, member, input.apiVersion),
            () => {
              this.renameMember(group, member, oldMemberId);
              Object.assign(member, previous);
              return joinError('', ErrorCode.UNKNOWN_SERVER_ERROR);
            },
          );
        }
        const result = this.awaitJoin(member, input.apiVersion);
        this.prepareRebalance(group, `static member ${input.groupInstanceId} changed protocols`);
        return result;
      }
      case 'CompletingRebalance': {
        // The leader may already be assigning to the old member id: start over.
        const result = this.awaitJoin(member, input.apiVersion);
        this.prepareRebalance(group, `static member ${input.groupInstanceId} replaced`);
        return result;
      }
      default: {
        const result = this.awaitJoin(member, input.apiVersion);
        this.tryCompleteJoin(group);
        return result;
      }
    }
  }

  private joinResponseForStaticRejoin(
    group: ClassicGroup,
    member: ClassicMember,
    apiVersion: number,
  ): JoinGroupResult {
    // KIP-814: a returning static leader gets the members but must not reassign (v9+).
    return this.joinResponse(group, member, apiVersion, {
      skipAssignment: group.isLeader(member.memberId),
    });
  }

  private renameMember(group: ClassicGroup, member: ClassicMember, newMemberId: MemberId): void {
    const oldMemberId = member.memberId;
    group.members.delete(oldMemberId);
    member.memberId = newMemberId;
    group.members.set(newMemberId, member);
    if (member.groupInstanceId !== null)
      group.staticMembers.set(member.groupInstanceId, newMemberId);
    if (group.leaderId === oldMemberId) group.leaderId = newMemberId;
    if (group.pendingSyncMembers.delete(oldMemberId)) group.pendingSyncMembers.add(newMemberId);
  }

  // ---------------------------------------------------------------- rebalance

  maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      this.propagateSyncError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    group.pendingSyncTimer?.cancel();
    group.pendingSyncTimer = null;
    group.pendingSyncMembers.clear();
    const wasEmpty = group.state === 'Empty';
    group.transitionTo('PreparingRebalance', this.nowMs());
    this.dependencies.logger.info('preparing to rebalance group', {
      groupId: group.groupId,
      generationId: group.generationId,
      reason,
    });
    group.joinTimer?.cancel();
    const initialDelayMs = this.config.initialRebalanceDelayMs;
    if (wasEmpty && initialDelayMs > 0) {
      group.newMemberAdded = false;
      group.initialDelayRemainingMs = Math.max(group.rebalanceTimeoutMs() - initialDelayMs, 0);
      this.scheduleInitialDelay(group, initialDelayMs);
      return;
    }
    group.initialDelayRemainingMs = null;
    group.joinTimer = this.dependencies.clock.schedule(group.rebalanceTimeoutMs(), () =>
      this.completeJoin(group),
    );
  }

  /** KIP-134: wait for more members before the first generation, extended while they arrive. */
  private scheduleInitialDelay(group: ClassicGroup, delayMs: number): void {
    const timer = this.dependencies.clock.schedule(delayMs, () => {
      if (group.joinTimer !== timer) return;
      const remainingMs = group.initialDelayRemainingMs ?? 0;
      if (group.newMemberAdded && remainingMs > 0) {
        const nextDelayMs = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
        group.initialDelayRemainingMs = remainingMs - nextDelayMs;
        group.newMemberAdded = false;
        this.scheduleInitialDelay(group, nextDelayMs);
        return;
      }
      group.initialDelayRemainingMs = null;
      this.completeJoin(group);
    });
    group.joinTimer = timer;
  }

  tryCompleteJoin(group: ClassicGroup): void {
    if (group.state !== 'PreparingRebalance') return;
    if (group.initialDelayRemainingMs !== null) return;
    if (group.allMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    if (group.state !== 'PreparingRebalance') return;
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.initialDelayRemainingMs = null;
    // Dynamic members that did not rejoin in time are dropped (max.poll.interval.ms exceeded);
    // static members keep their place until their session expires (KIP-345).
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin === null && member.groupInstanceId === null) {
        group.remove(member.memberId);
      }
    }
    this.electJoinedLeader(group);
    const nowMs = this.nowMs();
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo('Empty', nowMs);
      this.dependencies.logger.info('group is empty', {
        groupId: group.groupId,
        generationId: group.generationId,
      });
      this.persistQuietly(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo('CompletingRebalance', nowMs);
    this.dependencies.logger.info('group completed join', {
      groupId: group.groupId,
      generationId: group.generationId,
      protocolName: group.protocolName,
      members: group.members.size,
    });
    for (const member of group.members.values()) {
      group.pendingSyncMembers.add(member.memberId);
      const respond = member.awaitingJoin;
      if (respond === null) continue;
      member.awaitingJoin = null;
      member.isNew = false;
      respond(this.joinResponse(group, member, member.awaitingJoinVersion));
      this.scheduleHeartbeatExpiry(group, member);
    }
    this.schedulePendingSyncExpiry(group);
  }

  private electJoinedLeader(group: ClassicGroup): void {
    const leader = group.leaderId === null ? undefined : group.members.get(group.leaderId);
    if (leader?.awaitingJoin != null) return;
    for (const member of group.members.values()) {
      if (member.awaitingJoin !== null) {
        group.leaderId = member.memberId;
        return;
      }
    }
    group.leaderId = group.members.keys().next().value ?? null;
  }

  private schedulePendingSyncExpiry(group: ClassicGroup): void {
    group.pendingSyncTimer?.cancel();
    const generationId = group.generationId;
    const timer = this.dependencies.clock.schedule(group.rebalanceTimeoutMs(), () => {
      if (group.pendingSyncTimer !== timer) return;
      group.pendingSyncTimer = null;
      if (group.generationId !== generationId || group.pendingSyncMembers.size === 0) return;
      if (group.state !== 'CompletingRebalance' && group.state !== 'Stable') return;
      const missing = [...group.pendingSyncMembers];
      for (const memberId of missing) this.removeMember(group, memberId);
      this.dependencies.logger.info('members did not send SyncGroup in time', {
        groupId: group.groupId,
        members: missing,
      });
    });
    group.pendingSyncTimer = timer;
  }

  private propagateSyncError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) {
      const respond = member.awaitingSync;
      if (respond === null) continue;
      member.awaitingSync = null;
      respond(syncError(errorCode));
    }
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(group: ClassicGroup, input: SyncGroupInput): Promise<SyncGroupResult> {
    if (group.state === 'Dead') {
      return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
    if (group.isStaticMemberFenced(input.groupInstanceId, input.memberId)) {
      return Promise.resolve(syncError(ErrorCode.FENCED_INSTANCE_ID));
    }
    const member = group.members.get(input.memberId);
    if (member === undefined) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (input.generationId !== group.generationId) {
      return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    }
    if (
      (input.protocolType !== null && input.protocolType !== group.protocolType) ||
      (input.protocolName !== null && input.protocolName !== group.protocolName)
    ) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance':
        return this.syncWhileCompleting(group, member, input);
      case 'Stable':
        group.pendingSyncMembers.delete(member.memberId);
        this.scheduleHeartbeatExpiry(group, member);
        return Promise.resolve(this.syncResponse(group, member));
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private syncResponse(group: ClassicGroup, member: ClassicMember): SyncGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  private syncWhileCompleting(
    group: ClassicGroup,
    member: ClassicMember,
    input: SyncGroupInput,
  ): Promise<SyncGroupResult> {
    member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    const result = new Promise<SyncGroupResult>((resolve) => {
      member.awaitingSync = resolve;
    });
    group.pendingSyncMembers.delete(member.memberId);
    this.scheduleHeartbeatExpiry(group, member);
    if (!group.isLeader(member.memberId)) return result;
    const assignments = new Map<MemberId, Buffer>();
    for (const entry of input.assignments) {
      if (group.members.has(entry.memberId)) assignments.set(entry.memberId, entry.assignment);
    }
    const generationId = group.generationId;
    const previous = new Map([...group.members].map(([id, m]) => [id, m.assignment]));
    for (const [memberId, other] of group.members) {
      other.assignment = assignments.get(memberId) ?? emptyBuffer;
    }
    this.dependencies.persistGroup(group).then(
      () => {
        if (group.state !== 'CompletingRebalance' || group.generationId !== generationId) return;
        group.transitionTo('Stable', this.nowMs());
        this.dependencies.logger.info('group is stable', {
          groupId: group.groupId,
          generationId,
        });
        for (const other of group.members.values()) {
          const respond = other.awaitingSync;
          if (respond === null) continue;
          other.awaitingSync = null;
          respond(this.syncResponse(group, other));
        }
      },
      (error: unknown) => {
        this.dependencies.logger.warn('could not persist group assignment', {
          groupId: group.groupId,
          error: String(error),
        });
        if (group.state !== 'CompletingRebalance' || group.generationId !== generationId) return;
        for (const [memberId, other] of group.members) {
          other.assignment = previous.get(memberId) ?? emptyBuffer;
        }
        this.propagateSyncError(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        this.maybePrepareRebalance(group, 'assignment could not be persisted');
      },
    );
    return result;
  }

  // ---------------------------------------------------------------- Heartbeat

  heartbeat(group: ClassicGroup, input: HeartbeatInput): number {
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(input.groupInstanceId, input.memberId)) {
      return ErrorCode.FENCED_INSTANCE_ID;
    }
    const member = group.members.get(input.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleHeartbeatExpiry(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.scheduleHeartbeatExpiry(group, member);
        return ErrorCode.NONE;
    }
  }

  /** (Re)starts the member's session timer. */
  scheduleHeartbeatExpiry(group: ClassicGroup, member: ClassicMember, timeoutMs?: number): void {
    member.heartbeatTimer?.cancel();
    const timer = this.dependencies.clock.schedule(timeoutMs ?? member.sessionTimeoutMs, () => {
      if (member.heartbeatTimer !== timer) return;
      member.heartbeatTimer = null;
      if (group.members.get(member.memberId) !== member) return;
      // Members parked in a join or sync stay until the rebalance resolves (except new
      // members: their join timer is new.member.join.timeout).
      if ((member.awaitingJoin !== null && !member.isNew) || member.awaitingSync !== null) return;
      this.dependencies.logger.info('member session expired', {
        groupId: group.groupId,
        memberId: member.memberId,
      });
      this.removeMember(group, member.memberId);
    });
    member.heartbeatTimer = timer;
  }

  // ---------------------------------------------------------------- LeaveGroup

  /** Per-member error codes, in request order. */
  leave(group: ClassicGroup, members: readonly LeaveMemberInput[]): number[] {
    return members.map((leaving) => this.leaveOne(group, leaving));
  }

  private leaveOne(group: ClassicGroup, leaving: LeaveMemberInput): number {
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (leaving.memberId === '') {
      // KIP-345: an operator removes a static member by instance id alone.
      const memberId =
        leaving.groupInstanceId === null
          ? undefined
          : group.staticMembers.get(leaving.groupInstanceId);
      if (memberId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMember(group, memberId);
      return ErrorCode.NONE;
    }
    if (group.isStaticMemberFenced(leaving.groupInstanceId, leaving.memberId)) {
      return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (group.pendingMembers.has(leaving.memberId)) {
      group.pendingMembers.get(leaving.memberId)?.cancel();
      group.pendingMembers.delete(leaving.memberId);
      this.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    if (!group.members.has(leaving.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(group, leaving.memberId);
    return ErrorCode.NONE;
  }

  removeMember(group: ClassicGroup, memberId: MemberId): void {
    const member = group.remove(memberId);
    if (member === undefined) return;
    const respondJoin = member.awaitingJoin;
    const respondSync = member.awaitingSync;
    member.awaitingJoin = null;
    member.awaitingSync = null;
    respondJoin?.(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    respondSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, `member ${memberId} left`);
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------- shutdown / deletion

  /** Cancels every timer of the group and answers parked requests with `errorCode`. */
  shutdownGroup(group: ClassicGroup, errorCode: number): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
    group.pendingSyncTimer?.cancel();
    group.pendingSyncTimer = null;
    for (const timer of group.pendingMembers.values()) timer.cancel();
    group.pendingMembers.clear();
    for (const member of group.members.values()) {
      member.heartbeatTimer?.cancel();
      member.heartbeatTimer = null;
      const respondJoin = member.awaitingJoin;
      const respondSync = member.awaitingSync;
      member.awaitingJoin = null;
      member.awaitingSync = null;
      respondJoin?.(joinError(member.memberId, errorCode));
      respondSync?.(syncError(errorCode));
    }
  }

  private persistQuietly(group: ClassicGroup): void {
    this.dependencies.persistGroup(group).catch((error: unknown) => {
      this.dependencies.logger.warn('could not persist group metadata', {
        groupId: group.groupId,
        error: String(error),
      });
    });
  }
}
