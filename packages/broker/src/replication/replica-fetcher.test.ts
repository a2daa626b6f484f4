/**
 * Follower fetching between real brokers in one process over loopback: records reach the
 * follower byte-identical (offsets, leader epochs, CRCs), acks=all answers once the follower has
 * the batch, the follower's HW follows the leader's, a follower refuses produce and consumer
 * fetch, after a leader change the old leader's divergent tail is truncated (KIP-101), two
 * failovers where each leader wrote alone converge (KIP-279), and min.insync.replicas holds the HW
 * and refuses acks=all while the ISR is too small.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  ApiKey,
  decodeRecordBatches,
  ErrorCode,
  type FetchResponse,
  readBatchHeader,
} from '@gregor/protocol';
import { fetchRequest } from '../testing/requests.js';
import type { Partition } from './partition.js';
import { defaultReplicaFetchSettings, replicaFetchSettingsFrom } from './replica-fetcher.js';
import {
  assignRoles,
  createEverywhere,
  eventually,
  produceTo,
  type ReplicatingBroker,
  startReplicatingBrokers,
} from './testing/replicating-brokers.js';

let brokers: ReplicatingBroker[];

before(async () => {
  brokers = await startReplicatingBrokers(2);
});

after(async () => {
  for (const member of brokers) await member.stop();
});

function partitionOf(member: ReplicatingBroker, topic: string): Partition {
  return member.broker.services.replicas.get(topic, 0)!;
}

/** Every stored batch's (base offset, leader epoch, CRC, bytes) below `endOffset`. */
async function storedBatches(partition: Partition, endOffset: bigint) {
  const read = await partition.log.read(partition.log.logStartOffset, {
    maxBytes: 64 << 20,
    maxOffset: endOffset,
  });
  const bytes = Buffer.concat(read.buffers);
  const result = [];
  for (let position = 0; position < bytes.length; ) {
    const header = readBatchHeader(bytes, position);
    const end = position + 12 + header.batchLength;
    const [batch] = decodeRecordBatches(bytes.subarray(position, end));
    result.push({
      baseOffset: header.baseOffset,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      crc: header.crc,
      values: batch!.records.map((record) => record.value?.toString()),
      bytes: bytes.subarray(position, end),
    });
    position = end;
  }
  return result;
}

it('replicates byte-identical batches; acks=all answers once the follower has them', async () => {
  const topic = 'replicated';
  await createEverywhere(brokers, topic);
  const [leader, follower] = brokers as [ReplicatingBroker, ReplicatingBroker];
  await assignRoles(brokers, { topic, leader: 1, epoch: 1 });

  const first = await produceTo(leader, topic, ['a', 'b'], -1);
  assert.equal(first.errorCode, ErrorCode.NONE);
  assert.equal(first.baseOffset, 0n);
  // acks=all answered: the HW covers the batch, so the follower's LEO does too.
  assert.equal(partitionOf(leader, topic).highWatermark, 2n);
  assert.ok(partitionOf(follower, topic).logEndOffset >= 2n);
  const second = await produceTo(leader, topic, ['c'], -1);
  assert.equal(second.baseOffset, 2n);
  const unreplicatedAck = await produceTo(leader, topic, ['d', 'e'], 1);
  assert.equal(unreplicatedAck.baseOffset, 3n);

  await eventually(
    () => partitionOf(follower, topic).highWatermark === 5n,
    'the follower HW to reach 5',
  );
  const leaderBatches = await storedBatches(partitionOf(leader, topic), 5n);
  assert.deepEqual(
    leaderBatches.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch, batch.values]),
    [
      [0n, 1, ['a', 'b']],
      [2n, 1, ['c']],
      [3n, 1, ['d', 'e']],
    ],
  );
  assert.deepEqual(await storedBatches(partitionOf(follower, topic), 5n), leaderBatches);
  assert.equal(partitionOf(follower, topic).log.latestLeaderEpoch(), 1);

  // A follower refuses produce and consumer fetch.
  assert.equal(
    (await produceTo(follower, topic, ['x'], 1)).errorCode,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  const consumerFetch = await follower.client.request<FetchResponse>(
    ApiKey.Fetch,
    12,
    fetchRequest({ partitions: [{ topic, offset: 0n }], maxWaitMs: 0 }),
  );
  assert.equal(
    consumerFetch.responses[0]!.partitions[0]!.errorCode,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
});

it('truncates the old leader tail that was never replicated after a leader change (KIP-101)', async () => {
  const topic = 'divergent';
  await createEverywhere(brokers, topic);
  const [one, two] = brokers as [ReplicatingBroker, ReplicatingBroker];
  await assignRoles(brokers, { topic, leader: 1, epoch: 1 });
  assert.equal((await produceTo(one, topic, ['a', 'b'], -1)).errorCode, ErrorCode.NONE);
  await eventually(() => partitionOf(two, topic).highWatermark === 2n, 'the follower HW at 2');

  // Broker 2 stops fetching; broker 1 appends a batch only it holds (acks=1).
  two.fetchers.unfollow(topic, 0);
  assert.equal((await produceTo(one, topic, ['lost-1', 'lost-2'], 1)).baseOffset, 2n);
  assert.equal(partitionOf(one, topic).logEndOffset, 4n);

  // Broker 2 takes over at epoch 2 and takes writes; broker 1 follows it.
  await assignRoles(brokers, { topic, leader: 2, epoch: 2, isr: [2] });
  assert.equal((await produceTo(two, topic, ['c'], 1)).baseOffset, 2n);
  assert.equal((await produceTo(two, topic, ['d', 'e', 'f'], 1)).baseOffset, 3n);
  await eventually(
    () =>
      partitionOf(one, topic).logEndOffset === 6n && partitionOf(one, topic).highWatermark === 6n,
    'broker 1 to converge on broker 2 (LEO and HW 6)',
  );
  const expected = [
    [0n, 1, ['a', 'b']],
    [2n, 2, ['c']],
    [3n, 2, ['d', 'e', 'f']],
  ];
  const onTwo = await storedBatches(partitionOf(two, topic), 6n);
  assert.deepEqual(
    onTwo.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch, batch.values]),
    expected,
  );
  assert.deepEqual(await storedBatches(partitionOf(one, topic), 6n), onTwo);
});

it('converges after two failovers where each leader wrote alone (KIP-279)', async () => {
  const topic = 'double-failover';
  await createEverywhere(brokers, topic);
  const [one, two] = brokers as [ReplicatingBroker, ReplicatingBroker];
  await assignRoles(brokers, { topic, leader: 1, epoch: 1 });
  assert.equal((await produceTo(one, topic, ['m0'], -1)).errorCode, ErrorCode.NONE);
  await eventually(() => partitionOf(two, topic).logEndOffset === 1n, 'broker 2 to hold m0');
  two.fetchers.unfollow(topic, 0);
  assert.equal((await produceTo(one, topic, ['m1'], 1)).baseOffset, 1n);
  // Broker 1 is cut off; broker 2 leads epoch 2 and writes m2 at offset 1.
  await assignRoles(brokers, { topic, leader: 2, epoch: 2, isr: [2], silent: [1] });
  assert.equal((await produceTo(two, topic, ['m2'], 1)).baseOffset, 1n);
  // Broker 2 is cut off; broker 1 leads epoch 3 and writes m3 at offset 2.
  await assignRoles(brokers, { topic, leader: 1, epoch: 3, isr: [1], silent: [2] });
  assert.equal((await produceTo(one, topic, ['m3'], 1)).baseOffset, 2n);
  // Broker 2 fetches again: its m2 (epoch 2) is dropped, m1 and m3 taken from broker 1.
  await assignRoles(brokers, { topic, leader: 1, epoch: 3, isr: [1] });
  await eventually(
    () =>
      partitionOf(two, topic).logEndOffset === 3n && partitionOf(two, topic).highWatermark === 3n,
    'broker 2 to converge on broker 1 (LEO and HW 3)',
  );
  const onOne = await storedBatches(partitionOf(one, topic), 3n);
  assert.deepEqual(
    onOne.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch, batch.values]),
    [
      [0n, 1, ['m0']],
      [1n, 1, ['m1']],
      [2n, 3, ['m3']],
    ],
  );
  assert.deepEqual(await storedBatches(partitionOf(two, topic), 3n), onOne);
});

it('min.insync.replicas=2: acks=all is refused while the ISR has one member, the HW stays', async () => {
  const topic = 'strict';
  await createEverywhere(brokers, topic, { 'min.insync.replicas': '2' });
  const [one, two] = brokers as [ReplicatingBroker, ReplicatingBroker];
  await assignRoles(brokers, { topic, leader: 1, epoch: 1 });
  assert.equal((await produceTo(one, topic, ['a'], -1)).errorCode, ErrorCode.NONE);
  await assignRoles(brokers, { topic, leader: 1, epoch: 2, isr: [1] });
  assert.equal((await produceTo(one, topic, ['b'], -1)).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal((await produceTo(one, topic, ['c'], 1)).baseOffset, 1n);
  await eventually(() => partitionOf(two, topic).logEndOffset === 2n, 'broker 2 to fetch c');
  // Strict rule: with |ISR| < min.insync.replicas the HW does not move, even though broker 2 has c.
  assert.equal(partitionOf(one, topic).highWatermark, 1n);
});

it("reads replica.fetch.* with Kafka's names and defaults from the broker configuration", () => {
  const config = brokers[0]!.broker.services.config;
  assert.deepEqual(replicaFetchSettingsFrom(config), defaultReplicaFetchSettings);
});
