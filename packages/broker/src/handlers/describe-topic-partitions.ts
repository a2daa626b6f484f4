/**
 * DescribeTopicPartitions (key 75), v0 (KIP-966): Metadata's partition view with the ELR fields,
 * paged by a cursor, never creating topics. The Java Admin's describeTopics uses it when the
 * broker advertises it. Cluster mode answers from the metadata image (leader, epoch, replicas,
 * ISR, ELR, last known ELR, offline replicas); a single node is every partition's leader and only
 * replica, as its Metadata says. The page size is the request's ResponsePartitionLimit capped by
 * `max.request.partition.size.limit` (at least 1); a cursor Kafka would refuse makes the whole
 * request INVALID_REQUEST. Topic authorized operations are always set (no authorizer: all).
 */
import {
  imageTopicPartitions,
  internalTopicNames,
  type PagedTopic,
  type PartitionDescription,
  type TopicPartitionsSource,
  topicPartitionsCursorProblem,
  topicPartitionsPage,
} from '@gregor/cluster';
import {
  ApiKey,
  type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { requestListenerName } from '../cluster/image-answers.js';
import { zeroTopicId } from '../topics/topic-id.js';
import { topicNameProblem } from '../topics/topic-names.js';
import { advertisedEndpoint } from './advertised-endpoint.js';
import { operationsNotRequested, topicOperationsAll } from './metadata.js';
import type { ApiHandler, RequestContext } from './types.js';

/** Kafka's `max.request.partition.size.limit` default. */
export const responsePartitionsMax = 2000;

function singleNodeTopics(context: RequestContext): TopicPartitionsSource {
  const { services } = context;
  const reachable = advertisedEndpoint(context) !== undefined;
  const describe = (partitionIndex: number): PartitionDescription => ({
    errorCode: reachable ? ErrorCode.NONE : ErrorCode.LISTENER_NOT_FOUND,
    partitionIndex,
    leaderId: reachable ? services.nodeId : -1,
    leaderEpoch: 0,
    replicaNodes: [services.nodeId],
    isrNodes: [services.nodeId],
    offlineReplicas: [],
    eligibleLeaderReplicas: [],
    lastKnownElr: [],
  });
  return {
    topicNames: () => services.topics.list().map((topic) => topic.name),
    isInternalName: (name) => internalTopicNames.has(name),
    topicNameProblem,
    topic(name): PagedTopic | undefined {
      const topic = services.topics.get(name);
      if (topic === undefined) return undefined;
      return {
        topicId: topic.topicId,
        isInternal: topic.internal,
        partitionIndexes: Array.from({ length: topic.partitionCount }, (_, index) => index),
        describe,
      };
    },
  };
}

export const describeTopicPartitionsHandler: ApiHandler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse
> = {
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, context) {
    const cluster = context.services.cluster;
    const source =
      cluster === undefined
        ? singleNodeTopics(context)
        : imageTopicPartitions(cluster.image, {
            listenerName: requestListenerName(context),
            topicNameProblem,
          });
    const pageRequest = {
      topicNames: request.topics.map((topic) => topic.name),
      cursor: request.cursor,
      partitionLimit: Math.max(Math.min(responsePartitionsMax, request.responsePartitionLimit), 1),
    };
    if (topicPartitionsCursorProblem(source, pageRequest) !== undefined) {
      return describeTopicPartitionsHandler.errorResponse!(request, ErrorCode.INVALID_REQUEST, 0);
    }
    const page = topicPartitionsPage(source, pageRequest);
    return {
      throttleTimeMs: 0,
      topics: page.topics.map((topic) => ({
        ...topic,
        topicAuthorizedOperations: topicOperationsAll,
      })),
      nextCursor: page.nextCursor,
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        errorCode,
        name: topic.name,
        topicId: zeroTopicId,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: operationsNotRequested,
      })),
      nextCursor: null,
    };
  },
};
