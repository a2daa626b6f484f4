/**
 * The group coordinator of a single-node broker: owns every group (classic and KIP-848), their
 * committed offsets, and `__consumer_offsets`. Handlers translate wire requests into calls here;
 * nothing in this module knows about sockets or wire versions beyond the few semantic switches
 * Kafka ties to them (KIP-394 member ids from JoinGroup v4, KIP-814 skipAssignment from v9).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@gregor/protocol';
import type { TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import {
  ClassicGroup,
  ClassicMember,
  type JoinGroupResult,
  type SyncGroupResult,
} from './classic-group.js';
import {
  ClassicProtocol,
  type HeartbeatInput,
  type JoinGroupInput,
  joinError,
  type LeaveMemberInput,
  type SyncGroupInput,
  syncError,
} from './classic-protocol.js';
import { ConsumerGroup } from './consumer-group.js';
import {
  consumerGroupChanges,
  consumerGroupTombstones,
  forgetPersisted,
  restoreConsumerGroup,
} from './consumer-group-store.js';
import {
  type ConsumerGroupDescription,
  type ConsumerGroupHeartbeatInput,
  type ConsumerGroupHeartbeatResult,
  ConsumerProtocol,
} from './consumer-protocol.js';
import type { CommittedOffset } from './offsets.js';
import {
  type LoadedGroupState,
  OffsetsLog,
  type OffsetsRecord,
  type TransactionalAppend,
} from './offsets-log.js';
import {
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './records.js';
import { PendingTransactionalOffsets } from './transactional-offsets.js';
import {
  defaultGroupCoordinatorConfig,
  type GroupCoordinatorConfig,
  type GroupCoordinatorDependencies,
  type GroupId,
  type MemberId,
  type PartitionIndex,
  type TopicMetadataView,
  type TopicName,
} from './types.js';

export type Group = ClassicGroup | ConsumerGroup;

export type CoordinatorStatus = 'created' | 'loading' | 'active' | 'stopped';

export interface OffsetCommitPartitionInput {
  partitionIndex: PartitionIndex;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  /** OffsetCommit v1 only; -1 = now. */
  commitTimestampMs: bigint;
  committedMetadata: string | null;
}

export interface OffsetCommitInput {
  apiVersion: number;
  groupId: GroupId;
  generationIdOrMemberEpoch: number;
  memberId: MemberId;
  groupInstanceId: string | null;
  /** OffsetCommit v2-v4 retention_time_ms; -1 = broker default. */
  retentionTimeMs: bigint;
  topics: { name: TopicName; partitions: OffsetCommitPartitionInput[] }[];
}

export interface PartitionErrors {
  name: TopicName;
  partitions: { partitionIndex: PartitionIndex; errorCode: number }[];
}

export interface OffsetFetchGroupInput {
  groupId: GroupId;
  /** KIP-848 member validation (OffsetFetch v9): null skips it. */
  memberId: MemberId | null;
  memberEpoch: number;
  /** null: every committed offset of the group. */
  topics: { name: TopicName; partitionIndexes: PartitionIndex[] }[] | null;
}

export interface FetchedPartitionOffset {
  partitionIndex: PartitionIndex;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchGroupResult {
  groupId: GroupId;
  errorCode: number;
  topics: { name: TopicName; partitions: FetchedPartitionOffset[] }[];
}

export interface DescribedClassicGroup {
  errorCode: number;
  groupId: GroupId;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: MemberId;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: GroupId;
  protocolType: string;
  groupState: string;
  groupType: 'classic' | 'consumer';
}

const emptyBuffer = Buffer.alloc(0);

/** Tombstones of the group's own records (GroupMetadataKey, or every KIP-848 record). */
function groupTombstones(group: Group): OffsetsRecord[] {
  return group.type === 'classic'
    ? [{ key: encodeGroupMetadataKey(group.groupId), value: null }]
    : consumerGroupTombstones(group);
}

function copyOffsets(from: Group, to: Group): void {
  for (const topic of from.offsets.topics()) {
    for (const [partition, committed] of from.offsets.partitions(topic)) {
      to.offsets.set(topic, partition, committed);
    }
  }
}

/** The same error for every partition of an OffsetCommit/TxnOffsetCommit request. */
export function partitionErrors(
  topics: readonly { name: TopicName; partitions: readonly { partitionIndex: PartitionIndex }[] }[],
  errorCode: number,
): PartitionErrors[] {
  return topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => ({
      partitionIndex: partition.partitionIndex,
      errorCode,
    })),
  }));
}

/** Group ids are non-empty strings for every group API (Kafka's isValidGroupId). */
function isValidGroupId(groupId: string | null | undefined): groupId is string {
  return typeof groupId === 'string' && groupId.length > 0;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly logger: Logger;
  private readonly dependencies: GroupCoordinatorDependencies;
  private readonly topics: TopicMetadataView;
  private readonly offsetsLog: OffsetsLog;
  private readonly classic: ClassicProtocol;
  private readonly consumer: ConsumerProtocol;
  private readonly groups = new Map<GroupId, Group>();
  /** TxnOffsetCommit offsets waiting for their transaction's marker (transactional-offsets.ts). */
  readonly pendingTransactionalOffsets = new PendingTransactionalOffsets();
  private retentionTimer: TimerHandle | null = null;
  /** Cluster mode: the `__consumer_offsets` partitions served here; undefined: all of them. */
  private readonly partitionStates: Map<PartitionIndex, 'loading' | 'loaded'> | undefined;
  status: CoordinatorStatus = 'created';

  constructor(dependencies: GroupCoordinatorDependencies) {
    this.dependencies = dependencies;
    this.config = { ...defaultGroupCoordinatorConfig, ...dependencies.config };
    this.logger = dependencies.logger.child({ component: 'group-coordinator' });
    this.topics = dependencies.topics;
    this.partitionStates = dependencies.partitionsFollowLeadership === true ? new Map() : undefined;
    const randomUuid = dependencies.randomUuid ?? randomUUID;
    this.offsetsLog = new OffsetsLog({
      storage: dependencies.storage,
      clock: dependencies.clock,
      logger: this.logger,
      defaultPartitionCount: this.config.offsetsTopicPartitionCount,
    });
    this.classic = new ClassicProtocol({
      clock: dependencies.clock,
      logger: this.logger,
      config: this.config,
      randomUuid,
      persistGroup: (group) => this.persistClassicGroup(group),
    });
    this.consumer = new ConsumerProtocol({
      clock: dependencies.clock,
      logger: this.logger,
      config: this.config,
      randomUuid,
      topics: dependencies.topics,
      persistGroup: (group) => this.persistConsumerGroup(group),
    });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Replays `__consumer_offsets`; group APIs answer COORDINATOR_LOAD_IN_PROGRESS meanwhile. */
  async start(): Promise<void> {
    this.status = 'loading';
    // Cluster mode loads partitions as this broker becomes their leader (loadPartition).
    const loaded =
      this.partitionStates !== undefined
        ? new Map<GroupId, LoadedGroupState>()
        : await this.offsetsLog.load({ readBytesMax: this.config.offsetsLoadBufferBytes });
    for (const state of loaded.values()) this.restoreGroup(state);
    for (const open of this.offsetsLog.openTransactionalOffsets) {
      this.pendingTransactionalOffsets.add(open.producerId, {
        groupId: open.groupId,
        topic: open.topic,
        partition: open.partition,
        committed: { ...open.value },
      });
    }
    this.status = 'active';
    this.logger.info('group coordinator loaded', {
      groups: this.groups.size,
      partitions: this.offsetsLog.partitionCount,
    });
    this.scheduleRetention();
  }

  /**
   * Cluster mode: this broker became the leader of `partition`: its groups are replayed from the
   * log and served from now on (COORDINATOR_LOAD_IN_PROGRESS meanwhile). Idempotent.
   */
  async loadPartition(partition: PartitionIndex): Promise<void> {
    const states = this.partitionStates;
    if (states === undefined || states.has(partition) || this.status === 'stopped') return;
    states.set(partition, 'loading');
    try {
      const loaded = await this.offsetsLog.loadPartition(partition, {
        readBytesMax: this.config.offsetsLoadBufferBytes,
      });
      if (states.get(partition) !== 'loading') return; // unloaded meanwhile
      for (const state of loaded.values()) this.restoreGroup(state);
      for (const open of this.offsetsLog.openTransactionalOffsets) {
        if (this.partitionFor(open.groupId) !== partition) continue;
        this.pendingTransactionalOffsets.add(open.producerId, {
          groupId: open.groupId,
          topic: open.topic,
          partition: open.partition,
          committed: { ...open.value },
        });
      }
      states.set(partition, 'loaded');
      this.logger.info('__consumer_offsets partition loaded', { partition, groups: loaded.size });
    } catch (error) {
      if (states.get(partition) === 'loading') states.delete(partition);
      this.logger.warn('loading a __consumer_offsets partition failed', { partition, error });
    }
  }

  /**
   * Cluster mode: `partition`'s leadership moved away: its groups are dropped (parked requests
   * answer NOT_COORDINATOR; members find the new coordinator).
   */
  unloadPartition(partition: PartitionIndex): void {
    const states = this.partitionStates;
    if (states === undefined || !states.delete(partition)) return;
    let dropped = 0;
    for (const group of [...this.groups.values()]) {
      if (this.partitionFor(group.groupId) !== partition) continue;
      if (group.type === 'classic') this.classic.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
      else this.consumer.shutdownGroup(group);
      this.groups.delete(group.groupId);
      dropped++;
    }
    this.logger.info('__consumer_offsets partition unloaded', { partition, groups: dropped });
  }

  /** NONE when this group's requests can be served here (cluster mode: its partition is loaded). */
  private groupAvailability(groupId: GroupId): number {
    const availability = this.availability();
    if (availability !== ErrorCode.NONE || this.partitionStates === undefined) return availability;
    const state = this.partitionStates.get(this.partitionFor(groupId));
    if (state === 'loaded') return ErrorCode.NONE;
    return state === 'loading' ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NOT_COORDINATOR;
  }

  /** Answers parked requests with NOT_COORDINATOR and waits for pending writes. */
  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.retentionTimer?.cancel();
    this.retentionTimer = null;
    for (const group of this.groups.values()) {
      if (group.type === 'classic') this.classic.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
      else this.consumer.shutdownGroup(group);
    }
    await this.offsetsLog.flush();
  }

  /** The partition of `__consumer_offsets` that holds the group (FindCoordinator, tools). */
  partitionFor(groupId: GroupId): PartitionIndex {
    return this.offsetsLog.partitionFor(groupId);
  }

  get offsetsTopicPartitionCount(): number {
    return this.offsetsLog.partitionCount;
  }

  /** NONE when group requests can be served now. */
  availability(): number {
    switch (this.status) {
      case 'active':
        return ErrorCode.NONE;
      case 'loading':
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  /** INVALID_GROUP_ID, then the coordinator's availability; NONE when the request may proceed. */
  private requestError(groupId: string): number {
    if (!isValidGroupId(groupId)) return ErrorCode.INVALID_GROUP_ID;
    return this.groupAvailability(groupId);
  }

  /** Group lookup for tests and admin views. */
  group(groupId: GroupId): Group | undefined {
    return this.groups.get(groupId);
  }

  private nowMs(): bigint {
    return BigInt(Math.floor(this.dependencies.clock.wallMs()));
  }

  // ---------------------------------------------------------------- classic protocol

  async joinGroup(groupId: GroupId, input: JoinGroupInput): Promise<JoinGroupResult> {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return joinError(input.memberId, requestError);
    if (
      input.sessionTimeoutMs < this.config.sessionTimeoutMsMin ||
      input.sessionTimeoutMs > this.config.sessionTimeoutMsMax
    ) {
      return joinError(input.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(groupId);
    if (group === undefined) {
      if (input.memberId !== '') return joinError(input.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      group = new ClassicGroup(groupId, this.nowMs());
      this.groups.set(groupId, group);
    }
    if (group.type !== 'classic') {
      // A KIP-848 group with members only accepts ConsumerGroupHeartbeat (no online migration);
      // an empty one becomes a classic group again, keeping its offsets.
      if (group.members.size > 0 || input.memberId !== '') {
        return joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      }
      const converted = new ClassicGroup(groupId, this.nowMs());
      copyOffsets(group, converted);
      this.consumer.shutdownGroup(group);
      const tombstones = consumerGroupTombstones(group);
      this.groups.set(groupId, converted);
      group = converted;
      await this.appendQuietly(groupId, tombstones);
    }
    const result = await this.classic.join(group, input);
    this.dropIfUnused(group);
    return result;
  }

  async syncGroup(groupId: GroupId, input: SyncGroupInput): Promise<SyncGroupResult> {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return syncError(requestError);
    const group = this.groups.get(groupId);
    if (group === undefined) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.type !== 'classic') return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    return this.classic.sync(group, input);
  }

  heartbeat(groupId: GroupId, input: HeartbeatInput): number {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return requestError;
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.type !== 'classic') return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return this.classic.heartbeat(group, input);
  }

  /** Top-level error plus one error per leaving member (LeaveGroup v3+ batch). */
  leaveGroup(
    groupId: GroupId,
    members: readonly LeaveMemberInput[],
  ): { errorCode: number; memberErrors: number[] } {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return { errorCode: requestError, memberErrors: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.type !== 'classic') {
      return {
        errorCode: ErrorCode.NONE,
        memberErrors: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID),
      };
    }
    if (group.state === 'Dead') {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, memberErrors: [] };
    }
    return { errorCode: ErrorCode.NONE, memberErrors: this.classic.leave(group, members) };
  }

  private persistClassicGroup(group: ClassicGroup): Promise<void> {
    const value = encodeGroupMetadataValue({
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestampMs: group.stateTimestampMs,
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        sessionTimeoutMs: member.sessionTimeoutMs,
        subscription: member.metadataFor(group.protocolName ?? ''),
        assignment: member.assignment,
      })),
    });
    return this.offsetsLog.append(group.groupId, [
      { key: encodeGroupMetadataKey(group.groupId), value },
    ]);
  }

  /** Appends what changed in a KIP-848 group since the last write (consumer-group-store.ts). */
  private async persistConsumerGroup(group: ConsumerGroup, memberId?: string): Promise<void> {
    const changes = consumerGroupChanges(group, { memberId });
    if (changes.length === 0) return;
    try {
      await this.offsetsLog.append(group.groupId, changes);
    } catch (error) {
      // Unknown what reached the log: the next write rewrites every record.
      forgetPersisted(group);
      throw error;
    }
  }

  private async appendQuietly(groupId: GroupId, records: OffsetsRecord[]): Promise<void> {
    try {
      await this.offsetsLog.append(groupId, records);
    } catch (error) {
      this.logger.warn('could not write group record', { groupId, error: String(error) });
    }
  }

  /** A group created by a join that failed before any member was added is forgotten again. */
  private dropIfUnused(group: Group): void {
    if (group.type !== 'classic') return;
    if (
      group.state === 'Empty' &&
      group.generationId === 0 &&
      group.members.size === 0 &&
      group.pendingMembers.size === 0 &&
      group.offsets.size === 0 &&
      this.groups.get(group.groupId) === group
    ) {
      this.groups.delete(group.groupId);
    }
  }

  // ---------------------------------------------------------------- KIP-848

  async consumerGroupHeartbeat(
    input: ConsumerGroupHeartbeatInput,
  ): Promise<ConsumerGroupHeartbeatResult> {
    const availability = isValidGroupId(input.groupId)
      ? this.groupAvailability(input.groupId)
      : this.availability();
    if (availability !== ErrorCode.NONE) {
      return this.consumer.errorResult(availability, null);
    }
    if (!isValidGroupId(input.groupId)) {
      return this.consumer.errorResult(ErrorCode.INVALID_REQUEST, 'GroupId can not be empty.');
    }
    let group = this.groups.get(input.groupId);
    if (group !== undefined && group.type === 'classic') {
      if (group.members.size > 0 || group.pendingMembers.size > 0) {
        return this.consumer.errorResult(
          ErrorCode.GROUP_ID_NOT_FOUND,
          `Group ${input.groupId} is not a consumer group.`,
        );
      }
      if (input.memberEpoch !== 0) {
        return this.consumer.errorResult(ErrorCode.UNKNOWN_MEMBER_ID, null);
      }
      // An empty classic group (or one that only has offsets) becomes a consumer group.
      const converted = new ConsumerGroup(input.groupId, this.nowMs());
      copyOffsets(group, converted);
      this.classic.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
      this.groups.set(input.groupId, converted);
      group = converted;
      await this.appendQuietly(group.groupId, [
        { key: encodeGroupMetadataKey(group.groupId), value: null },
      ]);
    }
    if (group === undefined) {
      if (input.memberEpoch !== 0) {
        return this.consumer.errorResult(ErrorCode.UNKNOWN_MEMBER_ID, null);
      }
      group = new ConsumerGroup(input.groupId, this.nowMs());
      this.groups.set(input.groupId, group);
    }
    const result = this.consumer.heartbeat(group, input);
    if (group.members.size === 0 && group.offsets.size === 0 && group.groupEpoch === 0) {
      this.groups.delete(group.groupId);
      return result;
    }
    // Like Kafka, answer once what the heartbeat changed is written.
    try {
      await this.persistConsumerGroup(group, result.memberId ?? input.memberId);
    } catch (error) {
      this.logger.warn('could not persist the consumer group', {
        groupId: group.groupId,
        error: String(error),
      });
    }
    return result;
  }

  consumerGroupDescribe(groupIds: readonly GroupId[]): ConsumerGroupDescription[] {
    return groupIds.map((groupId) => {
      const availability = isValidGroupId(groupId)
        ? this.groupAvailability(groupId)
        : this.availability();
      if (availability !== ErrorCode.NONE) {
        return this.consumer.describeError(groupId, availability, null);
      }
      if (!isValidGroupId(groupId)) {
        return this.consumer.describeError(groupId, ErrorCode.INVALID_GROUP_ID, null);
      }
      const group = this.groups.get(groupId);
      if (group === undefined || group.type !== 'consumer') {
        return this.consumer.describeError(
          groupId,
          ErrorCode.GROUP_ID_NOT_FOUND,
          group === undefined
            ? `Group ${groupId} not found.`
            : `Group ${groupId} is not a consumer group.`,
        );
      }
      return this.consumer.describe(group);
    });
  }

  // ---------------------------------------------------------------- offsets

  async commitOffsets(input: OffsetCommitInput): Promise<PartitionErrors[]> {
    const allWith = (errorCode: number) => partitionErrors(input.topics, errorCode);
    const requestError = this.requestError(input.groupId);
    if (requestError !== ErrorCode.NONE) return allWith(requestError);
    let group = this.groups.get(input.groupId);
    if (group === undefined) {
      if (input.generationIdOrMemberEpoch >= 0) return allWith(ErrorCode.ILLEGAL_GENERATION);
      // A standalone consumer or an admin: offsets without group management.
      group = new ClassicGroup(input.groupId, this.nowMs());
      this.groups.set(input.groupId, group);
    }
    const groupError = this.validateCommit(group, input);
    if (groupError !== ErrorCode.NONE) return allWith(groupError);
    return this.writeOffsets(group, input);
  }

  private validateCommit(group: Group, input: OffsetCommitInput): number {
    if (group.type === 'consumer') {
      return this.consumer.validateOffsetCommit(group, {
        memberId: input.memberId,
        memberEpoch: input.generationIdOrMemberEpoch,
        apiVersion: input.apiVersion,
      });
    }
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (input.generationIdOrMemberEpoch < 0 && group.state === 'Empty') return ErrorCode.NONE;
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    if (group.isStaticMemberFenced(input.groupInstanceId, input.memberId)) {
      return ErrorCode.FENCED_INSTANCE_ID;
    }
    const member = group.members.get(input.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (input.generationIdOrMemberEpoch !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    // A commit proves the member is alive (Kafka resets the session timer on it).
    this.classic.scheduleHeartbeatExpiry(group, member);
    return ErrorCode.NONE;
  }

  private partitionExists(topic: TopicName, partition: PartitionIndex): boolean {
    const info = this.topics.get(topic);
    return info !== undefined && partition >= 0 && partition < info.partitionCount;
  }

  /**
   * TxnOffsetCommit (KIP-98; KIP-447 member/generation fencing): written now as a transactional
   * batch, visible once the commit marker arrives (`completeTransactionalOffsets`). The caller has
   * verified the producer with the transaction coordinator.
   */
  async commitTransactionalOffsets(
    input: OffsetCommitInput & TransactionalAppend,
  ): Promise<PartitionErrors[]> {
    const allWith = (errorCode: number) => partitionErrors(input.topics, errorCode);
    const requestError = this.requestError(input.groupId);
    if (requestError !== ErrorCode.NONE) return allWith(requestError);
    let group = this.groups.get(input.groupId);
    if (group === undefined) {
      group = new ClassicGroup(input.groupId, this.nowMs());
      this.groups.set(input.groupId, group);
    }
    // Clients before KIP-447 send no member information: nothing to fence them with.
    if (input.memberId !== '' || input.generationIdOrMemberEpoch >= 0) {
      const groupError = this.validateCommit(group, input);
      if (groupError !== ErrorCode.NONE) return allWith(groupError);
    }
    return this.writeOffsets(group, input, {
      producerId: input.producerId,
      producerEpoch: input.producerEpoch,
      stillOpen: input.stillOpen,
    });
  }

  /** A transaction marker was written to `__consumer_offsets` partition `partition`. */
  completeTransactionalOffsets(options: {
    producerId: bigint;
    partition: PartitionIndex;
    commit: boolean;
  }): void {
    const taken = this.pendingTransactionalOffsets.take(
      options.producerId,
      options.partition,
      (id) => this.partitionFor(id),
    );
    if (!options.commit) return;
    for (const pending of taken) {
      let group = this.groups.get(pending.groupId);
      if (group === undefined) {
        group = new ClassicGroup(pending.groupId, this.nowMs());
        this.groups.set(pending.groupId, group);
      }
      group.offsets.set(pending.topic, pending.partition, pending.committed);
    }
  }

  private async writeOffsets(
    group: Group,
    input: OffsetCommitInput,
    transaction?: TransactionalAppend,
  ): Promise<PartitionErrors[]> {
    const nowMs = this.nowMs();
    const records: OffsetsRecord[] = [];
    const accepted: { topic: TopicName; partition: PartitionIndex; committed: CommittedOffset }[] =
      [];
    const results: PartitionErrors[] = input.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => {
        const metadata = partition.committedMetadata ?? '';
        if (!this.partitionExists(topic.name, partition.partitionIndex)) {
          return {
            partitionIndex: partition.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          };
        }
        if (Buffer.byteLength(metadata) > this.config.offsetMetadataBytesMax) {
          return {
            partitionIndex: partition.partitionIndex,
            errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE,
          };
        }
        const commitTimestampMs =
          partition.commitTimestampMs >= 0n ? partition.commitTimestampMs : nowMs;
        const committed: CommittedOffset = {
          offset: partition.committedOffset,
          leaderEpoch: partition.committedLeaderEpoch,
          metadata,
          commitTimestampMs,
          expireTimestampMs:
            input.retentionTimeMs >= 0n ? commitTimestampMs + input.retentionTimeMs : null,
        };
        records.push({
          key: encodeOffsetCommitKey({
            group: group.groupId,
            topic: topic.name,
            partition: partition.partitionIndex,
          }),
          value: encodeOffsetCommitValue(committed),
        });
        accepted.push({ topic: topic.name, partition: partition.partitionIndex, committed });
        return { partitionIndex: partition.partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    if (records.length === 0) return results;
    // Pending before the write: a marker that ends the transaction meanwhile finds (and takes) them.
    const pending = accepted.map((entry) => ({ groupId: group.groupId, ...entry }));
    if (transaction !== undefined) {
      for (const entry of pending)
        this.pendingTransactionalOffsets.add(transaction.producerId, entry);
    }
    try {
      await this.offsetsLog.append(group.groupId, records, transaction);
    } catch (error) {
      if (transaction !== undefined) {
        this.pendingTransactionalOffsets.remove(transaction.producerId, pending);
      }
      this.logger.warn('offset commit could not be written', {
        groupId: group.groupId,
        error: String(error),
      });
      for (const topic of results) {
        for (const partition of topic.partitions) {
          if (partition.errorCode === ErrorCode.NONE) {
            partition.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
          }
        }
      }
      return results;
    }
    if (transaction !== undefined) return results;
    for (const entry of accepted) group.offsets.set(entry.topic, entry.partition, entry.committed);
    if (this.groups.get(group.groupId) !== group) {
      // Deleted while the write was in flight: resurrect it so the offsets stay visible.
      this.groups.set(group.groupId, group);
    }
    return results;
  }

  /** OffsetFetch for one group (v8+ sends several). */
  fetchOffsets(input: OffsetFetchGroupInput, options: { requireStable: boolean }) {
    const result = (errorCode: number, topics: OffsetFetchGroupResult['topics'] = []) => ({
      groupId: input.groupId,
      errorCode,
      topics,
    });
    const requestError = this.requestError(input.groupId);
    if (requestError !== ErrorCode.NONE) return result(requestError);
    const group = this.groups.get(input.groupId);
    if (group?.type === 'consumer' && input.memberId !== null) {
      const errorCode = this.consumer.validateOffsetFetch(group, {
        memberId: input.memberId,
        memberEpoch: input.memberEpoch,
      });
      if (errorCode !== ErrorCode.NONE) return result(errorCode);
    }
    const offsets = group?.offsets;
    const describe = (topic: TopicName, partitionIndex: PartitionIndex): FetchedPartitionOffset => {
      const committed = offsets?.get(topic, partitionIndex);
      if (
        options.requireStable &&
        this.pendingTransactionalOffsets.isPending(input.groupId, topic, partitionIndex)
      ) {
        // KIP-447: an open transaction holds an offset for it; the consumer retries.
        return {
          partitionIndex,
          committedOffset: -1n,
          committedLeaderEpoch: -1,
          metadata: '',
          errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
        };
      }
      return {
        partitionIndex,
        committedOffset: committed?.offset ?? -1n,
        committedLeaderEpoch: committed?.leaderEpoch ?? -1,
        metadata: committed?.metadata ?? '',
        errorCode: ErrorCode.NONE,
      };
    };
    if (input.topics === null) {
      const topics = (offsets?.topics() ?? []).map((topic) => ({
        name: topic,
        partitions: offsets!.partitions(topic).map(([partition]) => describe(topic, partition)),
      }));
      return result(ErrorCode.NONE, topics);
    }
    return result(
      ErrorCode.NONE,
      input.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partition) => describe(topic.name, partition)),
      })),
    );
  }

  /** OffsetDelete (KIP-496). */
  async deleteOffsets(
    groupId: GroupId,
    topics: readonly { name: TopicName; partitions: readonly PartitionIndex[] }[],
  ): Promise<{ errorCode: number; topics: PartitionErrors[] }> {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return { errorCode: requestError, topics: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || (group.type === 'classic' && group.state === 'Dead')) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    }
    let subscribed: (topic: TopicName) => boolean;
    if (group.type === 'classic') {
      if (group.state !== 'Empty' && group.protocolType !== 'consumer') {
        return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      }
      subscribed = (topic) => group.state !== 'Empty' && group.isSubscribedTo(topic);
    } else {
      subscribed = (topic) => group.isSubscribedTo(topic);
    }
    const records: OffsetsRecord[] = [];
    const deleted: { topic: TopicName; partition: PartitionIndex }[] = [];
    const results = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partitionIndex) => {
        if (!this.partitionExists(topic.name, partitionIndex)) {
          return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        }
        if (subscribed(topic.name)) {
          return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        }
        if (group.offsets.get(topic.name, partitionIndex) !== undefined) {
          records.push({
            key: encodeOffsetCommitKey({
              group: groupId,
              topic: topic.name,
              partition: partitionIndex,
            }),
            value: null,
          });
          deleted.push({ topic: topic.name, partition: partitionIndex });
        }
        return { partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    try {
      await this.offsetsLog.append(groupId, records);
    } catch (error) {
      this.logger.warn('offset deletion could not be written', { groupId, error: String(error) });
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    }
    for (const entry of deleted) group.offsets.delete(entry.topic, entry.partition);
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  /**
   * Topics were deleted: their committed offsets go too (tombstones), as Kafka's coordinator does,
   * so a topic created again under the same name does not resume from stale offsets.
   */
  async onTopicsDeleted(topicNames: readonly TopicName[]): Promise<number> {
    const deletedTopics = new Set(topicNames);
    let removed = 0;
    for (const group of this.groups.values()) {
      const records: OffsetsRecord[] = [];
      for (const topic of group.offsets.topics()) {
        if (!deletedTopics.has(topic)) continue;
        for (const [partition] of group.offsets.partitions(topic)) {
          records.push({
            key: encodeOffsetCommitKey({ group: group.groupId, topic, partition }),
            value: null,
          });
          group.offsets.delete(topic, partition);
        }
      }
      removed += records.length;
      await this.appendQuietly(group.groupId, records);
    }
    if (removed > 0) this.logger.info('removed offsets of deleted topics', { removed });
    return removed;
  }

  // ---------------------------------------------------------------- admin

  describeGroups(groupIds: readonly GroupId[]): DescribedClassicGroup[] {
    const availability = this.availability();
    return groupIds.map((groupId) => {
      const dead = (errorCode: number): DescribedClassicGroup => ({
        errorCode,
        groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      });
      if (availability !== ErrorCode.NONE) return { ...dead(availability), groupState: '' };
      if (!isValidGroupId(groupId)) return { ...dead(ErrorCode.INVALID_GROUP_ID), groupState: '' };
      const group = this.groups.get(groupId);
      // Like Kafka, an unknown group (or a KIP-848 one) is described as Dead without an error.
      if (group === undefined || group.type !== 'classic') return dead(ErrorCode.NONE);
      const stable = group.state === 'Stable';
      const protocolName = group.protocolName ?? '';
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable ? protocolName : '',
        members: [...group.members.values()].map((member: ClassicMember) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          memberMetadata: stable ? member.metadataFor(protocolName) : emptyBuffer,
          memberAssignment: stable ? member.assignment : emptyBuffer,
        })),
      };
    });
  }

  /** ListGroups; filters match case-insensitively (v4 states, v5 types); empty = all. */
  listGroups(filters: { states: readonly string[]; types: readonly string[] }): {
    errorCode: number;
    groups: ListedGroup[];
  } {
    const availability = this.availability();
    if (availability !== ErrorCode.NONE) return { errorCode: availability, groups: [] };
    const states = new Set(filters.states.map((state) => state.toLowerCase()));
    const types = new Set(filters.types.map((type) => type.toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const group of this.groups.values()) {
      const listed: ListedGroup =
        group.type === 'classic'
          ? {
              groupId: group.groupId,
              protocolType: group.protocolType ?? '',
              groupState: group.state,
              groupType: 'classic',
            }
          : {
              groupId: group.groupId,
              protocolType: 'consumer',
              groupState: group.stateName(),
              groupType: 'consumer',
            };
      if (listed.groupState === 'Dead') continue;
      if (states.size > 0 && !states.has(listed.groupState.toLowerCase())) continue;
      if (types.size > 0 && !types.has(listed.groupType)) continue;
      groups.push(listed);
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** DeleteGroups: only empty groups; writes tombstones for the group and all its offsets. */
  async deleteGroups(
    groupIds: readonly GroupId[],
  ): Promise<{ groupId: GroupId; errorCode: number }[]> {
    const results: { groupId: GroupId; errorCode: number }[] = [];
    for (const groupId of groupIds) {
      results.push({ groupId, errorCode: await this.deleteGroup(groupId) });
    }
    return results;
  }

  private async deleteGroup(groupId: GroupId): Promise<number> {
    const requestError = this.requestError(groupId);
    if (requestError !== ErrorCode.NONE) return requestError;
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.type === 'classic') {
      if (group.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
      if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    } else if (group.members.size > 0) {
      return ErrorCode.NON_EMPTY_GROUP;
    }
    try {
      await this.removeGroupDurably(group);
    } catch (error) {
      this.logger.warn('group deletion could not be written', { groupId, error: String(error) });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.NONE;
  }

  private async removeGroupDurably(group: Group): Promise<void> {
    const records: OffsetsRecord[] = [];
    for (const topic of group.offsets.topics()) {
      for (const [partition] of group.offsets.partitions(topic)) {
        records.push({
          key: encodeOffsetCommitKey({ group: group.groupId, topic, partition }),
          value: null,
        });
      }
    }
    records.push(...groupTombstones(group));
    if (group.type === 'classic') {
      this.classic.shutdownGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      group.transitionTo('Dead', this.nowMs());
    } else {
      this.consumer.shutdownGroup(group);
    }
    this.groups.delete(group.groupId);
    await this.offsetsLog.append(group.groupId, records);
    this.logger.info('group deleted', { groupId: group.groupId });
  }

  // ---------------------------------------------------------------- retention

  private scheduleRetention(): void {
    if (this.status !== 'active') return;
    this.retentionTimer = this.dependencies.clock.schedule(
      this.config.offsetsRetentionCheckIntervalMs,
      () => {
        this.expireOffsets().then(
          () => this.scheduleRetention(),
          (error: unknown) => {
            this.logger.warn('offset expiration failed', { error: String(error) });
            this.scheduleRetention();
          },
        );
      },
    );
  }

  /**
   * Removes expired offsets (offsets.retention.minutes, KIP-211) and then groups that are empty
   * and have no offsets left. Returns the number of offsets removed.
   */
  async expireOffsets(): Promise<number> {
    if (this.status !== 'active') return 0;
    const nowMs = this.nowMs();
    const retentionMs = BigInt(this.config.offsetsRetentionMs);
    let removed = 0;
    for (const group of [...this.groups.values()]) {
      const empty = group.type === 'classic' ? group.state === 'Empty' : group.members.size === 0;
      const usesGroupManagement = group.type === 'consumer' || group.protocolType !== null;
      const expired = group.offsets.expired(nowMs, retentionMs, (topic, committed) => {
        if (empty)
          return usesGroupManagement ? group.stateTimestampMs : committed.commitTimestampMs;
        const subscribed =
          group.type === 'classic' ? group.isSubscribedTo(topic) : group.isSubscribedTo(topic);
        return subscribed ? null : committed.commitTimestampMs;
      });
      const records: OffsetsRecord[] = expired.map((entry) => ({
        key: encodeOffsetCommitKey({ group: group.groupId, ...entry }),
        value: null,
      }));
      const dropGroup = empty && group.offsets.size === expired.length;
      if (records.length === 0 && !dropGroup) continue;
      for (const entry of expired) group.offsets.delete(entry.topic, entry.partition);
      removed += expired.length;
      if (dropGroup && group.type === 'classic' && group.pendingMembers.size === 0) {
        group.transitionTo('Dead', nowMs);
        this.groups.delete(group.groupId);
        records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
        this.logger.info('group expired', { groupId: group.groupId });
      } else if (dropGroup && group.type === 'consumer') {
        this.consumer.shutdownGroup(group);
        this.groups.delete(group.groupId);
        records.push(...groupTombstones(group));
      }
      await this.offsetsLog.append(group.groupId, records);
    }
    if (removed > 0) this.logger.info('expired offsets', { removed });
    return removed;
  }

  // ---------------------------------------------------------------- load

  private restoreGroup(state: LoadedGroupState): void {
    const metadata = state.metadata;
    if (metadata === null && state.offsets.size === 0 && state.consumerGroupEpoch === null) return;
    const nowMs = this.nowMs();
    if (state.consumerGroupEpoch !== null) {
      // A KIP-848 group comes back with its members and assignments; their sessions restart.
      const group = new ConsumerGroup(state.groupId, nowMs);
      const members = restoreConsumerGroup(group, state, {
        topics: this.topics,
        defaultAssignor: this.config.consumerAssignors[0] ?? 'uniform',
      });
      group.restoredEpoch = group.groupEpoch;
      for (const [topic, partitions] of state.offsets) {
        for (const [partition, value] of partitions) group.offsets.set(topic, partition, value);
      }
      this.groups.set(group.groupId, group);
      this.consumer.resumeRestoredMembers(group, members);
      return;
    }
    const group = new ClassicGroup(state.groupId, nowMs);
    for (const [topic, partitions] of state.offsets) {
      for (const [partition, value] of partitions) group.offsets.set(topic, partition, value);
    }
    if (metadata !== null) {
      group.protocolType = metadata.protocolType === '' ? null : metadata.protocolType;
      group.generationId = metadata.generation;
      group.protocolName = metadata.protocol;
      if (metadata.currentStateTimestampMs >= 0n) {
        group.stateTimestampMs = metadata.currentStateTimestampMs;
      }
      for (const stored of metadata.members) {
        const member = new ClassicMember({
          memberId: stored.memberId,
          groupInstanceId: stored.groupInstanceId,
          clientId: stored.clientId,
          clientHost: stored.clientHost,
          rebalanceTimeoutMs: stored.rebalanceTimeoutMs,
          sessionTimeoutMs: stored.sessionTimeoutMs,
          protocolType: metadata.protocolType,
          protocols: [{ name: metadata.protocol ?? '', metadata: stored.subscription }],
        });
        member.assignment = stored.assignment;
        group.add(member);
      }
      group.leaderId =
        metadata.leader !== null && group.members.has(metadata.leader)
          ? metadata.leader
          : group.leaderId;
      if (group.members.size > 0) {
        group.state = 'Stable';
        for (const member of group.members.values()) {
          this.classic.scheduleHeartbeatExpiry(group, member);
        }
      }
    }
    this.groups.set(group.groupId, group);
  }
}
