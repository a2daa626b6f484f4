// Transactions as an operator sees them (KIP-664): list every broker's transactional ids,
// describe them at their coordinators, and the producers active on partitions (at the leaders).

import {
  type DescribeProducersResponse,
  type DescribeTransactionsResponse,
  describeProducersApi,
  describeTransactionsApi,
  ErrorCode,
  type ListTransactionsResponse,
  listTransactionsApi,
} from '@gregor/protocol';
import type { TopicPartition } from '../consumer/list-offsets.js';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import { coordinatorRequest } from '../network/coordinator-request.js';
import { groupByTopic } from './shared.js';

export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  /** Ongoing, PrepareCommit, CompleteCommit, Empty... as the coordinator names it. */
  state: string;
}

export interface TransactionDescription {
  transactionalId: string;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  timeoutMs: number;
  /** -1 when no transaction is open. */
  startTimeMs: bigint;
  partitions: TopicPartition[];
}

export interface ActiveProducer extends TopicPartition {
  producerId: bigint;
  producerEpoch: number;
  lastSequence: number;
  lastTimestampMs: bigint;
  /** First offset of the producer's open transaction on the partition; -1 when none. */
  currentTransactionStartOffset: bigint;
}

export async function listTransactions(
  cluster: Cluster,
  filters: { states?: readonly string[]; producerIds?: readonly bigint[] } = {},
): Promise<TransactionListing[]> {
  const listings = new Map<string, TransactionListing>();
  for (const nodeId of await cluster.brokerIds()) {
    const connection = await cluster.connectionToNode(nodeId);
    const response = await connection.request<ListTransactionsResponse>(listTransactionsApi, {
      stateFilters: [...(filters.states ?? [])],
      producerIdFilters: [...(filters.producerIds ?? [])],
    });
    if (response.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(response.errorCode, `ListTransactions at broker ${nodeId}`);
    }
    for (const state of response.transactionStates) {
      listings.set(state.transactionalId, {
        transactionalId: state.transactionalId,
        producerId: state.producerId,
        state: state.transactionState,
      });
    }
  }
  return [...listings.values()].sort((left, right) =>
    left.transactionalId.localeCompare(right.transactionalId),
  );
}

export function describeTransactions(
  cluster: Cluster,
  transactionalIds: readonly string[],
): Promise<TransactionDescription[]> {
  return Promise.all(
    transactionalIds.map((transactionalId) =>
      coordinatorRequest(
        {
          cluster,
          type: 'transaction',
          key: transactionalId,
          what: `DescribeTransactions ${transactionalId}`,
          deadlineMs: Date.now() + cluster.options.requestTimeoutMs,
        },
        async (connection) => {
          const response = await connection.request<DescribeTransactionsResponse>(
            describeTransactionsApi,
            { transactionalIds: [transactionalId] },
          );
          const state = response.transactionStates[0];
          if (state === undefined) {
            throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, transactionalId);
          }
          if (state.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(state.errorCode, `DescribeTransactions ${transactionalId}`);
          }
          return {
            transactionalId,
            state: state.transactionState,
            producerId: state.producerId,
            producerEpoch: state.producerEpoch,
            timeoutMs: state.transactionTimeoutMs,
            startTimeMs: state.transactionStartTimeMs,
            partitions: state.topics
              .flatMap((topic) =>
                topic.partitions.map((partition) => ({ topic: topic.topic, partition })),
              )
              .sort(
                (left, right) =>
                  left.topic.localeCompare(right.topic) || left.partition - right.partition,
              ),
          };
        },
      ),
    ),
  );
}

/** Producers with state on each partition, asked of the partition's leader. */
export async function describeProducers(
  cluster: Cluster,
  partitions: readonly TopicPartition[],
): Promise<ActiveProducer[]> {
  const byLeader = new Map<number, TopicPartition[]>();
  for (const entry of partitions) {
    await cluster.topic(entry.topic, cluster.options.requestTimeoutMs);
    const leader = cluster.leaderOf(entry.topic, entry.partition);
    if (leader === undefined) {
      throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${entry.topic}-${entry.partition}`);
    }
    const list = byLeader.get(leader) ?? [];
    list.push(entry);
    byLeader.set(leader, list);
  }
  const producers: ActiveProducer[] = [];
  for (const [leader, entries] of byLeader) {
    const connection = await cluster.connectionToNode(leader);
    const response = await connection.request<DescribeProducersResponse>(describeProducersApi, {
      topics: [...groupByTopic(entries)].map(([name, list]) => ({
        name,
        partitionIndexes: list.map((entry) => entry.partition),
      })),
    });
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        if (partition.errorCode !== ErrorCode.NONE) {
          throw new KafkaError(
            partition.errorCode,
            `DescribeProducers ${topic.name}-${partition.partitionIndex}`,
          );
        }
        for (const producer of partition.activeProducers) {
          producers.push({
            topic: topic.name,
            partition: partition.partitionIndex,
            producerId: producer.producerId,
            producerEpoch: producer.producerEpoch,
            lastSequence: producer.lastSequence,
            lastTimestampMs: producer.lastTimestamp,
            currentTransactionStartOffset: producer.currentTxnStartOffset,
          });
        }
      }
    }
  }
  return producers.sort(
    (left, right) =>
      left.topic.localeCompare(right.topic) ||
      left.partition - right.partition ||
      (left.producerId < right.producerId ? -1 : left.producerId > right.producerId ? 1 : 0),
  );
}
