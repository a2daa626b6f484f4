// Client-side partition assignors of the classic group protocol, under the names and with the
// user data of Java's (range, roundrobin, sticky, cooperative-sticky), so that whichever member
// of a mixed group is leader, every member reads the assignment it expects.

import { Reader, Writer } from '@gregor/protocol';
import type { Subscription } from './consumer-protocol.js';
import type { TopicPartition } from './list-offsets.js';

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  subscription: Subscription;
}

export interface PartitionAssignor {
  /** The protocol name in JoinGroup (Java's `name()`). */
  readonly name: string;
  /** Cooperative assignors never move a partition in one round (KIP-429). */
  readonly rebalanceProtocol: RebalanceProtocol;
  /** Member id → its partitions; `partitionCounts` holds every subscribed topic that exists. */
  assign(
    members: readonly AssignorMember[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
  /** What the member puts in its subscription's user data. */
  subscriptionUserData(owned: readonly TopicPartition[], generationId: number): Buffer | null;
}

export type AssignorName = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';

/** Java's MemberInfo order: static members first by instance id, then by member id. */
function memberOrder(left: AssignorMember, right: AssignorMember): number {
  const leftId = left.groupInstanceId;
  const rightId = right.groupInstanceId;
  if (leftId !== null && rightId !== null) return compareStrings(leftId, rightId);
  if (leftId !== null) return -1;
  if (rightId !== null) return 1;
  return compareStrings(left.memberId, right.memberId);
}

function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function emptyResult(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  return new Map(members.map((member) => [member.memberId, []]));
}

/** Per topic, consecutive ranges to the subscribed members in order (the first get one more). */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members, partitionCounts) {
    const result = emptyResult(members);
    const topics = [...partitionCounts.keys()].sort();
    for (const topic of topics) {
      const count = partitionCounts.get(topic)!;
      const consumers = members
        .filter((member) => member.subscription.topics.includes(topic))
        .sort(memberOrder);
      if (consumers.length === 0) continue;
      const perConsumer = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((member, index) => {
        const start = perConsumer * index + Math.min(index, extra);
        const length = perConsumer + (index < extra ? 1 : 0);
        const list = result.get(member.memberId)!;
        for (let partition = start; partition < start + length; partition++) {
          list.push({ topic, partition });
        }
      });
    }
    return result;
  },
  subscriptionUserData: () => null,
};

/** All partitions (topics sorted) dealt in turn to the members subscribed to each. */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members, partitionCounts) {
    const result = emptyResult(members);
    const ordered = [...members].sort(memberOrder);
    if (ordered.length === 0) return result;
    let next = 0;
    for (const topic of [...partitionCounts.keys()].sort()) {
      if (!ordered.some((member) => member.subscription.topics.includes(topic))) continue;
      for (let partition = 0; partition < partitionCounts.get(topic)!; partition++) {
        while (!ordered[next % ordered.length].subscription.topics.includes(topic)) next++;
        result.get(ordered[next % ordered.length].memberId)!.push({ topic, partition });
        next++;
      }
    }
    return result;
  },
  subscriptionUserData: () => null,
};

const keySeparator = '\u0000';
function keyOf(topic: string, partition: number): string {
  return `${topic}${keySeparator}${partition}`;
}
function partitionOfKey(key: string): TopicPartition {
  const separator = key.lastIndexOf(keySeparator);
  return { topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)) };
}
function compareKeys(left: string, right: string): number {
  const a = partitionOfKey(left);
  const b = partitionOfKey(right);
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

interface PreviousOwnership {
  owned: TopicPartition[];
  generationId: number;
}

/**
 * The sticky assignment (Java's AbstractStickyAssignor's goals, not its code): every member keeps
 * what it validly owned, then unowned partitions go to the least loaded eligible member, then
 * partitions move one at a time from the most to the least loaded member that can take them until
 * no two eligible members differ by more than one. A partition claimed by two members goes to the
 * higher generation; same-generation double claims count as unowned.
 */
function stickyAssign(
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
  previous: (member: AssignorMember) => PreviousOwnership,
  cooperative: boolean,
): Map<string, TopicPartition[]> {
  const ordered = [...members].sort(memberOrder);
  const subscribed = new Map(
    ordered.map((member) => [
      member.memberId,
      new Set(member.subscription.topics.filter((topic) => partitionCounts.has(topic))),
    ]),
  );
  const claims = new Map<string, { memberId: string; generationId: number }>();
  const conflicts = new Set<string>();
  for (const member of ordered) {
    const { owned, generationId } = previous(member);
    for (const { topic, partition } of owned) {
      const count = partitionCounts.get(topic);
      if (count === undefined || partition >= count || !subscribed.get(member.memberId)!.has(topic))
        continue;
      const key = keyOf(topic, partition);
      const claim = claims.get(key);
      if (claim === undefined || generationId > claim.generationId) {
        claims.set(key, { memberId: member.memberId, generationId });
        conflicts.delete(key);
      } else if (generationId === claim.generationId && claim.memberId !== member.memberId) {
        conflicts.add(key);
      }
    }
  }
  for (const key of conflicts) claims.delete(key);
  const assigned = new Map(ordered.map((member) => [member.memberId, new Set<string>()]));
  for (const [key, claim] of claims) assigned.get(claim.memberId)!.add(key);

  const eligible = (topic: string) =>
    ordered.filter((member) => subscribed.get(member.memberId)!.has(topic));
  const load = (memberId: string) => assigned.get(memberId)!.size;
  const allKeys: string[] = [];
  for (const topic of [...partitionCounts.keys()].sort()) {
    for (let partition = 0; partition < partitionCounts.get(topic)!; partition++) {
      allKeys.push(keyOf(topic, partition));
    }
  }
  for (const key of allKeys) {
    if (claims.has(key)) continue;
    const candidates = eligible(partitionOfKey(key).topic);
    if (candidates.length === 0) continue;
    let least = candidates[0];
    for (const candidate of candidates) {
      if (load(candidate.memberId) < load(least.memberId)) least = candidate;
    }
    assigned.get(least.memberId)!.add(key);
  }
  // Balance: bounded by the number of partitions times members (each move lowers the spread).
  for (let moves = 0; moves < allKeys.length * Math.max(1, ordered.length); moves++) {
    const byLoad = [...ordered].sort(
      (left, right) => load(right.memberId) - load(left.memberId) || memberOrder(left, right),
    );
    let moved = false;
    for (const heavy of byLoad) {
      for (const light of [...byLoad].reverse()) {
        if (load(heavy.memberId) - load(light.memberId) < 2) break;
        const movable = [...assigned.get(heavy.memberId)!]
          .filter((key) => subscribed.get(light.memberId)!.has(partitionOfKey(key).topic))
          .sort(compareKeys);
        if (movable.length === 0) continue;
        const key = movable[movable.length - 1];
        assigned.get(heavy.memberId)!.delete(key);
        assigned.get(light.memberId)!.add(key);
        moved = true;
        break;
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  if (cooperative) {
    // A partition changing owner is withheld this round: its owner revokes it first (KIP-429).
    for (const [key, claim] of claims) {
      for (const [memberId, keys] of assigned) {
        if (memberId !== claim.memberId) keys.delete(key);
      }
    }
  }
  return new Map(
    [...assigned].map(([memberId, keys]) => [
      memberId,
      [...keys].sort(compareKeys).map(partitionOfKey),
    ]),
  );
}

/** Java's StickyAssignor user data: the previous assignment and its generation (old Struct format). */
function encodeStickyUserData(owned: readonly TopicPartition[], generationId: number): Buffer {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of owned) {
    grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  }
  const writer = new Writer();
  writer.writeInt32(grouped.size);
  for (const [topic, partitions] of grouped) {
    writer.writeString(topic);
    writer.writeInt32(partitions.length);
    for (const partition of partitions) writer.writeInt32(partition);
  }
  writer.writeInt32(generationId);
  return writer.toBuffer();
}

function decodeStickyUserData(userData: Buffer): PreviousOwnership | null {
  try {
    const reader = new Reader(userData);
    const owned: TopicPartition[] = [];
    const topicCount = reader.readInt32();
    for (let topicIndex = 0; topicIndex < topicCount; topicIndex++) {
      const topic = reader.readString();
      const partitionCount = reader.readInt32();
      for (let index = 0; index < partitionCount; index++) {
        owned.push({ topic, partition: reader.readInt32() });
      }
    }
    // Version 0 of the user data has no generation.
    const generationId = reader.remaining >= 4 ? reader.readInt32() : -1;
    return { owned, generationId };
  } catch {
    return null;
  }
}

/** Eager sticky: owned partitions come from the user data (members revoke all before joining). */
export const stickyAssignor: PartitionAssignor = {
  name: 'sticky',
  rebalanceProtocol: 'eager',
  assign(members, partitionCounts) {
    return stickyAssign(
      members,
      partitionCounts,
      (member) => {
        const { subscription } = member;
        if (subscription.userData !== null && subscription.userData.length > 0) {
          const decoded = decodeStickyUserData(subscription.userData);
          if (decoded !== null) return decoded;
        }
        return {
          owned: subscription.ownedPartitions,
          generationId: subscription.generationId,
        };
      },
      false,
    );
  },
  subscriptionUserData: (owned, generationId) =>
    generationId < 0 ? null : encodeStickyUserData(owned, generationId),
};

/** Cooperative sticky: owned partitions from the subscription, generation also in user data (int32). */
export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members, partitionCounts) {
    return stickyAssign(
      members,
      partitionCounts,
      (member) => {
        const { subscription } = member;
        let generationId = subscription.generationId;
        if (generationId < 0 && subscription.userData !== null) {
          generationId =
            subscription.userData.length >= 4 ? subscription.userData.readInt32BE(0) : -1;
        }
        return { owned: subscription.ownedPartitions, generationId };
      },
      true,
    );
  },
  subscriptionUserData: (_owned, generationId) => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32BE(generationId);
    return bytes;
  },
};

export const builtInAssignors: ReadonlyMap<AssignorName, PartitionAssignor> = new Map([
  ['range', rangeAssignor],
  ['roundrobin', roundRobinAssignor],
  ['sticky', stickyAssignor],
  ['cooperative-sticky', cooperativeStickyAssignor],
]);

/** Cooperative only when every assignor supports it (Java picks the highest common protocol). */
export function rebalanceProtocolOf(assignors: readonly PartitionAssignor[]): RebalanceProtocol {
  return assignors.every((assignor) => assignor.rebalanceProtocol === 'cooperative')
    ? 'cooperative'
    : 'eager';
}
