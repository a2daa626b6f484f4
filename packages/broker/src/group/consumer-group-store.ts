/**
 * A KIP-848 group in `__consumer_offsets`: its records are derived from the in-memory state and
 * written as a diff against what was written before (changed values, tombstones for members that
 * are gone), so every heartbeat costs a write only when something changed. `restoreConsumerGroup`
 * rebuilds the group from the replayed records.
 */

import type { Assignment } from './assignors.js';
import {
  type ConsumerGroup,
  ConsumerGroupMember,
  type ConsumerMemberState,
} from './consumer-group.js';
import {
  decodeConsumerCurrentAssignmentValue,
  decodeConsumerMemberMetadataValue,
  decodeConsumerTargetEpochValue,
  decodeConsumerTargetMemberValue,
  encodeConsumerCurrentAssignmentValue,
  encodeConsumerMemberMetadataValue,
  encodeConsumerTargetEpochValue,
  encodeConsumerTargetMemberValue,
} from './consumer-group-records.js';
import type { LoadedGroupState, OffsetsRecord } from './offsets-log.js';
import {
  encodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataValue,
  encodeConsumerMemberKey,
  encodeConsumerTargetEpochKey,
} from './records.js';
import { compileRegex } from './subscription-regex.js';
import type { TopicMetadataView } from './types.js';
import { mostVoted } from './votes.js';

const stateCodes: Record<ConsumerMemberState, number> = {
  stable: 1,
  'unrevoked-partitions': 2,
  'unreleased-partitions': 3,
};

/** Added to the state code while a static member is away (left with epoch -2). */
const temporarilyLeftFlag = 8;

function stateFromCode(code: number): ConsumerMemberState {
  code &= ~temporarilyLeftFlag;
  if (code === stateCodes['unrevoked-partitions']) return 'unrevoked-partitions';
  if (code === stateCodes['unreleased-partitions']) return 'unreleased-partitions';
  return 'stable';
}

/**
 * Every record the group's state maps to, by key bytes (hex); with `onlyMemberId`, the group's
 * records and that member's only.
 */
function desiredRecords(
  group: ConsumerGroup,
  onlyMemberId: string | null,
): Map<string, { key: Buffer; value: Buffer }> {
  const records = new Map<string, { key: Buffer; value: Buffer }>();
  const add = (key: Buffer, value: Buffer) => records.set(key.toString('hex'), { key, value });
  const groupId = group.groupId;
  add(encodeConsumerGroupMetadataKey(groupId), encodeConsumerGroupMetadataValue(group.groupEpoch));
  add(encodeConsumerTargetEpochKey(groupId), encodeConsumerTargetEpochValue(group.assignmentEpoch));
  for (const member of group.members.values()) {
    const memberId = member.memberId;
    if (onlyMemberId !== null && memberId !== onlyMemberId) continue;
    add(
      encodeConsumerMemberKey({ type: 'consumer-member', group: groupId, memberId }),
      encodeConsumerMemberMetadataValue({
        instanceId: member.instanceId,
        rackId: member.rackId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        subscribedTopicNames: member.subscribedTopicNames,
        subscribedTopicRegex: member.subscribedTopicRegex,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        serverAssignor: member.serverAssignor,
      }),
    );
    add(
      encodeConsumerMemberKey({ type: 'consumer-target-member', group: groupId, memberId }),
      encodeConsumerTargetMemberValue(group.targetAssignment.get(memberId) ?? new Map()),
    );
    add(
      encodeConsumerMemberKey({ type: 'consumer-current-member', group: groupId, memberId }),
      encodeConsumerCurrentAssignmentValue({
        memberEpoch: member.memberEpoch,
        previousMemberEpoch: member.previousMemberEpoch,
        state: stateCodes[member.state] | (member.temporarilyLeft ? temporarilyLeftFlag : 0),
        assigned: member.assigned,
        pendingRevocation: member.pendingRevocation,
      }),
    );
  }
  return records;
}

/**
 * The records to append so that `__consumer_offsets` matches the group, and marks them as
 * written (the caller forgets the marks with `forgetPersisted` if the append fails).
 */
export function consumerGroupChanges(
  group: ConsumerGroup,
  options: { memberId?: string } = {},
): OffsetsRecord[] {
  // One member's heartbeat changes only its own records unless it changed the membership or
  // moved an epoch (subscriptions and target assignments move the group or assignment epoch).
  const epochs = `${group.groupEpoch}:${group.assignmentEpoch}:${group.membershipChanges}`;
  const full = options.memberId === undefined || group.persistedEpochs !== epochs;
  group.persistedEpochs = epochs;
  const desired = desiredRecords(group, full ? null : (options.memberId ?? null));
  const changes: OffsetsRecord[] = [];
  for (const [keyHex, record] of desired) {
    const valueHex = record.value.toString('hex');
    if (group.persistedRecords.get(keyHex) === valueHex) continue;
    changes.push(record);
    group.persistedRecords.set(keyHex, valueHex);
  }
  for (const keyHex of full ? [...group.persistedRecords.keys()] : []) {
    if (desired.has(keyHex)) continue;
    changes.push({ key: Buffer.from(keyHex, 'hex'), value: null });
    group.persistedRecords.delete(keyHex);
  }
  return changes;
}

/** After a failed append: nothing is known to be written, the next write is a full one. */
export function forgetPersisted(group: ConsumerGroup): void {
  group.persistedRecords.clear();
  group.persistedEpochs = '';
}

/** Tombstones for every record of the group (deletion, or conversion to a classic group). */
export function consumerGroupTombstones(group: ConsumerGroup): OffsetsRecord[] {
  const keys = new Set(group.persistedRecords.keys());
  keys.add(encodeConsumerGroupMetadataKey(group.groupId).toString('hex'));
  forgetPersisted(group);
  return [...keys].map((keyHex) => ({ key: Buffer.from(keyHex, 'hex'), value: null }));
}

/**
 * Fills `group` from replayed records: epochs, members with their subscriptions and current
 * assignments (and partition ownership), target assignments. Returns the restored members so the
 * caller can start their session timers.
 */
export function restoreConsumerGroup(
  group: ConsumerGroup,
  state: LoadedGroupState,
  options: { topics: TopicMetadataView; defaultAssignor: string },
): ConsumerGroupMember[] {
  const topics = options.topics;
  const epoch = state.consumerGroupEpoch ?? 0;
  group.groupEpoch = epoch;
  group.assignmentEpoch = epoch;
  // Written state is known only after the first full write.
  group.persistedEpochs = '';
  group.persistedRecords.set(
    encodeConsumerGroupMetadataKey(group.groupId).toString('hex'),
    encodeConsumerGroupMetadataValue(epoch).toString('hex'),
  );
  const metadata = new Map<string, ReturnType<typeof decodeConsumerMemberMetadataValue>>();
  const current = new Map<string, ReturnType<typeof decodeConsumerCurrentAssignmentValue>>();
  const targets = new Map<string, Assignment>();
  for (const [keyHex, record] of state.consumerRecords) {
    group.persistedRecords.set(keyHex, record.value.toString('hex'));
    const key = record.key;
    if (key.type === 'consumer-target-epoch') {
      group.assignmentEpoch = decodeConsumerTargetEpochValue(record.value);
    } else if (key.type === 'consumer-member') {
      metadata.set(key.memberId, decodeConsumerMemberMetadataValue(record.value));
    } else if (key.type === 'consumer-current-member') {
      current.set(key.memberId, decodeConsumerCurrentAssignmentValue(record.value));
    } else {
      targets.set(key.memberId, decodeConsumerTargetMemberValue(record.value));
    }
  }
  const restored: ConsumerGroupMember[] = [];
  for (const [memberId, stored] of metadata) {
    const assignment = current.get(memberId);
    if (assignment === undefined) continue;
    const member = new ConsumerGroupMember({
      memberId,
      instanceId: stored.instanceId,
      clientId: stored.clientId,
      clientHost: stored.clientHost,
    });
    member.rackId = stored.rackId;
    member.subscribedTopicNames = [...stored.subscribedTopicNames].sort();
    member.subscribedTopicRegex = stored.subscribedTopicRegex;
    member.compiledRegex =
      stored.subscribedTopicRegex === null ? null : compileRegex(stored.subscribedTopicRegex);
    member.rebalanceTimeoutMs = stored.rebalanceTimeoutMs;
    member.serverAssignor = stored.serverAssignor;
    member.memberEpoch = assignment.memberEpoch;
    member.previousMemberEpoch = assignment.previousMemberEpoch;
    member.state = stateFromCode(assignment.state);
    member.temporarilyLeft = (assignment.state & temporarilyLeftFlag) !== 0;
    member.assigned = assignment.assigned;
    member.pendingRevocation = assignment.pendingRevocation;
    group.members.set(memberId, member);
    if (member.instanceId !== null) group.staticMembers.set(member.instanceId, memberId);
    for (const owned of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, partitions] of owned) {
        for (const partition of partitions) group.claim(topicId, partition, memberId);
      }
    }
    const target = targets.get(memberId);
    if (target !== undefined) group.targetAssignment.set(memberId, target);
    restored.push(member);
  }
  // The assignor is not a record of its own: the members' vote, as when it was chosen.
  group.assignorName =
    mostVoted(restored.map((member) => member.serverAssignor)) ?? options.defaultAssignor;
  // The topics as they are now; a difference with the members' view bumps the epoch on the
  // next heartbeat, as any metadata change does.
  for (const member of group.members.values()) {
    for (const topic of topics.list()) {
      const named = member.subscribedTopicNames.includes(topic.name);
      const matched = member.compiledRegex?.test(topic.name) === true;
      if (named || matched) {
        group.subscriptionMetadata.set(topic.name, {
          topicId: topic.topicId,
          partitionCount: topic.partitionCount,
        });
      }
    }
  }
  return restored;
}
