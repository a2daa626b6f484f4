import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalMetadataStore, SimulatedMetadataStore } from '@gregor/metadata';
import { SimulatedClock } from '@gregor/metadata/testing/simulated-clock';
import { ErrorCode, systemClock } from '@gregor/protocol';
import { nodeFileSystem } from '@gregor/storage';
import { Controller } from './controller/controller.js';
import type { MetadataChanges, MetadataImage } from './image.js';
import { MetadataListener } from './metadata-listener.js';
import { newPartitionRegistration } from './partition-registration.js';
import { encodePartitionRecord, encodeTopicRecord, partitionKey, topicKey } from './records.js';
import { drive, registerTestBroker, waitUntil, withDeadline } from './testing/brokers.js';
import { testTopicId } from './testing/images.js';

test('listener: the first image, one callback per delta, waitForRevision, re-list after compaction', async () => {
  const clock = new SimulatedClock();
  const store = new SimulatedMetadataStore(clock);
  const fence = await store.campaign(1, { ttlMs: 60_000 });
  const topicId = testTopicId('l');
  const first = await store.commit(fence, [
    {
      type: 'put',
      key: partitionKey(topicId, 0),
      value: encodePartitionRecord(newPartitionRegistration([1])),
    },
    {
      type: 'put',
      key: topicKey('l'),
      value: encodeTopicRecord({ topicId, partitionCount: 1, configs: {} }),
    },
  ]);
  assert.ok(first.committed);
  const calls: {
    revision: bigint;
    changes: MetadataChanges | undefined;
    previous: MetadataImage;
  }[] = [];
  const node = 'listener';
  const listener = await drive(
    clock,
    MetadataListener.start(store.connect(node), {
      onImage: (image, changes, previous) =>
        calls.push({ revision: image.revision, changes, previous }),
    }),
  );
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.changes, undefined, 'the first image is a full load');
  assert.equal(listener.image.partitions('l').length, 1);

  const second = await store.commit(fence, [
    {
      type: 'put',
      key: partitionKey(topicId, 0),
      value: encodePartitionRecord({ ...newPartitionRegistration([1]), leaderEpoch: 3 }),
    },
  ]);
  assert.ok(second.committed);
  const signal = new AbortController().signal;
  const image = await drive(clock, listener.waitForRevision(second.revision, signal));
  assert.equal(getEventListeners(signal, 'abort').length, 0, 'a settled wait leaves no listener');
  assert.equal(image.partition('l', 0)?.leaderEpoch, 3);
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls[1]!.changes!.partitions.map((change) => [
      change.previous?.leaderEpoch,
      change.current?.leaderEpoch,
    ]),
    [[0, 3]],
  );
  assert.equal(calls[1]!.previous.partition('l', 0)?.leaderEpoch, 0);

  // The listener falls behind and the history it needs is compacted away: it lists again.
  store.delayWatchEvents(node, 5000);
  const third = await store.commit(fence, [{ type: 'delete', key: topicKey('l') }]);
  assert.ok(third.committed);
  const fourth = await store.commit(fence, [
    { type: 'put', key: 'configs/cluster', value: Buffer.from('{"v":1,"configs":{}}') },
  ]);
  assert.ok(fourth.committed);
  store.compact(store.revision);
  await drive(clock, listener.waitForRevision(fourth.revision));
  assert.equal(listener.image.topic('l'), undefined);
  assert.equal(calls.at(-1)!.changes, undefined, 'a re-list is reported as a full load');
  listener.close();
  await assert.rejects(listener.waitForRevision(store.revision + 10n), /closed/);
  await store.close();
});

test('embedded (LocalMetadataStore): a single node controls itself; topics survive a restart', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-cluster-'));
  const open = () =>
    LocalMetadataStore.open({ fileSystem: nodeFileSystem, directory, clock: systemClock });
  let topicIds = 0;
  const start = (store: LocalMetadataStore) =>
    Controller.start(store, {
      nodeId: 1,
      sessionTtlMs: 1000,
      randomTopicId: () => testTopicId(`e${++topicIds}`),
    });
  try {
    let store = await open();
    const firstSession = await registerTestBroker(store, 1, { ttlMs: 1000 });
    let controller = start(store);
    await withDeadline(controller.whenActive(), 5000, 'active');
    const created = await withDeadline(
      controller.createTopics({
        topics: [
          { name: 'kept', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 1000,
      }),
      5000,
      'create',
    );
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    await controller.close();
    await store.close();

    // A clean restart: the broker names the epoch it shut down cleanly at.
    store = await open();
    const secondSession = await registerTestBroker(store, 1, {
      ttlMs: 1000,
      previousBrokerEpoch: firstSession.brokerEpoch,
    });
    assert.ok(
      secondSession.brokerEpoch > firstSession.brokerEpoch,
      'a restart gets a larger broker epoch',
    );
    controller = start(store);
    await withDeadline(controller.whenActive(), 5000, 'active again');
    await waitUntil(
      () => controller.image?.brokerState(1)?.value.brokerEpoch === secondSession.brokerEpoch,
      5000,
      'the new registration recorded',
    );
    assert.deepEqual(
      controller
        .image!.partitions('kept')
        .map((partition) => [partition.replicas, partition.leader]),
      [
        [[1], 1],
        [[1], 1],
        [[1], 1],
      ],
    );
    await controller.close();
    await store.close();

    // An unclean restart (no clean shutdown epoch): the broker leaves its ISRs (KIP-966), then is
    // elected again as the last known leader, RECOVERING, two leader epochs later.
    store = await open();
    await registerTestBroker(store, 1, { ttlMs: 1000 });
    controller = start(store);
    await withDeadline(controller.whenActive(), 5000, 'active after an unclean restart');
    await waitUntil(
      () =>
        controller.image
          ?.partitions('kept')
          .every((partition) => partition.leader === 1 && partition.leaderEpoch === 2) === true,
      5000,
      'leaders elected again',
    );
    assert.ok(
      controller
        .image!.partitions('kept')
        .every((partition) => partition.leaderRecoveryState === 1),
    );
    await controller.close();
    await store.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
