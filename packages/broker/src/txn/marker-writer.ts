/**
 * Writes the commit/abort markers of a transaction (KIP-98 WriteTxnMarkers): one control batch per
 * partition through its Partition (the producer state ends the transaction there, moves the LSO and
 * indexes aborts; the partition moves the high watermark), then — for `__consumer_offsets` partitions — tells the group coordinator to
 * publish or drop the transaction's pending offsets (KIP-447). The transaction coordinator writes
 * its markers in process through `createMarkerWriter`; the WriteTxnMarkers handler (an admin's
 * abort of a hanging transaction) writes through `writePartitionMarker`, the same path. In cluster
 * mode the coordinator uses `cluster-marker-writer.ts`, which sends WriteTxnMarkers to the leaders
 * of partitions led by other brokers.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Logger } from '../logging/logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { MarkerWriter } from './transaction-coordinator.js';

export const consumerOffsetsTopicName = '__consumer_offsets';

/** The group coordinator's side of a transaction end on one `__consumer_offsets` partition. */
export type OffsetsTransactionCompletion = (options: {
  producerId: bigint;
  partition: number;
  commit: boolean;
}) => void;

export interface PartitionMarkerTarget {
  replicas: ReplicaManager;
  completeOffsets: OffsetsTransactionCompletion | undefined;
}

/**
 * Writes one marker to one partition; returns its error code: UNKNOWN_TOPIC_OR_PARTITION without
 * a log, else what `Partition.writeMarker` answers (epoch checks).
 */
export async function writePartitionMarker(
  target: PartitionMarkerTarget,
  marker: {
    topic: string;
    partition: number;
    producerId: bigint;
    producerEpoch: number;
    coordinatorEpoch: number;
    commit: boolean;
  },
): Promise<number> {
  const { topic, partition, producerId, commit } = marker;
  const found = target.replicas.get(topic, partition);
  if (found === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const errorCode = await found.writeMarker({
    producerId,
    producerEpoch: marker.producerEpoch,
    coordinatorEpoch: marker.coordinatorEpoch,
    commit,
  });
  if (errorCode === ErrorCode.NONE && topic === consumerOffsetsTopicName) {
    target.completeOffsets?.({ producerId, partition, commit });
  }
  return errorCode;
}

/** Single node: every partition of a transaction is a local one. */
export function createMarkerWriter(options: {
  replicas: ReplicaManager;
  logger: Logger;
  completeOffsets: () => OffsetsTransactionCompletion | undefined;
}): MarkerWriter {
  return async ({ producerId, producerEpoch, commit, partitions, coordinatorEpoch }) => {
    const target = {
      replicas: options.replicas,
      completeOffsets: options.completeOffsets(),
    };
    await Promise.all(
      partitions.map(async ({ topic, partition }) => {
        const errorCode = await writePartitionMarker(target, {
          topic,
          partition,
          producerId,
          producerEpoch,
          coordinatorEpoch,
          commit,
        });
        // A deleted topic has nothing to mark (Kafka skips it as well).
        if (errorCode === ErrorCode.NONE || errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          return;
        }
        options.logger.warn('transaction marker refused', {
          topic,
          partition,
          producerId: String(producerId),
          producerEpoch,
          errorCode,
        });
      }),
    );
  };
}
