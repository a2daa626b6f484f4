import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { type Assignment, assignmentSize, rangeAssignor, uniformAssignor } from './assignors.js';
import type { ConsumerGroupHeartbeatInput, HeartbeatTopicPartitions } from './consumer-protocol.js';
import { memoryCoordinator, offsetCommit, staticTopics } from './test-support.js';

async function setup() {
  const topics = staticTopics([
    { name: 'orders', partitionCount: 4 },
    { name: 'payments', partitionCount: 2 },
    { name: '__consumer_offsets', partitionCount: 4, internal: true },
  ]);
  let uuid = 0;
  const { clock, coordinator } = await memoryCoordinator({
    topics,
    config: { offsetsTopicPartitionCount: 4 },
    randomUuid: () => `00000000-0000-4000-8000-${String(++uuid).padStart(12, '0')}`,
  });
  const orders = topics.get('orders')!.topicId;
  return { clock, coordinator, topics, orders };
}

function heartbeat(overrides: Partial<ConsumerGroupHeartbeatInput>): ConsumerGroupHeartbeatInput {
  return {
    apiVersion: 1,
    groupId: 'g',
    memberId: '',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...overrides,
  };
}

const join = (overrides: Partial<ConsumerGroupHeartbeatInput> = {}) =>
  heartbeat({
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ['orders'],
    topicPartitions: [],
    ...overrides,
  });

function count(partitions: HeartbeatTopicPartitions[] | undefined): number {
  return (partitions ?? []).reduce((sum, topic) => sum + topic.partitions.length, 0);
}

describe('KIP-848 consumer group protocol', () => {
  it('assigns every partition to the first member at epoch 1', async () => {
    const h = await setup();
    const result = await h.coordinator.consumerGroupHeartbeat(join());
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.equal(result.memberId?.length, 22, 'a base64url uuid, like Kafka');
    assert.equal(result.memberEpoch, 1);
    assert.equal(result.heartbeatIntervalMs, 5000);
    assert.deepEqual(result.assignment?.topicPartitions, [
      { topicId: h.orders, partitions: [0, 1, 2, 3] },
    ]);
    const [described] = h.coordinator.consumerGroupDescribe(['g']);
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.groupEpoch, 1);
    assert.equal(described.assignorName, 'uniform');
    assert.equal(described.members[0].assignment.topicPartitions[0].topicName, 'orders');
    assert.deepEqual(h.coordinator.listGroups({ states: [], types: ['consumer'] }).groups, [
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);
  });

  it('moves a partition to a new member only after its owner revoked it', async () => {
    const h = await setup();
    const a = await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-a' }));
    assert.equal(a.memberEpoch, 1);
    const b = await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-b' }));
    assert.equal(b.memberEpoch, 2);
    assert.equal(count(b.assignment?.topicPartitions), 0, 'its partitions are still owned by a');
    assert.equal(h.coordinator.consumerGroupDescribe(['g'])[0].groupState, 'Reconciling');
    // a is asked to revoke two partitions and stays at epoch 1 until it has.
    const revoke = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: 1 }),
    );
    assert.equal(revoke.memberEpoch, 1);
    assert.equal(count(revoke.assignment?.topicPartitions), 2);
    const stillB = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-b', memberEpoch: 2 }),
    );
    assert.equal(stillB.assignment, null, 'nothing released yet: no new assignment');
    const acked = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({
        memberId: 'member-a',
        memberEpoch: 1,
        topicPartitions: revoke.assignment!.topicPartitions,
      }),
    );
    assert.equal(acked.memberEpoch, 2);
    const gained = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-b', memberEpoch: 2 }),
    );
    assert.equal(count(gained.assignment?.topicPartitions), 2);
    const owned = new Set([
      ...revoke.assignment!.topicPartitions[0].partitions,
      ...gained.assignment!.topicPartitions[0].partitions,
    ]);
    assert.equal(owned.size, 4, 'disjoint and complete');
    assert.equal(h.coordinator.consumerGroupDescribe(['g'])[0].groupState, 'Stable');
  });

  it('fences stale and unknown members', async () => {
    const h = await setup();
    const a = await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-a' }));
    const fenced = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: 7 }),
    );
    assert.equal(fenced.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const unknown = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'nobody', memberEpoch: 1 }),
    );
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const unknownGroup = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ groupId: 'other', memberId: 'x', memberEpoch: 3 }),
    );
    assert.equal(unknownGroup.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    // A lost response: the previous epoch with a subset of the assignment is accepted.
    await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-b' }));
    const revoke = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: a.memberEpoch }),
    );
    const acked = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({
        memberId: 'member-a',
        memberEpoch: 1,
        topicPartitions: revoke.assignment!.topicPartitions,
      }),
    );
    assert.equal(acked.memberEpoch, 2);
    const retried = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({
        memberId: 'member-a',
        memberEpoch: 1,
        topicPartitions: revoke.assignment!.topicPartitions,
      }),
    );
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.equal(retried.memberEpoch, 2);
  });

  it('validates requests like Kafka', async () => {
    const h = await setup();
    const noTimeout = await h.coordinator.consumerGroupHeartbeat(join({ rebalanceTimeoutMs: -1 }));
    assert.equal(noTimeout.errorCode, ErrorCode.INVALID_REQUEST);
    const noSubscription = await h.coordinator.consumerGroupHeartbeat(
      join({ subscribedTopicNames: null }),
    );
    assert.equal(noSubscription.errorCode, ErrorCode.INVALID_REQUEST);
    const assignor = await h.coordinator.consumerGroupHeartbeat(join({ serverAssignor: 'sticky' }));
    assert.equal(assignor.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    const regex = await h.coordinator.consumerGroupHeartbeat(
      join({ subscribedTopicNames: null, subscribedTopicRegex: '(' }),
    );
    assert.equal(regex.errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION);
    const emptyGroup = await h.coordinator.consumerGroupHeartbeat(join({ groupId: '' }));
    assert.equal(emptyGroup.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('rebalances the partitions of a member that leaves, times out, or never revokes', async () => {
    const h = await setup();
    await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-a' }));
    await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-b' }));
    const left = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-b', memberEpoch: -1 }),
    );
    assert.equal(left.memberEpoch, -1);
    const back = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: 1 }),
    );
    assert.equal(back.memberEpoch, 3);
    assert.equal(back.assignment, null, 'a still owns everything: no change to send');
    // c joins; a never revokes: after its rebalance timeout it is fenced.
    await h.coordinator.consumerGroupHeartbeat(
      join({ memberId: 'member-c', rebalanceTimeoutMs: 60_000 }),
    );
    const told = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: 3 }),
    );
    assert.equal(count(told.assignment?.topicPartitions), 2);
    let epochC = 4;
    let assignedC = 0;
    for (let elapsed = 5_000; elapsed <= 35_000; elapsed += 5_000) {
      h.clock.advance(5_000);
      const result = await h.coordinator.consumerGroupHeartbeat(
        heartbeat({ memberId: 'member-c', memberEpoch: epochC }),
      );
      assert.equal(result.errorCode, ErrorCode.NONE);
      epochC = result.memberEpoch;
      if (result.assignment !== null) assignedC = count(result.assignment.topicPartitions);
      if (elapsed < 30_000) assert.equal(assignedC, 0, 'a still owns them');
    }
    const gone = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'member-a', memberEpoch: 3 }),
    );
    assert.equal(gone.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(epochC, 5);
    assert.equal(assignedC, 4);
    // c stops heartbeating: its session expires.
    h.clock.advance(45_001);
    assert.equal(h.coordinator.consumerGroupDescribe(['g'])[0].members.length, 0);
    assert.equal(h.coordinator.consumerGroupDescribe(['g'])[0].groupState, 'Empty');
  });

  it('lets a static member leave with epoch -2 and come back with its assignment', async () => {
    const h = await setup();
    const a = await h.coordinator.consumerGroupHeartbeat(
      join({ memberId: 'a1', instanceId: 'instance-a' }),
    );
    const duplicate = await h.coordinator.consumerGroupHeartbeat(
      join({ memberId: 'a2', instanceId: 'instance-a' }),
    );
    assert.equal(duplicate.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
    const left = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: 'a1', memberEpoch: -2, instanceId: 'instance-a' }),
    );
    assert.equal(left.memberEpoch, -2);
    const groupEpoch = h.coordinator.consumerGroupDescribe(['g'])[0].groupEpoch;
    const back = await h.coordinator.consumerGroupHeartbeat(
      join({ memberId: 'a2', instanceId: 'instance-a' }),
    );
    assert.equal(back.errorCode, ErrorCode.NONE);
    assert.equal(back.memberId, 'a2');
    assert.equal(back.memberEpoch, a.memberEpoch);
    assert.deepEqual(back.assignment, a.assignment);
    assert.equal(
      h.coordinator.consumerGroupDescribe(['g'])[0].groupEpoch,
      groupEpoch,
      'no rebalance',
    );
  });

  it('subscribes by regex and follows new topics', async () => {
    const h = await setup();
    const result = await h.coordinator.consumerGroupHeartbeat(
      join({ subscribedTopicNames: null, subscribedTopicRegex: 'pay.*|ord.*' }),
    );
    assert.equal(count(result.assignment?.topicPartitions), 6, 'orders + payments');
    h.topics.add('payouts', 3);
    const grown = await h.coordinator.consumerGroupHeartbeat(
      heartbeat({ memberId: result.memberId!, memberEpoch: result.memberEpoch }),
    );
    assert.equal(grown.memberEpoch, result.memberEpoch + 1);
    assert.equal(count(grown.assignment?.topicPartitions), 9);
  });

  it('resolves a regex against internal topics too, as Kafka does', async () => {
    const h = await setup();
    const result = await h.coordinator.consumerGroupHeartbeat(
      join({ subscribedTopicNames: null, subscribedTopicRegex: '__consumer_offsets|pay.*' }),
    );
    const assigned = new Map(
      (result.assignment?.topicPartitions ?? []).map((entry) => [
        entry.topicId,
        [...entry.partitions].sort(),
      ]),
    );
    assert.deepEqual(
      assigned,
      new Map([
        [h.topics.get('__consumer_offsets')!.topicId, [0, 1, 2, 3]],
        [h.topics.get('payments')!.topicId, [0, 1]],
      ]),
    );
  });

  it('validates offset commits and fetches against member epochs', async () => {
    const h = await setup();
    const a = await h.coordinator.consumerGroupHeartbeat(join({ memberId: 'member-a' }));
    const commit = (memberEpoch: number, apiVersion = 9, memberId = 'member-a') =>
      h.coordinator.commitOffsets(
        offsetCommit('g', [{ topic: 'orders', partition: 0, offset: 3n }], {
          apiVersion,
          generationIdOrMemberEpoch: memberEpoch,
          memberId,
        }),
      );
    assert.equal((await commit(a.memberEpoch))[0].partitions[0].errorCode, ErrorCode.NONE);
    assert.equal(
      (await commit(a.memberEpoch + 1))[0].partitions[0].errorCode,
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    assert.equal(
      (await commit(a.memberEpoch + 1, 8))[0].partitions[0].errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await commit(-1, 9, ''))[0].partitions[0].errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
      'admin commits need an empty group',
    );
    const stale = h.coordinator.fetchOffsets(
      { groupId: 'g', memberId: 'member-a', memberEpoch: 9, topics: null },
      { requireStable: true },
    );
    assert.equal(stale.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const fetched = h.coordinator.fetchOffsets(
      { groupId: 'g', memberId: 'member-a', memberEpoch: a.memberEpoch, topics: null },
      { requireStable: true },
    );
    assert.equal(fetched.topics[0].partitions[0].committedOffset, 3n);
    // The classic protocol cannot join a consumer group; DescribeGroups shows it as Dead.
    const classic = await h.coordinator.joinGroup('g', {
      apiVersion: 5,
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    assert.equal(classic.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal(h.coordinator.describeGroups(['g'])[0].groupState, 'Dead');
    const [notConsumer] = h.coordinator.consumerGroupDescribe(['missing']);
    assert.equal(notConsumer.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    // OffsetDelete: subscribed topics are protected.
    const deleted = await h.coordinator.deleteOffsets('g', [{ name: 'orders', partitions: [0] }]);
    assert.equal(deleted.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    assert.deepEqual(await h.coordinator.deleteGroups(['g']), [
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
    ]);
  });

  it('converts an empty classic group with offsets into a consumer group', async () => {
    const h = await setup();
    await h.coordinator.commitOffsets(
      offsetCommit('g', [{ topic: 'orders', partition: 1, offset: 11n }], { apiVersion: 2 }),
    );
    const joined = await h.coordinator.consumerGroupHeartbeat(join());
    assert.equal(joined.errorCode, ErrorCode.NONE);
    const fetched = h.coordinator.fetchOffsets(
      {
        groupId: 'g',
        memberId: null,
        memberEpoch: -1,
        topics: [{ name: 'orders', partitionIndexes: [1] }],
      },
      { requireStable: false },
    );
    assert.equal(fetched.topics[0].partitions[0].committedOffset, 11n);
  });
});

describe('server-side assignors', () => {
  const topicA = 'topic-a';
  const topicB = 'topic-b';
  const member = (memberId: string, topics: string[], previous: Assignment = new Map()) => ({
    memberId,
    subscribedTopicIds: new Set(topics),
    previousAssignment: previous,
  });

  it('uniform: balanced, complete, and sticky', () => {
    const partitionCounts = new Map([
      [topicA, 5],
      [topicB, 2],
    ]);
    const first = uniformAssignor.assign({
      members: [member('m1', [topicA, topicB]), member('m2', [topicA, topicB])],
      partitionCounts,
    });
    const sizes = [...first.values()].map(assignmentSize).sort();
    assert.deepEqual(sizes, [3, 4]);
    const second = uniformAssignor.assign({
      members: [
        member('m1', [topicA, topicB], first.get('m1')),
        member('m2', [topicA, topicB], first.get('m2')),
        member('m3', [topicA, topicB]),
      ],
      partitionCounts,
    });
    assert.deepEqual([...second.values()].map(assignmentSize).sort(), [2, 2, 3]);
    // Sticky: m1 and m2 only lose partitions, never trade them.
    for (const id of ['m1', 'm2']) {
      for (const [topicId, partitions] of second.get(id)!) {
        for (const partition of partitions) assert.ok(first.get(id)!.get(topicId)?.has(partition));
      }
    }
    // Heterogeneous: only subscribers get a topic.
    const mixed = uniformAssignor.assign({
      members: [member('m1', [topicA]), member('m2', [topicB])],
      partitionCounts,
    });
    assert.deepEqual([...mixed.get('m2')!.keys()], [topicB]);
    assert.equal(assignmentSize(mixed.get('m1')!), 5);
  });

  it('range: consecutive ranges per topic in member id order', () => {
    const result = rangeAssignor.assign({
      members: [member('b', [topicA]), member('a', [topicA])],
      partitionCounts: new Map([[topicA, 5]]),
    });
    assert.deepEqual([...result.get('a')!.get(topicA)!], [0, 1, 2]);
    assert.deepEqual([...result.get('b')!.get(topicA)!], [3, 4]);
  });
});
