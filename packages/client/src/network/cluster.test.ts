import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosedError } from '../errors.js';
import { Cluster } from './cluster.js';

test('a closed cluster refuses connections with a non-retriable ClosedError', async () => {
  // Retry loops (InitProducerId, coordinator lookups) stop on it instead of spinning until their
  // deadline after the producer or consumer closed.
  const cluster = new Cluster({ bootstrapServers: ['127.0.0.1:9'] });
  cluster.close();
  await assert.rejects(cluster.anyConnection(), (error: unknown) => {
    assert.ok(error instanceof ClosedError);
    assert.equal(error.retriable, false);
    return true;
  });
});

test('KIP-951 leader hints: a newer epoch with a known endpoint moves the cached leader', () => {
  const cluster = new Cluster({ bootstrapServers: ['127.0.0.1:9'] });
  try {
    cluster.applyMetadata({
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9001, rack: null }],
      topics: [
        {
          errorCode: 0,
          name: 't',
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 4,
              replicaNodes: [1, 2],
              isrNodes: [1, 2],
            },
          ],
        },
      ],
    });
    assert.equal(cluster.leaderOf('t', 0), 1);
    // Older or equal epochs, unknown leaders and unknown partitions change nothing.
    assert.equal(cluster.applyLeaderHint('t', 0, { leaderId: 2, leaderEpoch: 4 }), false);
    assert.equal(cluster.applyLeaderHint('t', 0, { leaderId: 2, leaderEpoch: 5 }), false);
    assert.equal(cluster.applyLeaderHint('t', 1, { leaderId: 1, leaderEpoch: 9 }), false);
    assert.equal(cluster.leaderOf('t', 0), 1);
    // The response's node endpoints make the new leader reachable.
    const endpoints = [{ nodeId: 2, host: '127.0.0.1', port: 9002, rack: 'r2' }];
    assert.equal(cluster.applyLeaderHint('t', 0, { leaderId: 2, leaderEpoch: 5 }, endpoints), true);
    assert.equal(cluster.leaderOf('t', 0), 2);
    assert.equal(cluster.cachedTopic('t')?.partitions[0]?.leaderEpoch, 5);
  } finally {
    cluster.close();
  }
});
