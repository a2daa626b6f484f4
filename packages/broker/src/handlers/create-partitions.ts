/**
 * CreatePartitions (key 37), v0-3: grows a topic's partition count; never shrinks it
 * (INVALID_PARTITIONS when the count is not larger). Manual assignments may only name this broker.
 * The internal topics keep their partition count: their keys are placed by hashing over it.
 */
import {
  ApiKey,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { viaController, waitForTopicsShown } from '../cluster/controller-requests.js';
import type { BrokerServices } from '../services.js';
import { partitionCountMax } from '../topics/topic-manager.js';
import { isInternalTopic } from '../topics/topic-names.js';
import { TopicError } from '../topics/types.js';
import { answerEachOnce } from './each-once.js';
import type { ApiHandler } from './types.js';

type PartitionsTopic = CreatePartitionsRequest['topics'][number];
type PartitionsTopicResult = CreatePartitionsResponse['results'][number];

export const createPartitionsHandler: ApiHandler<
  CreatePartitionsRequest,
  CreatePartitionsResponse
> = {
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const { services } = context;
    const cluster = services.cluster;
    if (cluster !== undefined) {
      const response = await viaController(
        cluster,
        createPartitionsHandler,
        request,
        context,
        (controller) => controller.createPartitions(request),
      );
      await waitForTopicsShown(cluster, [], true);
      return response;
    }
    const results = await answerEachOnce(request.topics, {
      keyOf: (topic) => topic.name,
      answer: (topic) => growTopic(services, topic, request.validateOnly),
      repeated: (topic) =>
        outcome(
          topic.name,
          ErrorCode.INVALID_REQUEST,
          'the topic appears more than once in the request',
        ),
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.topics.map((topic) => outcome(topic.name, errorCode, null)),
    };
  },
};

function outcome(
  name: string,
  errorCode: number,
  errorMessage: string | null,
): PartitionsTopicResult {
  return { name, errorCode, errorMessage };
}

async function growTopic(
  services: BrokerServices,
  request: PartitionsTopic,
  validateOnly: boolean,
): Promise<PartitionsTopicResult> {
  const { name, count, assignments } = request;
  const topic = services.topics.get(name);
  if (topic === undefined) {
    return outcome(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);
  }
  if (isInternalTopic(name)) {
    return outcome(
      name,
      ErrorCode.INVALID_REQUEST,
      `the partition count of internal topic "${name}" cannot change`,
    );
  }
  if (count === topic.partitionCount) {
    return outcome(
      name,
      ErrorCode.INVALID_PARTITIONS,
      `topic "${name}" already has ${count} partitions`,
    );
  }
  if (count < topic.partitionCount) {
    return outcome(
      name,
      ErrorCode.INVALID_PARTITIONS,
      `topic "${name}" has ${topic.partitionCount} partitions, more than the requested ${count}; partitions cannot be removed`,
    );
  }
  if (count > partitionCountMax) {
    return outcome(
      name,
      ErrorCode.INVALID_PARTITIONS,
      `at most ${partitionCountMax} partitions per topic`,
    );
  }
  if (assignments !== null) {
    const added = count - topic.partitionCount;
    if (assignments.length !== added) {
      return outcome(
        name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `${assignments.length} assignments given for ${added} new partitions`,
      );
    }
    const foreign = assignments.find(
      (assignment) =>
        assignment.brokerIds.length !== 1 || assignment.brokerIds[0] !== services.nodeId,
    );
    if (foreign !== undefined) {
      return outcome(
        name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `assignment [${foreign.brokerIds.join(', ')}] names brokers other than this single node (${services.nodeId})`,
      );
    }
  }
  if (validateOnly) return outcome(name, ErrorCode.NONE, null);
  try {
    await services.topics.createPartitions(name, count);
  } catch (error) {
    if (error instanceof TopicError) return outcome(name, error.errorCode, error.message);
    throw error;
  }
  return outcome(name, ErrorCode.NONE, null);
}
