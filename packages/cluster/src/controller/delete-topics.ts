/**
 * DeleteTopics at the controller: the topic key goes first (the topic disappears by name and id
 * in one revision), then its partition records in later transactions; records a controller
 * change leaves behind are orphans the next controller deletes. By name (v0-5) or by id (v6+).
 */
import { type DeleteTopicsRequest, type DeleteTopicsResponse, ErrorCode } from '@gregor/protocol';
import type { TopicImage } from '../image.js';
import { partitionKey, topicKey } from '../records.js';
import { type ControllerContext, zeroTopicId } from './context.js';
import type { Plan, Unit } from './plan.js';

type DeletableTopicResult = DeleteTopicsResponse['responses'][number];

export function planDeleteTopics(
  context: ControllerContext,
  request: DeleteTopicsRequest,
): Plan<DeleteTopicsResponse> {
  const { image } = context;
  const results: DeletableTopicResult[] = [];
  const units: Unit[] = [];
  const seen = new Set<string>();
  const requested =
    request.topics ?? (request.topicNames ?? []).map((name) => ({ name, topicId: zeroTopicId }));
  for (const entry of requested) {
    const byId = entry.topicId !== zeroTopicId && entry.topicId !== undefined;
    const topic = byId ? image.topicById(entry.topicId) : image.topic(entry.name ?? '');
    if (topic === undefined) {
      results.push({
        name: entry.name,
        topicId: entry.topicId,
        errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: null,
      });
      continue;
    }
    if (seen.has(topic.name)) {
      results.push({
        name: topic.name,
        topicId: topic.topicId,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: 'Duplicate topic name.',
      });
      continue;
    }
    seen.add(topic.name);
    const result: DeletableTopicResult = {
      name: topic.name,
      topicId: topic.topicId,
      errorCode: ErrorCode.NOT_CONTROLLER,
      errorMessage: null,
    };
    results.push(result);
    units.push(
      ...deletionUnits(context, topic, () => {
        result.errorCode = ErrorCode.NONE;
        context.logger.info(`Deleted topic ${topic.name}`, {
          topic: topic.name,
          topicId: topic.topicId,
        });
      }),
    );
  }
  return { units, respond: () => ({ throttleTimeMs: 0, responses: results }) };
}

/** The topic key (its unit reports the deletion), then one unit per partition record. */
export function deletionUnits(
  context: ControllerContext,
  topic: TopicImage,
  committed: () => void,
): Unit[] {
  const units: Unit[] = [
    {
      operations: [
        { type: 'delete', key: topicKey(topic.name), expectedModRevision: topic.modRevision },
      ],
      committed,
    },
  ];
  for (const partition of context.image.partitionRecords(topic.topicId).values()) {
    units.push({
      operations: [
        {
          type: 'delete',
          key: partitionKey(partition.topicId, partition.partition),
          expectedModRevision: partition.modRevision,
        },
      ],
      independent: true,
    });
  }
  return units;
}
