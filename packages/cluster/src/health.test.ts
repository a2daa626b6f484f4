import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterHealth } from './health.js';
import { newPartitionRegistration, noLeader } from './partition-registration.js';
import { clusterImage } from './testing/images.js';

test('health: offline, under-replicated, under and at min ISR, imbalance, recovering leaders', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    topics: [
      {
        name: 'h',
        configs: { 'min.insync.replicas': '2' },
        partitions: [
          [1, 2, 3],
          { ...newPartitionRegistration([1, 2, 3]), isr: [1, 2] },
          { ...newPartitionRegistration([1, 2, 3]), isr: [2], leader: 2 },
          { ...newPartitionRegistration([1, 2, 3]), isr: [3], leader: noLeader },
          { ...newPartitionRegistration([2, 1, 3]), isr: [1], leader: 1, leaderRecoveryState: 1 },
        ],
      },
      { name: 'single', partitions: [[3]] },
    ],
  });
  assert.deepEqual(clusterHealth(image), {
    partitions: 6,
    offlinePartitions: 1,
    underReplicatedPartitions: 4,
    underMinIsrPartitions: 3,
    atMinIsrPartitions: 2,
    preferredReplicaImbalance: 3,
    recoveringLeaders: 1,
  });
});
