/**
 * Writes the commit/abort markers of a transaction (KIP-98 WriteTxnMarkers, in process on a single
 * node): one control batch per partition of the transaction through the producer state manager
 * (which ends the transaction there, moves the LSO and indexes aborts), then — for
 * `__consumer_offsets` partitions — tells the group coordinator to publish or drop the
 * transaction's pending offsets (KIP-447).
 */
import { ErrorCode } from '@gregor/protocol';
import type { LogManager } from '@gregor/storage';
import type { Logger } from '../logging/logger.js';
import type { ProducerStateManager } from '../producer/producer-state-manager.js';
import type { MarkerWriter } from './transaction-coordinator.js';

export const consumerOffsetsTopicName = '__consumer_offsets';

/** The group coordinator's side of a transaction end on one `__consumer_offsets` partition. */
export type OffsetsTransactionCompletion = (options: {
  producerId: bigint;
  partition: number;
  commit: boolean;
}) => void;

export function createMarkerWriter(options: {
  logs: LogManager;
  producers: ProducerStateManager;
  logger: Logger;
  coordinatorEpoch: number;
  completeOffsets: () => OffsetsTransactionCompletion | undefined;
}): MarkerWriter {
  return async ({ producerId, producerEpoch, commit, partitions }) => {
    await Promise.all(
      partitions.map(async ({ topic, partition }) => {
        const log = options.logs.getLog(topic, partition);
        // A deleted topic has nothing to mark (Kafka skips it as well).
        if (log === undefined) return;
        const errorCode = await options.producers.writeMarker(log, {
          producerId,
          producerEpoch,
          coordinatorEpoch: options.coordinatorEpoch,
          commit,
        });
        if (errorCode !== ErrorCode.NONE) {
          options.logger.warn('transaction marker refused', {
            topic,
            partition,
            producerId: String(producerId),
            producerEpoch,
            errorCode,
          });
          return;
        }
        if (topic === consumerOffsetsTopicName) {
          options.completeOffsets()?.({ producerId, partition, commit });
        }
      }),
    );
  };
}
