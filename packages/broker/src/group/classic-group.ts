/**
 * State of one group that uses the classic rebalance protocol (JoinGroup/SyncGroup/Heartbeat).
 * Pure data plus the small queries Kafka's GroupMetadata answers; the protocol transitions live in
 * classic-protocol.ts.
 */
import type { TimerHandle } from '../clock.js';
import { GroupOffsets } from './offsets.js';
import { decodeSubscribedTopics } from './subscription.js';
import type { GroupId, MemberId, TopicName } from './types.js';
import { mostVoted } from './votes.js';

export type ClassicGroupState =
  | 'Empty'
  | 'PreparingRebalance'
  | 'CompletingRebalance'
  | 'Stable'
  | 'Dead';

export interface JoinGroupMemberInfo {
  memberId: MemberId;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: MemberId;
  skipAssignment: boolean;
  memberId: MemberId;
  members: JoinGroupMemberInfo[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface ProtocolChoice {
  name: string;
  metadata: Buffer;
}

const emptyBuffer = Buffer.alloc(0);

export class ClassicMember {
  memberId: MemberId;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: ProtocolChoice[];
  assignment: Buffer = emptyBuffer;
  awaitingJoin: ((result: JoinGroupResult) => void) | null = null;
  /** The JoinGroup version of the pending join (decides KIP-814 skipAssignment). */
  awaitingJoinVersion = 0;
  awaitingSync: ((result: SyncGroupResult) => void) | null = null;
  /** Joined during the current rebalance and has not had a JoinGroup response yet. */
  isNew = false;
  heartbeatTimer: TimerHandle | null = null;

  constructor(options: {
    memberId: MemberId;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: ProtocolChoice[];
  }) {
    this.memberId = options.memberId;
    this.groupInstanceId = options.groupInstanceId;
    this.clientId = options.clientId;
    this.clientHost = options.clientHost;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs;
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.protocolType = options.protocolType;
    this.protocols = options.protocols;
  }

  metadataFor(protocolName: string): Buffer {
    return (
      this.protocols.find((protocol) => protocol.name === protocolName)?.metadata ?? emptyBuffer
    );
  }

  /** Same protocols with the same metadata, in the same order (a no-op rejoin). */
  matches(protocols: readonly ProtocolChoice[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every(
      (protocol, index) =>
        protocol.name === this.protocols[index].name &&
        protocol.metadata.equals(this.protocols[index].metadata),
    );
  }

  /** The member's first preference among the candidate protocols. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    return this.protocols.find((protocol) => candidates.has(protocol.name))?.name;
  }
}

export class ClassicGroup {
  readonly type = 'classic' as const;
  readonly groupId: GroupId;
  state: ClassicGroupState = 'Empty';
  /** Wall ms of the last state change (offset retention of an empty group counts from it). */
  stateTimestampMs: bigint;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: MemberId | null = null;
  readonly members = new Map<MemberId, ClassicMember>();
  /** group.instance.id -> member id (KIP-345). */
  readonly staticMembers = new Map<string, MemberId>();
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394), with their expiry timers. */
  readonly pendingMembers = new Map<MemberId, TimerHandle>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<MemberId>();
  /** A member joined while the initial rebalance delay was running (group.initial.rebalance.delay.ms). */
  newMemberAdded = false;
  initialDelayRemainingMs: number | null = null;
  joinTimer: TimerHandle | null = null;
  pendingSyncTimer: TimerHandle | null = null;
  readonly offsets = new GroupOffsets();

  constructor(groupId: GroupId, nowMs: bigint) {
    this.groupId = groupId;
    this.stateTimestampMs = nowMs;
  }

  transitionTo(state: ClassicGroupState, nowMs: bigint): void {
    this.state = state;
    this.stateTimestampMs = nowMs;
  }

  isLeader(memberId: MemberId): boolean {
    return this.leaderId === memberId;
  }

  canRebalance(): boolean {
    return (
      this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty'
    );
  }

  add(member: ClassicMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) {
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  remove(memberId: MemberId): ClassicMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = null;
    if (this.leaderId === memberId) {
      this.leaderId = this.members.keys().next().value ?? null;
    }
    return member;
  }

  /** KIP-345: a known instance id used with a different member id. */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: MemberId): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const counts = new Map<string, number>();
    for (const member of this.members.values()) {
      for (const protocol of member.protocols) {
        counts.set(protocol.name, (counts.get(protocol.name) ?? 0) + 1);
      }
    }
    const candidates = new Set<string>();
    for (const [name, count] of counts) if (count === this.members.size) candidates.add(name);
    return candidates;
  }

  supportsProtocols(protocolType: string, protocols: readonly ProtocolChoice[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((protocol) => candidates.has(protocol.name));
  }

  /** Each member votes for its first preference among the common protocols; most votes wins. */
  selectProtocol(): string | null {
    const candidates = this.candidateProtocols();
    return mostVoted([...this.members.values()].map((member) => member.vote(candidates)));
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.awaitingJoin === null) return false;
    return true;
  }

  /** Rebalance timeout of the group: the largest of its members'. */
  rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) {
      timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    }
    return timeout;
  }

  /**
   * Topics the members subscribe to, or null when unknown (not the "consumer" protocol type or
   * metadata that does not parse): then every topic counts as subscribed.
   */
  subscribedTopics(): Set<TopicName> | null {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return null;
    const topics = new Set<TopicName>();
    for (const member of this.members.values()) {
      const memberTopics = decodeSubscribedTopics(member.metadataFor(this.protocolName));
      if (memberTopics === null) return null;
      for (const topic of memberTopics) topics.add(topic);
    }
    return topics;
  }

  isSubscribedTo(topic: TopicName): boolean {
    if (this.members.size === 0) return false;
    const topics = this.subscribedTopics();
    return topics === null || topics.has(topic);
  }
}
