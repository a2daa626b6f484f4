/**
 * Cluster mode's marker writer (Kafka's TransactionMarkerChannelManager): each partition of a
 * transaction gets its commit/abort marker from its current leader. Partitions led here take the
 * local path (`writePartitionMarker`); the others are grouped by leader and sent as one
 * WriteTxnMarkers v1 request per broker, stamped with the coordinator epoch (the partition leader
 * refuses an older one with TRANSACTION_COORDINATOR_FENCED). Retriable answers (no leader, a moved
 * leader, too few replicas, a timeout, a broken connection) are retried against the leader the
 * metadata image names then, until every partition has its marker or the coordinator no longer
 * owns the transaction at that epoch. A fenced answer (INVALID_PRODUCER_EPOCH,
 * TRANSACTION_COORDINATOR_FENCED) stops the sending: a newer coordinator owns the transaction.
 */
import {
  ErrorCode,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from '@gregor/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { type OffsetsTransactionCompletion, writePartitionMarker } from './marker-writer.js';
import type { MarkerWriter } from './transaction-coordinator.js';

const retryBackoffMs = 100;
const requestTimeoutMs = 30_000;

export interface ClusterMarkerWriterOptions {
  nodeId: number;
  replicas: ReplicaManager;
  clock: Clock;
  logger: Logger;
  completeOffsets: () => OffsetsTransactionCompletion | undefined;
  /** The partition's leader in the current image: -1 none, null when the partition does not exist. */
  leaderOf: (topic: string, partition: number) => number | null;
  /** WriteTxnMarkers v1 to another broker; rejects when it cannot be reached. */
  send: (
    brokerId: number,
    request: WriteTxnMarkersRequest,
    timeoutMs: number,
  ) => Promise<WriteTxnMarkersResponse>;
}

/** Errors after which the marker is tried again (at the leader of that moment). */
const retriable = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.NETWORK_EXCEPTION,
]);

/** Thrown when a partition leader refused the marker as coming from a stale coordinator. */
export class MarkerFencedError extends Error {}

interface PendingPartition {
  topic: string;
  partition: number;
}

export function createClusterMarkerWriter(options: ClusterMarkerWriterOptions): MarkerWriter {
  return async (transaction) => {
    let pending: PendingPartition[] = [...transaction.partitions];
    for (let attempt = 1; ; attempt++) {
      if (!transaction.isCurrent()) {
        throw new Error('the transaction coordinator moved; markers left to the new one');
      }
      const byLeader = new Map<number, PendingPartition[]>();
      const failed: { entry: PendingPartition; errorCode: number }[] = [];
      for (const entry of pending) {
        const leader = options.leaderOf(entry.topic, entry.partition);
        if (leader === null) continue; // deleted: nothing to mark (Kafka skips it as well)
        if (leader < 0) {
          failed.push({ entry, errorCode: ErrorCode.LEADER_NOT_AVAILABLE });
          continue;
        }
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), entry]);
      }
      const answers = await Promise.all(
        [...byLeader].map(([leader, entries]) =>
          leader === options.nodeId
            ? writeLocally(options, transaction, entries)
            : writeRemotely(options, transaction, leader, entries),
        ),
      );
      for (const answer of answers) failed.push(...answer);
      const fenced = failed.find(
        ({ errorCode }) =>
          errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ||
          errorCode === ErrorCode.TRANSACTION_COORDINATOR_FENCED ||
          errorCode === ErrorCode.PRODUCER_FENCED,
      );
      if (fenced !== undefined) {
        throw new MarkerFencedError(
          `${fenced.entry.topic}-${fenced.entry.partition} refused the marker (error ${fenced.errorCode})`,
        );
      }
      pending = [];
      for (const { entry, errorCode } of failed) {
        if (!retriable.has(errorCode)) {
          // Nothing more to do there (as the single node's writer, which logs and moves on).
          options.logger.warn('transaction marker refused', {
            topic: entry.topic,
            partition: entry.partition,
            producerId: String(transaction.producerId),
            errorCode,
          });
          continue;
        }
        pending.push(entry);
      }
      if (pending.length === 0) return;
      if (attempt % 50 === 0) {
        options.logger.warn('transaction markers still not written', {
          producerId: String(transaction.producerId),
          partitions: pending.map((entry) => `${entry.topic}-${entry.partition}`),
          attempts: attempt,
        });
      }
      await new Promise<void>((resolve) => options.clock.schedule(retryBackoffMs, resolve));
    }
  };
}

type Transaction = Parameters<MarkerWriter>[0];

async function writeLocally(
  options: ClusterMarkerWriterOptions,
  transaction: Transaction,
  entries: PendingPartition[],
): Promise<{ entry: PendingPartition; errorCode: number }[]> {
  const target = { replicas: options.replicas, completeOffsets: options.completeOffsets() };
  const results = await Promise.all(
    entries.map(async (entry) => {
      const local = options.replicas.get(entry.topic, entry.partition);
      // The image says this broker leads, but the partition has not taken the role yet.
      if (local === undefined) return { entry, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
      const errorCode = await writePartitionMarker(target, {
        topic: entry.topic,
        partition: entry.partition,
        producerId: transaction.producerId,
        producerEpoch: transaction.producerEpoch,
        coordinatorEpoch: transaction.coordinatorEpoch,
        commit: transaction.commit,
      }).catch(() => ErrorCode.KAFKA_STORAGE_ERROR);
      return { entry, errorCode };
    }),
  );
  return results.filter(({ errorCode }) => errorCode !== ErrorCode.NONE);
}

async function writeRemotely(
  options: ClusterMarkerWriterOptions,
  transaction: Transaction,
  leader: number,
  entries: PendingPartition[],
): Promise<{ entry: PendingPartition; errorCode: number }[]> {
  const byTopic = new Map<string, number[]>();
  for (const entry of entries) {
    byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), entry.partition]);
  }
  let response: WriteTxnMarkersResponse;
  try {
    response = await options.send(
      leader,
      {
        markers: [
          {
            producerId: transaction.producerId,
            producerEpoch: transaction.producerEpoch,
            transactionResult: transaction.commit,
            coordinatorEpoch: transaction.coordinatorEpoch,
            topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          },
        ],
      },
      requestTimeoutMs,
    );
  } catch (error) {
    options.logger.debug('WriteTxnMarkers not answered', { leader, error: String(error) });
    return entries.map((entry) => ({ entry, errorCode: ErrorCode.NETWORK_EXCEPTION }));
  }
  const answered = new Map<string, number>();
  for (const topic of response.markers[0]?.topics ?? []) {
    for (const partition of topic.partitions) {
      answered.set(`${topic.name}/${partition.partitionIndex}`, partition.errorCode);
    }
  }
  const results = entries.map((entry) => ({
    entry,
    errorCode: answered.get(`${entry.topic}/${entry.partition}`) ?? ErrorCode.NETWORK_EXCEPTION,
  }));
  return results.filter(({ errorCode }) => errorCode !== ErrorCode.NONE);
}
