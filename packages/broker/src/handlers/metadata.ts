/**
 * Metadata (key 3), v0-v12. Single node: this broker is every partition's leader, only replica and
 * the controller. Topics requested by name are auto-created when the request allows it (v4+ flag;
 * always allowed before v4) and `auto.create.topics.enable` is true; a topic created here is
 * returned at once with NONE (it is usable immediately, unlike a multi-broker Kafka that answers
 * LEADER_NOT_AVAILABLE until leaders are elected). v10+ may name topics by id.
 *
 * The broker's address is the one advertised for the listener the request arrived on; on a
 * listener without one, no broker is listed and every partition is LISTENER_NOT_FOUND (v6+) or
 * LEADER_NOT_AVAILABLE (before), as Kafka does.
 */
import { ApiKey, ErrorCode, type MetadataRequest, type MetadataResponse } from '@gregor/protocol';
import { clusterBrokers, clusterTopicPartitions } from '../cluster/image-answers.js';
import type { BrokerServices } from '../services.js';
import { zeroTopicId } from '../topics/topic-id.js';
import { topicNameProblem } from '../topics/topic-names.js';
import { TopicError, type TopicInfo } from '../topics/types.js';
import { advertisedEndpoint } from './advertised-endpoint.js';
import { clusterOperationsAll } from './describe-cluster.js';
import type { ApiHandler, RequestContext } from './types.js';

type MetadataTopic = MetadataResponse['topics'][number];

/** AclOperation bits for "everything on a topic" (no authorizer): READ..ALTER, DESCRIBE, *_CONFIGS. */
export const topicOperationsAll =
  (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/** Kafka's "authorized operations not requested" marker. */
export const operationsNotRequested = -2147483648;

export const metadataHandler: ApiHandler<MetadataRequest, MetadataResponse> = {
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, context) {
    const { services, apiVersion } = context;
    const includeOperations = request.includeTopicAuthorizedOperations === true;
    const endpoint = advertisedEndpoint(context);
    const describe: TopicDescriber = (topic) =>
      describeTopic(topic, context, {
        includeOperations,
        partitionErrorCode:
          endpoint !== undefined
            ? ErrorCode.NONE
            : apiVersion >= 6
              ? ErrorCode.LISTENER_NOT_FOUND
              : ErrorCode.LEADER_NOT_AVAILABLE,
      });
    const topics: MetadataTopic[] = [];
    // v0: an empty list means every topic; v1+: null means every topic.
    const everyTopic = request.topics === null || (apiVersion === 0 && request.topics.length === 0);
    if (everyTopic) {
      for (const topic of services.topics.list()) topics.push(describe(topic));
    } else {
      const autoCreate = apiVersion < 4 || request.allowAutoTopicCreation !== false;
      for (const requested of request.topics ?? []) {
        topics.push(await resolveTopic(requested, autoCreate, services, describe));
      }
    }
    const cluster = services.cluster;
    return {
      throttleTimeMs: 0,
      brokers:
        cluster !== undefined
          ? clusterBrokers(cluster, context)
          : endpoint === undefined
            ? []
            : [{ nodeId: services.nodeId, host: endpoint.host, port: endpoint.port, rack: null }],
      clusterId: services.clusterId,
      controllerId: cluster?.advertisedControllerId ?? services.nodeId,
      topics,
      // v8-10 (KIP-430): asked for, every cluster operation is allowed (no authorizer), as in
      // Kafka; kafka-python 2.x's admin client asks and cannot decode the "not requested" value.
      clusterAuthorizedOperations:
        request.includeClusterAuthorizedOperations === true
          ? clusterOperationsAll
          : operationsNotRequested,
    } as MetadataResponse;
  },
};

type TopicDescriber = (topic: TopicInfo) => MetadataTopic;

async function resolveTopic(
  requested: { name: string | null; topicId?: string },
  autoCreate: boolean,
  services: BrokerServices,
  describe: TopicDescriber,
): Promise<MetadataTopic> {
  const topicId = requested.topicId ?? zeroTopicId;
  if (requested.name === null || requested.name === '') {
    if (topicId !== zeroTopicId) {
      const topic = services.topics.getById(topicId);
      if (topic !== undefined) return describe(topic);
      return topicError(ErrorCode.UNKNOWN_TOPIC_ID, null, topicId);
    }
    return topicError(ErrorCode.INVALID_TOPIC_EXCEPTION, requested.name, zeroTopicId);
  }
  const name = requested.name;
  if (topicNameProblem(name) !== undefined) {
    return topicError(ErrorCode.INVALID_TOPIC_EXCEPTION, name, zeroTopicId);
  }
  try {
    const topic = await services.topics.getOrCreate(name, { autoCreate });
    if (topic === undefined)
      return topicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, zeroTopicId);
    return describe(topic);
  } catch (error) {
    if (error instanceof TopicError) return topicError(error.errorCode, name, zeroTopicId);
    services.logger.error('auto-creating a topic failed', { topic: name, error });
    return topicError(ErrorCode.UNKNOWN_SERVER_ERROR, name, zeroTopicId);
  }
}

function topicError(errorCode: number, name: string | null, topicId: string): MetadataTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: operationsNotRequested,
  } as MetadataTopic;
}

function describeTopic(
  topic: TopicInfo,
  context: RequestContext,
  options: { includeOperations: boolean; partitionErrorCode: number },
): MetadataTopic {
  const { services } = context;
  const nodeId = services.nodeId;
  const errorCode = options.partitionErrorCode;
  const partitions: MetadataTopic['partitions'] = [];
  const cluster = services.cluster;
  if (cluster !== undefined) {
    // Leaders, replicas, ISR, offline replicas and leader epochs from the image.
    for (const partition of clusterTopicPartitions(cluster, topic.name, context) ?? []) {
      partitions.push(partition as MetadataTopic['partitions'][number]);
    }
  }
  for (let partition = 0; cluster === undefined && partition < topic.partitionCount; partition++) {
    partitions.push({
      errorCode,
      partitionIndex: partition,
      leaderId: errorCode === ErrorCode.NONE ? nodeId : -1,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    } as MetadataTopic['partitions'][number]);
  }
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions,
    topicAuthorizedOperations: options.includeOperations
      ? topicOperationsAll
      : operationsNotRequested,
  } as MetadataTopic;
}
