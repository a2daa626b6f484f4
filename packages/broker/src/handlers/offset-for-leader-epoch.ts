/**
 * OffsetForLeaderEpoch (key 23), v0-4 (KIP-101, KIP-279, KIP-320): the end offset of a leader
 * epoch, from the partition's leader epoch cache, i.e. the start offset of the next higher epoch,
 * or the log end offset for the latest epoch. Consumers (librdkafka, the Java client) use it after
 * a leader change to detect log truncation. currentLeaderEpoch (v2+) is checked as for Fetch:
 * older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.
 */
import {
  ApiKey,
  ErrorCode,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from '@gregor/protocol';
import type { BrokerServices } from '../services.js';
import { classifyPartitionError } from './partition-errors.js';
import type { ApiHandler } from './types.js';

type EpochRequest = OffsetForLeaderEpochRequest['topics'][number]['partitions'][number];
type EpochEndOffset = OffsetForLeaderEpochResponse['topics'][number]['partitions'][number];

const undefinedEpoch = -1;
const undefinedEpochOffset = -1n;

export const offsetForLeaderEpochHandler: ApiHandler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse
> = {
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    const { services } = context;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((partition) =>
          endOffsetFor(services, topic.topic, partition, (request.replicaId ?? -1) >= 0),
        ),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((partition) => failed(partition.partition, errorCode)),
      })),
    };
  },
};

function failed(partition: number, errorCode: number): EpochEndOffset {
  return { errorCode, partition, leaderEpoch: undefinedEpoch, endOffset: undefinedEpochOffset };
}

function endOffsetFor(
  services: BrokerServices,
  topic: string,
  request: EpochRequest,
  fromReplica: boolean,
): EpochEndOffset {
  const partition = services.replicas.get(topic, request.partition);
  if (partition === undefined) {
    return failed(request.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  try {
    const end = partition.endOffsetForEpoch(
      request.leaderEpoch,
      request.currentLeaderEpoch ?? undefinedEpoch,
      { fromReplica },
    );
    return {
      errorCode: ErrorCode.NONE,
      partition: request.partition,
      leaderEpoch: end.leaderEpoch,
      endOffset: end.endOffset,
    };
  } catch (error) {
    return failed(request.partition, classifyPartitionError(error).errorCode);
  }
}
