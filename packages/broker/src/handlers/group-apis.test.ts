/**
 * The group APIs over real sockets: a broker on an ephemeral port, the test client, old
 * (non-flexible) and new (flexible) versions of every group API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type ConsumerGroupDescribeResponse,
  type ConsumerGroupHeartbeatResponse,
  type DeleteGroupsResponse,
  type DescribeGroupsResponse,
  ErrorCode,
  type FindCoordinatorResponse,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type ListGroupsResponse,
  type OffsetCommitResponse,
  type OffsetDeleteResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { subscriptionMetadata } from '../group/test-support.js';
import { startTestBroker } from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';

let broker: Broker;
let client: TestClient;
let stopBroker: () => Promise<void>;

before(async () => {
  const started = await startTestBroker({
    'group.initial.rebalance.delay.ms': 0,
    'offsets.topic.num.partitions': 3,
  });
  broker = started.broker;
  stopBroker = started.stop;
  assert.ok(broker.services.groups, 'the broker runs a group coordinator');
  await broker.services.topics.create({ name: 'orders', partitionCount: 2 });
  client = await TestClient.connect({ port: broker.port, clientId: 'group-test' });
});

after(async () => {
  await client.close();
  await stopBroker();
});

describe('group APIs over the wire', () => {
  it('FindCoordinator answers this broker for groups and transactions, batched from v4', async () => {
    const v0 = await client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 0, {
      key: 'g',
    });
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.equal(v0.nodeId, broker.services.nodeId);
    assert.equal(v0.port, broker.port);
    const v4 = await client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 4, {
      keyType: 0,
      coordinatorKeys: ['a', 'b'],
    });
    assert.deepEqual(
      v4.coordinators?.map((coordinator) => [
        coordinator.key,
        coordinator.errorCode,
        coordinator.port,
      ]),
      [
        ['a', 0, broker.port],
        ['b', 0, broker.port],
      ],
    );
    const txn = await client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 6, {
      keyType: 1,
      coordinatorKeys: ['txn-1'],
    });
    assert.equal(txn.coordinators?.[0].errorCode, ErrorCode.NONE);
    const bad = await client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 3, {
      key: 'x',
      keyType: 5,
    });
    assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('runs a classic group with flexible versions: join, sync, heartbeat, commit, fetch, leave', async () => {
    const join = (memberId: string) =>
      client.request<JoinGroupResponse>(ApiKey.JoinGroup, 9, {
        groupId: 'flex',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscriptionMetadata(['orders']) }],
        reason: null,
      });
    const first = await join('');
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^group-test-/);
    const joined = await join(first.memberId);
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.protocolType, 'consumer');
    assert.equal(joined.members.length, 1);
    const sync = await client.request<SyncGroupResponse>(ApiKey.SyncGroup, 5, {
      groupId: 'flex',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from([1, 2, 3]) }],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.deepEqual([...sync.assignment], [1, 2, 3]);
    const beat = await client.request<HeartbeatResponse>(ApiKey.Heartbeat, 4, {
      groupId: 'flex',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
    });
    assert.equal(beat.errorCode, ErrorCode.NONE);
    const commit = await client.request<OffsetCommitResponse>(ApiKey.OffsetCommit, 9, {
      groupId: 'flex',
      generationIdOrMemberEpoch: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 1,
              committedOffset: 17n,
              committedLeaderEpoch: 0,
              committedMetadata: 'x',
            },
          ],
        },
      ],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const fetched = await client.request<OffsetFetchResponse>(ApiKey.OffsetFetch, 9, {
      groups: [
        { groupId: 'flex', memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: 'unknown',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'orders', partitionIndexes: [0] }],
        },
      ],
      requireStable: true,
    });
    assert.equal(fetched.groups?.[0].topics[0].partitions[0].committedOffset, 17n);
    assert.equal(fetched.groups?.[0].topics[0].partitions[0].metadata, 'x');
    assert.equal(fetched.groups?.[1].topics[0].partitions[0].committedOffset, -1n);
    const described = await client.request<DescribeGroupsResponse>(ApiKey.DescribeGroups, 5, {
      groups: ['flex'],
      includeAuthorizedOperations: true,
    });
    assert.equal(described.groups[0].groupState, 'Stable');
    assert.equal(described.groups[0].members[0].clientId, 'group-test');
    assert.equal(described.groups[0].members[0].clientHost, '/127.0.0.1');
    const listed = await client.request<ListGroupsResponse>(ApiKey.ListGroups, 5, {
      statesFilter: ['Stable'],
      typesFilter: [],
    });
    assert.deepEqual(
      listed.groups.map((group) => [group.groupId, group.groupState, group.groupType]),
      [['flex', 'Stable', 'classic']],
    );
    const left = await client.request<LeaveGroupResponse>(ApiKey.LeaveGroup, 5, {
      groupId: 'flex',
      members: [{ memberId: joined.memberId, groupInstanceId: null, reason: 'done' }],
    });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.members?.[0].errorCode, ErrorCode.NONE);
    const deleted = await client.request<OffsetDeleteResponse>(ApiKey.OffsetDelete, 0, {
      groupId: 'flex',
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }],
    });
    assert.equal(deleted.errorCode, ErrorCode.NONE);
    assert.equal(deleted.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const groupsDeleted = await client.request<DeleteGroupsResponse>(ApiKey.DeleteGroups, 2, {
      groupsNames: ['flex', 'never-existed'],
    });
    assert.deepEqual(
      groupsDeleted.results.map((result) => result.errorCode),
      [ErrorCode.NONE, ErrorCode.GROUP_ID_NOT_FOUND],
    );
  });

  it('serves the old non-flexible versions kafkajs and kafka-python use', async () => {
    const joined = await client.request<JoinGroupResponse>(ApiKey.JoinGroup, 0, {
      groupId: 'old',
      sessionTimeoutMs: 10_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscriptionMetadata(['orders']) }],
    });
    assert.equal(joined.errorCode, ErrorCode.NONE);
    const sync = await client.request<SyncGroupResponse>(ApiKey.SyncGroup, 0, {
      groupId: 'old',
      generationId: joined.generationId,
      memberId: joined.memberId,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    const commit = await client.request<OffsetCommitResponse>(ApiKey.OffsetCommit, 2, {
      groupId: 'old',
      generationIdOrMemberEpoch: joined.generationId,
      memberId: joined.memberId,
      retentionTimeMs: -1n,
      topics: [
        {
          name: 'orders',
          partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }],
        },
      ],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const fetched = await client.request<OffsetFetchResponse>(ApiKey.OffsetFetch, 1, {
      groupId: 'old',
      topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
    });
    assert.deepEqual(
      fetched.topics?.[0].partitions.map((partition) => partition.committedOffset),
      [5n, -1n],
    );
    const stale = await client.request<HeartbeatResponse>(ApiKey.Heartbeat, 0, {
      groupId: 'old',
      generationId: joined.generationId + 5,
      memberId: joined.memberId,
    });
    assert.equal(stale.errorCode, ErrorCode.ILLEGAL_GENERATION);
    const listed = await client.request<ListGroupsResponse>(ApiKey.ListGroups, 0, {});
    assert.ok(
      listed.groups.some((group) => group.groupId === 'old' && group.protocolType === 'consumer'),
    );
    const left = await client.request<LeaveGroupResponse>(ApiKey.LeaveGroup, 0, {
      groupId: 'old',
      memberId: 'not-a-member',
    });
    assert.equal(left.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const busy = await client.request<DeleteGroupsResponse>(ApiKey.DeleteGroups, 0, {
      groupsNames: ['old'],
    });
    assert.equal(busy.results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);
  });

  it('runs a KIP-848 consumer group: ConsumerGroupHeartbeat and ConsumerGroupDescribe', async () => {
    const joined = await client.request<ConsumerGroupHeartbeatResponse>(
      ApiKey.ConsumerGroupHeartbeat,
      0,
      {
        groupId: 'kip848',
        memberId: '',
        memberEpoch: 0,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: 30_000,
        subscribedTopicNames: ['orders'],
        serverAssignor: null,
        topicPartitions: [],
      },
    );
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.memberEpoch, 1);
    const ordersId = broker.services.topics.get('orders')!.topicId;
    assert.deepEqual(
      joined.assignment?.topicPartitions.map((t) => [t.topicId, t.partitions]),
      [[ordersId, [0, 1]]],
    );
    const described = await client.request<ConsumerGroupDescribeResponse>(
      ApiKey.ConsumerGroupDescribe,
      0,
      {
        groupIds: ['kip848', 'flexless'],
        includeAuthorizedOperations: false,
      },
    );
    assert.equal(described.groups[0].groupState, 'Stable');
    assert.equal(described.groups[0].members[0].memberId, joined.memberId);
    assert.equal(described.groups[0].members[0].assignment.topicPartitions[0].topicName, 'orders');
    assert.equal(described.groups[1].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const left = await client.request<ConsumerGroupHeartbeatResponse>(
      ApiKey.ConsumerGroupHeartbeat,
      1,
      {
        groupId: 'kip848',
        memberId: joined.memberId,
        memberEpoch: -1,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: null,
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: null,
      },
    );
    assert.equal(left.memberEpoch, -1);
  });
});

describe('__consumer_offsets creation', () => {
  it('survives many groups committing at once on a fresh broker', async () => {
    const fresh = await startTestBroker({ 'offsets.topic.num.partitions': 4 });
    try {
      await fresh.broker.services.topics.create({ name: 'orders', partitionCount: 2 });
      const clients = await Promise.all(
        Array.from({ length: 4 }, () => TestClient.connect({ port: fresh.broker.port })),
      );
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, index) =>
          clients[index % clients.length].request<OffsetCommitResponse>(ApiKey.OffsetCommit, 8, {
            groupId: `concurrent-${index}`,
            generationIdOrMemberEpoch: -1,
            memberId: '',
            groupInstanceId: null,
            topics: [
              {
                name: 'orders',
                partitions: [
                  {
                    partitionIndex: 0,
                    committedOffset: BigInt(index),
                    committedLeaderEpoch: -1,
                    committedMetadata: null,
                  },
                ],
              },
            ],
          }),
        ),
      );
      assert.ok(
        responses.every(
          (response) => response.topics[0].partitions[0].errorCode === ErrorCode.NONE,
        ),
      );
      assert.equal(fresh.broker.services.topics.get('__consumer_offsets')?.partitionCount, 4);
      for (const connection of clients) await connection.close();
    } finally {
      await fresh.stop();
    }
  });
});
