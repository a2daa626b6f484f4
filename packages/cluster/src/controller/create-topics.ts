/**
 * CreateTopics at the controller (KRaft's ReplicationControlManager.createTopics): each topic is
 * checked on its own; valid ones are placed on the active brokers (registered, not shutting down)
 * and written partitions first, topic key last, so a creation split over several transactions is
 * invisible until its last one commits. -1 partitions or replication factor means the default;
 * a replication factor above the active brokers is INVALID_REPLICATION_FACTOR.
 */
import { type CreateTopicsRequest, type CreateTopicsResponse, ErrorCode } from '@gregor/protocol';
import { newPartitionRegistration } from '../partition-registration.js';
import { PlacementError, placeReplicas } from '../placement.js';
import { encodePartitionRecord, encodeTopicRecord, partitionKey, topicKey } from '../records.js';
import { type ControllerContext, zeroTopicId } from './context.js';
import type { Plan, Unit } from './plan.js';
import {
  ControllerRequestError,
  checkTopicConfigs,
  validateManualAssignment,
} from './validation.js';

type CreatableTopic = CreateTopicsRequest['topics'][number];
type CreatableTopicResult = CreateTopicsResponse['topics'][number];

/** Kafka's MAX_PARTITIONS_PER_BATCH: bigger requests are refused before anything is allocated. */
export const createTopicsPartitionsMax = 10_000;

/** "Use the default" for partitions and replication factor. */
const useDefault = -1;

interface Layout {
  replicas: number[][];
  isrs: number[][];
}

export function planCreateTopics(
  context: ControllerContext,
  request: CreateTopicsRequest,
): Plan<CreateTopicsResponse> {
  const validateOnly = request.validateOnly === true;
  const results: CreatableTopicResult[] = [];
  const units: Unit[] = [];
  const nameCounts = new Map<string, number>();
  for (const topic of request.topics)
    nameCounts.set(topic.name, (nameCounts.get(topic.name) ?? 0) + 1);

  if (requestedPartitions(context, request) > createTopicsPartitionsMax) {
    const message = 'Excessively large number of partitions per request.';
    return {
      units: [],
      respond: () => ({
        throttleTimeMs: 0,
        topics: request.topics.map((topic) =>
          failure(topic.name, ErrorCode.POLICY_VIOLATION, message),
        ),
      }),
    };
  }

  for (const topic of request.topics) {
    if (nameCounts.get(topic.name)! > 1) {
      results.push(failure(topic.name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      continue;
    }
    try {
      const created = prepareTopic(context, topic);
      const topicId = context.settings.randomTopicId();
      const result: CreatableTopicResult = {
        name: topic.name,
        topicId: validateOnly ? zeroTopicId : topicId,
        errorCode: validateOnly ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions: created.layout.replicas.length,
        replicationFactor: created.layout.replicas[0]!.length,
        configs: [],
      };
      results.push(result);
      if (validateOnly) continue;
      units.push(...creationUnits(topic.name, topicId, created.layout, created.configs));
      const last = units.pop()!;
      units.push({
        operations: last.operations,
        committed: () => {
          result.errorCode = ErrorCode.NONE;
          context.logger.info(`Created topic ${topic.name}`, {
            topic: topic.name,
            topicId,
            partitions: created.layout.replicas.length,
            replicationFactor: created.layout.replicas[0]!.length,
          });
        },
      });
    } catch (error) {
      if (!(error instanceof ControllerRequestError || error instanceof PlacementError))
        throw error;
      results.push(failure(topic.name, error.errorCode, error.message));
    }
  }
  return { units, respond: () => ({ throttleTimeMs: 0, topics: results }) };
}

/** One unit per partition record, then the topic key: the creation's last unit. */
export function creationUnits(
  name: string,
  topicId: string,
  layout: Layout,
  configs: Readonly<Record<string, string>>,
): Unit[] {
  const units: Unit[] = layout.replicas.map((replicas, partition) => ({
    operations: [
      {
        type: 'put',
        key: partitionKey(topicId, partition),
        value: encodePartitionRecord(newPartitionRegistration(replicas, layout.isrs[partition])),
        expectedModRevision: 0n,
      },
    ],
    independent: true,
  }));
  units.push({
    operations: [
      {
        type: 'put',
        key: topicKey(name),
        value: encodeTopicRecord({ topicId, partitionCount: layout.replicas.length, configs }),
        expectedModRevision: 0n,
      },
    ],
  });
  return units;
}

function prepareTopic(
  context: ControllerContext,
  topic: CreatableTopic,
): { layout: Layout; configs: Record<string, string> } {
  const nameProblem = context.settings.topicNameProblem(topic.name);
  if (nameProblem !== undefined) {
    throw new ControllerRequestError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  }
  if (context.image.topic(topic.name) !== undefined) {
    throw new ControllerRequestError(
      ErrorCode.TOPIC_ALREADY_EXISTS,
      `Topic '${topic.name}' already exists.`,
    );
  }
  const configs = checkTopicConfigs(context, topic.configs);
  const layout =
    topic.assignments.length > 0 ? manualLayout(context, topic) : placedLayout(context, topic);
  return { layout, configs };
}

function placedLayout(context: ControllerContext, topic: CreatableTopic): Layout {
  const { defaults } = context.settings;
  const partitionCount =
    topic.numPartitions === useDefault ? defaults.numPartitions : topic.numPartitions;
  if (partitionCount <= 0) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_PARTITIONS,
      'Number of partitions was set to an invalid non-positive value.',
    );
  }
  const replicationFactor =
    topic.replicationFactor === useDefault
      ? defaults.defaultReplicationFactor
      : topic.replicationFactor;
  if (replicationFactor <= 0) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Replication factor must be larger than 0, or -1 to use the default value.',
    );
  }
  const replicas = placeReplicas({
    brokers: activePlacementBrokers(context),
    partitionCount,
    replicationFactor,
    randomInt: context.settings.randomInt,
  });
  return { replicas, isrs: replicas };
}

function manualLayout(context: ControllerContext, topic: CreatableTopic): Layout {
  if (topic.replicationFactor !== useDefault) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REQUEST,
      'A manual partition assignment was specified, but replication factor was not set to -1.',
    );
  }
  if (topic.numPartitions !== useDefault) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REQUEST,
      'A manual partition assignment was specified, but numPartitions was not set to -1.',
    );
  }
  const byIndex = new Map<number, { replicas: number[]; isr: number[] }>();
  let replicationFactor: number | undefined;
  for (const assignment of topic.assignments) {
    if (byIndex.has(assignment.partitionIndex)) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Found multiple manual partition assignments for partition ${assignment.partitionIndex}`,
      );
    }
    const isr = validateManualAssignment(
      context,
      assignment.brokerIds,
      assignment.partitionIndex,
      replicationFactor,
    );
    replicationFactor = assignment.brokerIds.length;
    byIndex.set(assignment.partitionIndex, { replicas: [...assignment.brokerIds], isr });
  }
  const replicas: number[][] = [];
  const isrs: number[][] = [];
  for (let index = 0; index < byIndex.size; index++) {
    const entry = byIndex.get(index);
    if (entry === undefined) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'partitions should be a consecutive 0-based integer sequence',
      );
    }
    replicas.push(entry.replicas);
    isrs.push(entry.isr);
  }
  return { replicas, isrs };
}

/** Brokers new replicas may go to: registered and not in controlled shutdown. */
export function activePlacementBrokers(context: ControllerContext) {
  return context.image
    .brokers()
    .filter((broker) => !broker.inControlledShutdown)
    .map((broker) => ({ id: broker.brokerId, rack: broker.registration.rack }));
}

function requestedPartitions(context: ControllerContext, request: CreateTopicsRequest): number {
  let total = 0;
  for (const topic of request.topics) {
    if (topic.assignments.length > 0) total += topic.assignments.length;
    else if (topic.numPartitions === useDefault) total += context.settings.defaults.numPartitions;
    else if (topic.numPartitions > 0) total += topic.numPartitions;
  }
  return total;
}

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
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}
