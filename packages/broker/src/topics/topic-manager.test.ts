import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { systemClock } from '../clock.js';
import { silentLogger } from '../logging/logger.js';
import { FileTopicManager, type PartitionLogHost, type TopicDefaults } from './topic-manager.js';
import { TopicError } from './types.js';

const defaults: TopicDefaults = {
  numPartitions: 3,
  autoCreateTopicsEnable: true,
  offsetsTopicNumPartitions: 50,
  offsetsTopicSegmentBytes: 104857600,
  transactionStateLogNumPartitions: 50,
  transactionStateLogSegmentBytes: 104857600,
};

function recordingHost(): PartitionLogHost & { logs: Set<string> } {
  const logs = new Set<string>();
  return {
    logs,
    hasLog: (topic, partition) => logs.has(`${topic}-${partition}`),
    async ensureLogs(topic, partitions) {
      for (const partition of partitions) logs.add(`${topic}-${partition}`);
    },
    async deleteLog(topic, partition) {
      logs.delete(`${topic}-${partition}`);
    },
    async updateConfigs() {},
  };
}

describe('FileTopicManager', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gregor-topics-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const open = (host: PartitionLogHost, autoCreate = true) =>
    FileTopicManager.open({
      metadataDir: directory,
      logs: host,
      clock: systemClock,
      logger: silentLogger,
      defaults: () => ({ ...defaults, autoCreateTopicsEnable: autoCreate }),
    });

  it('creates topics with ids and logs, and keeps them across restarts', async () => {
    const host = recordingHost();
    const topics = await open(host);
    const created = await topics.create({
      name: 'orders',
      partitionCount: 2,
      configs: { 'retention.ms': '1000' },
    });
    assert.equal(created.topicId.length, 22);
    assert.deepEqual([...host.logs].sort(), ['orders-0', 'orders-1']);
    const reopened = await open(recordingHost());
    assert.deepEqual(reopened.get('orders'), created);
    assert.deepEqual(reopened.getById(created.topicId), created);
  });

  it('validates names and collisions', async () => {
    const topics = await open(recordingHost());
    for (const name of ['', '.', '..', 'a/b', 'x'.repeat(250), 'spaces here']) {
      await assert.rejects(topics.create({ name, partitionCount: 1 }), (error: unknown) => {
        assert.ok(error instanceof TopicError);
        assert.equal(error.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
        return true;
      });
    }
    await topics.create({ name: 'a.b', partitionCount: 1 });
    await assert.rejects(topics.create({ name: 'a_b', partitionCount: 1 }), TopicError);
    await assert.rejects(topics.create({ name: 'a.b', partitionCount: 1 }), (error: unknown) => {
      assert.equal((error as TopicError).errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
      return true;
    });
    await assert.rejects(topics.create({ name: 'zero', partitionCount: 0 }), (error: unknown) => {
      assert.equal((error as TopicError).errorCode, ErrorCode.INVALID_PARTITIONS);
      return true;
    });
  });

  it('auto-creates with num.partitions only when allowed, internal topics always', async () => {
    const topics = await open(recordingHost(), false);
    assert.equal(await topics.getOrCreate('not-allowed', { autoCreate: true }), undefined);
    const offsets = await topics.getOrCreate('__consumer_offsets', { autoCreate: false });
    assert.equal(offsets?.partitionCount, 50);
    assert.equal(offsets?.internal, true);
    assert.equal(offsets?.configs['cleanup.policy'], 'compact');
    const allowing = await open(recordingHost(), true);
    const auto = await allowing.getOrCreate('auto-topic', { autoCreate: true });
    assert.equal(auto?.partitionCount, 3);
  });

  it('concurrent auto-creates of one name create it once', async () => {
    const host = recordingHost();
    const topics = await open(host);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => topics.getOrCreate('racing', { autoCreate: true })),
    );
    const ids = new Set(results.map((topic) => topic?.topicId));
    assert.equal(ids.size, 1);
  });

  it('a concurrent getOrCreate resolves only once the creation has made every log', async () => {
    // Two transactional producers starting together both make the coordinator create
    // __transaction_state; the second one must not get the topic before its logs exist.
    const host = recordingHost();
    const slowHost: PartitionLogHost = {
      ...host,
      async ensureLogs(topic, partitions, configs) {
        for (const partition of partitions) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          await host.ensureLogs(topic, [partition], configs);
        }
      },
    };
    const topics = await open(slowHost);
    const logsAtResolution = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const topic = await topics.getOrCreate('__transaction_state', { autoCreate: false });
        assert.ok(topic);
        return Array.from({ length: topic.partitionCount }, (_, partition) =>
          host.hasLog(topic.name, partition),
        ).filter(Boolean).length;
      }),
    );
    assert.deepEqual(logsAtResolution, [50, 50, 50]);
  });

  it('grows partitions, never shrinks, and deletes', async () => {
    const host = recordingHost();
    const topics = await open(host);
    await topics.create({ name: 'growing', partitionCount: 1 });
    const grown = await topics.createPartitions('growing', 4);
    assert.equal(grown.partitionCount, 4);
    assert.ok(host.logs.has('growing-3'));
    await assert.rejects(topics.createPartitions('growing', 2), TopicError);
    await topics.delete('growing');
    assert.equal(topics.get('growing'), undefined);
    assert.ok(!host.logs.has('growing-0'));
    assert.equal((await open(recordingHost())).get('growing'), undefined);
  });
});
