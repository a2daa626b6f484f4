/**
 * ISR shrink and expand between two real brokers in one process: the leader's IsrManager sends
 * AlterPartition to a controller stand-in that applies Kafka's partition-epoch check and commits
 * the proposed ISR. A follower that stops fetching leaves the ISR after replica.lag.time.max.ms
 * (and acks=all then completes with the leader alone, min.insync.replicas=1); once it fetches again
 * and catches up it rejoins.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  ErrorCode,
} from '@gregor/protocol';
import { systemClock } from '../clock.js';
import { createJsonLogger } from '../logging/logger.js';
import { IsrManager } from './isr-manager.js';
import {
  assignRoles,
  createEverywhere,
  eventually,
  produceTo,
  type ReplicatingBroker,
  startReplicatingBrokers,
} from './testing/replicating-brokers.js';

const replicaLagTimeMaxMs = 1_000;
let brokers: ReplicatingBroker[];
let isrManager: IsrManager;
/** What the stand-in controller committed: partition epoch and ISR. */
const committed = { partitionEpoch: 0, isr: [1, 2] };
const requests: AlterPartitionRequest[] = [];

before(async () => {
  brokers = await startReplicatingBrokers(
    2,
    {},
    { 'replica.lag.time.max.ms': replicaLagTimeMaxMs },
  );
  const leader = brokers[0]!;
  isrManager = new IsrManager({
    replicas: leader.broker.services.replicas,
    clock: systemClock,
    logger: createJsonLogger({ level: 'off' }),
    brokerEpoch: () => 5n,
    topicId: (topic) => leader.broker.services.topics.get(topic)?.topicId,
    replicaLagTimeMaxMs: () => replicaLagTimeMaxMs,
    sender: {
      async send(request): Promise<AlterPartitionResponse> {
        requests.push(request);
        const data = request.topics[0]!.partitions[0]!;
        const stale = data.partitionEpoch !== committed.partitionEpoch;
        if (!stale) {
          committed.partitionEpoch++;
          committed.isr = data.newIsrWithEpochs!.map((member) => member.brokerId);
        }
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          topics: [
            {
              topicId: request.topics[0]!.topicId,
              partitions: [
                {
                  partitionIndex: data.partitionIndex,
                  errorCode: stale ? ErrorCode.INVALID_UPDATE_VERSION : ErrorCode.NONE,
                  leaderId: 1,
                  leaderEpoch: data.leaderEpoch,
                  isr: committed.isr,
                  leaderRecoveryState: 0,
                  partitionEpoch: committed.partitionEpoch,
                },
              ],
            },
          ],
        };
      },
    },
  });
  isrManager.start();
});

after(async () => {
  isrManager.stop();
  for (const member of brokers) await member.stop();
});

it('shrinks the ISR when a follower stops fetching and expands it when it catches up', async () => {
  const topic = 'isr-changes';
  await createEverywhere(brokers, topic);
  const [leader, follower] = brokers as [ReplicatingBroker, ReplicatingBroker];
  await assignRoles(brokers, { topic, leader: 1, epoch: 1, partitionEpoch: 0 });
  const partition = leader.broker.services.replicas.get(topic, 0)!;
  assert.equal((await produceTo(leader, topic, ['a'], -1)).errorCode, ErrorCode.NONE);

  follower.fetchers.unfollow(topic, 0);
  assert.equal((await produceTo(leader, topic, ['b'], 1)).baseOffset, 1n);
  await eventually(() => partition.isr.size === 1, 'the ISR to shrink to the leader');
  assert.deepEqual([...partition.isr], [1]);
  assert.deepEqual(committed.isr, [1]);
  assert.equal(partition.partitionEpoch, committed.partitionEpoch);
  const shrink = requests.at(-1)!;
  assert.equal(shrink.brokerId, 1);
  assert.equal(shrink.brokerEpoch, 5n);
  assert.deepEqual(shrink.topics[0]!.partitions[0]!.newIsrWithEpochs, [
    { brokerId: 1, brokerEpoch: 5n },
  ]);
  assert.equal(shrink.topics[0]!.partitions[0]!.partitionEpoch, committed.partitionEpoch - 1);
  // Alone in the ISR with min.insync.replicas=1, acks=all completes without the follower.
  const alone = await produceTo(leader, topic, ['c'], -1);
  assert.equal(alone.errorCode, ErrorCode.NONE);
  assert.equal(partition.highWatermark, 3n);

  const shrunkEpoch = committed.partitionEpoch;
  await assignRoles(brokers, { topic, leader: 1, epoch: 1, partitionEpoch: shrunkEpoch, isr: [1] });
  await eventually(() => partition.isr.size === 2, 'the ISR to expand back');
  assert.deepEqual([...partition.isr].sort(), [1, 2]);
  assert.deepEqual(committed, { partitionEpoch: shrunkEpoch + 1, isr: [1, 2] });
  assert.ok(follower.broker.services.replicas.get(topic, 0)!.logEndOffset >= 3n);
  assert.equal(partition.partitionEpoch, shrunkEpoch + 1);
});
