/**
 * The leader's ISR decisions (Kafka's Partition.maybeShrinkIsr / maybeExpandIsr and
 * AlterPartitionManager): every replica.lag.time.max.ms / 2 each partition this broker leads drops
 * the ISR members that have not caught up for replica.lag.time.max.ms; after each follower fetch
 * a replica outside the ISR whose LEO reached the HW and the current epoch's start is added. Both
 * go to the controller as AlterPartition (through `AlterPartitionSender`), at most one change in
 * flight per partition:
 * - an expansion counts for the HW at once (maximal ISR: the new member must have the records
 *   before the HW passes them), and is dropped again if the controller refuses it;
 * - a shrink counts only once committed (the HW keeps waiting for the removed member until then);
 * - the answer's ISR and partition epoch become the partition's (`updateIsr` logs WARN lines
 *   naming topic, partition, old and new sets); errors leave the committed ISR as it was and the
 *   next check retries (a newer leader or partition epoch arrives through the metadata).
 */
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  ErrorCode,
} from '@gregor/protocol';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { Partition } from './partition.js';
import type { ReplicaManager } from './replica-manager.js';
import { type ReplicaId, replicaId } from './types.js';

/** Sends AlterPartition to the active controller (wired by cluster mode; direct in tests). */
export interface AlterPartitionSender {
  send(request: AlterPartitionRequest): Promise<AlterPartitionResponse>;
}

export interface IsrManagerOptions {
  replicas: ReplicaManager;
  sender: AlterPartitionSender;
  clock: Clock;
  logger: Logger;
  /** This broker's epoch (its registration); AlterPartition carries it. */
  brokerEpoch: () => bigint;
  /** The topic id the controller knows the topic by. */
  topicId: (topic: string) => string | undefined;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs: () => number;
}

function keyOf(partition: Partition): string {
  return `${partition.topic}\u0000${partition.index}`;
}

export class IsrManager {
  private readonly inFlight = new Set<string>();
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly options: IsrManagerOptions) {}

  start(): void {
    this.options.replicas.followerFetchListener = (partition, id) =>
      this.maybeExpand(partition, id);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    this.options.replicas.followerFetchListener = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    const intervalMs = Math.max(1, Math.floor(this.options.replicaLagTimeMaxMs() / 2));
    this.timer = this.options.clock.schedule(intervalMs, () => {
      this.shrinkAll();
      this.schedule();
    });
  }

  /** One shrink check over every partition this broker leads (also called by tests). */
  shrinkAll(): void {
    for (const partition of this.options.replicas.all()) this.maybeShrink(partition);
  }

  private maybeShrink(partition: Partition): void {
    if (!partition.isLeader || this.inFlight.has(keyOf(partition))) return;
    const outOfSync = new Set(partition.outOfSyncReplicas());
    if (outOfSync.size === 0) return;
    const committed = [...partition.isr];
    const proposed = committed.filter((id) => !outOfSync.has(id));
    this.options.logger.warn('ISR shrink proposed: followers lag behind', {
      topic: partition.topic,
      partition: partition.index,
      isr: committed,
      proposedIsr: proposed,
      laggingReplicas: [...outOfSync],
      replicaLagTimeMaxMs: this.options.replicaLagTimeMaxMs(),
    });
    this.send(partition, proposed, []);
  }

  private maybeExpand(partition: Partition, id: ReplicaId): void {
    if (!partition.isLeader || this.inFlight.has(keyOf(partition))) return;
    if (partition.maximalIsr.has(id) || !partition.isIsrEligible(id)) return;
    const committed = [...partition.isr];
    this.options.logger.warn('ISR expand proposed: a follower caught up', {
      topic: partition.topic,
      partition: partition.index,
      isr: committed,
      proposedIsr: [...committed, id],
      replica: id,
    });
    partition.updateIsr(committed, [id]);
    this.send(partition, [...committed, id], [id]);
  }

  private send(partition: Partition, proposed: ReplicaId[], additions: ReplicaId[]): void {
    const key = keyOf(partition);
    const topicId = this.options.topicId(partition.topic);
    const committed = [...partition.isr];
    const revert = () => {
      if (additions.length > 0 && partition.isLeader) partition.updateIsr([...partition.isr]);
    };
    if (topicId === undefined) {
      revert();
      return;
    }
    const leaderEpoch = partition.leaderEpoch;
    const request: AlterPartitionRequest = {
      brokerId: this.options.replicas.localReplicaId,
      brokerEpoch: this.options.brokerEpoch(),
      topics: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: partition.index,
              leaderEpoch,
              newIsrWithEpochs: proposed.map((id) => ({
                brokerId: id,
                brokerEpoch:
                  id === this.options.replicas.localReplicaId
                    ? this.options.brokerEpoch()
                    : (partition.follower(id)?.brokerEpoch ?? -1n),
              })),
              leaderRecoveryState: 0,
              partitionEpoch: partition.partitionEpoch,
            },
          ],
        },
      ],
    };
    this.inFlight.add(key);
    this.options.sender.send(request).then(
      (response) => {
        this.inFlight.delete(key);
        // A leadership change since the request makes the answer moot.
        if (!partition.isLeader || partition.leaderEpoch !== leaderEpoch) return;
        const answer = response.topics[0]?.partitions[0];
        const errorCode =
          response.errorCode !== ErrorCode.NONE ? response.errorCode : answer?.errorCode;
        if (answer === undefined || errorCode !== ErrorCode.NONE) {
          this.options.logger.warn('AlterPartition refused; the ISR stays as committed', {
            topic: partition.topic,
            partition: partition.index,
            isr: committed,
            proposedIsr: proposed,
            errorCode,
          });
          revert();
          return;
        }
        partition.updateIsr(answer.isr.map(replicaId), [], answer.partitionEpoch);
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        this.options.logger.warn('AlterPartition failed; retried at the next check', {
          topic: partition.topic,
          partition: partition.index,
          proposedIsr: proposed,
          error,
        });
        revert();
      },
    );
  }
}
