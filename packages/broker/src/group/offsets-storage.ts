/**
 * `__consumer_offsets` on the broker's storage: the topic comes from the topic manager (created
 * on first use as a compacted internal topic, like Kafka's auto-created offsets topic) and its
 * partitions from the replica manager. Without a topic manager (tests, tools) the logs are created
 * directly.
 */
import type { LogConfig } from '@gregor/storage';
import type { Partition } from '../replication/partition.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { TopicManager } from '../topics/types.js';
import { type OffsetsTopicStorage, offsetsTopicName } from './types.js';

/** offsets.topic.segment.bytes default (100 MiB) and compaction, as Kafka configures the topic. */
export const offsetsTopicLogConfig: Partial<LogConfig> = {
  cleanupPolicy: 'compact',
  segmentBytes: 100 * 1024 * 1024,
};

/** How long to wait for the topic manager to create the partition logs: 250 x 20 ms = 5 s. */
const logWaitAttemptsMax = 250;
const logWaitStepMs = 20;

export function offsetsTopicStorage(options: {
  replicas: ReplicaManager;
  topics?: Pick<TopicManager, 'get' | 'getOrCreate'>;
}): OffsetsTopicStorage {
  const { replicas, topics } = options;
  const logs = replicas.logs;
  const partitionCountOnDisk = (): number | null => {
    let count = 0;
    for (const log of logs.allLogs()) {
      if (log.topic === offsetsTopicName) count = Math.max(count, log.partition + 1);
    }
    return count === 0 ? null : count;
  };
  let ensuring: Promise<void> | null = null;
  const ensureAllPartitions = async (partitionCount: number): Promise<void> => {
    if (topics !== undefined) {
      // The topic manager creates it with offsets.topic.num.partitions and compaction, logs
      // included; it lists the topic before its logs exist, so wait for them.
      const topic = await topics.getOrCreate(offsetsTopicName, { autoCreate: false });
      const count = topic?.partitionCount ?? partitionCount;
      for (let attempt = 0; attempt < logWaitAttemptsMax; attempt++) {
        if (countExisting(count) === count) return;
        await new Promise<void>((resolve) => replicas.clock.schedule(logWaitStepMs, resolve));
      }
      throw new Error(`${offsetsTopicName} logs did not appear`);
    }
    // Without a topic manager the partition count is read back from the logs on disk: create
    // every partition at once so that count is right after a restart.
    for (let index = 0; index < partitionCount; index++) {
      if (logs.getLog(offsetsTopicName, index) === undefined) {
        await replicas.create(offsetsTopicName, index, offsetsTopicLogConfig);
      }
    }
  };
  const countExisting = (count: number): number => {
    let existing = 0;
    for (let index = 0; index < count; index++) {
      if (logs.getLog(offsetsTopicName, index) !== undefined) existing++;
    }
    return existing;
  };
  return {
    existingPartitionCount() {
      if (topics !== undefined) return topics.get(offsetsTopicName)?.partitionCount ?? null;
      return partitionCountOnDisk();
    },
    async partitionLog(partition, partitionCount): Promise<Partition> {
      const existing = replicas.get(offsetsTopicName, partition);
      if (existing !== undefined) return existing;
      // One creation for all callers: concurrent first commits must not create the topic or its
      // logs twice.
      ensuring ??= ensureAllPartitions(partitionCount).finally(() => {
        ensuring = null;
      });
      await ensuring;
      const found = replicas.get(offsetsTopicName, partition);
      if (found === undefined) throw new Error(`${offsetsTopicName}-${partition} has no log`);
      return found;
    },
  };
}
