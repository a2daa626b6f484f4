/**
 * CreatePartitions at the controller: new partitions are placed after the existing ones with the
 * topic's replication factor (or taken from the request's assignments), written first, then the
 * topic's new partition count, compare-and-set on the topic key: until that last write commits
 * the new partitions are invisible.
 */
import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { newPartitionRegistration } from '../partition-registration.js';
import { PlacementError, placeReplicas } from '../placement.js';
import { encodePartitionRecord, encodeTopicRecord, partitionKey, topicKey } from '../records.js';
import type { ControllerContext } from './context.js';
import { activePlacementBrokers } from './create-topics.js';
import type { Plan, Unit } from './plan.js';
import { ControllerRequestError, validateManualAssignment } from './validation.js';

type TopicRequest = CreatePartitionsRequest['topics'][number];
type TopicResult = CreatePartitionsResponse['results'][number];

export function planCreatePartitions(
  context: ControllerContext,
  request: CreatePartitionsRequest,
): Plan<CreatePartitionsResponse> {
  const results: TopicResult[] = [];
  const units: Unit[] = [];
  const nameCounts = new Map<string, number>();
  for (const topic of request.topics)
    nameCounts.set(topic.name, (nameCounts.get(topic.name) ?? 0) + 1);
  for (const topic of request.topics) {
    if (nameCounts.get(topic.name)! > 1) {
      results.push({
        name: topic.name,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: 'Duplicate topic name.',
      });
      continue;
    }
    try {
      const topicUnits = partitionUnits(context, topic);
      const result: TopicResult = {
        name: topic.name,
        errorCode: request.validateOnly ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER,
        errorMessage: null,
      };
      results.push(result);
      if (request.validateOnly) continue;
      const last = topicUnits.pop()!;
      units.push(...topicUnits, {
        operations: last.operations,
        committed: () => {
          result.errorCode = ErrorCode.NONE;
          context.logger.info(`Increased the partitions of ${topic.name} to ${topic.count}`, {
            topic: topic.name,
            partitions: topic.count,
          });
        },
      });
    } catch (error) {
      if (!(error instanceof ControllerRequestError || error instanceof PlacementError))
        throw error;
      results.push({ name: topic.name, errorCode: error.errorCode, errorMessage: error.message });
    }
  }
  return { units, respond: () => ({ throttleTimeMs: 0, results }) };
}

function partitionUnits(context: ControllerContext, request: TopicRequest): Unit[] {
  const topic = context.image.topic(request.name);
  if (topic === undefined) {
    throw new ControllerRequestError(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      `This server does not host this topic-partition.`,
    );
  }
  const existing = topic.partitionCount;
  if (request.count === existing) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_PARTITIONS,
      `Topic already has ${existing} partition(s).`,
    );
  }
  if (request.count < existing) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_PARTITIONS,
      `The topic ${request.name} currently has ${existing} partition(s); ${request.count} would not be an increase.`,
    );
  }
  const additional = request.count - existing;
  const replicationFactor = context.image.partition(request.name, 0)?.replicas.length;
  if (replicationFactor === undefined) {
    throw new ControllerRequestError(
      ErrorCode.UNKNOWN_SERVER_ERROR,
      `Invalid state: topic ${request.name} appears to have no partitions.`,
    );
  }
  let layout: { replicas: number[]; isr: number[] }[];
  if (request.assignments !== null) {
    if (request.assignments.length !== additional) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${request.assignments.length} assignment(s) were specified.`,
      );
    }
    layout = request.assignments.map((assignment, index) => ({
      replicas: [...assignment.brokerIds],
      isr: validateManualAssignment(
        context,
        assignment.brokerIds,
        existing + index,
        replicationFactor,
      ),
    }));
  } else {
    layout = placeReplicas({
      brokers: activePlacementBrokers(context),
      partitionCount: additional,
      replicationFactor,
      startPartitionId: existing,
      randomInt: context.settings.randomInt,
    }).map((replicas) => ({ replicas, isr: replicas }));
  }
  const records = context.image.partitionRecords(topic.topicId);
  const units: Unit[] = layout.map((entry, index) => {
    const partition = existing + index;
    return {
      operations: [
        {
          type: 'put',
          key: partitionKey(topic.topicId, partition),
          value: encodePartitionRecord(newPartitionRegistration(entry.replicas, entry.isr)),
          // An orphan left by a cut-short change is overwritten, not a conflict.
          expectedModRevision: records.get(partition)?.modRevision ?? 0n,
        },
      ],
      independent: true,
    };
  });
  units.push({
    operations: [
      {
        type: 'put',
        key: topicKey(topic.name),
        value: encodeTopicRecord({
          topicId: topic.topicId,
          partitionCount: request.count,
          configs: topic.configs,
        }),
        expectedModRevision: topic.modRevision,
      },
    ],
  });
  return units;
}
