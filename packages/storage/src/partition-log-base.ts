// What both PartitionLog implementations share: high watermark, leader epochs and long-poll
// waiters. Subclasses own the batches and the log end offset.

import { ChangeNotifier } from './change-notifier.js';
import {
  type EpochEndOffset,
  LeaderEpochCache,
  type LeaderEpochEntry,
} from './leader-epoch-cache.js';
import {
  type Clock,
  listOffsetsTimestamp,
  type Offset,
  type TimestampOffset,
  type WaitOptions,
} from './types.js';

export abstract class PartitionLogBase {
  protected epochs = new LeaderEpochCache();
  protected readonly notifier: ChangeNotifier;
  protected watermark = 0n;
  protected closed = false;

  constructor(clock: Clock) {
    this.notifier = new ChangeNotifier(clock);
  }

  abstract get logEndOffset(): Offset;
  abstract get logStartOffset(): Offset;

  /** ListOffsets EARLIEST (-2) and LATEST (-1); null for any other timestamp. */
  protected boundaryOffset(timestampMs: bigint): TimestampOffset | null {
    if (timestampMs === listOffsetsTimestamp.earliest) {
      const offset = this.logStartOffset;
      return { offset, timestamp: -1n, leaderEpoch: this.epochs.epochForOffset(offset) };
    }
    if (timestampMs === listOffsetsTimestamp.latest) {
      return {
        offset: this.logEndOffset,
        timestamp: -1n,
        leaderEpoch: this.epochs.latestEpoch() ?? -1,
      };
    }
    return null;
  }

  get highWatermark(): Offset {
    return this.watermark;
  }

  setHighWatermark(offset: Offset): void {
    const bounded = offset > this.logEndOffset ? this.logEndOffset : offset;
    if (bounded === this.watermark) return;
    this.watermark = bounded;
    this.notifier.notify();
  }

  leaderEpochEntries(): LeaderEpochEntry[] {
    return this.epochs.list();
  }

  latestLeaderEpoch(): number | undefined {
    return this.epochs.latestEpoch();
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  waitForData(offset: Offset, options: WaitOptions): Promise<boolean> {
    const bound = (): Offset => (options.bound === 'logEnd' ? this.logEndOffset : this.watermark);
    return this.notifier.waitUntil(
      () => this.closed || bound() > offset,
      options.timeoutMs,
      options.signal,
    );
  }

  onChange(listener: () => void): () => void {
    return this.notifier.subscribe(listener);
  }
}
