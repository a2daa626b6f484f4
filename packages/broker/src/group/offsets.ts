/**
 * Committed offsets of one group, in memory (the durable copy is in `__consumer_offsets`).
 */
import type { PartitionIndex, TopicName } from './types.js';

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: bigint;
  expireTimestampMs: bigint | null;
}

export class GroupOffsets {
  private readonly byTopic = new Map<TopicName, Map<PartitionIndex, CommittedOffset>>();

  get(topic: TopicName, partition: PartitionIndex): CommittedOffset | undefined {
    return this.byTopic.get(topic)?.get(partition);
  }

  set(topic: TopicName, partition: PartitionIndex, committed: CommittedOffset): void {
    let partitions = this.byTopic.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.byTopic.set(topic, partitions);
    }
    partitions.set(partition, committed);
  }

  delete(topic: TopicName, partition: PartitionIndex): boolean {
    const partitions = this.byTopic.get(topic);
    if (partitions === undefined) return false;
    const deleted = partitions.delete(partition);
    if (partitions.size === 0) this.byTopic.delete(topic);
    return deleted;
  }

  topics(): TopicName[] {
    return [...this.byTopic.keys()];
  }

  partitions(topic: TopicName): [PartitionIndex, CommittedOffset][] {
    return [...(this.byTopic.get(topic)?.entries() ?? [])];
  }

  get size(): number {
    let count = 0;
    for (const partitions of this.byTopic.values()) count += partitions.size;
    return count;
  }

  /**
   * Offsets due to expire at `nowMs` (KIP-211): an explicit expire time wins; otherwise an offset
   * expires `retentionMs` after `baseTimestampMs(offset)` — the moment the group became empty for a
   * group that uses group management, the commit time for a standalone group or for a topic the
   * group no longer subscribes to. `baseTimestampMs` returns null for offsets that must stay.
   */
  expired(
    nowMs: bigint,
    retentionMs: bigint,
    baseTimestampMs: (topic: TopicName, committed: CommittedOffset) => bigint | null,
  ): { topic: TopicName; partition: PartitionIndex }[] {
    const result: { topic: TopicName; partition: PartitionIndex }[] = [];
    for (const [topic, partitions] of this.byTopic) {
      for (const [partition, committed] of partitions) {
        if (committed.expireTimestampMs !== null) {
          if (nowMs >= committed.expireTimestampMs) result.push({ topic, partition });
          continue;
        }
        const base = baseTimestampMs(topic, committed);
        if (base !== null && nowMs - base >= retentionMs) result.push({ topic, partition });
      }
    }
    return result;
  }
}
