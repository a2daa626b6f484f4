/**
 * Transactional offset commits (KIP-98 TxnOffsetCommit, KIP-447): offsets a transactional producer
 * commits for a group are written to `__consumer_offsets` as a transactional batch of its producer
 * id, but stay pending — invisible to OffsetFetch, which answers UNSTABLE_OFFSET_COMMIT to a
 * requireStable fetch meanwhile — until the transaction coordinator writes the commit marker to that
 * `__consumer_offsets` partition (then they replace the group's committed offsets) or the abort
 * marker (then they are dropped). Replaying the topic applies the same rule, and the offsets of a
 * transaction still open at the end of the log are pending again after a restart.
 * (Helper G; used by coordinator.ts and offsets-log.ts.)
 */
import type { CommittedOffset } from './offsets.js';
import type { GroupId, PartitionIndex, TopicName } from './types.js';

export interface PendingOffset {
  groupId: GroupId;
  topic: TopicName;
  partition: PartitionIndex;
  committed: CommittedOffset;
}

export class PendingTransactionalOffsets {
  /** producer id -> (group, topic, partition) -> the newest pending offset. */
  private readonly byProducer = new Map<bigint, Map<string, PendingOffset>>();
  /** (group, topic, partition) -> how many producers hold a pending offset for it. */
  private readonly pendingCounts = new Map<string, number>();

  add(producerId: bigint, pending: PendingOffset): void {
    let offsets = this.byProducer.get(producerId);
    if (offsets === undefined) {
      offsets = new Map();
      this.byProducer.set(producerId, offsets);
    }
    const key = offsetKey(pending.groupId, pending.topic, pending.partition);
    if (!offsets.has(key)) this.pendingCounts.set(key, (this.pendingCounts.get(key) ?? 0) + 1);
    offsets.set(key, pending);
  }

  /**
   * Removes and returns the producer's pending offsets of the groups that live in one
   * `__consumer_offsets` partition (the one a marker was written to).
   */
  take(
    producerId: bigint,
    offsetsPartition: PartitionIndex,
    partitionFor: (groupId: GroupId) => PartitionIndex,
  ): PendingOffset[] {
    const offsets = this.byProducer.get(producerId);
    if (offsets === undefined) return [];
    const taken: PendingOffset[] = [];
    for (const [key, pending] of offsets) {
      if (partitionFor(pending.groupId) !== offsetsPartition) continue;
      taken.push(pending);
      offsets.delete(key);
      const count = (this.pendingCounts.get(key) ?? 1) - 1;
      if (count <= 0) this.pendingCounts.delete(key);
      else this.pendingCounts.set(key, count);
    }
    if (offsets.size === 0) this.byProducer.delete(producerId);
    return taken;
  }

  /** Drops entries added for a write that failed (unless a marker took them already). */
  remove(producerId: bigint, entries: readonly PendingOffset[]): void {
    const offsets = this.byProducer.get(producerId);
    if (offsets === undefined) return;
    for (const entry of entries) {
      const key = offsetKey(entry.groupId, entry.topic, entry.partition);
      if (offsets.get(key) !== entry) continue;
      offsets.delete(key);
      const count = (this.pendingCounts.get(key) ?? 1) - 1;
      if (count <= 0) this.pendingCounts.delete(key);
      else this.pendingCounts.set(key, count);
    }
    if (offsets.size === 0) this.byProducer.delete(producerId);
  }

  /** True while an open transaction holds an offset for the partition (requireStable, KIP-447). */
  isPending(groupId: GroupId, topic: TopicName, partition: PartitionIndex): boolean {
    return this.pendingCounts.has(offsetKey(groupId, topic, partition));
  }

  get size(): number {
    return this.pendingCounts.size;
  }
}

function offsetKey(groupId: GroupId, topic: TopicName, partition: PartitionIndex): string {
  return `${groupId}\u0000${topic}\u0000${partition}`;
}
