import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WatchEvent } from '@gregor/metadata';
import { MetadataDelta, MetadataImage } from './image.js';
import { newPartitionRegistration } from './partition-registration.js';
import {
  brokerKey,
  brokerStateKey,
  clusterConfigKey,
  controllerKey,
  encodeBrokerRegistration,
  encodeBrokerState,
  encodeConfigRecord,
  encodeControllerRecord,
  encodePartitionRecord,
  encodeTopicRecord,
  partitionKey,
  topicKey,
} from './records.js';

const put = (
  key: string,
  value: Buffer,
  revision: bigint,
  createRevision = revision,
): WatchEvent => ({
  type: 'put',
  key,
  value,
  createRevision,
  modRevision: revision,
});
const remove = (key: string, revision: bigint): WatchEvent => ({
  type: 'delete',
  key,
  modRevision: revision,
});

const registration = (brokerId: number, rack: string | null = null) =>
  encodeBrokerRegistration({
    brokerId,
    incarnationId: `incarnation-${brokerId}`,
    rack,
    listeners: [
      {
        name: 'PLAINTEXT',
        host: '127.0.0.1',
        port: 9000 + brokerId,
        securityProtocol: 'PLAINTEXT',
      },
      { name: 'INTERNAL', host: '10.0.0.1', port: 19000 + brokerId, securityProtocol: 'PLAINTEXT' },
    ],
    previousBrokerEpoch: -1n,
  });

function applyAll(image: MetadataImage, events: WatchEvent[], revision: bigint) {
  const delta = new MetadataDelta(image);
  delta.replay(events);
  return delta.apply(revision);
}

describe('metadata image', () => {
  const topicId = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const base = applyAll(
    MetadataImage.empty,
    [
      put(brokerKey(1), registration(1, 'r1'), 2n),
      put(brokerKey(2), registration(2, 'r2'), 3n),
      put(partitionKey(topicId, 0), encodePartitionRecord(newPartitionRegistration([1, 2])), 4n),
      put(partitionKey(topicId, 1), encodePartitionRecord(newPartitionRegistration([2, 1])), 4n),
      put(
        topicKey('orders'),
        encodeTopicRecord({ topicId, partitionCount: 2, configs: { 'min.insync.replicas': '2' } }),
        5n,
      ),
      put(clusterConfigKey, encodeConfigRecord({ 'unclean.leader.election.enable': 'true' }), 6n),
      put(controllerKey, encodeControllerRecord({ controllerId: 1, fenceRevision: 1n }), 7n),
    ],
    7n,
  );

  test('answers what a broker serves Metadata and DescribeCluster from', () => {
    const { image, changes } = base;
    assert.equal(image.revision, 7n);
    assert.deepEqual(
      image
        .brokers()
        .map((broker) => [broker.brokerId, broker.brokerEpoch, broker.registration.rack]),
      [
        [1, 2n, 'r1'],
        [2, 3n, 'r2'],
      ],
    );
    assert.deepEqual(image.brokerEndpoint(2, 'INTERNAL'), {
      name: 'INTERNAL',
      host: '10.0.0.1',
      port: 19002,
      securityProtocol: 'PLAINTEXT',
    });
    assert.equal(image.brokerEndpoint(2, 'MISSING'), undefined);
    assert.equal(image.controller?.controllerId, 1);
    assert.equal(image.topic('orders')?.topicId, topicId);
    assert.equal(image.topicById(topicId)?.name, 'orders');
    assert.deepEqual(
      image
        .partitions('orders')
        .map((partition) => [partition.partition, partition.leader, partition.replicas]),
      [
        [0, 1, [1, 2]],
        [1, 2, [2, 1]],
      ],
    );
    assert.equal(image.partition('orders', 0)?.modRevision, 4n);
    assert.equal(image.topicConfigValue('orders', 'min.insync.replicas'), '2');
    assert.equal(image.topicConfigValue('orders', 'unclean.leader.election.enable'), 'true');
    assert.equal(image.topicConfigValue('orders', 'retention.ms'), undefined);
    assert.deepEqual([...changes.brokers].sort(), [1, 2]);
    assert.deepEqual([...changes.topics], ['orders']);
    assert.equal(changes.partitions.length, 2);
    assert.equal(changes.controller, true);
  });

  test('a delta leaves the image it started from unchanged', () => {
    const { image } = base;
    const { image: next, changes } = applyAll(
      image,
      [
        remove(brokerKey(2), 8n),
        put(
          partitionKey(topicId, 1),
          encodePartitionRecord({
            ...newPartitionRegistration([2, 1], [1]),
            leaderEpoch: 1,
            partitionEpoch: 1,
          }),
          9n,
        ),
      ],
      9n,
    );
    assert.equal(image.isBrokerRegistered(2), true);
    assert.equal(image.partition('orders', 1)?.leader, 2);
    assert.equal(next.isBrokerRegistered(2), false);
    assert.equal(next.partition('orders', 1)?.leader, 1);
    assert.equal(next.partition('orders', 0), image.partition('orders', 0));
    assert.deepEqual(next.offlineReplicas(next.partition('orders', 1)!), [2]);
    assert.deepEqual([...changes.brokers], [2]);
    assert.deepEqual(
      changes.partitions.map((change) => [
        change.partition,
        change.previous?.leader,
        change.current?.leader,
      ]),
      [[1, 2, 1]],
    );
  });

  test('partitions beyond the count or without a topic are orphans, not served', () => {
    const otherId = 'AAAAAAAAAAAAAAAAAAAAAg';
    const { image } = applyAll(
      base.image,
      [
        put(partitionKey(topicId, 2), encodePartitionRecord(newPartitionRegistration([1])), 8n),
        put(partitionKey(otherId, 0), encodePartitionRecord(newPartitionRegistration([2])), 8n),
      ],
      8n,
    );
    assert.equal(image.partitions('orders').length, 2);
    assert.equal(image.partition('orders', 2), undefined);
    assert.deepEqual(
      image
        .orphanPartitions()
        .map((partition) => `${partition.topicId}/${partition.partition}`)
        .sort(),
      [`${topicId}/2`, `${otherId}/0`],
    );
    const grown = applyAll(
      image,
      [put(topicKey('orders'), encodeTopicRecord({ topicId, partitionCount: 3, configs: {} }), 9n)],
      9n,
    ).image;
    assert.equal(grown.partitions('orders').length, 3);
    assert.equal(grown.topicConfigValue('orders', 'min.insync.replicas'), undefined);
  });

  test('a deleted topic disappears by name and id; a recreated name gets the new id', () => {
    const newId = 'AAAAAAAAAAAAAAAAAAAAAw';
    const deleted = applyAll(base.image, [remove(topicKey('orders'), 8n)], 8n).image;
    assert.equal(deleted.topic('orders'), undefined);
    assert.equal(deleted.topicById(topicId), undefined);
    assert.equal(deleted.orphanPartitions().length, 2);
    const recreated = applyAll(
      deleted,
      [
        put(partitionKey(newId, 0), encodePartitionRecord(newPartitionRegistration([2])), 9n),
        put(
          topicKey('orders'),
          encodeTopicRecord({ topicId: newId, partitionCount: 1, configs: {} }),
          9n,
        ),
      ],
      9n,
    ).image;
    assert.deepEqual(
      recreated.partitions('orders').map((partition) => partition.replicas),
      [[2]],
    );
    assert.equal(recreated.topicById(topicId), undefined);
  });

  test('controlled shutdown counts only for the registration epoch it names', () => {
    const shutting = applyAll(
      base.image,
      [
        put(
          brokerStateKey(1),
          encodeBrokerState({ brokerEpoch: 2n, inControlledShutdown: true }),
          8n,
        ),
      ],
      8n,
    ).image;
    assert.equal(shutting.broker(1)?.inControlledShutdown, true);
    assert.equal(shutting.isBrokerActive(1), false);
    assert.equal(shutting.isBrokerRegistered(1), true);
    const restarted = applyAll(
      shutting,
      [remove(brokerKey(1), 9n), put(brokerKey(1), registration(1, 'r1'), 10n)],
      10n,
    ).image;
    assert.equal(restarted.broker(1)?.brokerEpoch, 10n);
    assert.equal(restarted.isBrokerActive(1), true);
  });

  test('an undecodable record is reported and left out, never kept stale', () => {
    const { image, changes } = applyAll(
      base.image,
      [
        put(
          partitionKey(topicId, 0),
          Buffer.from('{"v":1,"leaderRecoveryState":0,"replicas":"x"}'),
          8n,
        ),
      ],
      8n,
    );
    assert.equal(changes.problems.length, 1);
    assert.match(
      changes.problems[0]!.message,
      /partitions\/.*field replicas must be an array of integers/,
    );
    assert.equal(image.partition('orders', 0), undefined);
  });

  test('fromEntries builds the same image as replaying puts', () => {
    const entries = [
      { key: brokerKey(3), value: registration(3), createRevision: 11n, modRevision: 11n },
      {
        key: 'producer-ids/next',
        value: Buffer.from('whatever'),
        createRevision: 12n,
        modRevision: 12n,
      },
    ];
    const { image, problems } = MetadataImage.fromEntries(entries, 12n);
    assert.equal(problems.length, 0);
    assert.equal(image.revision, 12n);
    assert.deepEqual(
      image.brokers().map((broker) => broker.brokerEpoch),
      [11n],
    );
  });
});
