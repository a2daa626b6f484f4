// KIP-848 membership: one ConsumerGroupHeartbeat carries join, subscription, acknowledgement and
// leave; the broker assigns (server-side assignors) and the member reconciles. Reconciliation
// revokes before it assigns: partitions the target no longer holds are committed (auto-commit),
// revoked through the listener and dropped, then the new ones are added, and the next heartbeat
// (sent at once) reports what the member owns. The broker gives a partition to its next owner
// only after the previous owner reported it gone, so no partition is fetched by two members.
// FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID lose every partition and rejoin at epoch 0.

import { randomBytes } from 'node:crypto';
import {
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  consumerGroupHeartbeatApi,
  ErrorCode,
} from '@gregor/protocol';
import { ClientError, KafkaError } from '../errors.js';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import type { Connection } from '../network/connection.js';
import {
  allTopics,
  difference,
  type GroupMembership,
  type MembershipHost,
  type MembershipSettings,
  type SubscriptionSpec,
} from './group-membership.js';
import type { TopicPartition } from './list-offsets.js';

/** Epochs with a meaning of their own in ConsumerGroupHeartbeat. */
const joinEpoch = 0;
const leaveEpoch = -1;
const staticLeaveEpoch = -2;
/** v1 has the client choose its member id (KIP-1082) and carries the regex. */
const clientMemberIdVersionMin = 1;

const coordinatorCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

interface TargetAssignment {
  /** Topic id → partitions, as the broker sent them. */
  topicPartitions: Array<{ topicId: string; partitions: number[] }>;
}

export class ConsumerProtocolMembership implements GroupMembership {
  readonly protocol = 'consumer' as const;
  private memberId: string = randomBytes(16).toString('base64url');
  private memberEpoch = joinEpoch;
  private joined = false;
  private target: TargetAssignment | null = null;
  private reconciled = true;
  private lostPending = false;
  private fatal: Error | null = null;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatIntervalMs: number;
  private inFlight: Promise<void> | null = null;
  private lastPollMs: number;
  private closed = false;
  private leftOnPollTimeout = false;

  constructor(
    private readonly host: MembershipHost,
    private readonly settings: MembershipSettings,
    private readonly subscription: SubscriptionSpec,
    private readonly serverAssignor: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.heartbeatIntervalMs = settings.heartbeatIntervalMs;
    this.lastPollMs = now();
    if ('topics' in subscription) host.cluster.addTopics(subscription.topics);
  }

  get needsMaintenance(): boolean {
    return !this.joined || !this.reconciled || this.lostPending || this.fatal !== null;
  }

  polled(): void {
    this.lastPollMs = this.now();
  }

  metadata(): ConsumerGroupMetadata {
    return {
      groupId: this.settings.groupId,
      generationId: this.memberEpoch,
      memberId: this.memberId,
      groupInstanceId: this.settings.groupInstanceId,
    };
  }

  commitFailed(code: number): void {
    if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.fence();
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
    if (!this.joined && !this.closed) {
      this.leftOnPollTimeout = false;
      this.memberEpoch = joinEpoch;
      await this.heartbeatNow();
      if (this.fatal !== null) throw this.fatal;
    }
    if (!this.reconciled && this.target !== null && this.joined) {
      await this.reconcile(this.target);
    }
    this.polled();
  }

  async leave(): Promise<void> {
    this.closed = true;
    this.stopHeartbeats();
    await this.inFlight?.catch(() => undefined);
    if (!this.joined) return;
    this.joined = false;
    await this.sendLeave().catch(() => undefined);
  }

  private fence(): void {
    // The member id stays (KIP-1082); the epoch restarts and everything owned is lost.
    this.joined = false;
    this.memberEpoch = joinEpoch;
    this.target = null;
    this.reconciled = true;
    this.lostPending = true;
    this.stopHeartbeats();
  }

  /** Applies the target: revoke what left it (commit, listener), then add what is new. */
  private async reconcile(target: TargetAssignment): Promise<void> {
    const assigned = await this.resolveTopicNames(target);
    if (assigned === null) return; // unknown topic ids: retried at the next maintain
    const owned = this.host.owned();
    const revoked = difference(owned, assigned);
    if (revoked.length > 0) await this.host.revokePartitions(revoked);
    const added = difference(assigned, owned);
    if (added.length > 0 || revoked.length > 0) await this.host.assignPartitions(added);
    if (this.target === target) this.reconciled = true;
    // Acknowledge at once so the broker can hand revoked partitions to their next owner.
    await this.heartbeatNow();
  }

  private async resolveTopicNames(target: TargetAssignment): Promise<TopicPartition[] | null> {
    const cluster = this.host.cluster;
    const unknown = target.topicPartitions.filter(
      (entry) => cluster.topicNameById(entry.topicId) === undefined,
    );
    if (unknown.length > 0) {
      const topics = await allTopics(cluster);
      cluster.addTopics(
        topics
          .filter((topic) => unknown.some((entry) => entry.topicId === topic.topicId))
          .map((topic) => topic.name),
      );
      await cluster.refreshMetadata();
    }
    const result: TopicPartition[] = [];
    for (const entry of target.topicPartitions) {
      const topic = cluster.topicNameById(entry.topicId);
      if (topic === undefined) return null;
      for (const partition of entry.partitions) result.push({ topic, partition });
    }
    return result;
  }

  private ownedByTopicId(): Array<{ topicId: string; partitions: number[] }> | null {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of this.host.owned()) {
      const topicId = this.host.cluster.cachedTopic(topic)?.topicId;
      if (topicId === undefined) return null;
      byTopic.set(topicId, [...(byTopic.get(topicId) ?? []), partition]);
    }
    return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
  }

  private async coordinator(): Promise<Connection> {
    return this.host.cluster.coordinator(
      'group',
      this.settings.groupId,
      this.host.cluster.options.requestTimeoutMs,
    );
  }

  /** One heartbeat after the one in flight (never two at once: epochs must stay ordered). */
  private heartbeatNow(): Promise<void> {
    const previous = this.inFlight ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.heartbeat())
      .finally(() => {
        if (this.inFlight === next) this.inFlight = null;
      });
    this.inFlight = next;
    return next;
  }

  private scheduleHeartbeat(delayMs: number): void {
    this.stopHeartbeats();
    if (this.closed || !this.joined) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      this.heartbeatNow().catch(() => undefined);
    }, delayMs);
    this.heartbeatTimer.unref?.();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.leftOnPollTimeout) return;
    if (this.joined && this.now() - this.lastPollMs > this.settings.maxPollIntervalMs) {
      // As Java's consumer: leave (the partitions are lost at the next poll, which rejoins).
      this.leftOnPollTimeout = true;
      await this.sendLeave().catch(() => undefined);
      this.fence();
      return;
    }
    let connection: Connection;
    let response: ConsumerGroupHeartbeatResponse;
    try {
      connection = await this.coordinator();
      const version = connection.versions.version(consumerGroupHeartbeatApi);
      response = await connection.request<ConsumerGroupHeartbeatResponse>(
        consumerGroupHeartbeatApi,
        this.request(this.memberEpoch, version),
        { version },
      );
    } catch (error) {
      if (error instanceof ClientError && !error.retriable) {
        this.fatal = error;
        return;
      }
      this.host.cluster.forgetCoordinator('group', this.settings.groupId);
      this.scheduleHeartbeat(this.host.cluster.options.retryBackoffMs);
      return;
    }
    this.onResponse(response);
  }

  private request(memberEpoch: number, version: number): ConsumerGroupHeartbeatRequest {
    const pattern = 'pattern' in this.subscription ? this.subscription.pattern : null;
    const owned = memberEpoch === joinEpoch ? [] : this.ownedByTopicId();
    return {
      groupId: this.settings.groupId,
      memberId:
        version >= clientMemberIdVersionMin || memberEpoch !== joinEpoch ? this.memberId : '',
      memberEpoch,
      instanceId: this.settings.groupInstanceId,
      rackId: this.settings.rackId,
      rebalanceTimeoutMs: this.settings.maxPollIntervalMs,
      subscribedTopicNames:
        'topics' in this.subscription
          ? [...this.subscription.topics]
          : pattern === null
            ? []
            : null,
      subscribedTopicRegex: pattern === null ? null : pattern.source,
      serverAssignor: this.serverAssignor,
      topicPartitions: owned,
    };
  }

  private onResponse(response: ConsumerGroupHeartbeatResponse): void {
    const code = response.errorCode;
    if (code === ErrorCode.NONE) {
      if (response.memberId !== null && response.memberId !== '') this.memberId = response.memberId;
      this.memberEpoch = response.memberEpoch;
      this.heartbeatIntervalMs = response.heartbeatIntervalMs;
      this.joined = true;
      if (response.assignment !== null) {
        this.target = { topicPartitions: response.assignment.topicPartitions };
        this.reconciled = false;
      }
      this.scheduleHeartbeat(this.heartbeatIntervalMs);
      return;
    }
    if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.fence();
      return;
    }
    if (coordinatorCodes.has(code)) {
      if (code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
        this.host.cluster.forgetCoordinator('group', this.settings.groupId);
      }
      this.scheduleHeartbeat(this.host.cluster.options.retryBackoffMs);
      return;
    }
    this.fatal = new KafkaError(
      code,
      `ConsumerGroupHeartbeat ${this.settings.groupId}${response.errorMessage ? `: ${response.errorMessage}` : ''}`,
    );
    this.stopHeartbeats();
  }

  private async sendLeave(): Promise<void> {
    const connection = await this.coordinator();
    const version = connection.versions.version(consumerGroupHeartbeatApi);
    const epoch = this.settings.groupInstanceId === null ? leaveEpoch : staticLeaveEpoch;
    await connection.request<ConsumerGroupHeartbeatResponse>(
      consumerGroupHeartbeatApi,
      { ...this.request(epoch, version), topicPartitions: null },
      { version, timeoutMs: Math.min(this.host.cluster.options.requestTimeoutMs, 5_000) },
    );
  }
}
