// Leader epoch → start offset (KIP-101), persisted as `leader-epoch-checkpoint` by the file log.
// Entries have strictly increasing epochs and non-decreasing start offsets.

import { parseCheckpointLines, serializeCheckpointLines } from './checkpoint-file.js';

export interface LeaderEpochEntry {
  epoch: number;
  startOffset: bigint;
}

export interface EpochEndOffset {
  /** -1 when the epoch is unknown (UNDEFINED_EPOCH). */
  leaderEpoch: number;
  /** -1n when the epoch is unknown (UNDEFINED_EPOCH_OFFSET). */
  endOffset: bigint;
}

export const undefinedEpochEndOffset: Readonly<EpochEndOffset> = Object.freeze({
  leaderEpoch: -1,
  endOffset: -1n,
});

export class LeaderEpochCache {
  private entries: LeaderEpochEntry[] = [];

  static fromEntries(entries: LeaderEpochEntry[]): LeaderEpochCache {
    const cache = new LeaderEpochCache();
    for (const entry of entries) cache.assign(entry.epoch, entry.startOffset);
    return cache;
  }

  list(): LeaderEpochEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  latestEpoch(): number | undefined {
    return this.entries.at(-1)?.epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Returns true when the cache changed. A newer
   * epoch starting at or before an older entry's start replaces that entry (Kafka does the same).
   */
  assign(epoch: number, startOffset: bigint): boolean {
    if (epoch < 0) return false;
    const latest = this.entries.at(-1);
    if (latest && epoch <= latest.epoch) return false;
    while (
      this.entries.length > 0 &&
      this.entries[this.entries.length - 1].startOffset >= startOffset
    ) {
      this.entries.pop();
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** The epoch of the batch at `offset`: the last entry starting at or before it. */
  epochForOffset(offset: bigint): number {
    let result = -1;
    for (const entry of this.entries) {
      if (entry.startOffset > offset) break;
      result = entry.epoch;
    }
    return result;
  }

  /** KIP-101/279 semantics of Kafka's LeaderEpochFileCache.endOffsetFor. */
  endOffsetFor(epoch: number, logEndOffset: bigint): EpochEndOffset {
    if (epoch < 0 || this.entries.length === 0) return { ...undefinedEpochEndOffset };
    const latest = this.entries[this.entries.length - 1];
    if (epoch === latest.epoch) return { leaderEpoch: epoch, endOffset: logEndOffset };
    const higherIndex = this.entries.findIndex((entry) => entry.epoch > epoch);
    if (higherIndex < 0) return { ...undefinedEpochEndOffset };
    const higher = this.entries[higherIndex];
    if (higherIndex === 0) return { leaderEpoch: epoch, endOffset: higher.startOffset };
    return { leaderEpoch: this.entries[higherIndex - 1].epoch, endOffset: higher.startOffset };
  }

  /** Drops entries starting at or after `endOffset` (log truncation). */
  truncateFromEnd(endOffset: bigint): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /** Log start moved to `startOffset`: older entries go, the one covering it starts there. */
  truncateFromStart(startOffset: bigint): boolean {
    let changed = false;
    while (this.entries.length > 1 && this.entries[1].startOffset <= startOffset) {
      this.entries.shift();
      changed = true;
    }
    const first = this.entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    return changed;
  }

  clear(): void {
    this.entries = [];
  }

  /** Kafka's checkpoint text format: version, count, then "epoch offset" lines. */
  serialize(): Buffer {
    return serializeCheckpointLines(
      this.entries.map((entry) => `${entry.epoch} ${entry.startOffset}`),
    );
  }

  /** Parses a checkpoint; a malformed file yields an empty cache (rebuilt from batches). */
  static parse(data: Buffer): LeaderEpochCache | null {
    const lines = parseCheckpointLines(data);
    if (!lines) return null;
    const cache = new LeaderEpochCache();
    for (const line of lines) {
      const match = /^(\d+) (\d+)$/.exec(line);
      if (!match) return null;
      cache.assign(Number(match[1]), BigInt(match[2]));
    }
    return cache;
  }
}
