import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { EtcdMetadataStore } from '@gregor/metadata';
import { EtcdServer } from '@gregor/metadata/testing/etcd-server';
import { ErrorCode } from '@gregor/protocol';
import { registerTestBroker, waitUntil, withDeadline } from '../testing/brokers.js';
import { RecordingLogger, testTopicId } from '../testing/images.js';
import { PausableProxy } from '../testing/pausable-proxy.js';
import { Controller } from './controller.js';

const createTopic = (name: string, replicationFactor: number) => ({
  topics: [{ name, numPartitions: 2, replicationFactor, assignments: [], configs: [] }],
  timeoutMs: 30_000,
});

test('etcd: a controller cut off past its lease is replaced with a higher fence; its late commit is rejected', async () => {
  const etcd = await EtcdServer.start();
  const proxy = await PausableProxy.start({ host: '127.0.0.1', port: etcd.clientPort });
  const namespace = `controller-test-${randomBytes(4).toString('hex')}/`;
  const cutOffStore = new EtcdMetadataStore({ endpoints: [proxy.endpoint], namespace });
  const successorStore = new EtcdMetadataStore({ endpoints: [etcd.endpoint], namespace });
  const brokerStore = new EtcdMetadataStore({ endpoints: [etcd.endpoint], namespace });
  let topicIds = 0;
  const options = (nodeId: number, logger: RecordingLogger) => ({
    nodeId,
    sessionTtlMs: 1000,
    logger,
    randomTopicId: () => testTopicId(`etcd-${++topicIds}`),
  });
  const firstLogger = new RecordingLogger();
  const secondLogger = new RecordingLogger();
  let first: Controller | undefined;
  let second: Controller | undefined;
  try {
    for (const id of [1, 2]) await registerTestBroker(brokerStore, id, { ttlMs: 30_000 });
    first = Controller.start(cutOffStore, options(1, firstLogger));
    await withDeadline(first.whenActive(), 10_000, 'the first controller active');
    second = Controller.start(successorStore, options(2, secondLogger));
    const before = await withDeadline(
      first.createTopics(createTopic('before', 2)),
      10_000,
      'create before',
    );
    assert.equal(before.topics[0]!.errorCode, ErrorCode.NONE);
    const firstFence = first.fence!;

    // The link stalls: the first's keepalives and its next commit wait in the proxy.
    proxy.pause();
    const late = first.createTopics(createTopic('zombie', 1));
    await withDeadline(second.whenActive(), 15_000, 'the second controller active');
    assert.ok(second.fence!.revision > firstFence.revision, 'the successor holds a higher fence');
    proxy.resume();

    const answer = await withDeadline(late, 15_000, 'the late CreateTopics');
    assert.equal(answer.topics[0]!.errorCode, ErrorCode.NOT_CONTROLLER);
    await waitUntil(() => !first!.isActive, 10_000, 'the first controller stepped down');
    const listed = await successorStore.list('');
    const keys = listed.entries.map((entry) => entry.key);
    assert.ok(keys.includes('topics/before'));
    assert.ok(!keys.includes('topics/zombie'), 'the late creation left no topic');
    assert.equal(
      keys.filter((key) => key.startsWith(`partitions/${testTopicId('etcd-2')}`)).length,
      0,
      'nor partitions',
    );
    const after = await withDeadline(
      second.createTopics(createTopic('after', 2)),
      10_000,
      'create after',
    );
    assert.equal(after.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(second.image?.controller?.controllerId, 2);
    assert.deepEqual(
      second.image?.topics().map((topic) => topic.name),
      ['after', 'before'],
    );
    const stepDown = firstLogger.warnings().find((line) => line.startsWith('Node 1 is no longer'));
    assert.ok(stepDown !== undefined, 'the first logged that it stepped down');
    assert.ok(
      firstLogger
        .warnings()
        .includes("Node 1's commit was rejected by its fence: another node is the controller"),
      'the late commit reached etcd and was rejected',
    );
  } finally {
    await first?.close();
    await second?.close();
    await Promise.all([cutOffStore.close(), successorStore.close(), brokerStore.close()]);
    await proxy.close();
    await etcd.stop();
  }
});
