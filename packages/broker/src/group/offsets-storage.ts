/**
 * `__consumer_offsets` on the broker's storage: the topic comes from the topic manager (created
 * on first use as a compacted internal topic, like Kafka's auto-created offsets topic) and its
 * partition logs from the log manager. Without a topic manager (tests, tools) the logs are used
 * directly.
 */
import type { LogConfig, LogManager, PartitionLog } from '@gregor/storage';
import type { TopicManager } from '../topics/types.js';
import { type OffsetsTopicStorage, offsetsTopicName } from './types.js';

/** offsets.topic.segment.bytes default (100 MiB) and compaction, as Kafka configures the topic. */
export const offsetsTopicLogConfig: Partial<LogConfig> = {
  cleanupPolicy: 'compact',
  segmentBytes: 100 * 1024 * 1024,
};

export function offsetsTopicStorage(options: {
  logs: LogManager;
  topics?: Pick<TopicManager, 'get' | 'getOrCreate'>;
}): OffsetsTopicStorage {
  const { logs, topics } = options;
  const partitionCountOnDisk = (): number | null => {
    let count = 0;
    for (const log of logs.allLogs()) {
      if (log.topic === offsetsTopicName) count = Math.max(count, log.partition + 1);
    }
    return count === 0 ? null : count;
  };
  return {
    existingPartitionCount() {
      if (topics !== undefined) return topics.get(offsetsTopicName)?.partitionCount ?? null;
      return partitionCountOnDisk();
    },
    async partitionLog(partition, partitionCount): Promise<PartitionLog> {
      if (topics !== undefined && topics.get(offsetsTopicName) === undefined) {
        // The topic manager creates it with offsets.topic.num.partitions and compaction.
        await topics.getOrCreate(offsetsTopicName, { autoCreate: false });
      }
      const existing = logs.getLog(offsetsTopicName, partition);
      if (existing !== undefined) return existing;
      // Without a topic manager the partition count is read back from the logs on disk: create
      // every partition at once so that count is right after a restart.
      for (let index = 0; index < partitionCount; index++) {
        await logs.createLog(offsetsTopicName, index, offsetsTopicLogConfig);
      }
      return logs.getLog(offsetsTopicName, partition)!;
    },
  };
}
