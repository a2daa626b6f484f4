/**
 * WriteTxnMarkers (key 27), v1: writes commit/abort markers to partitions this broker leads
 * (NOT_LEADER_OR_FOLLOWER for the others). In cluster mode the transaction coordinator sends it to
 * the leaders of partitions on other brokers (txn/cluster-marker-writer.ts); on one node the
 * coordinator writes its markers in process. It also serves the Admin client's abortTransaction
 * (`kafka-transactions.sh abort`): an abort marker for a hanging transaction found through
 * DescribeProducers, sent with the producer's epoch and coordinator epoch. The marker takes the
 * coordinator's own path (txn/marker-writer.ts): producer state, aborted index, LSO, group offsets.
 * As in Kafka, the transaction coordinator's state is left alone: a hanging transaction is one it
 * does not know of (or, when it does, its own later markers still end it there).
 */
import {
  ApiKey,
  ErrorCode,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from '@gregor/protocol';
import { writePartitionMarker } from '../txn/marker-writer.js';
import type { ApiHandler } from './types.js';

export const writeTxnMarkersHandler: ApiHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse> = {
  apiKey: ApiKey.WriteTxnMarkers,
  // Kafka 4.4 serves v1-2 (v0 removed by KIP-896); v2 is not in our protocol schemas yet, and the
  // Admin client's abortTransaction works at v1.
  minVersion: 1,
  maxVersion: 1,
  async handle(request, context) {
    const { services } = context;
    const { groups, replicas } = services;
    const target =
      replicas.producers === undefined
        ? undefined
        : {
            replicas,
            completeOffsets:
              groups &&
              ((marker: { producerId: bigint; partition: number; commit: boolean }) =>
                groups.completeTransactionalOffsets(marker)),
          };
    const markers: WriteTxnMarkersResponse['markers'] = [];
    // Markers one after another (one producer's markers keep their order); partitions at once.
    for (const marker of request.markers) {
      const topics = await Promise.all(
        marker.topics.map(async (topic) => ({
          name: topic.name,
          partitions: await Promise.all(
            topic.partitionIndexes.map(async (partitionIndex) => {
              const info = services.topics.get(topic.name);
              const known =
                info !== undefined && partitionIndex >= 0 && partitionIndex < info.partitionCount;
              let errorCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
              // A partition of the cluster without a replica here is led elsewhere.
              const hosted = replicas.get(topic.name, partitionIndex) !== undefined;
              if (known && (target === undefined || !hosted)) {
                errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
              } else if (known && target !== undefined) {
                errorCode = await writePartitionMarker(target, {
                  topic: topic.name,
                  partition: partitionIndex,
                  producerId: marker.producerId,
                  producerEpoch: marker.producerEpoch,
                  coordinatorEpoch: marker.coordinatorEpoch,
                  commit: marker.transactionResult,
                });
              }
              return { partitionIndex, errorCode };
            }),
          ),
        })),
      );
      markers.push({ producerId: marker.producerId, topics });
    }
    return { markers };
  },
  errorResponse(request, errorCode) {
    return {
      markers: request.markers.map((marker) => ({
        producerId: marker.producerId,
        topics: marker.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            errorCode,
          })),
        })),
      })),
    };
  },
};
