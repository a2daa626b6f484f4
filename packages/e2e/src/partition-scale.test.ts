/**
 * 2,000 partitions on one broker started from the CLI (the short version of
 * `npm run bench -- scale`): idle file descriptors stay bounded by log.segment.file.handles.max,
 * and every record survives a clean stop, a SIGKILL during a stop and a SIGKILL during topic
 * creation (after which a topic is either absent or has every partition).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiKey } from '@gregor/broker/testing/test-client';
import type { MetadataResponse } from '@gregor/protocol';
import { BrokerProcess } from './harness/broker-process.js';
import {
  connectTo,
  createScaleTopics,
  endOffsets,
  produceAcross,
  scalePartitions,
  scaleTopicNames,
} from './harness/partition-scale.js';
import { sleep } from './harness/wait.js';

const partitionCount = 2_000;
const handlesMax = 256;
/** Descriptors besides segment files: sockets, the lock, stdio, Node's own (measured ~20). */
const otherDescriptorsMax = 100;

describe(`${partitionCount} partitions on one broker`, () => {
  let broker: BrokerProcess;
  const topics = scaleTopicNames(partitionCount);
  const partitions = scalePartitions(topics, partitionCount);
  let offsets: Map<string, bigint>;

  before(async () => {
    broker = await BrokerProcess.start({
      label: 'partition-scale',
      readyTimeoutMs: 120_000,
      extraArguments: ['--override', `log.segment.file.handles.max=${handlesMax}`],
    });
  });
  after(async () => {
    await broker?.dispose();
  });

  async function checkOffsets(when: string): Promise<void> {
    const client = await connectTo(broker);
    try {
      const now = await endOffsets(client, partitions);
      for (const [key, offset] of offsets) assert.equal(now.get(key), offset, `${when}: ${key}`);
    } finally {
      await client.close();
    }
  }

  async function descriptorsWithinBound(when: string): Promise<void> {
    const count = await broker.openFileDescriptorCount();
    assert.ok(count <= handlesMax + otherDescriptorsMax, `${when}: ${count} descriptors open`);
  }

  it('creates them with one request and writes to every one with bounded descriptors', async () => {
    const client = await connectTo(broker);
    try {
      await createScaleTopics(client, topics, partitionCount);
      await produceAcross(client, partitions, {
        recordCount: 3 * partitionCount,
        valueBytes: 100,
        recordsPerRequest: 300,
        inFlightMax: 4,
      });
      offsets = await endOffsets(client, partitions);
    } finally {
      await client.close();
    }
    assert.equal(offsets.size, partitionCount);
    for (const [key, offset] of offsets) assert.equal(offset, 3n, key);
    await descriptorsWithinBound('after writing to every partition');
  });

  it('keeps every record through a clean stop, with bounded descriptors after the start', async () => {
    const stopped = await broker.kill('SIGTERM', { timeoutMs: 60_000 });
    assert.equal(stopped.code, 0);
    await broker.restart();
    await checkOffsets('after a clean stop');
    await descriptorsWithinBound('after the restart');
  });

  it('keeps every record when killed during a stop', async () => {
    for (const delayMs of [0, 30, 120]) {
      const exited = broker.kill('SIGTERM', { timeoutMs: delayMs + 1 });
      await exited;
      await broker.restart();
      await checkOffsets(`after SIGKILL ${delayMs} ms into a stop`);
    }
  });

  it('has each topic whole or absent when killed during its creation', async () => {
    const lateTopics = scaleTopicNames(2 * partitionsPerLateTopic, 'late');
    const client = await connectTo(broker);
    const creation = createScaleTopics(client, lateTopics, 2 * partitionsPerLateTopic).catch(
      () => undefined,
    );
    await sleep(150);
    await broker.kill('SIGKILL');
    await creation;
    client.destroy();
    await broker.restart();
    await checkOffsets('after SIGKILL during a creation');
    const again = await connectTo(broker);
    try {
      const metadata = await again.request<MetadataResponse>(ApiKey.Metadata, 12, {
        topics: lateTopics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      for (const topic of metadata.topics) {
        if (topic.errorCode !== 0) continue;
        assert.equal(topic.partitions.length, partitionsPerLateTopic, topic.name ?? '');
        const created = scalePartitions([topic.name ?? ''], partitionsPerLateTopic);
        const ends = await endOffsets(again, created);
        for (const [key, offset] of ends) assert.equal(offset, 0n, key);
        await produceAcross(again, created, {
          recordCount: partitionsPerLateTopic,
          valueBytes: 10,
          recordsPerRequest: 100,
          inFlightMax: 4,
        });
      }
    } finally {
      await again.close();
    }
  });
});

const partitionsPerLateTopic = 1_000;
