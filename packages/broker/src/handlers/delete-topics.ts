/**
 * DeleteTopics (key 20), v0-6: by name (v0-5 `topicNames`, v6 `topics[].name`) or by topic id
 * (v6). Refused for every topic with TOPIC_DELETION_DISABLED when delete.topic.enable is false.
 * The internal topics (__consumer_offsets, __transaction_state) hold the broker's own state and
 * cannot be deleted (INVALID_REQUEST), unlike Kafka, where deleting them breaks the cluster.
 */
import {
  ApiKey,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { viaController, waitForTopicsShown } from '../cluster/controller-requests.js';
import type { BrokerServices } from '../services.js';
import { zeroTopicId } from '../topics/topic-id.js';
import { isInternalTopic } from '../topics/topic-names.js';
import { TopicError, type TopicInfo } from '../topics/types.js';
import { answerEachOnce } from './each-once.js';
import type { ApiHandler } from './types.js';

type DeletableTopicResult = DeleteTopicsResponse['responses'][number];

/** One requested deletion, normalised across versions. */
interface DeletionTarget {
  name: string | null;
  topicId: string;
}

export const deleteTopicsHandler: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, context) {
    const { services } = context;
    const cluster = services.cluster;
    if (cluster !== undefined) {
      const response = await viaController(
        cluster,
        deleteTopicsHandler,
        request,
        context,
        (controller) => controller.deleteTopics(request),
      );
      await waitForTopicsShown(
        cluster,
        response.responses.flatMap((topic) =>
          topic.errorCode === ErrorCode.NONE && topic.name !== null && topic.name !== undefined
            ? [topic.name]
            : [],
        ),
        false,
      );
      return response;
    }
    const responses = await answerEachOnce(requestedTargets(request), {
      keyOf: targetKey,
      answer: (target) => deleteTopic(services, target),
      repeated: (target) =>
        result(
          target,
          ErrorCode.INVALID_REQUEST,
          'the topic appears more than once in the request',
        ),
    });
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: requestedTargets(request).map((target) => result(target, errorCode, null)),
    };
  },
};

function requestedTargets(request: DeleteTopicsRequest): DeletionTarget[] {
  if (request.topics !== undefined && request.topics.length > 0) {
    return request.topics.map((topic) => ({ name: topic.name, topicId: topic.topicId }));
  }
  return (request.topicNames ?? []).map((name) => ({ name, topicId: zeroTopicId }));
}

function targetKey(target: DeletionTarget): string {
  return target.topicId !== zeroTopicId ? `id:${target.topicId}` : `name:${target.name}`;
}

function result(
  target: DeletionTarget,
  errorCode: number,
  errorMessage: string | null,
  topic?: TopicInfo,
): DeletableTopicResult {
  return {
    name: topic?.name ?? target.name,
    topicId: topic?.topicId ?? target.topicId,
    errorCode,
    errorMessage,
  };
}

async function deleteTopic(
  services: BrokerServices,
  target: DeletionTarget,
): Promise<DeletableTopicResult> {
  const byId = target.topicId !== zeroTopicId;
  if (!byId && (target.name === null || target.name === '')) {
    return result(
      target,
      ErrorCode.INVALID_REQUEST,
      'neither a topic name nor a topic id was given',
    );
  }
  const topic = byId ? services.topics.getById(target.topicId) : services.topics.get(target.name!);
  if (topic === undefined) {
    return byId
      ? result(target, ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${target.topicId}`)
      : result(
          target,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${target.name}" does not exist`,
        );
  }
  if (byId && target.name !== null && target.name !== '' && target.name !== topic.name) {
    return result(
      target,
      ErrorCode.INVALID_REQUEST,
      `topic id ${target.topicId} belongs to "${topic.name}", not "${target.name}"`,
    );
  }
  if (!services.config.get('delete.topic.enable')) {
    return result(
      target,
      ErrorCode.TOPIC_DELETION_DISABLED,
      'topic deletion is disabled (delete.topic.enable=false)',
      topic,
    );
  }
  if (isInternalTopic(topic.name)) {
    return result(
      target,
      ErrorCode.INVALID_REQUEST,
      `internal topic "${topic.name}" cannot be deleted`,
      topic,
    );
  }
  try {
    await services.topics.delete(topic.name);
  } catch (error) {
    if (error instanceof TopicError) return result(target, error.errorCode, error.message, topic);
    throw error;
  }
  // Like Kafka's coordinator: committed offsets of a deleted topic go too, so a topic re-created
  // under the same name does not resume from stale positions.
  await services.groups?.onTopicsDeleted([topic.name]);
  return result(target, ErrorCode.NONE, null, topic);
}
