// DeleteRecords: moves partitions' log start offsets forward (the records before are gone for
// every reader). Each partition's request goes to its leader.

import { type DeleteRecordsResponse, deleteRecordsApi, ErrorCode } from '@gregor/protocol';
import type { TopicPartition } from '../consumer/list-offsets.js';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import { groupByTopic } from './shared.js';

export interface PartitionLowWatermark extends TopicPartition {
  /** The partition's log start offset after the deletion. */
  lowWatermark: bigint;
}

/** `offset` -1 deletes up to the high watermark. Results in input order. */
export async function deleteRecords(
  cluster: Cluster,
  targets: ReadonlyArray<TopicPartition & { offset: bigint }>,
): Promise<PartitionLowWatermark[]> {
  const byLeader = new Map<number, Array<TopicPartition & { offset: bigint }>>();
  for (const target of targets) {
    await cluster.topic(target.topic, cluster.options.requestTimeoutMs);
    const leader = cluster.leaderOf(target.topic, target.partition);
    if (leader === undefined) {
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${target.topic}-${target.partition}`);
    }
    const list = byLeader.get(leader) ?? [];
    list.push(target);
    byLeader.set(leader, list);
  }
  const results = new Map<string, bigint>();
  for (const [leader, entries] of byLeader) {
    const connection = await cluster.connectionToNode(leader);
    const response = await connection.request<DeleteRecordsResponse>(deleteRecordsApi, {
      timeoutMs: cluster.options.requestTimeoutMs,
      topics: [...groupByTopic(entries)].map(([name, list]) => ({
        name,
        partitions: list.map((entry) => ({
          partitionIndex: entry.partition,
          offset: entry.offset,
        })),
      })),
    });
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(
            partition.errorCode,
            `DeleteRecords ${topic.name}-${partition.partitionIndex}`,
          );
        }
        results.set(`${partition.partitionIndex}:${topic.name}`, partition.lowWatermark);
      }
    }
  }
  return targets.map((target) => ({
    topic: target.topic,
    partition: target.partition,
    lowWatermark: results.get(`${target.partition}:${target.topic}`) ?? -1n,
  }));
}
