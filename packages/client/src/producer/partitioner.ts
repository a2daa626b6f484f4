// Partition choice. Keyed records: murmur2 over all partitions (Java's BuiltInPartitioner).
// Unkeyed records: uniform sticky partitioning (KIP-480, KIP-794): stay on one partition until
// about `batch.size` bytes went there, then move to another at random, so batches fill up.

import { partitionForKey } from './murmur2.js';

export interface PartitionerInput {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  partitionCount: number;
}

/**
 * A custom partitioner returns a partition in [0, partitionCount), or undefined to let the
 * producer choose (murmur2 for keys, sticky for null keys).
 */
export type Partitioner = (input: PartitionerInput) => number | undefined;

/** Java's default: murmur2 for keys (empty keys hash too), undefined (sticky) for null keys. */
export const defaultPartitioner: Partitioner = (input) =>
  input.key === null ? undefined : partitionForKey(input.key, input.partitionCount);

interface StickyState {
  partition: number;
  bytesSinceSwitch: number;
}

/** Sticky partition per topic for unkeyed records. `random` returns [0, 1) (injected for tests). */
export class StickyPartitions {
  private readonly byTopic = new Map<string, StickyState>();

  constructor(
    private readonly switchAfterBytes: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition for the next unkeyed record of `sizeBytes` bytes. */
  next(topic: string, partitionCount: number, sizeBytes: number): number {
    let state = this.byTopic.get(topic);
    if (state === undefined || state.partition >= partitionCount) {
      state = { partition: this.pick(partitionCount, -1), bytesSinceSwitch: 0 };
      this.byTopic.set(topic, state);
    } else if (state.bytesSinceSwitch >= this.switchAfterBytes) {
      state.partition = this.pick(partitionCount, state.partition);
      state.bytesSinceSwitch = 0;
    }
    state.bytesSinceSwitch += sizeBytes;
    return state.partition;
  }

  /** A random partition other than `current` when there is a choice. */
  private pick(partitionCount: number, current: number): number {
    if (partitionCount <= 1) return 0;
    if (current < 0) return Math.floor(this.random() * partitionCount);
    const offset = 1 + Math.floor(this.random() * (partitionCount - 1));
    return (current + offset) % partitionCount;
  }
}
