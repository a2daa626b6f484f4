import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type CreatePartitionsResponse,
  type CreateTopicsResponse,
  type DeleteRecordsResponse,
  type DeleteTopicsResponse,
  type DescribeClusterResponse,
  type DescribeLogDirsResponse,
  ErrorCode,
  type MetadataResponse,
  type OffsetForLeaderEpochResponse,
} from '@gregor/protocol';
import { zeroTopicId } from '../topics/topic-id.js';
import {
  type AdminTestBroker,
  createTopic,
  produceRecords,
  startAdminTestBroker,
} from './admin-test-broker.js';

describe('admin API over a socket: topics, partitions, records', () => {
  let harness: AdminTestBroker;
  before(async () => {
    harness = await startAdminTestBroker({ 'num.partitions': 3 });
  });
  after(async () => {
    await harness.close();
  });

  it('CreateTopics creates a topic with defaults (-1) and reports its layout and configs', async () => {
    const result = await createTopic(harness.client, {
      name: 'orders',
      numPartitions: -1,
      replicationFactor: -1,
      configs: { 'retention.ms': '3600000' },
    });
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.equal(result.numPartitions, 3);
    assert.equal(result.replicationFactor, 1);
    assert.notEqual(result.topicId, zeroTopicId);
    const retention = result.configs?.find((config) => config.name === 'retention.ms');
    assert.deepEqual(
      [retention?.value, retention?.configSource],
      ['3600000', 1 /* DYNAMIC_TOPIC_CONFIG */],
    );
    const metadata = await harness.client.request<MetadataResponse>(ApiKey.Metadata, 12, {
      topics: [{ name: 'orders', topicId: zeroTopicId }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(metadata.topics[0].errorCode, ErrorCode.NONE);
    assert.equal(metadata.topics[0].partitions.length, 3);
    assert.equal(metadata.topics[0].topicId, result.topicId);
  });

  it('Metadata v8-10 reports the cluster operations only when asked (KIP-430)', async () => {
    const ask = (includeClusterAuthorizedOperations: boolean) =>
      harness.client.request<MetadataResponse>(ApiKey.Metadata, 8, {
        topics: [],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations,
        includeTopicAuthorizedOperations: false,
      });
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
    const everyClusterOperation = [5, 7, 8, 9, 10, 11, 12].reduce(
      (bits, code) => bits | (1 << code),
      0,
    );
    assert.equal((await ask(true)).clusterAuthorizedOperations, everyClusterOperation);
    assert.equal((await ask(false)).clusterAuthorizedOperations, -2147483648);
  });

  it('CreateTopics refuses duplicates, bad names, counts, factors, assignments and configs', async () => {
    const { client } = harness;
    const duplicate = await createTopic(client, { name: 'orders' });
    assert.equal(duplicate.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    // Kafka's words: kafka-topics.sh prints them.
    assert.equal(duplicate.errorMessage, "Topic 'orders' already exists.");
    assert.equal(
      (await createTopic(client, { name: 'bad/name' })).errorCode,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    );
    assert.equal(
      (await createTopic(client, { name: 'zero', numPartitions: 0 })).errorCode,
      ErrorCode.INVALID_PARTITIONS,
    );
    assert.equal(
      (await createTopic(client, { name: 'three', replicationFactor: 3 })).errorCode,
      ErrorCode.INVALID_REPLICATION_FACTOR,
    );
    const badConfig = await createTopic(client, {
      name: 'badconfig',
      configs: { 'cleanup.policy': 'archive', 'no.such.config': '1' },
    });
    assert.equal(badConfig.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(badConfig.errorMessage ?? '', /cleanup\.policy.*archive/);
    assert.match(badConfig.errorMessage ?? '', /no\.such\.config/);
    const response = await client.request<CreateTopicsResponse>(ApiKey.CreateTopics, 7, {
      topics: [
        { name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        {
          name: 'assigned',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [harness.broker.nodeId, 99] }],
          configs: [],
        },
        {
          name: 'assigned-ok',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [
            { partitionIndex: 1, brokerIds: [harness.broker.nodeId] },
            { partitionIndex: 0, brokerIds: [harness.broker.nodeId] },
          ],
          configs: [],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      response.topics.map((topic) => [topic.name, topic.errorCode, topic.numPartitions]),
      [
        ['twice', ErrorCode.INVALID_REQUEST, -1],
        ['twice', ErrorCode.INVALID_REQUEST, -1],
        ['assigned', ErrorCode.INVALID_REPLICA_ASSIGNMENT, -1],
        ['assigned-ok', ErrorCode.NONE, 2],
      ],
    );
  });

  it('CreateTopics validateOnly checks and creates nothing; v0 works too', async () => {
    const validated = await createTopic(harness.client, { name: 'dry-run', validateOnly: true });
    assert.equal(validated.errorCode, ErrorCode.NONE);
    assert.equal(harness.broker.services.topics.get('dry-run'), undefined);
    const v0 = await harness.client.request<CreateTopicsResponse>(ApiKey.CreateTopics, 0, {
      topics: [
        {
          name: 'old-client',
          numPartitions: 2,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 5000,
    });
    assert.equal(v0.topics[0].errorCode, ErrorCode.NONE);
    assert.equal(harness.broker.services.topics.get('old-client')?.partitionCount, 2);
  });

  it('CreateTopics v3 with -1 partitions and replication factor uses the defaults (as Kafka and kafkajs 2.2.4)', async () => {
    const v3 = await harness.client.request<CreateTopicsResponse>(ApiKey.CreateTopics, 3, {
      topics: [
        {
          name: 'v3-defaults',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [],
          configs: [],
        },
        {
          name: 'v3-negative',
          numPartitions: -2,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        },
        {
          name: 'v3-factor',
          numPartitions: 1,
          replicationFactor: -2,
          assignments: [],
          configs: [],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      v3.topics.map((topic) => [topic.name, topic.errorCode]),
      [
        ['v3-defaults', ErrorCode.NONE],
        ['v3-negative', ErrorCode.INVALID_PARTITIONS],
        ['v3-factor', ErrorCode.INVALID_REPLICATION_FACTOR],
      ],
    );
    assert.equal(harness.broker.services.topics.get('v3-defaults')?.partitionCount, 3);
  });

  it('CreatePartitions grows a topic and refuses to shrink it', async () => {
    const request = (count: number, validateOnly = false) =>
      harness.client.request<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, {
        topics: [{ name: 'orders', count, assignments: null }],
        timeoutMs: 5000,
        validateOnly,
      });
    assert.equal((await request(5, true)).results[0].errorCode, ErrorCode.NONE);
    assert.equal(harness.broker.services.topics.get('orders')?.partitionCount, 3);
    assert.equal((await request(5)).results[0].errorCode, ErrorCode.NONE);
    assert.equal(harness.broker.services.topics.get('orders')?.partitionCount, 5);
    assert.ok(harness.broker.services.logs.getLog('orders', 4));
    const shrink = (await request(2)).results[0];
    assert.equal(shrink.errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.match(shrink.errorMessage ?? '', /cannot be removed/);
    assert.equal((await request(5)).results[0].errorCode, ErrorCode.INVALID_PARTITIONS);
    const unknown = await harness.client.request<CreatePartitionsResponse>(
      ApiKey.CreatePartitions,
      0,
      {
        topics: [{ name: 'missing', count: 2, assignments: null }],
        timeoutMs: 5000,
        validateOnly: false,
      },
    );
    assert.equal(unknown.results[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('DeleteRecords advances the log start offset, -1 meaning the high watermark', async () => {
    const { client } = harness;
    assert.equal(
      await produceRecords(client, { topic: 'orders', partition: 0, count: 10 }),
      ErrorCode.NONE,
    );
    const deleteBefore = (offset: bigint, partitionIndex = 0) =>
      client.request<DeleteRecordsResponse>(ApiKey.DeleteRecords, 2, {
        topics: [{ name: 'orders', partitions: [{ partitionIndex, offset }] }],
        timeoutMs: 5000,
      });
    const first = (await deleteBefore(4n)).topics[0].partitions[0];
    assert.deepEqual([first.errorCode, first.lowWatermark], [ErrorCode.NONE, 4n]);
    const unchanged = (await deleteBefore(2n)).topics[0].partitions[0];
    assert.deepEqual([unchanged.errorCode, unchanged.lowWatermark], [ErrorCode.NONE, 4n]);
    const beyond = (await deleteBefore(11n)).topics[0].partitions[0];
    assert.equal(beyond.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(
      (await deleteBefore(-5n)).topics[0].partitions[0].errorCode,
      ErrorCode.OFFSET_OUT_OF_RANGE,
    );
    const toEnd = (await deleteBefore(-1n)).topics[0].partitions[0];
    assert.deepEqual([toEnd.errorCode, toEnd.lowWatermark], [ErrorCode.NONE, 10n]);
    assert.equal(harness.broker.services.logs.getLog('orders', 0)?.logStartOffset, 10n);
    const missing = (await deleteBefore(0n, 42)).topics[0].partitions[0];
    assert.equal(missing.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const unknownTopic = await client.request<DeleteRecordsResponse>(ApiKey.DeleteRecords, 2, {
      topics: [
        {
          name: 'no-such-topic',
          partitions: [
            { partitionIndex: 0, offset: 0n },
            { partitionIndex: 1, offset: 0n },
          ],
        },
      ],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      unknownTopic.topics[0].partitions.map((partition) => [
        partition.partitionIndex,
        partition.errorCode,
        partition.lowWatermark,
      ]),
      [
        [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
        [1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
      ],
    );
  });

  it('DeleteRecords refuses compact-only topics', async () => {
    await createTopic(harness.client, {
      name: 'compacted',
      configs: { 'cleanup.policy': 'compact' },
    });
    const response = await harness.client.request<DeleteRecordsResponse>(ApiKey.DeleteRecords, 0, {
      topics: [{ name: 'compacted', partitions: [{ partitionIndex: 0, offset: 0n }] }],
      timeoutMs: 5000,
    });
    assert.equal(response.topics[0].partitions[0].errorCode, ErrorCode.POLICY_VIOLATION);
  });

  it('OffsetForLeaderEpoch answers from the leader epoch cache and fences bad epochs', async () => {
    const { client } = harness;
    await produceRecords(client, { topic: 'orders', partition: 1, count: 3 });
    const ask = (
      partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[],
    ) =>
      client.request<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch, 4, {
        replicaId: -1,
        topics: [{ topic: 'orders', partitions }],
      });
    const response = await ask([
      { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 },
      { partition: 1, currentLeaderEpoch: 0, leaderEpoch: 0 },
      { partition: 1, currentLeaderEpoch: 5, leaderEpoch: 0 },
      { partition: 77, currentLeaderEpoch: -1, leaderEpoch: 0 },
    ]);
    assert.deepEqual(
      response.topics[0].partitions.map((entry) => [
        entry.errorCode,
        entry.leaderEpoch,
        entry.endOffset,
      ]),
      [
        [ErrorCode.NONE, 0, 3n],
        [ErrorCode.NONE, 0, 3n],
        [ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1n],
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1n],
      ],
    );
    const v0 = await client.request<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch, 0, {
      topics: [{ topic: 'orders', partitions: [{ partition: 1, leaderEpoch: 0 }] }],
    });
    assert.equal(v0.topics[0].partitions[0].endOffset, 3n);
  });

  it('DescribeCluster lists this broker as the only broker and the controller', async () => {
    const response = await harness.client.request<DescribeClusterResponse>(
      ApiKey.DescribeCluster,
      1,
      {
        includeClusterAuthorizedOperations: true,
        endpointType: 1,
      },
    );
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.clusterId, harness.broker.clusterId);
    assert.equal(response.controllerId, harness.broker.nodeId);
    assert.deepEqual(response.brokers, [
      { brokerId: harness.broker.nodeId, host: '127.0.0.1', port: harness.broker.port, rack: null },
    ]);
    assert.ok(response.clusterAuthorizedOperations > 0);
    const controllers = await harness.client.request<DescribeClusterResponse>(
      ApiKey.DescribeCluster,
      1,
      {
        includeClusterAuthorizedOperations: false,
        endpointType: 2,
      },
    );
    assert.equal(controllers.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
  });

  it('DescribeLogDirs reports partition sizes per log dir and the volume size', async () => {
    const response = await harness.client.request<DescribeLogDirsResponse>(
      ApiKey.DescribeLogDirs,
      4,
      {
        topics: [{ topic: 'orders', partitions: [0, 1, 2] }],
      },
    );
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.equal(response.results.length, 1);
    const [logDir] = response.results;
    assert.equal(logDir.logDir, resolve(harness.dataDir));
    assert.ok((logDir.totalBytes ?? 0n) > 0n);
    assert.ok((logDir.usableBytes ?? 0n) > 0n);
    assert.deepEqual(
      logDir.topics.map((topic) => topic.name),
      ['orders'],
    );
    const sizes = logDir.topics[0].partitions.map((partition) => [
      partition.partitionIndex,
      partition.partitionSize > 0n,
    ]);
    assert.deepEqual(sizes, [
      [0, true],
      [1, true],
      [2, false],
    ]);
    const all = await harness.client.request<DescribeLogDirsResponse>(ApiKey.DescribeLogDirs, 0, {
      topics: null,
    });
    const names = all.results[0].topics.map((topic) => topic.name).sort();
    assert.ok(names.includes('orders') && names.includes('compacted'));
  });

  it('DeleteTopics deletes by name (v0-5) and by id (v6) and reports unknown topics', async () => {
    const { client } = harness;
    const byName = await client.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, 4, {
      topicNames: ['old-client', 'never-existed'],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      byName.responses.map((entry) => [entry.name, entry.errorCode]),
      [
        ['old-client', ErrorCode.NONE],
        ['never-existed', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    const topicId = harness.broker.services.topics.get('assigned-ok')?.topicId ?? '';
    const byId = await client.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, 6, {
      topics: [
        { name: null, topicId },
        { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      ],
      timeoutMs: 5000,
    });
    assert.deepEqual(
      byId.responses.map((entry) => [entry.name, entry.errorCode]),
      [
        ['assigned-ok', ErrorCode.NONE],
        [null, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    assert.equal(harness.broker.services.topics.get('assigned-ok'), undefined);
    assert.equal(harness.broker.services.logs.getLog('assigned-ok', 0), undefined);
  });
});

describe('admin API: delete.topic.enable=false', () => {
  it('refuses deletion with TOPIC_DELETION_DISABLED', async () => {
    const harness = await startAdminTestBroker({ 'delete.topic.enable': false });
    try {
      await createTopic(harness.client, { name: 'kept' });
      const response = await harness.client.request<DeleteTopicsResponse>(ApiKey.DeleteTopics, 5, {
        topicNames: ['kept'],
        timeoutMs: 5000,
      });
      assert.equal(response.responses[0].errorCode, ErrorCode.TOPIC_DELETION_DISABLED);
      assert.ok(harness.broker.services.topics.get('kept'));
    } finally {
      await harness.close();
    }
  });
});

describe('admin API: several log dirs', () => {
  it('DescribeLogDirs attributes every partition to the log dir that holds it', async () => {
    const extraDir = await mkdtemp(join(tmpdir(), 'gregor-admin-extra-'));
    const harness = await startAdminTestBroker({}, (dataDir) => ({
      'log.dirs': `${dataDir},${extraDir}`,
    }));
    try {
      await createTopic(harness.client, { name: 'spread', numPartitions: 4 });
      const response = await harness.client.request<DescribeLogDirsResponse>(
        ApiKey.DescribeLogDirs,
        4,
        {
          topics: null,
        },
      );
      assert.deepEqual(
        response.results.map((result) => result.logDir),
        [resolve(harness.dataDir), resolve(extraDir)],
      );
      const placed = response.results.flatMap((result) =>
        result.topics.flatMap((topic) =>
          topic.partitions.map((partition) => partition.partitionIndex),
        ),
      );
      assert.deepEqual(placed.sort(), [0, 1, 2, 3]);
      assert.ok(response.results.every((result) => result.topics.length === 1));
    } finally {
      await harness.close();
      await rm(extraDir, { recursive: true, force: true });
    }
  });
});
