// Classic group membership (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), as Java's
// ConsumerCoordinator behaves: the leader runs the assignor; eager members revoke everything
// before joining; cooperative members (KIP-429) keep their partitions through the join, revoke
// only what moved away after SyncGroup, and rejoin at once when they revoked anything.
// Heartbeats run on a timer; a caller that does not poll within max.poll.interval.ms makes the
// member leave (its partitions are lost at the next poll), as Java's heartbeat thread does.

import {
  ErrorCode,
  type HeartbeatResponse,
  heartbeatApi,
  type JoinGroupResponse,
  joinGroupApi,
  type LeaveGroupResponse,
  leaveGroupApi,
  type SyncGroupResponse,
  syncGroupApi,
} from '@gregor/protocol';
import { ClientError, KafkaError } from '../errors.js';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import { sleep } from '../network/cluster.js';
import type { Connection } from '../network/connection.js';
import { type PartitionAssignor, rebalanceProtocolOf } from './assignors.js';
import {
  consumerProtocolType,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import {
  difference,
  type GroupMembership,
  type MembershipHost,
  type MembershipSettings,
  type SubscriptionSpec,
  topicsMatching,
} from './group-membership.js';

/** JoinGroup v4+ (KIP-394 member id required), the lowest Kafka 4.0 still serves is v2. */
const joinGroupVersionMin = 2;
/** LeaveGroup v3 takes a list of members (KIP-345). */
const leaveGroupMembersVersionMin = 3;
/** Extra time a JoinGroup may take beyond the rebalance timeout (Java adds 5 s). */
const joinGroupGraceMs = 5_000;

const coordinatorCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

export class ClassicMembership implements GroupMembership {
  readonly protocol = 'classic' as const;
  private memberId = '';
  private generationId = -1;
  private rejoinNeeded = true;
  private lostPending = false;
  private fatal: Error | null = null;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeating = false;
  private lastPollMs: number;
  private closed = false;
  private subscribedTopics: string[] = [];
  private topicsResolvedAtMs = Number.NEGATIVE_INFINITY;
  /** Partition counts of the subscribed topics when the last assignment was made. */
  private partitionCountsAtJoin = new Map<string, number>();
  private readonly rebalanceProtocol;

  constructor(
    private readonly host: MembershipHost,
    private readonly settings: MembershipSettings,
    private readonly subscription: SubscriptionSpec,
    private readonly assignors: readonly PartitionAssignor[],
    private readonly now: () => number = Date.now,
  ) {
    if (assignors.length === 0) {
      throw new ClientError('the classic group protocol needs an assignor', { retriable: false });
    }
    this.rebalanceProtocol = rebalanceProtocolOf(assignors);
    this.lastPollMs = now();
  }

  get needsMaintenance(): boolean {
    return this.rejoinNeeded || this.lostPending || this.fatal !== null;
  }

  polled(): void {
    this.lastPollMs = this.now();
  }

  metadata(): ConsumerGroupMetadata {
    return {
      groupId: this.settings.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.settings.groupInstanceId,
    };
  }

  commitFailed(code: number): void {
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
      this.resetGeneration(code === ErrorCode.UNKNOWN_MEMBER_ID);
    } else if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
      this.rejoinNeeded = true;
    } else if (code === ErrorCode.FENCED_INSTANCE_ID) {
      this.fatal = new KafkaError(code, `group ${this.settings.groupId}`);
    }
  }

  async maintain(): Promise<void> {
    if (this.fatal !== null) throw this.fatal;
    this.polled();
    if (this.lostPending) {
      this.lostPending = false;
      const owned = this.host.owned();
      if (owned.length > 0) await this.host.losePartitions(owned);
    }
    await this.resolveTopics();
    if (this.partitionCountsChanged()) this.rejoinNeeded = true;
    while (this.rejoinNeeded && !this.closed) {
      await this.joinOnce();
      if (this.fatal !== null) throw this.fatal;
    }
    this.polled();
  }

  async leave(): Promise<void> {
    this.closed = true;
    this.stopHeartbeats();
    await this.sendLeaveGroup('the consumer is closing');
  }

  /** Pattern subscriptions look for new matching topics once per metadata age. */
  private async resolveTopics(): Promise<void> {
    if ('topics' in this.subscription) {
      if (this.subscribedTopics.length === 0) {
        this.subscribedTopics = [...new Set(this.subscription.topics)].sort();
        this.host.cluster.addTopics(this.subscribedTopics);
      }
      return;
    }
    if (this.now() - this.topicsResolvedAtMs < this.host.cluster.options.metadataMaxAgeMs) return;
    const topics = await topicsMatching(this.host.cluster, this.subscription.pattern);
    this.topicsResolvedAtMs = this.now();
    if (topics.join('\u0000') !== this.subscribedTopics.join('\u0000')) {
      this.subscribedTopics = topics;
      this.host.cluster.addTopics(topics);
      this.rejoinNeeded = true;
    }
  }

  /** New partitions of a subscribed topic (seen in metadata refreshed by fetching) need a rebalance. */
  private partitionCountsChanged(): boolean {
    for (const [topic, count] of this.partitionCountsAtJoin) {
      const now = this.host.cluster.cachedTopic(topic)?.partitions.length;
      if (now !== undefined && now !== count) return true;
    }
    return false;
  }

  private snapshotPartitionCounts(): void {
    this.partitionCountsAtJoin = new Map();
    for (const topic of this.subscribedTopics) {
      const count = this.host.cluster.cachedTopic(topic)?.partitions.length;
      if (count !== undefined && count > 0) this.partitionCountsAtJoin.set(topic, count);
    }
  }

  private resetGeneration(forgetMemberId: boolean): void {
    this.generationId = -1;
    if (forgetMemberId) this.memberId = '';
    this.stopHeartbeats();
    this.rejoinNeeded = true;
    // Whoever fenced us may already have given our partitions to someone else.
    this.lostPending = true;
  }

  private async coordinator(): Promise<Connection> {
    return this.host.cluster.coordinator(
      'group',
      this.settings.groupId,
      this.host.cluster.options.requestTimeoutMs,
    );
  }

  /** Coordinator moves and stale membership are retried by rejoining; the rest is fatal. */
  private onGroupError(code: number, what: string): void {
    if (coordinatorCodes.has(code)) {
      this.host.cluster.forgetCoordinator('group', this.settings.groupId);
      return;
    }
    if (code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.REBALANCE_IN_PROGRESS)
      return;
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
      this.resetGeneration(code === ErrorCode.UNKNOWN_MEMBER_ID);
      return;
    }
    this.fatal = new KafkaError(code, `${what} ${this.settings.groupId}`);
  }

  private async joinOnce(): Promise<void> {
    this.stopHeartbeats();
    if (this.lostPending) {
      this.lostPending = false;
      const owned = this.host.owned();
      if (owned.length > 0) await this.host.losePartitions(owned);
    }
    if (this.rebalanceProtocol === 'eager') {
      const owned = this.host.owned();
      if (owned.length > 0) await this.host.revokePartitions(owned);
    } else {
      await this.host.autoCommitOwned().catch(() => undefined);
    }
    let connection: Connection;
    let join: JoinGroupResponse;
    try {
      connection = await this.coordinator();
      join = await this.sendJoinGroup(connection);
    } catch (error) {
      if (error instanceof ClientError && error.retriable) {
        this.host.cluster.forgetCoordinator('group', this.settings.groupId);
        await sleep(this.host.cluster.options.retryBackoffMs);
        return;
      }
      throw error;
    }
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      // KIP-394: the broker names our member id; join again with it at once.
      this.memberId = join.memberId;
      return;
    }
    if (join.errorCode !== ErrorCode.NONE) {
      this.onGroupError(join.errorCode, 'JoinGroup');
      if (this.fatal === null) await sleep(this.host.cluster.options.retryBackoffMs);
      return;
    }
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    const protocolName = join.protocolName ?? '';
    let assignments: Array<{ memberId: string; assignment: Buffer }> = [];
    if (join.leader === join.memberId && join.skipAssignment !== true) {
      assignments = await this.computeAssignments(join, protocolName);
    }
    let sync: SyncGroupResponse;
    try {
      sync = await connection.request<SyncGroupResponse>(
        syncGroupApi,
        {
          groupId: this.settings.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.settings.groupInstanceId,
          protocolType: consumerProtocolType,
          protocolName,
          assignments,
        },
        { timeoutMs: this.settings.maxPollIntervalMs + joinGroupGraceMs },
      );
    } catch (error) {
      if (error instanceof ClientError && error.retriable) {
        await sleep(this.host.cluster.options.retryBackoffMs);
        return;
      }
      throw error;
    }
    if (sync.errorCode !== ErrorCode.NONE) {
      this.onGroupError(sync.errorCode, 'SyncGroup');
      return;
    }
    this.rejoinNeeded = false;
    this.snapshotPartitionCounts();
    this.startHeartbeats();
    const assigned = decodeAssignment(sync.assignment).partitions;
    const owned = this.host.owned();
    const revoked = difference(owned, assigned);
    if (revoked.length > 0) {
      await this.host.revokePartitions(revoked);
      // KIP-429: what we gave up goes to its new owner in the next round.
      if (this.rebalanceProtocol === 'cooperative') this.rejoinNeeded = true;
    }
    await this.host.assignPartitions(difference(assigned, owned));
  }

  private sendJoinGroup(connection: Connection): Promise<JoinGroupResponse> {
    const owned = this.rebalanceProtocol === 'cooperative' ? this.host.owned() : [];
    const protocols = this.assignors.map((assignor) => ({
      name: assignor.name,
      metadata: encodeSubscription({
        topics: this.subscribedTopics,
        userData: assignor.subscriptionUserData(owned, this.generationId),
        ownedPartitions: owned,
        generationId: this.generationId,
        rackId: this.settings.rackId,
      }),
    }));
    return connection.request<JoinGroupResponse>(
      joinGroupApi,
      {
        groupId: this.settings.groupId,
        sessionTimeoutMs: this.settings.sessionTimeoutMs,
        rebalanceTimeoutMs: this.settings.maxPollIntervalMs,
        memberId: this.memberId,
        groupInstanceId: this.settings.groupInstanceId,
        protocolType: consumerProtocolType,
        protocols,
        reason: null,
      },
      {
        version: connection.versions.version(joinGroupApi, joinGroupVersionMin),
        timeoutMs: this.settings.maxPollIntervalMs + joinGroupGraceMs,
      },
    );
  }

  /** The leader's job: decode every subscription, load partition counts, run the assignor. */
  private async computeAssignments(
    join: JoinGroupResponse,
    protocolName: string,
  ): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const assignor = this.assignors.find((candidate) => candidate.name === protocolName);
    if (assignor === undefined) {
      throw new ClientError(`the group chose assignor ${protocolName}, which is not configured`, {
        retriable: false,
      });
    }
    const members = join.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId ?? null,
      subscription: decodeSubscription(member.metadata),
    }));
    const topics = [...new Set(members.flatMap((member) => member.subscription.topics))];
    const cluster = this.host.cluster;
    cluster.addTopics(topics);
    await cluster.refreshMetadata();
    const partitionCounts = new Map<string, number>();
    for (const topic of topics) {
      const info = cluster.cachedTopic(topic);
      if (info !== undefined && info.errorCode === ErrorCode.NONE && info.partitions.length > 0) {
        partitionCounts.set(topic, info.partitions.length);
      }
    }
    const result = assignor.assign(members, partitionCounts);
    return members.map((member) => ({
      memberId: member.memberId,
      assignment: encodeAssignment({
        partitions: result.get(member.memberId) ?? [],
        userData: null,
      }),
    }));
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    this.heartbeating = true;
    this.scheduleHeartbeat(this.settings.heartbeatIntervalMs);
  }

  private stopHeartbeats(): void {
    this.heartbeating = false;
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (!this.heartbeating || this.closed) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeat().catch(() => this.scheduleHeartbeat(this.settings.heartbeatIntervalMs));
    }, delayMs);
    this.heartbeatTimer.unref?.();
  }

  private async heartbeat(): Promise<void> {
    if (!this.heartbeating) return;
    if (this.now() - this.lastPollMs > this.settings.maxPollIntervalMs) {
      // Java's behaviour: a member that stopped polling leaves so its partitions move on.
      this.stopHeartbeats();
      this.generationId = -1;
      this.rejoinNeeded = true;
      this.lostPending = true;
      await this.sendLeaveGroup('consumer poll timeout has expired').catch(() => undefined);
      if (this.settings.groupInstanceId === null) this.memberId = '';
      return;
    }
    const generationId = this.generationId;
    let response: HeartbeatResponse;
    try {
      const connection = await this.coordinator();
      response = await connection.request<HeartbeatResponse>(heartbeatApi, {
        groupId: this.settings.groupId,
        generationId,
        memberId: this.memberId,
        groupInstanceId: this.settings.groupInstanceId,
      });
    } catch {
      this.host.cluster.forgetCoordinator('group', this.settings.groupId);
      this.scheduleHeartbeat(this.host.cluster.options.retryBackoffMs);
      return;
    }
    if (!this.heartbeating || generationId !== this.generationId) return;
    const code = response.errorCode;
    if (code === ErrorCode.NONE) {
      this.scheduleHeartbeat(this.settings.heartbeatIntervalMs);
    } else if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
      // Keep heartbeating until the next poll rejoins: the session stays alive meanwhile.
      this.rejoinNeeded = true;
      this.scheduleHeartbeat(this.settings.heartbeatIntervalMs);
    } else if (coordinatorCodes.has(code) || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
      this.host.cluster.forgetCoordinator('group', this.settings.groupId);
      this.scheduleHeartbeat(this.host.cluster.options.retryBackoffMs);
    } else {
      this.onGroupError(code, 'Heartbeat');
    }
  }

  /** Static members never leave: their restart within the session timeout keeps the assignment. */
  private async sendLeaveGroup(reason: string): Promise<void> {
    if (this.settings.groupInstanceId !== null || this.memberId === '') return;
    const memberId = this.memberId;
    try {
      const connection = await this.coordinator();
      const version = connection.versions.version(leaveGroupApi);
      const request =
        version >= leaveGroupMembersVersionMin
          ? {
              groupId: this.settings.groupId,
              members: [{ memberId, groupInstanceId: null, reason }],
            }
          : { groupId: this.settings.groupId, memberId };
      await connection.request<LeaveGroupResponse>(leaveGroupApi, request, {
        version,
        timeoutMs: Math.min(this.host.cluster.options.requestTimeoutMs, 5_000),
      });
    } catch {
      // Leaving is best effort: the session timeout removes the member anyway.
    }
  }
}
