/**
 * State of one KIP-848 consumer group (ConsumerGroupHeartbeat): epochs, members, the target
 * assignment computed by the server-side assignor, and which member currently owns each
 * partition (a partition moves to a new member only after its previous owner revoked it).
 */
import type { TimerHandle } from '../clock.js';
import type { Assignment } from './assignors.js';
import { GroupOffsets } from './offsets.js';
import type { GroupId, MemberId, PartitionIndex, TopicId, TopicName } from './types.js';

export type ConsumerGroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

/** Where a member is in the reconciliation towards its target assignment. */
export type ConsumerMemberState = 'stable' | 'unrevoked-partitions' | 'unreleased-partitions';

export interface SubscribedTopic {
  topicId: TopicId;
  partitionCount: number;
}

export class ConsumerGroupMember {
  memberId: MemberId;
  instanceId: string | null;
  rackId: string | null = null;
  clientId: string;
  clientHost: string;
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: ConsumerMemberState = 'stable';
  rebalanceTimeoutMs = 300_000;
  subscribedTopicNames: TopicName[] = [];
  subscribedTopicRegex: string | null = null;
  compiledRegex: RegExp | null = null;
  serverAssignor: string | null = null;
  /** Partitions the member may use now. */
  assigned: Assignment = new Map();
  /** Partitions the member must give up before its epoch advances. */
  pendingRevocation: Assignment = new Map();
  /** Static member that left with epoch -2 and may come back under a new member id. */
  temporarilyLeft = false;
  sessionTimer: TimerHandle | null = null;
  revocationTimer: TimerHandle | null = null;
  /** The assignment last sent in a response (sent again only when it changes). */
  lastSentAssignment: string | null = null;

  constructor(options: {
    memberId: MemberId;
    instanceId: string | null;
    clientId: string;
    clientHost: string;
  }) {
    this.memberId = options.memberId;
    this.instanceId = options.instanceId;
    this.clientId = options.clientId;
    this.clientHost = options.clientHost;
  }

  subscribesTo(topic: TopicName): boolean {
    return this.subscribedTopicNames.includes(topic) || this.compiledRegex?.test(topic) === true;
  }

  cancelTimers(): void {
    this.sessionTimer?.cancel();
    this.sessionTimer = null;
    this.revocationTimer?.cancel();
    this.revocationTimer = null;
  }
}

export class ConsumerGroup {
  readonly type = 'consumer' as const;
  readonly groupId: GroupId;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<MemberId, ConsumerGroupMember>();
  /** instance id -> member id (static members). */
  readonly staticMembers = new Map<string, MemberId>();
  readonly targetAssignment = new Map<MemberId, Assignment>();
  /** Topics some member subscribes to, as of the last epoch bump (name -> id, partitions). */
  subscriptionMetadata = new Map<TopicName, SubscribedTopic>();
  /** `${topicId}:${partition}` -> member that holds it (assigned or pending revocation). */
  readonly partitionOwners = new Map<string, MemberId>();
  /** The epoch the group was reloaded with after a restart (0 if it was not reloaded). */
  restoredEpoch = 0;
  /** Set while a heartbeat collects changes that need a new group epoch (bumped once). */
  epochBumpReason: string | null = null;
  /** What `__consumer_offsets` holds for this group: key bytes (hex) -> value bytes (hex). */
  persistedRecords = new Map<string, string>();
  /** Counts member additions, removals and static replacements (persistence diffs). */
  membershipChanges = 0;
  /** Epochs and membership as of the last write ('' = unknown: write everything). */
  persistedEpochs = '';
  /** The assignor used for the last target assignment. */
  assignorName = 'uniform';
  /** Wall ms when the group last became empty (offset retention). */
  stateTimestampMs: bigint;
  readonly offsets = new GroupOffsets();

  constructor(groupId: GroupId, nowMs: bigint) {
    this.groupId = groupId;
    this.stateTimestampMs = nowMs;
  }

  stateName(): ConsumerGroupStateName {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const member of this.members.values()) {
      if (member.memberEpoch !== this.assignmentEpoch || member.state !== 'stable') {
        return 'Reconciling';
      }
    }
    return 'Stable';
  }

  isSubscribedTo(topic: TopicName): boolean {
    for (const member of this.members.values()) if (member.subscribesTo(topic)) return true;
    return false;
  }

  ownerOf(topicId: TopicId, partition: PartitionIndex): MemberId | undefined {
    return this.partitionOwners.get(`${topicId}:${partition}`);
  }

  claim(topicId: TopicId, partition: PartitionIndex, memberId: MemberId): void {
    this.partitionOwners.set(`${topicId}:${partition}`, memberId);
  }

  release(assignment: Assignment, memberId: MemberId): void {
    for (const [topicId, partitions] of assignment) {
      for (const partition of partitions) {
        const key = `${topicId}:${partition}`;
        if (this.partitionOwners.get(key) === memberId) this.partitionOwners.delete(key);
      }
    }
  }
}
