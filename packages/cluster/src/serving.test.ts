import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WatchEvent } from '@gregor/metadata';
import { ErrorCode } from '@gregor/protocol';
import { type MetadataChanges, MetadataDelta, type MetadataImage } from './image.js';
import { newPartitionRegistration, noLeader } from './partition-registration.js';
import {
  brokerKey,
  encodeBrokerRegistration,
  encodePartitionRecord,
  encodeTopicRecord,
  partitionKey,
  topicKey,
} from './records.js';
import {
  brokerAddresses,
  coordinatorAddress,
  describePartition,
  describeTopic,
  describeTopicPartitionsPage,
  localPartitionChanges,
} from './serving.js';
import { clusterImage, testTopicId } from './testing/images.js';

function apply(
  image: MetadataImage,
  events: WatchEvent[],
): { image: MetadataImage; changes: MetadataChanges } {
  const revision = image.revision + 1n;
  const delta = new MetadataDelta(image);
  delta.replay(
    events.map((event) => ({
      ...event,
      modRevision: revision,
      ...(event.type === 'put' ? { createRevision: revision } : {}),
    })),
  );
  return delta.apply(revision);
}

const put = (key: string, value: Buffer): WatchEvent => ({
  type: 'put',
  key,
  value,
  createRevision: 0n,
  modRevision: 0n,
});

/** Broker 4 registers with only an INTERNAL listener. */
const internalOnly = put(
  brokerKey(4),
  encodeBrokerRegistration({
    brokerId: 4,
    incarnationId: 'x',
    rack: 'r4',
    listeners: [{ name: 'INTERNAL', host: '10.0.0.4', port: 9094, securityProtocol: 'PLAINTEXT' }],
    previousBrokerEpoch: -1n,
  }),
);

describe('serving from the image', () => {
  const base = clusterImage({
    brokers: [
      { id: 1, rack: 'r1' },
      { id: 2, rack: 'r2' },
    ],
    topics: [
      {
        name: 'orders',
        partitions: [
          [1, 2],
          { ...newPartitionRegistration([2, 3]), isr: [2] },
          { ...newPartitionRegistration([3, 1]), leader: noLeader, isr: [3], leaderEpoch: 4 },
          [4, 1],
        ],
      },
      { name: '__consumer_offsets', partitions: [[2, 1]] },
    ],
  });
  const image = apply(base, [internalOnly]).image;
  const v6 = { listenerName: 'PLAINTEXT', errorUnavailableListeners: true };

  test('brokers by the listener the request came on', () => {
    assert.deepEqual(brokerAddresses(image, 'PLAINTEXT'), [
      { nodeId: 1, host: '127.0.0.1', port: 9001, rack: 'r1' },
      { nodeId: 2, host: '127.0.0.1', port: 9002, rack: 'r2' },
    ]);
    assert.deepEqual(brokerAddresses(image, 'INTERNAL'), [
      { nodeId: 4, host: '10.0.0.4', port: 9094, rack: 'r4' },
    ]);
  });

  test('partitions as Metadata describes them: leader, replicas, ISR, offline replicas, errors', () => {
    const topic = describeTopic(image, 'orders', v6)!;
    assert.equal(topic.isInternal, false);
    assert.deepEqual(
      topic.partitions.map((partition) => [
        partition.partitionIndex,
        partition.errorCode,
        partition.leaderId,
        partition.leaderEpoch,
        partition.replicaNodes,
        partition.isrNodes,
        partition.offlineReplicas,
      ]),
      [
        [0, ErrorCode.NONE, 1, 0, [1, 2], [1, 2], []],
        [1, ErrorCode.NONE, 2, 0, [2, 3], [2], [3]],
        [2, ErrorCode.LEADER_NOT_AVAILABLE, -1, 4, [3, 1], [3], [3]],
        [3, ErrorCode.LISTENER_NOT_FOUND, -1, 0, [4, 1], [4, 1], []],
      ],
    );
    const partition3 = image.partition('orders', 3)!;
    assert.equal(
      describePartition(image, partition3, { ...v6, errorUnavailableListeners: false }).errorCode,
      ErrorCode.LEADER_NOT_AVAILABLE,
    );
    const v0 = describePartition(image, image.partition('orders', 1)!, {
      listenerName: 'PLAINTEXT',
      errorUnavailableListeners: false,
      errorUnavailableEndpoints: true,
    });
    assert.deepEqual(
      [v0.errorCode, v0.replicaNodes, v0.isrNodes],
      [ErrorCode.REPLICA_NOT_AVAILABLE, [2], [2]],
    );
    assert.equal(describeTopic(image, '__consumer_offsets', v6)?.isInternal, true);
    assert.equal(describeTopic(image, 'missing', v6), undefined);
  });

  test('the coordinator is the leader of the internal partition, on the listener', () => {
    assert.deepEqual(coordinatorAddress(image, '__consumer_offsets', 0, 'PLAINTEXT'), {
      errorCode: ErrorCode.NONE,
      address: { nodeId: 2, host: '127.0.0.1', port: 9002, rack: 'r2' },
    });
    assert.deepEqual(coordinatorAddress(image, '__consumer_offsets', 5, 'PLAINTEXT'), {
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    });
    assert.deepEqual(coordinatorAddress(image, '__transaction_state', 0, 'PLAINTEXT'), {
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    });
  });
});

describe('local partition changes (what a broker leads, follows, drops)', () => {
  const topicId = testTopicId('local');
  const record = (replicas: number[], fields = {}) =>
    encodePartitionRecord({ ...newPartitionRegistration(replicas), ...fields });
  const empty = clusterImage({ brokers: [{ id: 1 }, { id: 2 }] });

  test('a topic created over two transactions is reported once, when its key appears', () => {
    const first = apply(empty, [
      put(partitionKey(topicId, 0), record([1, 2])),
      put(partitionKey(topicId, 1), record([2, 1])),
    ]);
    assert.deepEqual(localPartitionChanges(empty, first.image, first.changes, 1), {
      leaders: [],
      followers: [],
      removed: [],
    });
    const second = apply(first.image, [
      put(topicKey('local'), encodeTopicRecord({ topicId, partitionCount: 2, configs: {} })),
    ]);
    const local = localPartitionChanges(first.image, second.image, second.changes, 1);
    assert.deepEqual(
      local.leaders.map((partition) => partition.partition),
      [0],
    );
    assert.deepEqual(
      local.followers.map((partition) => partition.partition),
      [1],
    );
    assert.deepEqual(local.removed, []);
  });

  const created = apply(empty, [
    put(partitionKey(topicId, 0), record([1, 2])),
    put(partitionKey(topicId, 1), record([2, 1])),
    put(topicKey('local'), encodeTopicRecord({ topicId, partitionCount: 2, configs: {} })),
  ]).image;

  test('a leader change is reported to both replicas; an ISR change to the leader only; a config change to none', () => {
    const moved = apply(created, [
      put(partitionKey(topicId, 0), record([1, 2], { leader: 2, leaderEpoch: 1, isr: [2] })),
    ]);
    const forOne = localPartitionChanges(created, moved.image, moved.changes, 1);
    const forTwo = localPartitionChanges(created, moved.image, moved.changes, 2);
    assert.deepEqual(
      forOne.followers.map((partition) => [partition.partition, partition.leader]),
      [[0, 2]],
    );
    assert.deepEqual(
      forTwo.leaders.map((partition) => [partition.partition, partition.leaderEpoch]),
      [[0, 1]],
    );
    const shrunk = apply(created, [
      put(partitionKey(topicId, 1), record([2, 1], { isr: [2], partitionEpoch: 1 })),
    ]);
    assert.deepEqual(localPartitionChanges(created, shrunk.image, shrunk.changes, 1), {
      leaders: [],
      followers: [],
      removed: [],
    });
    const shrunkForLeader = localPartitionChanges(created, shrunk.image, shrunk.changes, 2);
    assert.deepEqual(
      shrunkForLeader.leaders.map((partition) => [partition.partition, partition.partitionEpoch]),
      [[1, 1]],
    );
    assert.deepEqual(shrunkForLeader.followers, []);
    const configured = apply(created, [
      put(
        topicKey('local'),
        encodeTopicRecord({ topicId, partitionCount: 2, configs: { 'retention.ms': '1' } }),
      ),
    ]);
    assert.deepEqual(localPartitionChanges(created, configured.image, configured.changes, 1), {
      leaders: [],
      followers: [],
      removed: [],
    });
  });

  test('growing a topic reports only the new partitions; deleting it removes every one', () => {
    const grown = apply(created, [
      put(partitionKey(topicId, 2), record([1])),
      put(topicKey('local'), encodeTopicRecord({ topicId, partitionCount: 3, configs: {} })),
    ]);
    const local = localPartitionChanges(created, grown.image, grown.changes, 1);
    assert.deepEqual(
      local.leaders.map((partition) => partition.partition),
      [2],
    );
    assert.deepEqual(local.followers, []);
    const deleted = apply(grown.image, [
      { type: 'delete', key: topicKey('local'), modRevision: 0n },
    ]);
    assert.deepEqual(
      localPartitionChanges(grown.image, deleted.image, deleted.changes, 1).removed,
      [0, 1, 2].map((partition) => ({ topicId, partition })),
    );
    const partitionsGone = apply(deleted.image, [
      { type: 'delete', key: partitionKey(topicId, 0), modRevision: 0n },
    ]);
    assert.deepEqual(
      localPartitionChanges(deleted.image, partitionsGone.image, partitionsGone.changes, 1).removed,
      [],
    );
  });

  test('a replica moved off the broker is removed', () => {
    const reassigned = apply(created, [
      put(partitionKey(topicId, 1), record([2], { leaderEpoch: 1 })),
    ]);
    assert.deepEqual(
      localPartitionChanges(created, reassigned.image, reassigned.changes, 1).removed,
      [{ topicId, partition: 1 }],
    );
  });
});

describe('DescribeTopicPartitions pages', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }],
    topics: [
      { name: 'a', partitions: [[1], [1], [1]] },
      { name: 'b', partitions: [[1], [1]] },
      { name: 'c', partitions: [[1]] },
    ],
  });
  const page = (
    topicNames: string[],
    cursor: { topicName: string; partitionIndex: number } | null,
    partitionLimit: number,
  ) => {
    const result = describeTopicPartitionsPage(image, {
      topicNames,
      cursor,
      partitionLimit,
      listenerName: 'PLAINTEXT',
    });
    return {
      topics: result.topics.map((topic) => [
        topic.name,
        topic.errorCode,
        topic.partitions.map((p) => p.partitionIndex),
      ]),
      nextCursor: result.nextCursor,
    };
  };

  test('every topic, in pages of partitions, the cursor naming where the next starts', () => {
    assert.deepEqual(page([], null, 4), {
      topics: [
        ['a', 0, [0, 1, 2]],
        ['b', 0, [0]],
      ],
      nextCursor: { topicName: 'b', partitionIndex: 1 },
    });
    assert.deepEqual(page([], { topicName: 'b', partitionIndex: 1 }, 4), {
      topics: [
        ['b', 0, [1]],
        ['c', 0, [0]],
      ],
      nextCursor: null,
    });
    assert.deepEqual(page([], null, 3), {
      topics: [['a', 0, [0, 1, 2]]],
      nextCursor: { topicName: 'b', partitionIndex: 0 },
    });
  });

  test('named topics: unknown ones answered, sorted, the ELR fields present', () => {
    const result = describeTopicPartitionsPage(image, {
      topicNames: ['c', 'zz', 'a'],
      cursor: null,
      partitionLimit: 2000,
      listenerName: 'PLAINTEXT',
    });
    assert.deepEqual(
      result.topics.map((topic) => [topic.name, topic.errorCode, topic.partitions.length]),
      [
        ['a', ErrorCode.NONE, 3],
        ['c', ErrorCode.NONE, 1],
        ['zz', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ],
    );
    assert.deepEqual(result.topics[0]!.partitions[0]!.eligibleLeaderReplicas, []);
    assert.equal(result.nextCursor, null);
  });
});
