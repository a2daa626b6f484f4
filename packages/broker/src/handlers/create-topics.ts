/**
 * CreateTopics (key 19), v0-7. Single node: the replication factor must be 1 (or -1, meaning
 * default.replication.factor, which must then be 1); manual assignments may only name this
 * broker, once per partition. -1 partitions means num.partitions. KIP-464 made v4 the version
 * that announces client support for -1, but Kafka's broker resolves -1 at every version (only the
 * Java client refuses to send it below v4) and kafkajs 2.2.4 sends it with v3, so we do the same.
 * Configs are checked against the topic catalog before anything is created; validateOnly checks
 * everything and creates nothing. v5+ answers with the partition count, replication factor and the topic's
 * resulting configuration; v7+ with the topic id.
 */
import {
  ApiKey,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { viaController, waitForTopicsShown } from '../cluster/controller-requests.js';
import {
  canonicalTopicConfigText,
  checkTopicConfigOverrides,
  describeConfigProblem,
  describeTopicConfigs,
  resolveTopicConfig,
} from '../config/index.js';
import type { BrokerServices } from '../services.js';
import { zeroTopicId } from '../topics/topic-id.js';
import { topicNameProblem } from '../topics/topic-names.js';
import { TopicError } from '../topics/types.js';
import { answerEachOnce } from './each-once.js';
import type { ApiHandler } from './types.js';

type CreatableTopic = CreateTopicsRequest['topics'][number];
type CreatableTopicResult = CreateTopicsResponse['topics'][number];

/** Live brokers a replica may be placed on: this one. */
const brokerCount = 1;
/** "Use the broker default" for partitions and replication factor (any version, as in Kafka). */
const useDefault = -1;

export const createTopicsHandler: ApiHandler<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, context) {
    const { services } = context;
    const cluster = services.cluster;
    if (cluster !== undefined) {
      const response = await viaController(
        cluster,
        createTopicsHandler,
        request,
        context,
        (controller) => controller.createTopics(request),
      );
      await waitForTopicsShown(
        cluster,
        request.validateOnly === true
          ? []
          : response.topics
              .filter((topic) => topic.errorCode === ErrorCode.NONE)
              .map((topic) => topic.name),
        true,
      );
      return response;
    }
    const validateOnly = request.validateOnly === true;
    const topics = await answerEachOnce(request.topics, {
      keyOf: (topic) => topic.name,
      answer: (topic) => createTopic(services, topic, { validateOnly }),
      repeated: (topic) =>
        failure(
          topic.name,
          ErrorCode.INVALID_REQUEST,
          'the topic appears more than once in the request',
        ),
    });
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => failure(topic.name, errorCode, null)),
    };
  },
};

function failure(
  name: string,
  errorCode: number,
  errorMessage: string | null,
): CreatableTopicResult {
  return {
    name,
    topicId: zeroTopicId,
    errorCode,
    errorMessage,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

interface Layout {
  partitionCount: number;
  replicationFactor: number;
}

async function createTopic(
  services: BrokerServices,
  request: CreatableTopic,
  options: { validateOnly: boolean },
): Promise<CreatableTopicResult> {
  const { name } = request;
  const nameProblem = topicNameProblem(name);
  if (nameProblem !== undefined)
    return failure(name, ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  if (services.topics.get(name) !== undefined) {
    return failure(name, ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
  }
  const layout = planLayout(services, request);
  if ('errorCode' in layout) return failure(name, layout.errorCode, layout.message);
  const overrides = new Map<string, string | null>();
  for (const config of request.configs) {
    if (overrides.has(config.name)) {
      return failure(
        name,
        ErrorCode.INVALID_REQUEST,
        `configuration "${config.name}" appears more than once`,
      );
    }
    overrides.set(config.name, config.value);
  }
  const problems = checkTopicConfigOverrides(overrides);
  if (problems.length > 0) {
    return failure(name, ErrorCode.INVALID_CONFIG, problems.map(describeConfigProblem).join('; '));
  }
  const configs: Record<string, string> = {};
  for (const [key, text] of overrides) configs[key] = canonicalTopicConfigText(key, text ?? '');
  let topicId: string;
  try {
    const created = await services.topics.create({
      name,
      partitionCount: layout.partitionCount,
      configs,
      validateOnly: options.validateOnly,
    });
    topicId = options.validateOnly ? zeroTopicId : created.topicId;
  } catch (error) {
    if (error instanceof TopicError) return failure(name, error.errorCode, error.message);
    throw error;
  }
  return {
    name,
    topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    numPartitions: layout.partitionCount,
    replicationFactor: layout.replicationFactor,
    configs: describeTopicConfigs(resolveTopicConfig(services.config, configs)).map((entry) => ({
      name: entry.name,
      value: entry.value,
      readOnly: entry.readOnly,
      configSource: entry.source,
      isSensitive: entry.sensitive,
    })),
  };
}

/** Partition count and replication factor, from explicit values, defaults or an assignment. */
function planLayout(
  services: BrokerServices,
  request: CreatableTopic,
): Layout | { errorCode: number; message: string } {
  const { numPartitions, replicationFactor, assignments } = request;
  if (assignments.length > 0) {
    if (numPartitions !== useDefault || replicationFactor !== useDefault) {
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        message:
          'give either a replica assignment or numPartitions/replicationFactor (set to -1), not both',
      };
    }
    return checkAssignments(services.nodeId, assignments);
  }
  const partitionCount =
    numPartitions === useDefault ? services.config.get('num.partitions') : numPartitions;
  if (partitionCount <= 0) {
    return {
      errorCode: ErrorCode.INVALID_PARTITIONS,
      message: `number of partitions must be larger than 0 (or -1 for the default), got ${numPartitions}`,
    };
  }
  const factor =
    replicationFactor === useDefault
      ? services.config.get('default.replication.factor')
      : replicationFactor;
  if (factor <= 0) {
    return {
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: `replication factor must be larger than 0 (or -1 for the default), got ${replicationFactor}`,
    };
  }
  if (factor > brokerCount) {
    return {
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      message: `replication factor ${factor} cannot be reached: only ${brokerCount} broker is registered`,
    };
  }
  return { partitionCount, replicationFactor: factor };
}

function checkAssignments(
  nodeId: number,
  assignments: CreatableTopic['assignments'],
): Layout | { errorCode: number; message: string } {
  const indexes = new Set(assignments.map((assignment) => assignment.partitionIndex));
  for (let partition = 0; partition < assignments.length; partition++) {
    if (!indexes.has(partition)) {
      return {
        errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message: `partitions must be numbered 0 to ${assignments.length - 1} without gaps or repeats`,
      };
    }
  }
  for (const assignment of assignments) {
    const ids = assignment.brokerIds;
    if (ids.length !== 1 || ids[0] !== nodeId) {
      return {
        errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        message: `partition ${assignment.partitionIndex} is assigned to [${ids.join(', ')}]; this single-node cluster has only broker ${nodeId}`,
      };
    }
  }
  return { partitionCount: assignments.length, replicationFactor: 1 };
}
