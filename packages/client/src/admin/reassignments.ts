// Partition reassignments (KIP-455): move replicas to other brokers, cancel a move (replicas
// null), and list the moves in progress. Sent to any broker (KRaft brokers forward to the controller).

import {
  type AlterPartitionReassignmentsResponse,
  alterPartitionReassignmentsApi,
  ErrorCode,
  type ListPartitionReassignmentsResponse,
  listPartitionReassignmentsApi,
} from '@gregor/protocol';
import type { TopicPartition } from '../consumer/list-offsets.js';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import { groupByTopic } from './shared.js';

export interface OngoingReassignment extends TopicPartition {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

export async function alterPartitionReassignments(
  cluster: Cluster,
  moves: ReadonlyArray<TopicPartition & { replicas: readonly number[] | null }>,
): Promise<void> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<AlterPartitionReassignmentsResponse>(
    alterPartitionReassignmentsApi,
    {
      timeoutMs: cluster.options.requestTimeoutMs,
      topics: [...groupByTopic(moves)].map(([name, list]) => ({
        name,
        partitions: list.map((move) => ({
          partitionIndex: move.partition,
          replicas: move.replicas === null ? null : [...move.replicas],
        })),
      })),
    },
  );
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(
      response.errorCode,
      `AlterPartitionReassignments: ${response.errorMessage ?? ''}`,
    );
  }
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(
          partition.errorCode,
          `AlterPartitionReassignments ${topic.name}-${partition.partitionIndex}: ${partition.errorMessage ?? ''}`,
        );
      }
    }
  }
}

/** Moves in progress (of `partitions`, or all). */
export async function listPartitionReassignments(
  cluster: Cluster,
  partitions?: readonly TopicPartition[],
): Promise<OngoingReassignment[]> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<ListPartitionReassignmentsResponse>(
    listPartitionReassignmentsApi,
    {
      timeoutMs: cluster.options.requestTimeoutMs,
      topics:
        partitions === undefined
          ? null
          : [...groupByTopic(partitions)].map(([name, list]) => ({
              name,
              partitionIndexes: list.map((entry) => entry.partition),
            })),
    },
  );
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(
      response.errorCode,
      `ListPartitionReassignments: ${response.errorMessage ?? ''}`,
    );
  }
  return response.topics
    .flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topic: topic.name,
        partition: partition.partitionIndex,
        replicas: partition.replicas,
        addingReplicas: partition.addingReplicas,
        removingReplicas: partition.removingReplicas,
      })),
    )
    .sort(
      (left, right) => left.topic.localeCompare(right.topic) || left.partition - right.partition,
    );
}
