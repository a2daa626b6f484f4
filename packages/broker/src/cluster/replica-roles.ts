/**
 * Applies the metadata image to this broker's ReplicaManager: partitions with a replica here get
 * a log (created in the data dir with the topic's configuration), then lead (`makeLeader` at the
 * image's leader epoch) or follow (`makeFollower`); partitions this broker no longer replicates,
 * or whose topic was deleted, lose their log. One change at a time, in image order.
 */
import type { LocalPartitionChanges, MetadataImage, PartitionImage } from '@gregor/cluster';
import type { LogConfig } from '@gregor/storage';
import type { Logger } from '../logging/logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { leaderEpoch, replicaId } from '../replication/types.js';

/** Partitions whose role is applied at once (each leader may write a checkpoint file). */
const rolesAppliedAtOnceMax = 32;
/**
 * Partitions handled between two yields to the event loop. Role changes that need no I/O resolve
 * as microtasks, which never let timers run: 10,000 of them in one go starved the lease
 * keepalives (etcd3 renews from a timer every TTL/3) for longer than the lease lived.
 */
const partitionsBetweenYields = 256;

/** Lets timers and I/O callbacks (lease keepalives, watch events) run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface ReplicaRolesOptions {
  nodeId: number;
  replicas: ReplicaManager;
  logger: Logger;
  /** The log configuration of a topic with these overrides. */
  logConfig: (overrides: Readonly<Record<string, string>>) => LogConfig;
  /** Told after a partition became leader or follower (coordinators, the follower fetcher). */
  onRoleChange?: (change: RoleChange) => void;
}

export interface RoleChange {
  topic: string;
  /** The topic's id ('' for a removal). */
  topicId: string;
  partition: number;
  role: 'leader' | 'follower' | 'removed';
  leaderId: number;
  leaderEpoch: number;
}

export class ReplicaRoles {
  private queue: Promise<void> = Promise.resolve();
  /** What was applied per partition (`topic/index` → leader:epoch:partition epoch), so a full resync skips it. */
  private readonly applied = new Map<string, string>();

  constructor(private readonly options: ReplicaRolesOptions) {}

  /** Every partition of the image with a replica here, plus logs of topics the image lacks. */
  syncAll(image: MetadataImage): Promise<void> {
    return this.enqueue(async () => {
      const hosted: PartitionImage[] = [];
      for (const topic of image.topics()) {
        for (const partition of image.partitions(topic.name)) {
          if (partition.replicas.includes(this.options.nodeId)) hosted.push(partition);
        }
      }
      const wanted = new Set(hosted.map((partition) => this.key(image, partition)));
      let visited = 0;
      for (const partition of this.options.replicas.all()) {
        const key = `${partition.topic}/${partition.index}`;
        // A log of a deleted topic, or of a partition reassigned away while this broker was down.
        if (!wanted.has(key)) await this.remove(partition.topic, partition.index);
        if (++visited % partitionsBetweenYields === 0) await yieldToEventLoop();
      }
      await this.applyRoles(image, hosted, (partition) => partition.leader === this.options.nodeId);
    });
  }

  /**
   * Topics whose records changed (configs, partition count, creation, deletion): local logs take
   * the topic's current configuration, cached topic settings are dropped.
   */
  topicsChanged(image: MetadataImage, names: Iterable<string>): Promise<void> {
    const topics = [...names];
    return this.enqueue(async () => {
      const { replicas } = this.options;
      for (const name of topics) {
        replicas.topicConfigChanged(name);
        const topic = image.topic(name);
        if (topic === undefined) continue;
        if (
          image
            .partitions(name)
            .some((partition) => replicas.logs.getLog(name, partition.partition))
        ) {
          replicas.logs.updateConfig(name, this.options.logConfig(topic.configs));
        }
      }
    });
  }

  /** One delta's local changes. */
  applyChanges(
    previous: MetadataImage,
    image: MetadataImage,
    changes: LocalPartitionChanges,
  ): Promise<void> {
    return this.enqueue(async () => {
      let visited = 0;
      for (const removed of changes.removed) {
        const name =
          previous.topicById(removed.topicId)?.name ?? image.topicById(removed.topicId)?.name;
        if (name !== undefined) await this.remove(name, removed.partition);
        if (++visited % partitionsBetweenYields === 0) await yieldToEventLoop();
      }
      const leaders = new Set(changes.leaders);
      await this.applyRoles(image, [...changes.leaders, ...changes.followers], (partition) =>
        leaders.has(partition),
      );
    });
  }

  private async applyRoles(
    image: MetadataImage,
    partitions: readonly PartitionImage[],
    leads: (partition: PartitionImage) => boolean,
  ): Promise<void> {
    const { replicas } = this.options;
    // Logs first, one batch per topic (no fsync per log).
    const missing = new Map<string, number[]>();
    for (const partition of partitions) {
      const name = image.topicById(partition.topicId)?.name;
      if (name === undefined) continue;
      if (replicas.logs.getLog(name, partition.partition) !== undefined) continue;
      const indexes = missing.get(name) ?? [];
      indexes.push(partition.partition);
      missing.set(name, indexes);
    }
    for (const [name, indexes] of missing) {
      const topic = image.topic(name)!;
      await replicas.logs.createLogs(name, indexes, this.options.logConfig(topic.configs));
    }
    const pending: { name: string; partition: PartitionImage; state: string }[] = [];
    for (const partition of partitions) {
      const name = image.topicById(partition.topicId)?.name;
      if (name === undefined) continue;
      // The partition epoch too: an ISR committed by the controller reaches the leader.
      const state = `${partition.leader}:${partition.leaderEpoch}:${partition.partitionEpoch}`;
      if (this.applied.get(`${name}/${partition.partition}`) !== state)
        pending.push({ name, partition, state });
    }
    // Partitions are independent: a few become leader at once (each may write its leader-epoch
    // checkpoint file), while each partition's role changes stay in image order.
    for (let first = 0; first < pending.length; first += rolesAppliedAtOnceMax) {
      await Promise.all(
        pending
          .slice(first, first + rolesAppliedAtOnceMax)
          .map((entry) => this.applyRole(entry.name, entry.partition, entry.state, leads)),
      );
      const applied = first + rolesAppliedAtOnceMax;
      if (applied % partitionsBetweenYields === 0 && applied < pending.length) {
        await yieldToEventLoop();
      }
    }
  }

  private async applyRole(
    name: string,
    partition: PartitionImage,
    state: string,
    leads: (partition: PartitionImage) => boolean,
  ): Promise<void> {
    const { replicas } = this.options;
    const key = `${name}/${partition.partition}`;
    const epoch = leaderEpoch(partition.leaderEpoch);
    const replicaIds = partition.replicas.map(replicaId);
    try {
      if (leads(partition)) {
        await replicas.makeLeader(name, partition.partition, {
          leaderEpoch: epoch,
          replicas: replicaIds,
          isr: partition.isr.map(replicaId),
          partitionEpoch: partition.partitionEpoch,
        });
      } else {
        replicas.makeFollower(name, partition.partition, {
          leaderEpoch: epoch,
          replicas: replicaIds,
        });
      }
    } catch (error) {
      this.options.logger.error('applying a partition role failed', {
        topic: name,
        partition: partition.partition,
        error,
      });
      return;
    }
    const roleKept = this.applied
      .get(key)
      ?.startsWith(`${partition.leader}:${partition.leaderEpoch}:`);
    this.applied.set(key, state);
    // A new partition epoch alone (an ISR change) is no role change for the listeners.
    if (roleKept === true) return;
    this.options.onRoleChange?.({
      topic: name,
      topicId: partition.topicId,
      partition: partition.partition,
      role: leads(partition) ? 'leader' : 'follower',
      leaderId: partition.leader,
      leaderEpoch: partition.leaderEpoch,
    });
  }

  private async remove(topic: string, partition: number): Promise<void> {
    this.applied.delete(`${topic}/${partition}`);
    if (this.options.replicas.logs.getLog(topic, partition) === undefined) return;
    this.options.onRoleChange?.({
      topic,
      topicId: '',
      partition,
      role: 'removed',
      leaderId: -1,
      leaderEpoch: -1,
    });
    await this.options.replicas.delete(topic, partition);
    this.options.logger.info('partition removed from this broker', { topic, partition });
  }

  private key(image: MetadataImage, partition: PartitionImage): string {
    return `${image.topicById(partition.topicId)?.name}/${partition.partition}`;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch((error: unknown) =>
      this.options.logger.error('applying metadata to the replicas failed', { error }),
    );
    return run;
  }
}
