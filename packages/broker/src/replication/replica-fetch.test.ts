/**
 * The leader side of replication over the wire, on one broker whose partition is made leader of
 * two replicas (itself and a follower id that fetches with the test client): the follower's Fetch
 * (replica id, last fetched epoch) reads up to the LEO and moves the HW, consumers stop at the HW,
 * acks=all waits for the follower, a diverged follower gets DivergingEpoch without records, and a
 * clean stop checkpoints the HW.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import {
  ApiKey,
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchRequest,
  type FetchResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { fetchRequest, produceRequest, startTestBroker } from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';
import { highWatermarkCheckpointFileName } from './high-watermark-checkpoint.js';
import { leaderEpoch, replicaId } from './types.js';

const topic = 'replicated';
const followerId = 7;
let broker: Broker;
let client: TestClient;
let directory: string;
let stopBroker: () => Promise<void>;

before(async () => {
  const started = await startTestBroker();
  ({ broker, directory } = started);
  stopBroker = started.stop;
  await broker.services.topics.create({ name: topic, partitionCount: 1 });
  client = await TestClient.connect({ port: broker.port, clientId: 'replica-fetch-test' });
});

after(async () => {
  await client.close();
  await stopBroker();
});

function bytesOf(records: unknown): Buffer {
  if (records === null || records === undefined) return Buffer.alloc(0);
  return Array.isArray(records) ? Buffer.concat(records) : (records as Buffer);
}

function batchOf(values: string[]): Buffer {
  return encodeRecordBatch({
    records: values.map((value) => ({ key: null, value: Buffer.from(value), timestamp: 1_000n })),
  });
}

async function produce(values: string[], acks: number, to = topic) {
  const response = await client.request<ProduceResponse>(
    ApiKey.Produce,
    9,
    produceRequest({ topic: to, records: batchOf(values), acks, timeoutMs: 10_000 }),
  );
  return response.responses[0]!.partitionResponses[0]!;
}

async function consume(offset: bigint) {
  const response = await client.request<FetchResponse>(
    ApiKey.Fetch,
    12,
    fetchRequest({ partitions: [{ topic, offset }] }),
  );
  const partition = response.responses[0]!.partitions[0]!;
  const values = decodeRecordBatches(bytesOf(partition.records)).flatMap((batch) =>
    batch.records.map((record) => record.value?.toString()),
  );
  return { partition, values };
}

async function followerFetch(offset: bigint, lastFetchedEpoch: number, from = topic) {
  const request = fetchRequest({ partitions: [{ topic: from, offset }] }) as FetchRequest;
  request.replicaId = followerId;
  request.topics[0]!.partitions[0]!.lastFetchedEpoch = lastFetchedEpoch;
  request.topics[0]!.partitions[0]!.currentLeaderEpoch = 1;
  const response = await client.request<FetchResponse>(ApiKey.Fetch, 12, request);
  return response.responses[0]!.partitions[0]!;
}

it('serves a follower up to the LEO, moves the HW with its fetch offset, detects divergence', async () => {
  assert.equal((await produce(['a', 'b'], 1)).errorCode, ErrorCode.NONE);
  const self = replicaId(broker.services.nodeId);
  const partition = await broker.services.replicas.makeLeader(topic, 0, {
    leaderEpoch: leaderEpoch(1),
    replicas: [self, replicaId(followerId)],
    isr: [self, replicaId(followerId)],
  });
  assert.equal(partition.highWatermark, 2n, 'the HW never goes back');
  assert.equal((await produce(['c'], 1)).errorCode, ErrorCode.NONE);
  assert.equal(partition.highWatermark, 2n, 'the follower has not fetched c');
  assert.deepEqual((await consume(0n)).values, ['a', 'b']);

  // The follower reads everything up to the LEO, c included.
  const fetched = await followerFetch(0n, -1);
  assert.equal(fetched.errorCode, ErrorCode.NONE);
  assert.equal(decodeRecordBatches(bytesOf(fetched.records)).length, 2);
  // Its next fetch offset tells the leader its LEO: the HW follows, consumers see c.
  await followerFetch(3n, 1);
  assert.equal(partition.highWatermark, 3n);
  assert.deepEqual((await consume(0n)).values, ['a', 'b', 'c']);

  // acks=all answers once the follower has fetched past the batch.
  const parked = produce(['d'], -1);
  const deadlineMs = Date.now() + 10_000;
  while (partition.logEndOffset < 4n && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(partition.highWatermark, 3n);
  await followerFetch(4n, 1);
  const answered = await parked;
  assert.deepEqual([answered.errorCode, answered.baseOffset], [ErrorCode.NONE, 3n]);

  // A follower claiming records of epoch 0 beyond epoch 0's end (2) diverged: truncate to 2 first.
  const diverged = await followerFetch(3n, 0);
  assert.equal(diverged.errorCode, ErrorCode.NONE);
  assert.deepEqual(diverged.divergingEpoch, { epoch: 0, endOffset: 2n });
  assert.equal(bytesOf(diverged.records).length, 0);
  // A stale current leader epoch is fenced.
  const request = fetchRequest({ partitions: [{ topic, offset: 0n }] }) as FetchRequest;
  request.topics[0]!.partitions[0]!.currentLeaderEpoch = 0;
  const fenced = await client.request<FetchResponse>(ApiKey.Fetch, 12, request);
  assert.equal(fenced.responses[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
});

it('a diverging follower fetch does not count as the follower log end (no HW, no catch-up)', async () => {
  const other = 'diverging';
  await broker.services.topics.create({ name: other, partitionCount: 1 });
  assert.equal((await produce(['a', 'b'], 1, other)).errorCode, ErrorCode.NONE);
  const self = replicaId(broker.services.nodeId);
  const follower = replicaId(followerId);
  const partition = await broker.services.replicas.makeLeader(other, 0, {
    leaderEpoch: leaderEpoch(1),
    replicas: [self, follower],
    isr: [self, follower],
  });
  assert.equal((await produce(['c'], 1, other)).errorCode, ErrorCode.NONE);
  // The follower led epoch 0 too and wrote its own offset 2 there: its LEO 3 is not the leader's.
  const diverged = await followerFetch(3n, 0, other);
  assert.deepEqual(diverged.divergingEpoch, { epoch: 0, endOffset: 2n });
  assert.equal(partition.follower(follower)!.logEndOffset, -1n);
  assert.equal(partition.highWatermark, 2n, 'c is on the leader only');
  // Truncated to 2, it fetches c; its next fetch offset commits c.
  const fetched = await followerFetch(2n, 0, other);
  assert.deepEqual(fetched.divergingEpoch, { epoch: -1, endOffset: -1n }, 'none');
  assert.equal(decodeRecordBatches(bytesOf(fetched.records)).length, 1);
  assert.equal(partition.highWatermark, 2n);
  await followerFetch(3n, 1, other);
  assert.equal(partition.highWatermark, 3n);
});

it('a follower fetch with ReplicaState (v15) records the follower broker epoch AlterPartition sends', async () => {
  const other = 'broker-epochs';
  await broker.services.topics.create({ name: other, partitionCount: 1 });
  assert.equal((await produce(['a'], 1, other)).errorCode, ErrorCode.NONE);
  const self = replicaId(broker.services.nodeId);
  const follower = replicaId(followerId);
  const partition = await broker.services.replicas.makeLeader(other, 0, {
    leaderEpoch: leaderEpoch(1),
    replicas: [self, follower],
    isr: [self],
  });
  const topicId = broker.services.topics.get(other)!.topicId;
  const fetchAt = async (offset: bigint, lastFetchedEpoch: number, replicaEpoch: bigint) => {
    const request = fetchRequest({
      partitions: [{ topic: other, topicId, offset }],
    }) as FetchRequest;
    request.replicaState = { replicaId: followerId, replicaEpoch };
    request.topics[0]!.partitions[0]!.lastFetchedEpoch = lastFetchedEpoch;
    request.topics[0]!.partitions[0]!.currentLeaderEpoch = 1;
    const response = await client.request<FetchResponse>(ApiKey.Fetch, 15, request);
    return response.responses[0]!.partitions[0]!;
  };
  assert.equal((await fetchAt(0n, -1, 42n)).errorCode, ErrorCode.NONE);
  assert.deepEqual(
    [partition.follower(follower)!.logEndOffset, partition.follower(follower)!.brokerEpoch],
    [0n, 42n],
  );
  // The same broker after a restart (a new registration): its next fetch carries the new epoch.
  await fetchAt(1n, 0, 43n);
  assert.deepEqual(
    [partition.follower(follower)!.logEndOffset, partition.follower(follower)!.brokerEpoch],
    [1n, 43n],
  );
  // A diverging fetch records neither its offset nor its epoch.
  const diverged = await fetchAt(2n, 0, 44n);
  assert.deepEqual(diverged.divergingEpoch, { epoch: 0, endOffset: 1n });
  assert.deepEqual(
    [partition.follower(follower)!.logEndOffset, partition.follower(follower)!.brokerEpoch],
    [1n, 43n],
  );
});

it('a clean stop writes every partition HW to replication-offset-checkpoint', async () => {
  await broker.services.replicas.checkpointHighWatermarks();
  const text = await readFile(join(directory, highWatermarkCheckpointFileName), 'utf8');
  assert.match(text, new RegExp(`^0\\n\\d+\\n(.*\\n)*${topic} 0 4\\n`));
});
