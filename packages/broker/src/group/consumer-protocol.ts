/**
 * The KIP-848 consumer rebalance protocol: ConsumerGroupHeartbeat drives everything.
 * - A new member joins with epoch 0; every change of membership, subscription or subscribed
 *   topic metadata bumps the group epoch; the server-side assignor then computes a new target
 *   assignment at that epoch.
 * - Each member reconciles towards its target: first it is told to revoke what it must give up
 *   (its epoch stays), and only once it acknowledges (its owned partitions no longer include them)
 *   does its epoch advance and it receives new partitions — and only those no other member still
 *   owns. Members that do not revoke within their rebalance timeout are fenced.
 * - A member's epoch fences stale requests: FENCED_MEMBER_EPOCH, except the previous epoch with a
 *   subset of the assignment (a lost response).
 * - Leave with epoch -1; a static member leaves with -2 and keeps its assignment for the session
 *   timeout so it can come back under its instance id without a rebalance.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import {
  type Assignment,
  type AssignorMember,
  assignmentSize,
  assignorsByName,
} from './assignors.js';
import { type ConsumerGroup, ConsumerGroupMember, type SubscribedTopic } from './consumer-group.js';
import { compileRegex, unsafeRegexReason } from './subscription-regex.js';
import type {
  GroupCoordinatorConfig,
  MemberId,
  PartitionIndex,
  TopicId,
  TopicMetadataView,
  TopicName,
} from './types.js';
import { mostVoted } from './votes.js';

export const leaveGroupMemberEpoch = -1;
export const leaveGroupStaticMemberEpoch = -2;

export interface HeartbeatTopicPartitions {
  topicId: TopicId;
  partitions: PartitionIndex[];
}

export interface ConsumerGroupHeartbeatInput {
  apiVersion: number;
  groupId: string;
  memberId: MemberId;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: TopicName[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: HeartbeatTopicPartitions[] | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: MemberId | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: HeartbeatTopicPartitions[] } | null;
}

export interface DescribedTopicPartitions {
  topicId: TopicId;
  topicName: TopicName;
  partitions: PartitionIndex[];
}

export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: MemberId;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: TopicName[];
    subscribedTopicRegex: string | null;
    assignment: { topicPartitions: DescribedTopicPartitions[] };
    targetAssignment: { topicPartitions: DescribedTopicPartitions[] };
  }[];
}

export interface ConsumerProtocolDependencies {
  clock: Clock;
  logger: Logger;
  config: GroupCoordinatorConfig;
  randomUuid: () => string;
  topics: TopicMetadataView;
  /**
   * Writes what changed in the group to `__consumer_offsets` (consumer-group-store.ts). Called
   * here only for changes made by timers; the coordinator persists after each heartbeat.
   */
  persistGroup(group: ConsumerGroup): Promise<void>;
}

export function heartbeatErrorResult(
  errorCode: number,
  errorMessage: string | null,
): ConsumerGroupHeartbeatResult {
  return {
    errorCode,
    errorMessage,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

class HeartbeatError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string | null = null) {
    super(message ?? '');
    this.errorCode = errorCode;
  }
}

function toWire(assignment: Assignment): HeartbeatTopicPartitions[] {
  return [...assignment.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, partitions]) => ({
      topicId,
      partitions: [...partitions].sort((a, b) => a - b),
    }));
}

function assignmentKey(assignment: Assignment): string {
  return JSON.stringify(toWire(assignment));
}

function fromWire(topicPartitions: readonly HeartbeatTopicPartitions[]): Assignment {
  const assignment: Assignment = new Map();
  for (const topic of topicPartitions) {
    const partitions = assignment.get(topic.topicId) ?? new Set<PartitionIndex>();
    for (const partition of topic.partitions) partitions.add(partition);
    assignment.set(topic.topicId, partitions);
  }
  return assignment;
}

function intersects(a: Assignment, b: Assignment): boolean {
  for (const [topicId, partitions] of a) {
    const other = b.get(topicId);
    if (other === undefined) continue;
    for (const partition of partitions) if (other.has(partition)) return true;
  }
  return false;
}

function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [topicId, partitions] of a) {
    const other = b.get(topicId);
    for (const partition of partitions) if (other?.has(partition) !== true) return false;
  }
  return true;
}

/** Entries of `a` that are (`keep` = true) or are not (false) in `b`. */
function filterAssignment(a: Assignment, b: Assignment, keep: boolean): Assignment {
  const result: Assignment = new Map();
  for (const [topicId, partitions] of a) {
    const other = b.get(topicId);
    const selected = new Set([...partitions].filter((p) => (other?.has(p) === true) === keep));
    if (selected.size > 0) result.set(topicId, selected);
  }
  return result;
}

/** Kafka's Uuid.toString(): base64url of the 16 bytes, no padding. */
function uuidToBase64Url(uuid: string): string {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
}

export class ConsumerProtocol {
  private readonly dependencies: ConsumerProtocolDependencies;

  constructor(dependencies: ConsumerProtocolDependencies) {
    this.dependencies = dependencies;
  }

  private get config(): GroupCoordinatorConfig {
    return this.dependencies.config;
  }

  errorResult(errorCode: number, errorMessage: string | null): ConsumerGroupHeartbeatResult {
    return heartbeatErrorResult(errorCode, errorMessage);
  }

  heartbeat(
    group: ConsumerGroup,
    input: ConsumerGroupHeartbeatInput,
  ): ConsumerGroupHeartbeatResult {
    try {
      this.validate(input);
      if (
        input.memberEpoch === leaveGroupMemberEpoch ||
        input.memberEpoch === leaveGroupStaticMemberEpoch
      ) {
        return this.leave(group, input);
      }
      return this.heartbeatMember(group, input);
    } catch (error) {
      if (error instanceof HeartbeatError) {
        return this.errorResult(error.errorCode, error.message === '' ? null : error.message);
      }
      throw error;
    }
  }

  private validate(input: ConsumerGroupHeartbeatInput): void {
    const invalid = (message: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, message);
    if (input.instanceId !== null && input.instanceId === '') {
      throw invalid('InstanceId can not be empty.');
    }
    if (input.rackId !== null && input.rackId === '') throw invalid('RackId can not be empty.');
    if (input.memberEpoch === 0) {
      if (input.rebalanceTimeoutMs === -1) {
        throw invalid('RebalanceTimeoutMs must be provided in first request.');
      }
      if (input.topicPartitions === null || input.topicPartitions.length > 0) {
        throw invalid('TopicPartitions must be empty when (re-)joining.');
      }
      if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
      }
    } else if (input.memberEpoch === leaveGroupStaticMemberEpoch) {
      if (input.instanceId === null) throw invalid('InstanceId can not be null.');
    } else if (input.memberEpoch < leaveGroupStaticMemberEpoch) {
      throw invalid(`MemberEpoch ${input.memberEpoch} is invalid.`);
    }
    if (input.memberEpoch !== 0 && input.memberId === '') {
      throw invalid('MemberId can not be empty.');
    }
    if (
      input.serverAssignor !== null &&
      !this.config.consumerAssignors.includes(input.serverAssignor)
    ) {
      throw new HeartbeatError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${input.serverAssignor} is not supported. Supported assignors: ${this.config.consumerAssignors.join(', ')}.`,
      );
    }
    if (input.subscribedTopicRegex !== null && compileRegex(input.subscribedTopicRegex) === null) {
      const unsafe = unsafeRegexReason(input.subscribedTopicRegex);
      throw new HeartbeatError(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex ${input.subscribedTopicRegex} is not a valid regular expression${unsafe === null ? '' : `: ${unsafe}`}.`,
      );
    }
  }

  private leave(
    group: ConsumerGroup,
    input: ConsumerGroupHeartbeatInput,
  ): ConsumerGroupHeartbeatResult {
    let member = group.members.get(input.memberId);
    if (member === undefined && input.instanceId !== null) {
      const staticId = group.staticMembers.get(input.instanceId);
      member = staticId === undefined ? undefined : group.members.get(staticId);
    }
    if (member === undefined) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (input.instanceId !== null && member.instanceId !== input.instanceId) {
      throw new HeartbeatError(ErrorCode.FENCED_INSTANCE_ID);
    }
    if (input.memberEpoch === leaveGroupStaticMemberEpoch && member.instanceId !== null) {
      // Keep the assignment for the session timeout: the instance may come back.
      member.temporarilyLeft = true;
      member.revocationTimer?.cancel();
      member.revocationTimer = null;
      this.scheduleSession(group, member);
      return this.result(member, leaveGroupStaticMemberEpoch, null);
    }
    this.removeMember(group, member, 'left the group');
    return this.result(member, leaveGroupMemberEpoch, null);
  }

  private result(
    member: ConsumerGroupMember,
    memberEpoch: number,
    assignment: ConsumerGroupHeartbeatResult['assignment'],
  ): ConsumerGroupHeartbeatResult {
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch,
      heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
      assignment,
    };
  }

  private heartbeatMember(
    group: ConsumerGroup,
    input: ConsumerGroupHeartbeatInput,
  ): ConsumerGroupHeartbeatResult {
    const owned = input.topicPartitions === null ? null : fromWire(input.topicPartitions);
    const member =
      input.memberEpoch === 0
        ? this.joinMember(group, input)
        : this.knownMember(group, input, owned);
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    if (input.rackId !== null) member.rackId = input.rackId;
    if (input.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    if (input.serverAssignor !== null) member.serverAssignor = input.serverAssignor;
    if (this.updateSubscription(member, input)) group.epochBumpReason ??= 'subscription changed';
    this.scheduleSession(group, member);
    this.refreshSubscriptionMetadata(group);
    // Everything this heartbeat changed counts as one new group epoch.
    if (group.epochBumpReason !== null) {
      this.bumpGroupEpoch(group, group.epochBumpReason);
      group.epochBumpReason = null;
    }
    if (group.groupEpoch > group.assignmentEpoch) this.computeTargetAssignment(group);
    this.reconcile(group, member, owned);
    const key = assignmentKey(member.assigned);
    const sendAssignment =
      input.memberEpoch === 0 ||
      member.lastSentAssignment !== key ||
      (owned !== null && assignmentKey(owned) !== key);
    member.lastSentAssignment = key;
    return this.result(
      member,
      member.memberEpoch,
      sendAssignment ? { topicPartitions: toWire(member.assigned) } : null,
    );
  }

  private joinMember(
    group: ConsumerGroup,
    input: ConsumerGroupHeartbeatInput,
  ): ConsumerGroupMember {
    if (input.instanceId !== null) {
      const previousId = group.staticMembers.get(input.instanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (previous !== undefined) {
        if (!previous.temporarilyLeft && previous.memberId !== input.memberId) {
          throw new HeartbeatError(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${input.instanceId} is still in use by member ${previous.memberId}.`,
          );
        }
        return this.replaceStaticMember(group, previous, input);
      }
    }
    const existing = group.members.get(input.memberId);
    if (existing !== undefined) {
      // Rejoining with epoch 0 under the same id: start over as a new member.
      this.removeMember(group, existing, 'rejoined with epoch 0');
    }
    if (group.members.size >= this.config.consumerGroupSizeMax) {
      throw new HeartbeatError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.consumerGroupSizeMax} members.`,
      );
    }
    const memberId =
      input.memberId !== '' ? input.memberId : uuidToBase64Url(this.dependencies.randomUuid());
    const member = new ConsumerGroupMember({
      memberId,
      instanceId: input.instanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
    });
    group.members.set(memberId, member);
    group.membershipChanges++;
    if (input.instanceId !== null) group.staticMembers.set(input.instanceId, memberId);
    group.epochBumpReason ??= `member ${memberId} joined`;
    return member;
  }

  /** A static member returning under a new member id takes over epoch and assignment. */
  private replaceStaticMember(
    group: ConsumerGroup,
    previous: ConsumerGroupMember,
    input: ConsumerGroupHeartbeatInput,
  ): ConsumerGroupMember {
    const memberId =
      input.memberId !== '' ? input.memberId : uuidToBase64Url(this.dependencies.randomUuid());
    previous.cancelTimers();
    group.members.delete(previous.memberId);
    const member = new ConsumerGroupMember({
      memberId,
      instanceId: previous.instanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
    });
    member.memberEpoch = previous.memberEpoch;
    member.previousMemberEpoch = previous.previousMemberEpoch;
    member.state = previous.state;
    member.assigned = previous.assigned;
    member.pendingRevocation = previous.pendingRevocation;
    member.subscribedTopicNames = previous.subscribedTopicNames;
    member.subscribedTopicRegex = previous.subscribedTopicRegex;
    member.compiledRegex = previous.compiledRegex;
    member.serverAssignor = previous.serverAssignor;
    member.rebalanceTimeoutMs = previous.rebalanceTimeoutMs;
    group.members.set(memberId, member);
    group.membershipChanges++;
    group.staticMembers.set(previous.instanceId!, memberId);
    const target = group.targetAssignment.get(previous.memberId);
    group.targetAssignment.delete(previous.memberId);
    if (target !== undefined) group.targetAssignment.set(memberId, target);
    for (const [key, owner] of group.partitionOwners) {
      if (owner === previous.memberId) group.partitionOwners.set(key, memberId);
    }
    return member;
  }

  private knownMember(
    group: ConsumerGroup,
    input: ConsumerGroupHeartbeatInput,
    owned: Assignment | null,
  ): ConsumerGroupMember {
    const member = group.members.get(input.memberId);
    if (member === undefined && input.memberEpoch > 0 && input.memberEpoch <= group.restoredEpoch) {
      // Members are not persisted: an epoch from before a restart is fenced, which every client
      // answers by rejoining with epoch 0 (some do not rejoin on UNKNOWN_MEMBER_ID).
      throw new HeartbeatError(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `Member ${input.memberId} has an epoch from before the coordinator restarted.`,
      );
    }
    if (member === undefined || member.temporarilyLeft) {
      throw new HeartbeatError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${input.memberId} is not a member of group ${group.groupId}.`,
      );
    }
    if (input.memberEpoch === member.memberEpoch) return member;
    // A lost response: the member may still be at its previous epoch with a subset of its partitions.
    if (
      input.memberEpoch === member.previousMemberEpoch &&
      owned !== null &&
      isSubset(owned, member.assigned)
    ) {
      return member;
    }
    throw new HeartbeatError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a smaller or larger member epoch (${input.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}).`,
    );
  }

  /** Returns whether the subscription changed. */
  private updateSubscription(
    member: ConsumerGroupMember,
    input: ConsumerGroupHeartbeatInput,
  ): boolean {
    let changed = false;
    if (input.subscribedTopicNames !== null) {
      const names = [...new Set(input.subscribedTopicNames)].sort();
      if (names.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) {
        member.subscribedTopicNames = names;
        changed = true;
      }
    }
    if (input.subscribedTopicRegex !== null) {
      const regex = input.subscribedTopicRegex === '' ? null : input.subscribedTopicRegex;
      if (regex !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = regex;
        member.compiledRegex = regex === null ? null : compileRegex(regex);
        changed = true;
      }
    }
    return changed;
  }

  private bumpGroupEpoch(group: ConsumerGroup, reason: string): void {
    group.groupEpoch++;
    this.dependencies.logger.debug('consumer group epoch bumped', {
      groupId: group.groupId,
      groupEpoch: group.groupEpoch,
      reason,
    });
  }

  /** After a timer changed the group: persist it, logging (not throwing) a failure. */
  private persistQuietly(group: ConsumerGroup): void {
    this.dependencies.persistGroup(group).catch((error: unknown) => {
      this.dependencies.logger.warn('could not persist the consumer group', {
        groupId: group.groupId,
        error: String(error),
      });
    });
  }

  /** Existing topics the members subscribe to; bumps the group epoch when they changed. */
  private refreshSubscriptionMetadata(group: ConsumerGroup): void {
    const metadata = new Map<TopicName, SubscribedTopic>();
    const add = (name: TopicName) => {
      const info = this.dependencies.topics.get(name);
      if (info !== undefined) {
        metadata.set(name, { topicId: info.topicId, partitionCount: info.partitionCount });
      }
    };
    // Members usually share one pattern: match each distinct pattern once against the topics.
    const patterns = new Map<string, RegExp>();
    for (const member of group.members.values()) {
      for (const name of member.subscribedTopicNames) add(name);
      if (member.compiledRegex !== null && member.subscribedTopicRegex !== null) {
        patterns.set(member.subscribedTopicRegex, member.compiledRegex);
      }
    }
    // Every topic is matched, internal ones included, as Kafka resolves regexes against its whole
    // metadata image (a pattern such as `__consumer_offsets` gets that topic assigned).
    if (patterns.size > 0) {
      for (const topic of this.dependencies.topics.list()) {
        for (const regex of patterns.values()) {
          if (regex.test(topic.name)) {
            add(topic.name);
            break;
          }
        }
      }
    }
    const previous = group.subscriptionMetadata;
    let changed = previous.size !== metadata.size;
    if (!changed) {
      for (const [name, topic] of metadata) {
        const old = previous.get(name);
        if (old?.topicId !== topic.topicId || old.partitionCount !== topic.partitionCount) {
          changed = true;
          break;
        }
      }
    }
    if (changed) {
      group.subscriptionMetadata = metadata;
      group.epochBumpReason ??= 'subscribed topic metadata changed';
    }
  }

  private chooseAssignor(group: ConsumerGroup): string {
    const voted = mostVoted([...group.members.values()].map((member) => member.serverAssignor));
    return voted ?? this.config.consumerAssignors[0] ?? 'uniform';
  }

  private computeTargetAssignment(group: ConsumerGroup): void {
    const assignorName = this.chooseAssignor(group);
    const assignor = assignorsByName.get(assignorName) ?? assignorsByName.get('uniform')!;
    const partitionCounts = new Map<TopicId, number>();
    for (const topic of group.subscriptionMetadata.values()) {
      partitionCounts.set(topic.topicId, topic.partitionCount);
    }
    const members: AssignorMember[] = [...group.members.values()].map((member) => {
      const subscribedTopicIds = new Set<TopicId>();
      for (const [name, topic] of group.subscriptionMetadata) {
        if (member.subscribesTo(name)) subscribedTopicIds.add(topic.topicId);
      }
      return {
        memberId: member.memberId,
        subscribedTopicIds,
        previousAssignment: group.targetAssignment.get(member.memberId) ?? new Map(),
      };
    });
    const target = assignor.assign({ members, partitionCounts });
    group.targetAssignment.clear();
    for (const [memberId, assignment] of target) group.targetAssignment.set(memberId, assignment);
    group.assignmentEpoch = group.groupEpoch;
    group.assignorName = assignor.name;
    this.dependencies.logger.info('consumer group target assignment computed', {
      groupId: group.groupId,
      assignmentEpoch: group.assignmentEpoch,
      assignor: assignor.name,
      members: members.length,
      partitions: [...target.values()].reduce((sum, a) => sum + assignmentSize(a), 0),
    });
  }

  /** Moves the member one step towards its target assignment (KIP-848 reconciliation). */
  private reconcile(
    group: ConsumerGroup,
    member: ConsumerGroupMember,
    owned: Assignment | null,
  ): void {
    if (member.state === 'unrevoked-partitions') {
      if (owned === null || intersects(owned, member.pendingRevocation)) return;
      group.release(member.pendingRevocation, member.memberId);
      member.pendingRevocation = new Map();
      member.state = 'stable';
      member.revocationTimer?.cancel();
      member.revocationTimer = null;
    }
    if (member.memberEpoch === group.assignmentEpoch && member.state === 'stable') return;
    const target = group.targetAssignment.get(member.memberId) ?? new Map();
    const kept = filterAssignment(member.assigned, target, true);
    const toRevoke = filterAssignment(member.assigned, target, false);
    if (toRevoke.size > 0) {
      member.assigned = kept;
      member.pendingRevocation = toRevoke;
      member.state = 'unrevoked-partitions';
      this.scheduleRevocationTimeout(group, member);
      return;
    }
    const toAdd = filterAssignment(target, kept, false);
    let unreleased = false;
    for (const [topicId, partitions] of toAdd) {
      for (const partition of partitions) {
        const owner = group.ownerOf(topicId, partition);
        if (owner !== undefined && owner !== member.memberId) {
          unreleased = true;
          continue;
        }
        group.claim(topicId, partition, member.memberId);
        const set = kept.get(topicId) ?? new Set<PartitionIndex>();
        set.add(partition);
        kept.set(topicId, set);
      }
    }
    member.assigned = kept;
    if (member.memberEpoch !== group.assignmentEpoch) {
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = group.assignmentEpoch;
    }
    member.state = unreleased ? 'unreleased-partitions' : 'stable';
  }

  private scheduleRevocationTimeout(group: ConsumerGroup, member: ConsumerGroupMember): void {
    member.revocationTimer?.cancel();
    const timer = this.dependencies.clock.schedule(member.rebalanceTimeoutMs, () => {
      if (member.revocationTimer !== timer || group.members.get(member.memberId) !== member) return;
      this.removeMember(
        group,
        member,
        'did not revoke its partitions within the rebalance timeout',
      );
      this.persistQuietly(group);
    });
    member.revocationTimer = timer;
  }

  private scheduleSession(group: ConsumerGroup, member: ConsumerGroupMember): void {
    member.sessionTimer?.cancel();
    const timer = this.dependencies.clock.schedule(this.config.consumerSessionTimeoutMs, () => {
      if (member.sessionTimer !== timer || group.members.get(member.memberId) !== member) return;
      this.removeMember(group, member, 'session expired');
      this.persistQuietly(group);
    });
    member.sessionTimer = timer;
  }

  private removeMember(group: ConsumerGroup, member: ConsumerGroupMember, reason: string): void {
    member.cancelTimers();
    group.members.delete(member.memberId);
    group.membershipChanges++;
    if (
      member.instanceId !== null &&
      group.staticMembers.get(member.instanceId) === member.memberId
    ) {
      group.staticMembers.delete(member.instanceId);
    }
    group.release(member.assigned, member.memberId);
    group.release(member.pendingRevocation, member.memberId);
    group.targetAssignment.delete(member.memberId);
    this.bumpGroupEpoch(group, `member ${member.memberId} ${reason}`);
    if (group.members.size === 0) {
      group.stateTimestampMs = BigInt(Math.floor(this.dependencies.clock.wallMs()));
    }
    this.dependencies.logger.info('consumer group member removed', {
      groupId: group.groupId,
      memberId: member.memberId,
      reason,
    });
  }

  /** Session (and pending revocation) timers for members reloaded after a restart. */
  resumeRestoredMembers(group: ConsumerGroup, members: readonly ConsumerGroupMember[]): void {
    for (const member of members) {
      this.scheduleSession(group, member);
      if (member.state === 'unrevoked-partitions') this.scheduleRevocationTimeout(group, member);
    }
  }

  shutdownGroup(group: ConsumerGroup): void {
    for (const member of group.members.values()) member.cancelTimers();
  }

  // ---------------------------------------------------------------- offsets validation

  validateOffsetCommit(
    group: ConsumerGroup,
    request: { memberId: MemberId; memberEpoch: number; apiVersion: number },
  ): number {
    if (request.memberEpoch < 0 && request.memberId === '') {
      // Admin client or a consumer without group management: only for an empty group.
      return group.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    const member = group.members.get(request.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (request.memberEpoch !== member.memberEpoch) {
      return request.apiVersion >= 9 ? ErrorCode.STALE_MEMBER_EPOCH : ErrorCode.ILLEGAL_GENERATION;
    }
    return ErrorCode.NONE;
  }

  validateOffsetFetch(
    group: ConsumerGroup,
    request: { memberId: MemberId; memberEpoch: number },
  ): number {
    const member = group.members.get(request.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (request.memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- describe

  describeError(
    groupId: string,
    errorCode: number,
    errorMessage: string | null,
  ): ConsumerGroupDescription {
    return {
      errorCode,
      errorMessage,
      groupId,
      groupState: errorCode === ErrorCode.GROUP_ID_NOT_FOUND ? 'Dead' : '',
      groupEpoch: -1,
      assignmentEpoch: -1,
      assignorName: '',
      members: [],
    };
  }

  describe(group: ConsumerGroup): ConsumerGroupDescription {
    const named = (assignment: Assignment): DescribedTopicPartitions[] =>
      toWire(assignment).map((topic) => ({
        topicId: topic.topicId,
        topicName: this.dependencies.topics.getById(topic.topicId)?.name ?? '',
        partitions: topic.partitions,
      }));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId: group.groupId,
      groupState: group.stateName(),
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.assignorName,
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        instanceId: member.instanceId,
        rackId: member.rackId,
        memberEpoch: member.memberEpoch,
        clientId: member.clientId,
        clientHost: member.clientHost,
        subscribedTopicNames: member.subscribedTopicNames,
        subscribedTopicRegex: member.subscribedTopicRegex,
        assignment: { topicPartitions: named(member.assigned) },
        targetAssignment: {
          topicPartitions: named(group.targetAssignment.get(member.memberId) ?? new Map()),
        },
      })),
    };
  }
}
