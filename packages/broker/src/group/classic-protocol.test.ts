import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { MemoryLogManager } from '@gregor/storage';
import { createJsonLogger } from '../logging/logger.js';
import { replicaManagerOver } from '../testing/replicas.js';
import type { JoinGroupInput } from './classic-protocol.js';
import { GroupCoordinator } from './coordinator.js';
import { offsetsTopicStorage } from './offsets-storage.js';
import {
  dynamicHeartbeat,
  ManualClock,
  memoryCoordinator,
  offsetCommit,
  settle,
  staticTopics,
  subscriptionMetadata,
  track,
} from './test-support.js';
import type { GroupCoordinatorConfig } from './types.js';

async function setup(config: Partial<GroupCoordinatorConfig> = {}) {
  let uuid = 0;
  const topics = staticTopics([
    { name: 'orders', partitionCount: 3 },
    { name: 'payments', partitionCount: 2 },
  ]);
  const started = await memoryCoordinator({
    topics,
    config: { initialRebalanceDelayMs: 0, offsetsTopicPartitionCount: 4, ...config },
    randomUuid: () => `uuid-${++uuid}`,
  });
  return { ...started, topics };
}

function joinInput(overrides: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    apiVersion: 5,
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscriptionMetadata(['orders']) }],
    ...overrides,
  };
}

type Harness = Awaited<ReturnType<typeof setup>>;

/** Joins one dynamic member through KIP-394 and syncs it; returns its id and generation. */
async function joinAndSync(h: Harness, groupId: string, clientId = 'client') {
  const first = await h.coordinator.joinGroup(groupId, joinInput({ apiVersion: 9, clientId }));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const join = await h.coordinator.joinGroup(
    groupId,
    joinInput({ apiVersion: 9, clientId, memberId: first.memberId }),
  );
  assert.equal(join.errorCode, ErrorCode.NONE);
  const sync = await h.coordinator.syncGroup(groupId, {
    memberId: join.memberId,
    groupInstanceId: null,
    generationId: join.generationId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: join.memberId, assignment: Buffer.from('all') }],
  });
  assert.equal(sync.errorCode, ErrorCode.NONE);
  return { memberId: join.memberId, generationId: join.generationId };
}

/**
 * A second dynamic member gets its id (KIP-394) and sends the JoinGroup that starts a rebalance;
 * returns its id and the tracked, still pending join.
 */
async function startSecondJoin(h: Harness, groupId: string, clientId: string) {
  const pendingId = (await h.coordinator.joinGroup(groupId, joinInput({ apiVersion: 9, clientId })))
    .memberId;
  const join = track(
    h.coordinator.joinGroup(groupId, joinInput({ apiVersion: 9, clientId, memberId: pendingId })),
  );
  return { pendingId, join };
}

describe('classic group protocol', () => {
  it('hands out a member id first (KIP-394), then completes join and sync', async () => {
    const h = await setup();
    const first = await h.coordinator.joinGroup('g', joinInput({ apiVersion: 4 }));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.equal(first.memberId, 'client-uuid-1');
    const join = await h.coordinator.joinGroup('g', joinInput({ memberId: first.memberId }));
    assert.equal(join.errorCode, ErrorCode.NONE);
    assert.equal(join.generationId, 1);
    assert.equal(join.leader, first.memberId);
    assert.equal(join.protocolName, 'range');
    assert.deepEqual(
      join.members.map((member) => member.memberId),
      [first.memberId],
    );
    const sync = await h.coordinator.syncGroup('g', {
      memberId: join.memberId,
      groupInstanceId: null,
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: join.memberId, assignment: Buffer.from('a') }],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.equal(sync.assignment.toString(), 'a');
    const [described] = h.coordinator.describeGroups(['g']);
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.protocolData, 'range');
    assert.equal(described.members[0].memberAssignment.toString(), 'a');
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: join.memberId, generationId: 1 }),
      ErrorCode.NONE,
    );
  });

  it('old JoinGroup versions join directly without MEMBER_ID_REQUIRED', async () => {
    const h = await setup();
    const join = await h.coordinator.joinGroup('g', joinInput({ apiVersion: 3 }));
    assert.equal(join.errorCode, ErrorCode.NONE);
    assert.equal(join.memberId, 'client-uuid-1');
    assert.equal(join.generationId, 1);
  });

  it('rebalances when a second member joins and fences the old generation', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g', 'a');
    const { pendingId, join: joinB } = await startSecondJoin(h, 'g', 'b');
    await settle();
    assert.equal(joinB.done(), false, 'waits for the existing member to rejoin');
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 1 }),
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    const joinA = await h.coordinator.joinGroup(
      'g',
      joinInput({ apiVersion: 9, clientId: 'a', memberId: a.memberId }),
    );
    await settle();
    assert.equal(joinB.done(), true);
    assert.equal(joinA.generationId, 2);
    assert.equal(joinA.leader, a.memberId, 'the rejoined leader stays leader');
    assert.equal(joinA.members.length, 2);
    assert.equal(joinB.value().members.length, 0, 'followers get no member list');
    // Follower syncs first and waits for the leader's assignment.
    const syncB = track(
      h.coordinator.syncGroup('g', {
        memberId: pendingId,
        groupInstanceId: null,
        generationId: 2,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    await settle();
    assert.equal(syncB.done(), false);
    // The old generation is fenced.
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 1 }),
      ErrorCode.ILLEGAL_GENERATION,
    );
    const syncA = await h.coordinator.syncGroup('g', {
      memberId: a.memberId,
      groupInstanceId: null,
      generationId: 2,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: a.memberId, assignment: Buffer.from('for-a') },
        { memberId: pendingId, assignment: Buffer.from('for-b') },
      ],
    });
    await settle();
    assert.equal(syncA.assignment.toString(), 'for-a');
    assert.equal(syncB.value().errorCode, ErrorCode.NONE);
    assert.equal(syncB.value().assignment.toString(), 'for-b');
  });

  it('removes a member whose session expires and rebalances the rest', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g', 'a');
    h.clock.advance(9_000);
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 1 }),
      ErrorCode.NONE,
    );
    h.clock.advance(9_000);
    assert.equal(h.coordinator.describeGroups(['g'])[0].members.length, 1, 'heartbeat kept it');
    h.clock.advance(10_001);
    await settle();
    const [described] = h.coordinator.describeGroups(['g']);
    assert.equal(described.members.length, 0);
    assert.equal(described.groupState, 'Empty');
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 2 }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('evicts members that do not rejoin within the rebalance timeout (max.poll.interval.ms)', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g', 'a');
    // Keep a's session alive with heartbeats but never rejoin: it is stuck in poll().
    const { pendingId, join: joinB } = await startSecondJoin(h, 'g', 'b');
    for (let elapsed = 0; elapsed < 30_000; elapsed += 5_000) {
      h.clock.advance(5_000);
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 1 });
    }
    h.clock.advance(1);
    await settle();
    assert.equal(joinB.done(), true);
    assert.equal(joinB.value().errorCode, ErrorCode.NONE);
    assert.equal(joinB.value().generationId, 2);
    assert.equal(joinB.value().leader, pendingId);
    assert.deepEqual(
      joinB.value().members.map((member) => member.memberId),
      [pendingId],
    );
    assert.equal(
      dynamicHeartbeat(h.coordinator, 'g', { memberId: a.memberId, generationId: 2 }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('removes members that never send SyncGroup (pending sync timeout)', async () => {
    const h = await setup();
    const first = await h.coordinator.joinGroup('g', joinInput({ apiVersion: 9 }));
    const join = await h.coordinator.joinGroup(
      'g',
      joinInput({ apiVersion: 9, memberId: first.memberId }),
    );
    assert.equal(join.errorCode, ErrorCode.NONE);
    h.clock.advance(30_001);
    await settle();
    const [described] = h.coordinator.describeGroups(['g']);
    assert.equal(described.members.length, 0);
  });

  it('rejects session timeouts outside the broker bounds', async () => {
    const h = await setup();
    const low = await h.coordinator.joinGroup('g', joinInput({ sessionTimeoutMs: 5_999 }));
    assert.equal(low.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    const high = await h.coordinator.joinGroup('g', joinInput({ sessionTimeoutMs: 1_800_001 }));
    assert.equal(high.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal(h.coordinator.listGroups({ states: [], types: [] }).groups.length, 0);
  });

  it('rejects an empty group id and unknown members of unknown groups', async () => {
    const h = await setup();
    assert.equal(
      (await h.coordinator.joinGroup('', joinInput())).errorCode,
      ErrorCode.INVALID_GROUP_ID,
    );
    assert.equal(
      (await h.coordinator.joinGroup('nope', joinInput({ memberId: 'ghost' }))).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    const sync = await h.coordinator.syncGroup('nope', {
      memberId: 'ghost',
      groupInstanceId: null,
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(sync.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits group.initial.rebalance.delay.ms for a new group and extends it while members arrive', async () => {
    const h = await setup({ initialRebalanceDelayMs: 3_000 });
    const a = track(h.coordinator.joinGroup('g', joinInput({ apiVersion: 3, clientId: 'a' })));
    h.clock.advance(2_000);
    const b = track(h.coordinator.joinGroup('g', joinInput({ apiVersion: 3, clientId: 'b' })));
    h.clock.advance(1_000);
    await settle();
    assert.equal(a.done(), false, 'a member joined during the delay: it is extended');
    h.clock.advance(3_000);
    await settle();
    assert.equal(a.done(), true);
    assert.equal(b.done(), true);
    assert.equal(a.value().generationId, 1);
    assert.equal(a.value().members.length + b.value().members.length, 2);
  });

  it('selects the protocol every member supports by vote, and rejects incompatible members', async () => {
    const h = await setup({ initialRebalanceDelayMs: 100 });
    const metadata = Buffer.from('m');
    const a = track(
      h.coordinator.joinGroup(
        'g',
        joinInput({
          apiVersion: 3,
          protocols: [
            { name: 'range', metadata },
            { name: 'roundrobin', metadata },
          ],
        }),
      ),
    );
    const b = track(
      h.coordinator.joinGroup(
        'g',
        joinInput({
          apiVersion: 3,
          protocols: [
            { name: 'sticky', metadata },
            { name: 'roundrobin', metadata },
          ],
        }),
      ),
    );
    const c = await h.coordinator.joinGroup(
      'g',
      joinInput({ apiVersion: 3, protocols: [{ name: 'other', metadata }] }),
    );
    assert.equal(c.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const wrongType = await h.coordinator.joinGroup(
      'g',
      joinInput({ apiVersion: 3, protocolType: 'connect' }),
    );
    assert.equal(wrongType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    h.clock.advance(100);
    await settle();
    assert.equal(a.done(), false, 'b joined during the first delay period: extended once');
    h.clock.advance(100);
    await settle();
    assert.equal(a.value().protocolName, 'roundrobin');
    assert.equal(b.value().protocolName, 'roundrobin');
  });

  it('lets a static member rejoin with a new member id without a rebalance (KIP-345)', async () => {
    const h = await setup();
    const join = await h.coordinator.joinGroup('g', joinInput({ groupInstanceId: 'instance-1' }));
    assert.equal(join.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED');
    await h.coordinator.syncGroup('g', {
      memberId: join.memberId,
      groupInstanceId: 'instance-1',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: join.memberId, assignment: Buffer.from('mine') }],
    });
    // The process restarts and rejoins with no member id.
    const rejoin = await h.coordinator.joinGroup(
      'g',
      joinInput({ apiVersion: 9, groupInstanceId: 'instance-1' }),
    );
    assert.equal(rejoin.errorCode, ErrorCode.NONE);
    assert.notEqual(rejoin.memberId, join.memberId);
    assert.equal(rejoin.generationId, 1, 'no new generation');
    assert.equal(rejoin.skipAssignment, true, 'the returning leader must not reassign (KIP-814)');
    assert.equal(h.coordinator.describeGroups(['g'])[0].groupState, 'Stable');
    const sync = await h.coordinator.syncGroup('g', {
      memberId: rejoin.memberId,
      groupInstanceId: 'instance-1',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(sync.assignment.toString(), 'mine', 'keeps its assignment');
    // The old incarnation is fenced.
    assert.equal(
      h.coordinator.heartbeat('g', {
        memberId: join.memberId,
        groupInstanceId: 'instance-1',
        generationId: 1,
      }),
      ErrorCode.FENCED_INSTANCE_ID,
    );
    const fencedJoin = await h.coordinator.joinGroup(
      'g',
      joinInput({ memberId: join.memberId, groupInstanceId: 'instance-1' }),
    );
    assert.equal(fencedJoin.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });

  it('keeps a static member that misses a rebalance until its session expires', async () => {
    const h = await setup();
    const s = await h.coordinator.joinGroup(
      'g',
      joinInput({ groupInstanceId: 'i1', sessionTimeoutMs: 60_000 }),
    );
    await h.coordinator.syncGroup('g', {
      memberId: s.memberId,
      groupInstanceId: 'i1',
      generationId: 1,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    const other = track(h.coordinator.joinGroup('g', joinInput({ apiVersion: 3, clientId: 'd' })));
    h.clock.advance(30_001);
    await settle();
    assert.equal(other.value().errorCode, ErrorCode.NONE);
    assert.equal(other.value().members.length, 2, 'the static member stays in the generation');
    const [described] = h.coordinator.describeGroups(['g']);
    assert.equal(
      described.members.some((member) => member.groupInstanceId === 'i1'),
      true,
    );
  });

  it('removes leaving members one by one and by instance id (LeaveGroup v3+)', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g', 'a');
    const result = h.coordinator.leaveGroup('g', [
      { memberId: a.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
    ]);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.deepEqual(result.memberErrors, [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    await settle();
    assert.equal(h.coordinator.describeGroups(['g'])[0].groupState, 'Empty');

    const s = await h.coordinator.joinGroup('h', joinInput({ groupInstanceId: 'i9' }));
    assert.equal(s.errorCode, ErrorCode.NONE);
    const byInstance = h.coordinator.leaveGroup('h', [{ memberId: '', groupInstanceId: 'i9' }]);
    assert.deepEqual(byInstance.memberErrors, [ErrorCode.NONE]);
    const unknownGroup = h.coordinator.leaveGroup('zzz', [
      { memberId: 'x', groupInstanceId: null },
    ]);
    assert.deepEqual(unknownGroup.memberErrors, [ErrorCode.UNKNOWN_MEMBER_ID]);
  });
});

describe('offsets and group administration', () => {
  it('commits and fetches offsets for a member of the current generation only', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g');
    const commit = (generationId: number, memberId = a.memberId) =>
      h.coordinator.commitOffsets(
        offsetCommit(
          'g',
          [
            { topic: 'orders', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'meta' },
            { topic: 'orders', partition: 7, offset: 1n },
          ],
          { generationIdOrMemberEpoch: generationId, memberId },
        ),
      );
    const ok = await commit(a.generationId);
    assert.deepEqual(
      ok[0].partitions.map((partition) => partition.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.equal((await commit(0))[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal(
      (await commit(1, 'ghost'))[0].partitions[0].errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    const fetched = h.coordinator.fetchOffsets(
      {
        groupId: 'g',
        memberId: null,
        memberEpoch: -1,
        topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
      },
      { requireStable: true },
    );
    assert.equal(fetched.errorCode, ErrorCode.NONE);
    assert.deepEqual(fetched.topics[0].partitions, [
      {
        partitionIndex: 0,
        committedOffset: 42n,
        committedLeaderEpoch: 3,
        metadata: 'meta',
        errorCode: 0,
      },
      {
        partitionIndex: 1,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode: 0,
      },
    ]);
    const all = h.coordinator.fetchOffsets(
      { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
      { requireStable: false },
    );
    assert.deepEqual(
      all.topics.map((topic) => [topic.name, topic.partitions.map((p) => p.committedOffset)]),
      [['orders', [42n]]],
    );
  });

  it('accepts standalone commits (generation -1) and rejects oversized metadata', async () => {
    const h = await setup({ offsetMetadataBytesMax: 8 });
    const result = await h.coordinator.commitOffsets(
      offsetCommit(
        'standalone',
        [
          { topic: 'payments', partition: 0, offset: 5n, metadata: 'short' },
          { topic: 'payments', partition: 1, offset: 6n, metadata: 'far too long' },
        ],
        { apiVersion: 2 },
      ),
    );
    assert.deepEqual(
      result[0].partitions.map((partition) => partition.errorCode),
      [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE],
    );
    const listed = h.coordinator.listGroups({ states: [], types: [] }).groups;
    assert.deepEqual(listed, [
      { groupId: 'standalone', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
    const missing = await h.coordinator.commitOffsets(
      offsetCommit('missing', [{ topic: 'payments', partition: 0, offset: 1n }], {
        generationIdOrMemberEpoch: 3,
        memberId: 'm',
      }),
    );
    assert.equal(missing[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  });

  it('OffsetDelete refuses subscribed topics of an active group and deletes the others', async () => {
    const h = await setup();
    const a = await joinAndSync(h, 'g');
    await h.coordinator.commitOffsets(
      offsetCommit(
        'g',
        [
          { topic: 'orders', partition: 0, offset: 9n },
          { topic: 'payments', partition: 0, offset: 9n },
        ],
        { generationIdOrMemberEpoch: a.generationId, memberId: a.memberId },
      ),
    );
    const result = await h.coordinator.deleteOffsets('g', [
      { name: 'orders', partitions: [0] },
      { name: 'payments', partitions: [0] },
    ]);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      result.topics.map((topic) => topic.partitions[0].errorCode),
      [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE],
    );
    const fetched = h.coordinator.fetchOffsets(
      { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
      { requireStable: false },
    );
    assert.deepEqual(
      fetched.topics.map((topic) => topic.name),
      ['orders'],
    );
    assert.equal(
      (await h.coordinator.deleteOffsets('nope', [])).errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });

  it('DeleteGroups deletes empty groups only; ListGroups filters by state and type', async () => {
    const h = await setup();
    await joinAndSync(h, 'busy');
    await h.coordinator.commitOffsets(
      offsetCommit('idle', [{ topic: 'orders', partition: 1, offset: 1n }], { apiVersion: 2 }),
    );
    const stable = h.coordinator.listGroups({ states: ['stable'], types: [] }).groups;
    assert.deepEqual(
      stable.map((group) => group.groupId),
      ['busy'],
    );
    assert.equal(h.coordinator.listGroups({ states: [], types: ['consumer'] }).groups.length, 0);
    assert.equal(h.coordinator.listGroups({ states: [], types: ['Classic'] }).groups.length, 2);
    const results = await h.coordinator.deleteGroups(['busy', 'idle', 'unknown', '']);
    assert.deepEqual(
      results.map((result) => result.errorCode),
      [
        ErrorCode.NON_EMPTY_GROUP,
        ErrorCode.NONE,
        ErrorCode.GROUP_ID_NOT_FOUND,
        ErrorCode.INVALID_GROUP_ID,
      ],
    );
    assert.deepEqual(
      h.coordinator.listGroups({ states: [], types: [] }).groups.map((group) => group.groupId),
      ['busy'],
    );
    assert.equal(h.coordinator.describeGroups(['idle'])[0].groupState, 'Dead');
  });

  it('expires offsets of an empty group after offsets.retention.minutes', async () => {
    const h = await setup({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
    const a = await joinAndSync(h, 'g');
    await h.coordinator.commitOffsets(
      offsetCommit('g', [{ topic: 'orders', partition: 0, offset: 1n }], {
        generationIdOrMemberEpoch: a.generationId,
        memberId: a.memberId,
      }),
    );
    // While the member is active, the offsets stay however old they are.
    for (let elapsed = 0; elapsed < 120_000; elapsed += 5_000) {
      h.clock.advance(5_000);
      dynamicHeartbeat(h.coordinator, 'g', a);
      await settle(1);
    }
    assert.equal(await h.coordinator.expireOffsets(), 0);
    h.coordinator.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    await settle();
    h.clock.advance(59_000);
    assert.equal(await h.coordinator.expireOffsets(), 0);
    h.clock.advance(1_000);
    assert.equal(await h.coordinator.expireOffsets(), 1);
    assert.equal(h.coordinator.group('g'), undefined, 'an empty group without offsets is removed');
  });

  it('drops the offsets of deleted topics', async () => {
    const h = await setup();
    await h.coordinator.commitOffsets(
      offsetCommit(
        'g',
        [
          { topic: 'orders', partition: 0, offset: 4n },
          { topic: 'payments', partition: 0, offset: 4n },
        ],
        { apiVersion: 2 },
      ),
    );
    assert.equal(await h.coordinator.onTopicsDeleted(['orders', 'unrelated']), 1);
    const fetched = h.coordinator.fetchOffsets(
      { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
      { requireStable: false },
    );
    assert.deepEqual(
      fetched.topics.map((topic) => topic.name),
      ['payments'],
    );
  });

  it('answers COORDINATOR_NOT_AVAILABLE when the offsets write fails, and keeps serving', async () => {
    const clock = new ManualClock();
    const logs = await MemoryLogManager.open({ clock });
    const storage = offsetsTopicStorage({ replicas: replicaManagerOver(logs, clock) });
    let failing = true;
    const coordinator = new GroupCoordinator({
      clock,
      logger: createJsonLogger({ level: 'off' }),
      storage: {
        existingPartitionCount: () => storage.existingPartitionCount(),
        async partitionLog(partition, partitionCount) {
          const target = await storage.partitionLog(partition, partitionCount);
          return {
            get logStartOffset() {
              return target.logStartOffset;
            },
            get logEndOffset() {
              return target.logEndOffset;
            },
            log: target.log,
            appendAsLeader: (batch, options) =>
              failing
                ? Promise.reject(new Error('disk full'))
                : target.appendAsLeader(batch, options),
          };
        },
      },
      topics: staticTopics([{ name: 'orders', partitionCount: 1 }]),
    });
    await coordinator.start();
    const commit = (offset: bigint) =>
      coordinator.commitOffsets(offsetCommit('g', [{ topic: 'orders', partition: 0, offset }]));
    const fetchCommitted = () =>
      coordinator
        .fetchOffsets(
          { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
          { requireStable: false },
        )
        .topics.flatMap((topic) => topic.partitions.map((entry) => entry.committedOffset));
    const failed = await commit(5n);
    assert.equal(failed[0].partitions[0].errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.deepEqual(fetchCommitted(), [], 'nothing is acknowledged that was not written');
    failing = false;
    const written = await commit(6n);
    assert.equal(written[0].partitions[0].errorCode, ErrorCode.NONE);
    assert.deepEqual(fetchCommitted(), [6n]);
    await coordinator.stop();
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS until loading finishes', async () => {
    const clock = new ManualClock();
    const logs = await MemoryLogManager.open({ clock });
    const coordinator = new GroupCoordinator({
      clock,
      logger: createJsonLogger({ level: 'off' }),
      storage: offsetsTopicStorage({ replicas: replicaManagerOver(logs, clock) }),
      topics: staticTopics([]),
    });
    const starting = coordinator.start();
    assert.equal(
      dynamicHeartbeat(coordinator, 'g', { memberId: 'm', generationId: 1 }),
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    await starting;
    assert.equal(
      dynamicHeartbeat(coordinator, 'g', { memberId: 'm', generationId: 1 }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    await coordinator.stop();
    assert.equal(
      dynamicHeartbeat(coordinator, 'g', { memberId: 'm', generationId: 1 }),
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
  });
});
