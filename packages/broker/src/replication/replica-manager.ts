/**
 * Every Partition of this broker (Kafka's ReplicaManager): the one way handlers, the group and
 * transaction coordinators and start-up reach a partition's log, producer state and high
 * watermark. Partitions are created from the logs storage holds (the topic manager creates and
 * deletes the logs; a re-created log gets a new Partition), become leader or follower from
 * metadata, and have their high watermarks checkpointed per log dir
 * (`replication-offset-checkpoint`, every 5 s and at stop, read at start-up).
 */
import type { FileSystem, LogManager, PartitionLog } from '@gregor/storage';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { ProducerStateManager } from '../producer/producer-state-manager.js';
import { HighWatermarkCheckpoints } from './high-watermark-checkpoint.js';
import { type LeaderState, Partition } from './partition.js';
import { type LeaderEpoch, type ReplicaId, replicaId } from './types.js';

/** Kafka's replica.high.watermark.checkpoint.interval.ms default. */
export const highWatermarkCheckpointIntervalMs = 5_000;
/** New partitions becoming leader at once in `createMany` (each writes a checkpoint file). */
const leadersStartedAtOnceMax = 32;

export interface ReplicaManagerOptions {
  logs: LogManager;
  nodeId: number;
  clock: Clock;
  logger: Logger;
  /** Where checkpoints go; absent (memory logs): high watermarks are not checkpointed. */
  fileSystem?: FileSystem;
  /** The log dir holding `log`; undefined for logs with no directory (memory). */
  logDirOf?: (log: PartitionLog) => string | undefined;
  /** min.insync.replicas of a topic. */
  minInsyncReplicas?: (topic: string) => number;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs?: () => number;
  /** Whether a replica's broker is registered (Partition's `replicaRegistered`); default: yes. */
  replicaRegistered?: (id: ReplicaId) => boolean;
  /** replica.high.watermark.checkpoint.interval.ms; 0 turns the periodic checkpoint off (stop still writes one). */
  checkpointIntervalMs?: number;
  /**
   * Cluster mode: each partition's role comes from the metadata. Until then a restored HW stays
   * the checkpointed one: the single node's "sole in-sync replica, HW = LEO" would commit a tail
   * the cluster may have replaced (a follower truncates it once it learns its leader).
   */
  rolesFromMetadata?: boolean;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  /** min.insync.replicas by topic, resolved once until a config change (HW checks read it often). */
  private readonly minInsyncByTopic = new Map<string, number>();
  private producerState: ProducerStateManager | undefined;
  private readonly checkpoints: HighWatermarkCheckpoints | undefined;
  private checkpointTimer: TimerHandle | null = null;
  private stopped = false;
  readonly localReplicaId: ReplicaId;
  /** Set by the ISR manager: a follower's fetch was recorded on a partition this broker leads. */
  followerFetchListener: ((partition: Partition, id: ReplicaId) => void) | undefined;

  constructor(private readonly options: ReplicaManagerOptions) {
    this.localReplicaId = replicaId(options.nodeId);
    const { fileSystem, logDirOf } = options;
    this.checkpoints =
      fileSystem === undefined || logDirOf === undefined
        ? undefined
        : new HighWatermarkCheckpoints(fileSystem, logDirOf);
  }

  get logs(): LogManager {
    return this.options.logs;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** The producer state store (built after the logs are loaded, before the broker serves). */
  setProducers(producers: ProducerStateManager): void {
    this.producerState = producers;
    for (const partition of this.partitions.values()) partition.setProducers(producers);
  }

  get producers(): ProducerStateManager | undefined {
    return this.producerState;
  }

  /**
   * Creates the Partition of every log, restoring each high watermark from the checkpoints
   * (bounded by the log; on a single node, where each partition is its sole in-sync replica, the
   * HW then becomes its LEO; in cluster mode it waits for the role), and starts the periodic
   * checkpoint.
   */
  async start(logDirs: readonly string[]): Promise<void> {
    const restored = (await this.checkpoints?.read(logDirs)) ?? new Map<string, bigint>();
    for (const log of this.options.logs.allLogs()) {
      const partition = this.partitionFor(log);
      const checkpointed = restored.get(`${log.topic}-${log.partition}`);
      partition.restoreHighWatermark(checkpointed ?? log.logStartOffset, {
        asSoleLeader: this.options.rolesFromMetadata !== true,
      });
    }
    this.scheduleCheckpoint();
  }

  /** Writes the last checkpoint; parked produces end. The logs are closed by their owner. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.checkpointTimer?.cancel();
    await this.checkpointHighWatermarks();
    for (const partition of this.partitions.values()) partition.close();
  }

  /** The partition of a current log, or undefined when this broker holds no such log. */
  get(topic: string, index: number): Partition | undefined {
    const log = this.options.logs.getLog(topic, index);
    return log === undefined ? undefined : this.partitionFor(log);
  }

  /** Every partition of a current log. */
  all(): Partition[] {
    return this.options.logs.allLogs().map((log) => this.partitionFor(log));
  }

  /** Creates the log (with `config`) when absent; its Partition leads at the log's epoch. */
  async create(
    topic: string,
    index: number,
    config?: Parameters<LogManager['createLog']>[2],
  ): Promise<Partition> {
    const log = await this.options.logs.createLog(topic, index, config);
    const partition = this.partitionFor(log);
    if (log.latestLeaderEpoch() === undefined) {
      await partition.makeLeader({
        leaderEpoch: partition.leaderEpoch,
        replicas: [this.localReplicaId],
        isr: [this.localReplicaId],
      });
    }
    return partition;
  }

  /**
   * `create` for several partitions of one topic: the logs are created in one batch (no fsync
   * per log, LogManager.createLogs), then each new Partition leads, a few at a time (each writes
   * its leader-epoch checkpoint).
   */
  async createMany(
    topic: string,
    indexes: readonly number[],
    config?: Parameters<LogManager['createLog']>[2],
  ): Promise<Partition[]> {
    const logs = await this.options.logs.createLogs(topic, indexes, config);
    const partitions = logs.map((log) => this.partitionFor(log));
    for (let first = 0; first < partitions.length; first += leadersStartedAtOnceMax) {
      await Promise.all(
        partitions.slice(first, first + leadersStartedAtOnceMax).map(async (partition) => {
          if (partition.log.latestLeaderEpoch() !== undefined) return;
          await partition.makeLeader({
            leaderEpoch: partition.leaderEpoch,
            replicas: [this.localReplicaId],
            isr: [this.localReplicaId],
          });
        }),
      );
    }
    return partitions;
  }

  async delete(topic: string, index: number): Promise<void> {
    const key = partitionKey(topic, index);
    this.partitions.get(key)?.close();
    this.partitions.delete(key);
    await this.options.logs.deleteLog(topic, index);
  }

  /** Applies "become leader" from metadata. */
  async makeLeader(topic: string, index: number, state: LeaderState): Promise<Partition> {
    const partition = this.get(topic, index);
    if (partition === undefined) throw new Error(`no log for ${topic}-${index}`);
    await partition.makeLeader(state);
    return partition;
  }

  /** Applies "become follower" from metadata: parked produces end, consumers are refused. */
  makeFollower(
    topic: string,
    index: number,
    state: { leaderEpoch: LeaderEpoch; replicas: readonly ReplicaId[] },
  ): Partition {
    const partition = this.get(topic, index);
    if (partition === undefined) throw new Error(`no log for ${topic}-${index}`);
    partition.makeFollower(state);
    return partition;
  }

  /** Writes every log dir's `replication-offset-checkpoint` (one file per dir, in one go). */
  async checkpointHighWatermarks(): Promise<void> {
    if (this.checkpoints === undefined) return;
    await this.checkpoints.write(this.options.logs.allLogs());
  }

  private partitionFor(log: PartitionLog): Partition {
    const key = partitionKey(log.topic, log.partition);
    const existing = this.partitions.get(key);
    if (existing !== undefined && existing.log === log) return existing;
    existing?.close();
    const partition = new Partition({
      log,
      localReplicaId: this.localReplicaId,
      producers: this.producerState,
      clock: this.options.clock,
      logger: this.options.logger,
      minInsyncReplicas: () => this.minInsyncReplicas(log.topic),
      replicaLagTimeMaxMs: () => this.options.replicaLagTimeMaxMs?.() ?? 30_000,
      onFollowerFetch: (partition, id) => this.followerFetchListener?.(partition, id),
      replicaRegistered: this.options.replicaRegistered,
    });
    this.partitions.set(key, partition);
    return partition;
  }

  /** Forgets resolved topic settings (a topic's overrides or the broker's defaults changed). */
  topicConfigChanged(topic?: string): void {
    if (topic === undefined) this.minInsyncByTopic.clear();
    else this.minInsyncByTopic.delete(topic);
  }

  private minInsyncReplicas(topic: string): number {
    let value = this.minInsyncByTopic.get(topic);
    if (value === undefined) {
      value = this.options.minInsyncReplicas?.(topic) ?? 1;
      this.minInsyncByTopic.set(topic, value);
    }
    return value;
  }

  private scheduleCheckpoint(): void {
    const intervalMs = this.options.checkpointIntervalMs ?? highWatermarkCheckpointIntervalMs;
    if (this.stopped || this.checkpoints === undefined || intervalMs <= 0) return;
    this.checkpointTimer = this.options.clock.schedule(intervalMs, () => {
      void this.checkpointHighWatermarks()
        .catch((error: unknown) => {
          // A failed checkpoint (a full disk) only means an older HW after a crash.
          this.options.logger.warn('high watermark checkpoint failed', {
            error: error instanceof Error ? error.message : String(error),
          });
        })
        .finally(() => this.scheduleCheckpoint());
    });
  }
}

function partitionKey(topic: string, index: number): string {
  return `${topic}\u0000${index}`;
}
