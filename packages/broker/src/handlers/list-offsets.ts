/**
 * ListOffsets (key 2), v1-v9. Special timestamps: -1 latest (the high watermark, or the last
 * stable offset for read_committed: what a consumer can fetch), -2 earliest (log start offset),
 * -3 max timestamp (KIP-734), -4 earliest local (= earliest; no tiered storage), -5 latest tiered
 * (KIP-1005; nothing is tiered, so "none": offset -1). A timestamp >= 0 finds the first offset
 * whose timestamp is >= it, among the offsets a consumer may fetch.
 */
import {
  ApiKey,
  ErrorCode,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from '@gregor/protocol';
import type { BrokerServices } from '../services.js';
import { absentPartitionError, classifyPartitionError } from './partition-errors.js';
import type { ApiHandler } from './types.js';

type TopicResponse = ListOffsetsResponse['topics'][number];
type PartitionResponse = TopicResponse['partitions'][number];
type PartitionRequest = ListOffsetsRequest['topics'][number]['partitions'][number];

const specialTimestamp = {
  latest: -1n,
  earliest: -2n,
  maxTimestamp: -3n,
  earliestLocal: -4n,
  latestTiered: -5n,
} as const;
const readCommitted = 1;

export const listOffsetsHandler: ApiHandler<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: ApiKey.ListOffsets,
  minVersion: 1,
  maxVersion: 9,
  async handle(request, context) {
    const { services } = context;
    const committed = request.isolationLevel === readCommitted;
    const topics: TopicResponse[] = [];
    for (const topicRequest of request.topics) {
      const partitions: PartitionResponse[] = [];
      for (const partitionRequest of topicRequest.partitions) {
        const response = await listOffset(topicRequest.name, partitionRequest, committed, services);
        partitions.push(withEpochIfSupported(response, context.apiVersion));
      }
      topics.push({ name: topicRequest.name, partitions } as TopicResponse);
    }
    return { throttleTimeMs: 0, topics } as ListOffsetsResponse;
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) =>
          partitionResponse(partition.partitionIndex, errorCode, -1n, -1n),
        ),
      })),
    } as ListOffsetsResponse;
  },
};

/** LeaderEpoch exists from v4 and is not ignorable: older versions must carry the default. */
function withEpochIfSupported(response: PartitionResponse, apiVersion: number): PartitionResponse {
  if (apiVersion < 4) response.leaderEpoch = -1;
  return response;
}

function partitionResponse(
  partitionIndex: number,
  errorCode: number,
  offset: bigint,
  timestamp: bigint,
  leaderEpoch = -1,
): PartitionResponse {
  return {
    partitionIndex,
    errorCode,
    oldStyleOffsets: [],
    timestamp,
    offset,
    leaderEpoch,
  } as PartitionResponse;
}

async function listOffset(
  topicName: string,
  request: PartitionRequest,
  committed: boolean,
  services: BrokerServices,
): Promise<PartitionResponse> {
  const index = request.partitionIndex;
  const topic = services.topics.get(topicName);
  const partition =
    topic !== undefined && index >= 0 && index < topic.partitionCount
      ? services.replicas.get(topic.name, index)
      : undefined;
  if (partition === undefined) {
    return partitionResponse(index, absentPartitionError(services, topic, index), -1n, -1n);
  }
  const epochError = partition.leaderEpochError(request.currentLeaderEpoch ?? -1);
  if (epochError !== ErrorCode.NONE) return partitionResponse(index, epochError, -1n, -1n);
  const timestamp = request.timestamp;
  const epoch = partition.leaderEpoch;
  try {
    const fetchableEnd = partition.listOffsetsBound(committed ? 'committed' : 'uncommitted');
    switch (timestamp) {
      case specialTimestamp.latest:
        return partitionResponse(index, ErrorCode.NONE, fetchableEnd, -1n, epoch);
      case specialTimestamp.earliest:
      case specialTimestamp.earliestLocal:
        return partitionResponse(index, ErrorCode.NONE, partition.logStartOffset, -1n, epoch);
      case specialTimestamp.latestTiered:
        return partitionResponse(index, ErrorCode.NONE, -1n, -1n);
      default: {
        if (timestamp < 0n && timestamp !== specialTimestamp.maxTimestamp) {
          return partitionResponse(index, ErrorCode.NONE, -1n, -1n);
        }
        const found = await partition.offsetForTimestamp(timestamp);
        if (found === null || found.offset >= fetchableEnd) {
          return partitionResponse(index, ErrorCode.NONE, -1n, -1n);
        }
        return partitionResponse(
          index,
          ErrorCode.NONE,
          found.offset,
          found.timestamp,
          found.leaderEpoch,
        );
      }
    }
  } catch (error) {
    const classified = classifyPartitionError(error);
    if (classified.unexpected) {
      services.logger.error('list offsets failed', { topic: topicName, partition: index, error });
    }
    return partitionResponse(index, classified.errorCode, -1n, -1n);
  }
}
