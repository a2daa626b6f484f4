/**
 * DescribeTopicPartitions paging (KIP-966; Kafka's DescribeTopicPartitionsRequestHandler and
 * KRaftMetadataCache.describeTopicResponse) over any source of topics: the cluster's image, or a
 * single node's topic table. Topics go by name from the cursor on, partitions from the cursor's
 * index in its topic, at most `partitionLimit` partitions; the next cursor names the next
 * partition, or the start of the next topic when the limit ran out at a topic's end. With no
 * topics named every topic is described; named ones without a topic are answered
 * UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION when the name is not a valid one.
 */
import { ErrorCode } from '@gregor/protocol';
import type { PartitionDescription } from './serving.js';

export interface TopicPartitionsCursor {
  readonly topicName: string;
  readonly partitionIndex: number;
}

export interface DescribedTopicPartitions {
  readonly errorCode: number;
  readonly name: string;
  /** The zero id for a topic that does not exist. */
  readonly topicId: string;
  readonly isInternal: boolean;
  readonly partitions: PartitionDescription[];
}

export interface TopicPartitionsPage {
  readonly topics: DescribedTopicPartitions[];
  /** Where the next request starts, or null when everything was described. */
  readonly nextCursor: TopicPartitionsCursor | null;
}

/** What paging needs to know of a topic. */
export interface PagedTopic {
  readonly topicId: string;
  readonly isInternal: boolean;
  /** Its partition indexes, ascending. */
  readonly partitionIndexes: readonly number[];
  describe(partitionIndex: number): PartitionDescription;
}

export interface TopicPartitionsSource {
  topicNames(): readonly string[];
  topic(name: string): PagedTopic | undefined;
  isInternalName(name: string): boolean;
  /** Why `name` is not a valid topic name, or undefined. */
  topicNameProblem?(name: string): string | undefined;
}

export interface TopicPartitionsRequest {
  /** Empty: every topic. */
  readonly topicNames: readonly string[];
  readonly cursor: TopicPartitionsCursor | null;
  readonly partitionLimit: number;
}

const zeroTopicIdText = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Kafka's INVALID_REQUEST cases, checked before any page is made: a negative cursor partition, or
 * a cursor topic that is not among the topics to describe (the named ones, or every existing one).
 */
export function topicPartitionsCursorProblem(
  source: TopicPartitionsSource,
  request: TopicPartitionsRequest,
): string | undefined {
  const cursor = request.cursor;
  if (cursor === null) return undefined;
  if (cursor.partitionIndex < 0) return `cursor partition ${cursor.partitionIndex} is negative`;
  const listed =
    request.topicNames.length === 0
      ? source.topic(cursor.topicName) !== undefined
      : request.topicNames.includes(cursor.topicName);
  return listed
    ? undefined
    : `the topics to describe do not contain the cursor's ${cursor.topicName}`;
}

export function topicPartitionsPage(
  source: TopicPartitionsSource,
  request: TopicPartitionsRequest,
): TopicPartitionsPage {
  const every = request.topicNames.length === 0;
  const names = [...new Set(every ? source.topicNames() : request.topicNames)]
    .filter((name) => request.cursor === null || name >= request.cursor.topicName)
    .sort();
  const topics: DescribedTopicPartitions[] = [];
  let remaining = request.partitionLimit;
  for (const name of names) {
    if (remaining <= 0) return { topics, nextCursor: { topicName: name, partitionIndex: 0 } };
    const topic = source.topic(name);
    if (topic === undefined) {
      if (every) continue;
      topics.push({
        errorCode:
          source.topicNameProblem?.(name) !== undefined
            ? ErrorCode.INVALID_TOPIC_EXCEPTION
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        name,
        topicId: zeroTopicIdText,
        isInternal: source.isInternalName(name),
        partitions: [],
      });
      continue;
    }
    const start =
      request.cursor !== null && request.cursor.topicName === name
        ? request.cursor.partitionIndex
        : 0;
    const all = topic.partitionIndexes.filter((index) => index >= start);
    const page = all.slice(0, remaining);
    topics.push({
      errorCode: ErrorCode.NONE,
      name,
      topicId: topic.topicId,
      isInternal: topic.isInternal,
      partitions: page.map((index) => topic.describe(index)),
    });
    if (page.length < all.length) {
      return { topics, nextCursor: { topicName: name, partitionIndex: all[page.length]! } };
    }
    remaining -= page.length;
  }
  return { topics, nextCursor: null };
}
