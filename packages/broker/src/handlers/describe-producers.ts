/**
 * DescribeProducers (key 61), v0 (KIP-664): the active producers of each partition — id, epoch,
 * last sequence, last write time, coordinator epoch and the start of an ongoing transaction.
 */
import {
  ApiKey,
  type DescribeProducersRequest,
  type DescribeProducersResponse,
  ErrorCode,
} from '@gregor/protocol';
import type { ApiHandler } from './types.js';

export const describeProducersHandler: ApiHandler<
  DescribeProducersRequest,
  DescribeProducersResponse
> = {
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(request, context) {
    const { services } = context;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partitionIndex) => {
          const info = services.topics.get(topic.name);
          const partition =
            info !== undefined && partitionIndex >= 0 && partitionIndex < info.partitionCount
              ? services.replicas.get(topic.name, partitionIndex)
              : undefined;
          if (partition === undefined) {
            return {
              partitionIndex,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: null,
              activeProducers: [],
            };
          }
          if (!partition.isLeader) {
            // As Kafka: producer state is described by the leader.
            return {
              partitionIndex,
              errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
              errorMessage: null,
              activeProducers: [],
            };
          }
          return {
            partitionIndex,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: partition.describeProducers(),
          };
        }),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          errorCode,
          errorMessage: null,
          activeProducers: [],
        })),
      })),
    };
  },
};
