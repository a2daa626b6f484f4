/**
 * Server-side partition assignors for KIP-848 consumer groups: `uniform` (balanced and sticky:
 * members keep what they had when it stays balanced) and `range` (per topic, consecutive ranges
 * of partitions over the members subscribed to it, sorted by member id).
 */
import type { MemberId, PartitionIndex, TopicId } from './types.js';

/** topic id -> partitions. */
export type Assignment = Map<TopicId, Set<PartitionIndex>>;

export interface AssignorMember {
  memberId: MemberId;
  /** Topic ids the member subscribes to that exist. */
  subscribedTopicIds: ReadonlySet<TopicId>;
  /** The member's target assignment before this computation (stickiness). */
  previousAssignment: Assignment;
}

export interface AssignorInput {
  members: readonly AssignorMember[];
  /** Partition count of every subscribed topic. */
  partitionCounts: ReadonlyMap<TopicId, number>;
}

export interface Assignor {
  readonly name: string;
  assign(input: AssignorInput): Map<MemberId, Assignment>;
}

function addPartition(assignment: Assignment, topicId: TopicId, partition: PartitionIndex): void {
  let partitions = assignment.get(topicId);
  if (partitions === undefined) {
    partitions = new Set();
    assignment.set(topicId, partitions);
  }
  partitions.add(partition);
}

export function assignmentSize(assignment: Assignment): number {
  let size = 0;
  for (const partitions of assignment.values()) size += partitions.size;
  return size;
}

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
}

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(input) {
    const result = new Map<MemberId, Assignment>();
    const members = sortedMembers(input.members);
    for (const member of members) result.set(member.memberId, new Map());
    const topicIds = [...input.partitionCounts.keys()].sort();
    for (const topicId of topicIds) {
      const partitionCount = input.partitionCounts.get(topicId) ?? 0;
      const subscribers = members.filter((member) => member.subscribedTopicIds.has(topicId));
      if (subscribers.length === 0) continue;
      const quota = Math.floor(partitionCount / subscribers.length);
      const extra = partitionCount % subscribers.length;
      let next = 0;
      subscribers.forEach((member, index) => {
        const count = quota + (index < extra ? 1 : 0);
        for (let partition = next; partition < next + count; partition++) {
          addPartition(result.get(member.memberId)!, topicId, partition);
        }
        next += count;
      });
    }
    return result;
  },
};

export const uniformAssignor: Assignor = {
  name: 'uniform',
  assign(input) {
    const members = sortedMembers(input.members);
    const result = new Map<MemberId, Assignment>();
    const load = new Map<MemberId, number>();
    const owner = new Map<string, MemberId>();
    for (const member of members) {
      result.set(member.memberId, new Map());
      load.set(member.memberId, 0);
    }
    const give = (memberId: MemberId, topicId: TopicId, partition: PartitionIndex) => {
      addPartition(result.get(memberId)!, topicId, partition);
      load.set(memberId, load.get(memberId)! + 1);
      owner.set(`${topicId}:${partition}`, memberId);
    };
    // 1. Stickiness: keep previous partitions that still exist and are still subscribed.
    for (const member of members) {
      for (const [topicId, partitions] of member.previousAssignment) {
        const partitionCount = input.partitionCounts.get(topicId);
        if (partitionCount === undefined || !member.subscribedTopicIds.has(topicId)) continue;
        for (const partition of [...partitions].sort((a, b) => a - b)) {
          if (partition < partitionCount && !owner.has(`${topicId}:${partition}`)) {
            give(member.memberId, topicId, partition);
          }
        }
      }
    }
    // 2. Every unowned partition goes to the least loaded subscriber.
    const topicIds = [...input.partitionCounts.keys()].sort();
    for (const topicId of topicIds) {
      const subscribers = members.filter((member) => member.subscribedTopicIds.has(topicId));
      if (subscribers.length === 0) continue;
      const partitionCount = input.partitionCounts.get(topicId) ?? 0;
      for (let partition = 0; partition < partitionCount; partition++) {
        if (owner.has(`${topicId}:${partition}`)) continue;
        let best = subscribers[0];
        for (const candidate of subscribers) {
          if (load.get(candidate.memberId)! < load.get(best.memberId)!) best = candidate;
        }
        give(best.memberId, topicId, partition);
      }
    }
    // 3. Balance: move partitions from a member to a subscriber with at least two fewer.
    const byId = new Map(members.map((member) => [member.memberId, member]));
    let moved = true;
    let rounds = 0;
    const roundsMax = owner.size + 1;
    while (moved && rounds++ < roundsMax) {
      moved = false;
      for (const [key, memberId] of owner) {
        const separator = key.lastIndexOf(':');
        const topicId = key.slice(0, separator);
        const partition = Number(key.slice(separator + 1));
        let target: AssignorMember | undefined;
        for (const candidate of members) {
          if (!candidate.subscribedTopicIds.has(topicId)) continue;
          if (load.get(candidate.memberId)! < load.get(memberId)! - 1) {
            if (
              target === undefined ||
              load.get(candidate.memberId)! < load.get(target.memberId)!
            ) {
              target = candidate;
            }
          }
        }
        if (target === undefined || !byId.has(memberId)) continue;
        result.get(memberId)!.get(topicId)!.delete(partition);
        if (result.get(memberId)!.get(topicId)!.size === 0) result.get(memberId)!.delete(topicId);
        load.set(memberId, load.get(memberId)! - 1);
        give(target.memberId, topicId, partition);
        moved = true;
      }
    }
    return result;
  },
};

export const assignorsByName: ReadonlyMap<string, Assignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);
