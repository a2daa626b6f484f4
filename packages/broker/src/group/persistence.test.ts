import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { FileLogManager } from '@gregor/storage';
import { createJsonLogger } from '../logging/logger.js';
import { replicaManagerOver } from '../testing/replicas.js';
import {
  decodeConsumerCurrentAssignmentValue,
  decodeConsumerMemberMetadataValue,
  decodeConsumerTargetEpochValue,
  decodeConsumerTargetMemberValue,
  encodeConsumerCurrentAssignmentValue,
  encodeConsumerMemberMetadataValue,
  encodeConsumerTargetEpochValue,
  encodeConsumerTargetMemberValue,
} from './consumer-group-records.js';
import { GroupCoordinator } from './coordinator.js';
import { javaStringHashCode, offsetsPartitionFor } from './hash.js';
import { offsetsTopicStorage } from './offsets-storage.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeConsumerMemberKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './records.js';
import {
  consumerHeartbeatInput,
  driveClock,
  dynamicHeartbeat,
  ManualClock,
  offsetCommit,
  settle,
  staticTopics,
  subscriptionMetadata,
} from './test-support.js';
import { offsetsTopicName } from './types.js';

const topics = staticTopics([{ name: 'orders', partitionCount: 4 }]);

async function openCoordinator(directory: string, clock: ManualClock) {
  const logs = await FileLogManager.open({
    logDirs: [directory],
    clock,
    retentionCheckIntervalMs: 0,
    cleanerIntervalMs: 0,
    checkpointIntervalMs: 0,
  });
  let uuid = 0;
  const coordinator = new GroupCoordinator({
    clock,
    logger: createJsonLogger({ level: 'off' }),
    storage: offsetsTopicStorage({ replicas: replicaManagerOver(logs, clock) }),
    topics,
    config: { initialRebalanceDelayMs: 100, offsetsTopicPartitionCount: 5 },
    randomUuid: () => `run-${clock.wallMs()}-${++uuid}`,
  });
  await coordinator.start();
  return { logs, coordinator };
}

function commitInput(groupId: string, generation: number, memberId: string, offset: bigint) {
  return offsetCommit(
    groupId,
    [0, 1].map((partition) => ({
      topic: 'orders',
      partition,
      offset: offset + BigInt(partition),
      leaderEpoch: 7,
      metadata: `m${partition}`,
    })),
    { generationIdOrMemberEpoch: generation, memberId },
  );
}

describe('__consumer_offsets placement and record formats', () => {
  it('places groups like Kafka: abs(String.hashCode) % partitions', () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('hello'), 99162322);
    // Java's famous String whose hashCode is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0.
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
    assert.equal(offsetsPartitionFor('hello', 50), 99162322 % 50);
    // Negative hashes use the absolute value (UTF-16 code units, as Java).
    const hash = javaStringHashCode('group-ü-€');
    assert.equal(offsetsPartitionFor('group-ü-€', 7), Math.abs(hash) % 7);
  });

  it('round-trips keys and values, and reads the older value versions', () => {
    const offsetKey = decodeOffsetsTopicKey(
      encodeOffsetCommitKey({ group: 'g', topic: 't', partition: 3 }),
    );
    assert.deepEqual(offsetKey, { type: 'offset', group: 'g', topic: 't', partition: 3 });
    assert.deepEqual(decodeOffsetsTopicKey(encodeGroupMetadataKey('g')), {
      type: 'group',
      group: 'g',
    });
    const current = {
      offset: 5n,
      leaderEpoch: 2,
      metadata: 'x',
      commitTimestampMs: 9n,
      expireTimestampMs: null,
    };
    const encoded = encodeOffsetCommitValue(current);
    assert.equal(encoded.readInt16BE(0), 3, 'OffsetCommitValue v3');
    assert.deepEqual(decodeOffsetCommitValue(encoded), current);
    const withExpiry = { ...current, leaderEpoch: -1, expireTimestampMs: 99n };
    const v1 = encodeOffsetCommitValue(withExpiry);
    assert.equal(v1.readInt16BE(0), 1, 'an explicit expiry needs v1');
    assert.deepEqual(decodeOffsetCommitValue(v1), withExpiry);
    // v0: offset, metadata, commit timestamp.
    const v0 = Buffer.concat([
      Buffer.from([0, 0]),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 42]),
      Buffer.from([0, 2, 0x68, 0x69]),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]),
    ]);
    assert.deepEqual(decodeOffsetCommitValue(v0), {
      offset: 42n,
      leaderEpoch: -1,
      metadata: 'hi',
      commitTimestampMs: 7n,
      expireTimestampMs: null,
    });
    const group = {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestampMs: 123n,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c',
          clientHost: '/h',
          rebalanceTimeoutMs: 300,
          sessionTimeoutMs: 100,
          subscription: Buffer.from('s'),
          assignment: Buffer.from('a'),
        },
      ],
    };
    const groupValue = encodeGroupMetadataValue(group);
    assert.equal(groupValue.readInt16BE(0), 3, 'GroupMetadataValue v3');
    assert.deepEqual(decodeGroupMetadataValue(groupValue), group);
    assert.throws(() => decodeGroupMetadataValue(Buffer.from([0, 3, 0xff, 0xff])));
  });
});

describe('KIP-848 record values', () => {
  it('round-trip member metadata, target and current assignments', () => {
    const metadata = {
      instanceId: 'i',
      rackId: null,
      clientId: 'client',
      clientHost: '/h',
      subscribedTopicNames: ['a', 'b'],
      subscribedTopicRegex: 'c.*',
      rebalanceTimeoutMs: 300_000,
      serverAssignor: 'range',
    };
    assert.deepEqual(
      decodeConsumerMemberMetadataValue(encodeConsumerMemberMetadataValue(metadata)),
      metadata,
    );
    const topicId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const assignment = new Map([[topicId, new Set([0, 2])]]);
    assert.deepEqual(
      decodeConsumerTargetMemberValue(encodeConsumerTargetMemberValue(assignment)),
      assignment,
    );
    assert.equal(decodeConsumerTargetEpochValue(encodeConsumerTargetEpochValue(7)), 7);
    const current = {
      memberEpoch: 5,
      previousMemberEpoch: 4,
      state: 2,
      assigned: assignment,
      pendingRevocation: new Map([[topicId, new Set([1])]]),
    };
    assert.deepEqual(
      decodeConsumerCurrentAssignmentValue(encodeConsumerCurrentAssignmentValue(current)),
      current,
    );
    assert.deepEqual(
      decodeOffsetsTopicKey(
        encodeConsumerMemberKey({ type: 'consumer-current-member', group: 'g', memberId: 'm' }),
      ),
      { type: 'consumer-current-member', group: 'g', memberId: 'm' },
    );
    // A hostile array length is refused before anything is allocated.
    assert.throws(() =>
      decodeConsumerTargetMemberValue(Buffer.from([0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f])),
    );
  });
});

describe('group coordinator persistence', () => {
  it('reloads groups and offsets from a real file log after a restart', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-group-'));
    try {
      const clock = new ManualClock();
      const first = await openCoordinator(directory, clock);
      const c1 = first.coordinator;
      // A stable group with a static and a dynamic member.
      const joinOptions = {
        apiVersion: 5,
        clientId: 'app',
        clientHost: '/10.0.0.1',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 20_000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscriptionMetadata(['orders']) }],
      };
      const a = c1.joinGroup('g', { ...joinOptions, memberId: '', groupInstanceId: 'static-a' });
      const b = c1.joinGroup('g', {
        ...joinOptions,
        apiVersion: 3,
        memberId: '',
        groupInstanceId: null,
      });
      clock.advance(200); // the initial delay, extended once because b arrived during it
      const [joinA, joinB] = await Promise.all([a, b]);
      assert.equal(joinA.generationId, 1);
      const leader = joinA.leader;
      const syncs = [joinA, joinB].map((join) =>
        c1.syncGroup('g', {
          memberId: join.memberId,
          groupInstanceId: join === joinA ? 'static-a' : null,
          generationId: 1,
          protocolType: 'consumer',
          protocolName: 'range',
          assignments:
            join.memberId === leader
              ? [
                  { memberId: joinA.memberId, assignment: Buffer.from('A') },
                  { memberId: joinB.memberId, assignment: Buffer.from('B') },
                ]
              : [],
        }),
      );
      await Promise.all(syncs);
      const committed = await c1.commitOffsets(commitInput('g', 1, joinA.memberId, 100n));
      assert.equal(committed[0].partitions[0].errorCode, ErrorCode.NONE);
      // Later commits win; a deleted group and a deleted offset stay deleted.
      await c1.commitOffsets(commitInput('g', 1, joinB.memberId, 200n));
      await c1.commitOffsets(commitInput('gone', -1, '', 1n));
      assert.deepEqual(await c1.deleteGroups(['gone']), [
        { groupId: 'gone', errorCode: ErrorCode.NONE },
      ]);
      await c1.commitOffsets(commitInput('standalone', -1, '', 50n));
      await c1.deleteOffsets('standalone', [{ name: 'orders', partitions: [1] }]);
      const partition = offsetsPartitionFor('g', 5);
      assert.ok(first.logs.getLog(offsetsTopicName, partition)!.logEndOffset > 0n);
      await c1.stop();
      await first.logs.close();

      clock.advance(1_000);
      const second = await openCoordinator(directory, clock);
      const c2 = second.coordinator;
      const [described] = c2.describeGroups(['g']);
      assert.equal(described.groupState, 'Stable');
      assert.deepEqual(
        described.members
          .map((member) => [
            member.memberId,
            member.groupInstanceId,
            member.memberAssignment.toString(),
          ])
          .sort(),
        [
          [joinA.memberId, 'static-a', 'A'],
          [joinB.memberId, null, 'B'],
        ].sort(),
      );
      assert.equal(described.members[0].clientHost, '/10.0.0.1');
      const fetched = c2.fetchOffsets(
        { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
        { requireStable: false },
      );
      assert.deepEqual(
        fetched.topics[0].partitions.map((p) => [
          p.partitionIndex,
          p.committedOffset,
          p.committedLeaderEpoch,
          p.metadata,
        ]),
        [
          [0, 200n, 7, 'm0'],
          [1, 201n, 7, 'm1'],
        ],
      );
      assert.equal(c2.group('gone'), undefined);
      const standalone = c2.fetchOffsets(
        { groupId: 'standalone', memberId: null, memberEpoch: -1, topics: null },
        { requireStable: false },
      );
      assert.deepEqual(
        standalone.topics[0].partitions.map((p) => p.partitionIndex),
        [0],
      );
      // The reloaded members keep their generation: a heartbeat works without rejoining.
      assert.equal(
        dynamicHeartbeat(c2, 'g', { memberId: joinB.memberId, generationId: 1 }),
        ErrorCode.NONE,
      );
      // Members that never come back expire, and the emptied group is persisted again.
      clock.advance(10_001);
      await settle();
      assert.equal(c2.describeGroups(['g'])[0].groupState, 'Empty');
      await c2.stop();
      await second.logs.close();

      const third = await openCoordinator(directory, clock);
      const [reloaded] = third.coordinator.describeGroups(['g']);
      assert.equal(reloaded.groupState, 'Empty');
      assert.equal(reloaded.members.length, 0);
      await third.coordinator.stop();
      await third.logs.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('keeps a KIP-848 group, its members and assignments across a restart', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-group-'));
    try {
      const clock = new ManualClock();
      const first = await openCoordinator(directory, clock);
      const heartbeat = (memberId: string, memberEpoch: number) =>
        consumerHeartbeatInput({ groupId: 'kip848', instanceId: null }, memberId, memberEpoch);
      assert.equal(
        (await first.coordinator.consumerGroupHeartbeat(heartbeat('a', 0))).memberEpoch,
        1,
      );
      assert.equal(
        (await first.coordinator.consumerGroupHeartbeat(heartbeat('b', 0))).memberEpoch,
        2,
      );
      await first.coordinator.commitOffsets({
        ...commitInput('kip848', 2, 'b', 0n),
        apiVersion: 9,
      });
      await first.coordinator.stop();
      await first.logs.close();

      const second = await openCoordinator(directory, clock);
      const c2 = second.coordinator;
      // The members, their epochs and assignments are back: reconciliation goes on.
      assert.deepEqual(c2.listGroups({ states: [], types: [] }).groups, [
        {
          groupId: 'kip848',
          protocolType: 'consumer',
          groupState: 'Reconciling',
          groupType: 'consumer',
        },
      ]);
      const revoke = await c2.consumerGroupHeartbeat(heartbeat('a', 1));
      assert.equal(revoke.errorCode, ErrorCode.NONE);
      assert.equal(revoke.memberEpoch, 1);
      const kept = revoke.assignment?.topicPartitions ?? [];
      assert.equal(kept[0]?.partitions.length, 2, 'a still has to give two partitions to b');
      const acked = await c2.consumerGroupHeartbeat({
        ...heartbeat('a', 1),
        topicPartitions: kept,
      });
      assert.equal(acked.memberEpoch, 2);
      const gained = await c2.consumerGroupHeartbeat(heartbeat('b', 2));
      assert.equal(gained.assignment?.topicPartitions[0]?.partitions.length, 2);
      assert.equal(c2.consumerGroupDescribe(['kip848'])[0].groupState, 'Stable');
      const fenced = await c2.consumerGroupHeartbeat(heartbeat('z', 1));
      assert.equal(fenced.errorCode, ErrorCode.FENCED_MEMBER_EPOCH, 'an unknown pre-restart epoch');
      const unknown = await c2.consumerGroupHeartbeat(heartbeat('z', 9));
      assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
      await c2.consumerGroupHeartbeat(heartbeat('b', -1));
      // Empty again, a classic consumer may take the group over; its offsets stay.
      await c2.consumerGroupHeartbeat(heartbeat('a', -1));
      const classicJoin = c2.joinGroup('kip848', {
        apiVersion: 3,
        memberId: '',
        groupInstanceId: null,
        clientId: 'c',
        clientHost: '/h',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscriptionMetadata(['orders']) }],
      });
      // Past group.initial.rebalance.delay.ms of the new classic group.
      const classic = await driveClock(classicJoin, clock, { stepMs: 50, stepsMax: 100 });
      assert.equal(classic.errorCode, ErrorCode.NONE);
      const fetched = c2.fetchOffsets(
        { groupId: 'kip848', memberId: null, memberEpoch: -1, topics: null },
        { requireStable: false },
      );
      assert.equal(fetched.topics[0].partitions[0].committedOffset, 0n);
      await c2.stop();
      await second.logs.close();

      const third = await openCoordinator(directory, clock);
      const [listed] = third.coordinator.listGroups({ states: [], types: [] }).groups;
      assert.equal(listed.groupType, 'classic', 'the conversion is durable');
      await third.coordinator.stop();
      await third.logs.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('lets a static KIP-848 member that left with -2 come back after a restart', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-group-'));
    try {
      const clock = new ManualClock();
      const heartbeat = (memberId: string, memberEpoch: number) =>
        consumerHeartbeatInput(
          { groupId: 'static848', instanceId: 'instance-1' },
          memberId,
          memberEpoch,
        );
      const first = await openCoordinator(directory, clock);
      const joined = await first.coordinator.consumerGroupHeartbeat(heartbeat('old', 0));
      const left = await first.coordinator.consumerGroupHeartbeat(heartbeat('old', -2));
      assert.equal(left.memberEpoch, -2);
      await first.coordinator.stop();
      await first.logs.close();
      const second = await openCoordinator(directory, clock);
      const back = await second.coordinator.consumerGroupHeartbeat(heartbeat('new', 0));
      assert.equal(back.errorCode, ErrorCode.NONE);
      assert.equal(back.memberEpoch, joined.memberEpoch, 'takes over epoch and assignment');
      assert.deepEqual(back.assignment, joined.assignment);
      await second.coordinator.stop();
      await second.logs.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
