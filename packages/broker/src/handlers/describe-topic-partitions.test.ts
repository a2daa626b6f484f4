import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type ApiVersionsResponse,
  type DescribeTopicPartitionsResponse,
  ErrorCode,
  type MetadataResponse,
} from '@gregor/protocol';
import { zeroTopicId } from '../topics/topic-id.js';
import { type AdminTestBroker, createTopic, startAdminTestBroker } from './admin-test-broker.js';
import { topicOperationsAll } from './metadata.js';

describe('DescribeTopicPartitions (key 75) on a single node, over a socket', () => {
  let harness: AdminTestBroker;
  const topicIds = new Map<string, string>();
  before(async () => {
    harness = await startAdminTestBroker();
    for (const [name, numPartitions] of [
      ['dtp-a', 3],
      ['dtp-b', 2],
      ['dtp-c', 1],
    ] as const) {
      const created = await createTopic(harness.client, { name, numPartitions });
      assert.equal(created.errorCode, ErrorCode.NONE);
      topicIds.set(name, String(created.topicId));
    }
  });
  after(async () => {
    await harness.close();
  });

  const describeTopics = (
    names: string[],
    options: { limit?: number; cursor?: { topicName: string; partitionIndex: number } } = {},
  ) =>
    harness.client.request<DescribeTopicPartitionsResponse>(ApiKey.DescribeTopicPartitions, 0, {
      topics: names.map((name) => ({ name })),
      responsePartitionLimit: options.limit ?? 2000,
      cursor: options.cursor ?? null,
    });
  /** Topic name → partition indexes, and the next cursor, of the dtp- topics only. */
  const shape = (response: DescribeTopicPartitionsResponse) => ({
    topics: response.topics
      .filter((topic) => topic.name?.startsWith('dtp-'))
      .map((topic) => [topic.name, topic.errorCode, topic.partitions.map((p) => p.partitionIndex)]),
    nextCursor:
      response.nextCursor === null
        ? null
        : { topicName: response.nextCursor.topicName, index: response.nextCursor.partitionIndex },
  });

  it('is advertised by ApiVersions as v0', async () => {
    const versions = await harness.client.request<ApiVersionsResponse>(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    const advertised = versions.apiKeys.find(
      (api) => api.apiKey === ApiKey.DescribeTopicPartitions,
    );
    assert.deepEqual(
      [advertised?.minVersion, advertised?.maxVersion],
      [0, 0],
      'DescribeTopicPartitions advertised',
    );
  });

  it('describes named topics with Metadata partitions, ELR fields and authorized operations', async () => {
    const response = await describeTopics(['dtp-c', 'dtp-a']);
    const nodeId = harness.broker.nodeId;
    const partition = (partitionIndex: number) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
    assert.deepEqual(response, {
      throttleTimeMs: 0,
      topics: [
        {
          errorCode: ErrorCode.NONE,
          name: 'dtp-a',
          topicId: topicIds.get('dtp-a'),
          isInternal: false,
          partitions: [partition(0), partition(1), partition(2)],
          topicAuthorizedOperations: topicOperationsAll,
        },
        {
          errorCode: ErrorCode.NONE,
          name: 'dtp-c',
          topicId: topicIds.get('dtp-c'),
          isInternal: false,
          partitions: [partition(0)],
          topicAuthorizedOperations: topicOperationsAll,
        },
      ],
      nextCursor: null,
    });
  });

  it('pages every topic by ResponsePartitionLimit, the cursor naming where the next page starts', async () => {
    assert.deepEqual(shape(await describeTopics([], { limit: 4 })), {
      topics: [
        ['dtp-a', 0, [0, 1, 2]],
        ['dtp-b', 0, [0]],
      ],
      nextCursor: { topicName: 'dtp-b', index: 1 },
    });
    assert.deepEqual(
      shape(
        await describeTopics([], { limit: 4, cursor: { topicName: 'dtp-b', partitionIndex: 1 } }),
      ),
      {
        topics: [
          ['dtp-b', 0, [1]],
          ['dtp-c', 0, [0]],
        ],
        nextCursor: null,
      },
    );
    // A limit below 1 is 1, as in Kafka.
    assert.deepEqual(shape(await describeTopics(['dtp-b'], { limit: 0 })), {
      topics: [['dtp-b', 0, [0]]],
      nextCursor: { topicName: 'dtp-b', index: 1 },
    });
  });

  it('answers unknown and invalid names without creating them, and refuses a cursor Kafka refuses', async () => {
    const response = await describeTopics(['dtp-missing', 'bad/name', 'dtp-b']);
    assert.deepEqual(
      response.topics.map((topic) => [topic.name, topic.errorCode, topic.topicId]),
      [
        ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, zeroTopicId],
        ['dtp-b', ErrorCode.NONE, topicIds.get('dtp-b')],
        ['dtp-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, zeroTopicId],
      ],
    );
    const metadata = await harness.client.request<MetadataResponse>(ApiKey.Metadata, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(
      metadata.topics.some((topic) => topic.name === 'dtp-missing'),
      false,
    );
    for (const [names, cursor] of [
      [['dtp-a'], { topicName: 'dtp-b', partitionIndex: 0 }],
      [['dtp-a'], { topicName: 'dtp-a', partitionIndex: -1 }],
      [[], { topicName: 'dtp-gone', partitionIndex: 0 }],
    ] as const) {
      const refused = await describeTopics([...names], { cursor });
      assert.deepEqual(
        refused.topics.map((topic) => [topic.name, topic.errorCode, topic.partitions.length]),
        names.map((name) => [name, ErrorCode.INVALID_REQUEST, 0]),
        JSON.stringify(cursor),
      );
      assert.equal(refused.nextCursor, null);
    }
  });
});
