/**
 * The invariants of CLUSTER.md §3 over what the simulated brokers hold right now: every replica's
 * log is read back from its simulated disk (batch bytes, offsets, leader epochs, values) and
 * compared with what was acknowledged and what earlier checks saw committed. Violations are
 * collected as sentences; the caller decides what fails.
 */
import { decodeRecordBatch } from '@gregor/protocol';
import type { Partition } from '../../replication/partition.js';
import { replicaId } from '../../replication/types.js';

export interface LogEntry {
  offset: bigint;
  leaderEpoch: number;
  value: string;
  /** The whole batch holding the record (byte comparison between replicas). */
  batch: Buffer;
}

export interface ReplicaView {
  brokerId: number;
  partition: Partition;
  highWatermark: bigint;
  logEndOffset: bigint;
  entries: LogEntry[];
}

export interface AckedRecord {
  partition: number;
  offset: bigint;
  value: string;
  leaderEpoch: number;
  brokerId: number;
}

/** A replica's log as entries, one per record (offset order). */
export async function readReplica(brokerId: number, partition: Partition): Promise<ReplicaView> {
  const highWatermark = partition.highWatermark;
  const logEndOffset = partition.logEndOffset;
  const entries: LogEntry[] = [];
  let offset = partition.logStartOffset;
  while (offset < logEndOffset) {
    const read = await partition.read(offset, {
      isolation: 'replica',
      maxBytes: 1 << 20,
      minOneBatch: true,
    });
    if (read.sizeBytes === 0) break;
    const bytes = Buffer.concat(read.buffers);
    let position = 0;
    let next = offset;
    while (position + 12 <= bytes.length) {
      const length = 12 + bytes.readInt32BE(position + 8);
      if (position + length > bytes.length) break;
      const batch = bytes.subarray(position, position + length);
      const decoded = decodeRecordBatch(batch);
      for (const record of decoded.records) {
        const recordOffset = record.offset;
        if (recordOffset >= logEndOffset) continue;
        entries.push({
          offset: recordOffset,
          leaderEpoch: decoded.header.partitionLeaderEpoch,
          value: record.value?.toString() ?? '',
          batch,
        });
      }
      next = decoded.header.baseOffset + BigInt(decoded.header.lastOffsetDelta) + 1n;
      position += length;
    }
    if (next <= offset) break;
    offset = next;
  }
  return { brokerId, partition, highWatermark, logEndOffset, entries };
}

export class InvariantChecker {
  readonly violations: string[] = [];

  /**
   * `strict` (the default): a follower's records below its own HW count as committed too. Off,
   * only the current leader's do (ISR followers are compared with it).
   */
  constructor(private readonly strict = true) {}

  /** `partition:offset` → what a replica held below its HW. */
  private readonly committed = new Map<
    string,
    { value: string; leaderEpoch: number; seenOn: string }
  >();
  /** `partition:epoch` → the highest HW its leader showed. */
  private readonly highWatermarks = new Map<string, bigint>();
  /** `partition:epoch` → the leader the metadata named. */
  private readonly epochLeaders = new Map<string, number>();
  private readonly latestEpochs = new Map<number, number>();
  /** `partition:epoch` → the broker that acknowledged acks=all writes in it. */
  private readonly ackers = new Map<string, number>();
  readonly acked: AckedRecord[] = [];

  private violation(text: string): void {
    if (!this.violations.includes(text)) this.violations.push(text);
  }

  /** An acks=all produce was acknowledged. */
  acknowledged(record: AckedRecord): void {
    this.acked.push(record);
    const key = `${record.partition}:${record.leaderEpoch}`;
    const acker = this.ackers.get(key);
    if (acker !== undefined && acker !== record.brokerId) {
      this.violation(
        `two ackers in partition ${record.partition} epoch ${record.leaderEpoch}: brokers ${acker} and ${record.brokerId}`,
      );
    }
    this.ackers.set(key, record.brokerId);
  }

  /** The metadata (an unfaulted observer's image) names `leader` at `leaderEpoch`. */
  leaderElected(partition: number, leader: number, leaderEpoch: number): void {
    const latest = this.latestEpochs.get(partition) ?? -1;
    if (leaderEpoch < latest) {
      this.violation(
        `partition ${partition}: leader epoch went back from ${latest} to ${leaderEpoch}`,
      );
    }
    this.latestEpochs.set(partition, Math.max(latest, leaderEpoch));
    const key = `${partition}:${leaderEpoch}`;
    const known = this.epochLeaders.get(key);
    if (known !== undefined && known !== leader && leader !== -1 && known !== -1) {
      this.violation(
        `partition ${partition} epoch ${leaderEpoch} has two leaders: ${known} and ${leader}`,
      );
    }
    if (leader !== -1) this.epochLeaders.set(key, leader);
  }

  /**
   * One partition's replicas now. `leader` is the replica that leads at the metadata's current
   * epoch (undefined when none does yet).
   */
  check(partitionIndex: number, replicas: readonly ReplicaView[], leader: ReplicaView | undefined) {
    for (const replica of replicas) {
      // Followers' committed prefixes are checked against the leader's below (ISR comparison).
      const bound = replica === leader || this.strict ? replica.highWatermark : -1n;
      this.checkOne(partitionIndex, replica, bound);
    }
    if (leader === undefined) return;
    const epoch = leader.partition.leaderEpoch;
    const hwKey = `${partitionIndex}:${epoch}`;
    const previous = this.highWatermarks.get(hwKey);
    if (previous !== undefined && leader.highWatermark < previous) {
      this.violation(
        `partition ${partitionIndex} epoch ${epoch}: HW went back from ${previous} to ${leader.highWatermark} on leader ${leader.brokerId}`,
      );
    }
    if (previous === undefined || leader.highWatermark > previous) {
      this.highWatermarks.set(hwKey, leader.highWatermark);
    }
    // ISR replicas hold the leader's batches, byte for byte, below the HW (as far as they reach).
    const byOffset = new Map(leader.entries.map((entry) => [entry.offset, entry]));
    for (const replica of replicas) {
      if (replica === leader || !leader.partition.isr.has(replicaId(replica.brokerId))) continue;
      const bound =
        leader.highWatermark < replica.logEndOffset ? leader.highWatermark : replica.logEndOffset;
      for (const entry of replica.entries) {
        if (entry.offset >= bound) break;
        const theirs = byOffset.get(entry.offset);
        if (
          theirs === undefined ||
          theirs.leaderEpoch !== entry.leaderEpoch ||
          !theirs.batch.equals(entry.batch)
        ) {
          this.violation(
            `partition ${partitionIndex}: ISR replica ${replica.brokerId} differs from leader ${leader.brokerId} at offset ${entry.offset} below HW ${leader.highWatermark} (${entry.value}@${entry.leaderEpoch} vs ${theirs?.value}@${theirs?.leaderEpoch})`,
          );
          break;
        }
      }
    }
    // No acknowledged record lost: the leader holds every one.
    for (const record of this.acked) {
      if (record.partition !== partitionIndex) continue;
      const held = byOffset.get(record.offset);
      if (held === undefined || held.value !== record.value) {
        this.violation(
          `partition ${partitionIndex}: acked ${record.value} at offset ${record.offset} (epoch ${record.leaderEpoch}, broker ${record.brokerId}) is ${held === undefined ? 'missing' : `${held.value}@${held.leaderEpoch}`} on leader ${leader.brokerId} (epoch ${epoch}, LEO ${leader.logEndOffset})`,
        );
      }
    }
  }

  /** Every acknowledged record on this replica (the end of a run, after healing). */
  checkComplete(partitionIndex: number, replica: ReplicaView): void {
    const byOffset = new Map(replica.entries.map((entry) => [entry.offset, entry]));
    for (const record of this.acked) {
      if (record.partition !== partitionIndex) continue;
      const held = byOffset.get(record.offset);
      if (held === undefined || held.value !== record.value) {
        this.violation(
          `partition ${partitionIndex}: after healing, replica ${replica.brokerId} lacks acked ${record.value} at offset ${record.offset} (has ${held?.value ?? 'nothing'})`,
        );
      }
    }
  }

  private checkOne(partitionIndex: number, replica: ReplicaView, committedBound: bigint): void {
    let previous: LogEntry | undefined;
    for (const entry of replica.entries) {
      if (previous !== undefined) {
        if (entry.offset !== previous.offset + 1n) {
          this.violation(
            `partition ${partitionIndex} replica ${replica.brokerId}: offset ${entry.offset} follows ${previous.offset}`,
          );
        }
        if (entry.leaderEpoch < previous.leaderEpoch) {
          this.violation(
            `partition ${partitionIndex} replica ${replica.brokerId}: epoch ${entry.leaderEpoch} at offset ${entry.offset} after epoch ${previous.leaderEpoch}`,
          );
        }
      }
      previous = entry;
      if (entry.offset >= committedBound) continue;
      const key = `${partitionIndex}:${entry.offset}`;
      const known = this.committed.get(key);
      if (known === undefined) {
        this.committed.set(key, {
          value: entry.value,
          leaderEpoch: entry.leaderEpoch,
          seenOn: `replica ${replica.brokerId} (HW ${replica.highWatermark}, ${replica.partition.isLeader ? 'leader' : 'follower'} at epoch ${replica.partition.leaderEpoch})`,
        });
      } else if (known.value !== entry.value || known.leaderEpoch !== entry.leaderEpoch) {
        this.violation(
          `partition ${partitionIndex}: two values at committed offset ${entry.offset}: ${known.value}@${known.leaderEpoch} on ${known.seenOn}, ${entry.value}@${entry.leaderEpoch} on replica ${replica.brokerId} (HW ${replica.highWatermark})`,
        );
      }
    }
  }
}
