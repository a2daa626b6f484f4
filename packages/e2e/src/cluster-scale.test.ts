/**
 * 1,000 partitions (RF 1) on three brokers sharing one real etcd (the short version of
 * `npm run bench -- scale-cluster`): every broker's Metadata shows every partition led and each
 * leader serves its partitions after creation, after a clean restart of all three and after one
 * broker's SIGKILL and restart; a record produced to every partition after each step lands at
 * the next offset, so no partition lost or repeated a record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrokerCluster } from './harness/broker-cluster.js';
import {
  createClusterTopics,
  type Leaders,
  leadersSeenBy,
  produceToLeaders,
  waitUntilLed,
} from './harness/cluster-scale.js';
import { scaleTopicNames } from './harness/partition-scale.js';
import { waitUntil } from './harness/wait.js';

const partitionCount = 1_000;
const stepTimeoutMs = 60_000;

describe(`${partitionCount} partitions on three brokers`, () => {
  let cluster: BrokerCluster;
  const topics = scaleTopicNames(partitionCount);
  let leaders: Leaders;

  before(async () => {
    cluster = await BrokerCluster.start({ brokers: 3, readyTimeoutMs: stepTimeoutMs });
  });
  after(async () => {
    await cluster?.dispose();
  });

  /** One record to every partition; each must land at `offset`. */
  async function produceEverywhereAt(offset: bigint, when: string): Promise<void> {
    const offsets = await produceToLeaders(cluster, leaders, [...leaders.keys()], 1);
    for (const [key, baseOffset] of offsets) assert.equal(baseOffset, offset, `${when}: ${key}`);
  }

  it('creates them, each broker leads a third, every one takes a record', async () => {
    await createClusterTopics(cluster.broker(1).bootstrap, topics, {
      partitionCount,
      replicationFactor: 1,
      topicsPerRequest: topics.length,
    });
    leaders = await waitUntilLed(cluster, topics, { partitionCount, timeoutMs: stepTimeoutMs });
    assert.equal(leaders.size, partitionCount);
    const perBroker = new Map<number, number>();
    for (const leader of leaders.values()) perBroker.set(leader, (perBroker.get(leader) ?? 0) + 1);
    assert.deepEqual([...perBroker.keys()].sort(), [1, 2, 3], 'every broker leads some partitions');
    // Each topic of 1,000 gives every broker 333 or 334 leaderships.
    for (const [node, count] of perBroker)
      assert.ok(Math.abs(count - partitionCount / 3) <= 2, `broker ${node} leads ${count}`);
    await produceEverywhereAt(0n, 'after creation');
  });

  it('a clean restart of all three brokers keeps every leader and record', async () => {
    await Promise.all(
      cluster.brokers.map((broker) => broker.kill('SIGTERM', { timeoutMs: 30_000 })),
    );
    await Promise.all(cluster.brokers.map((broker) => broker.restart()));
    const again = await waitUntilLed(cluster, topics, { partitionCount, timeoutMs: stepTimeoutMs });
    // RF 1: a partition can only be led by its one replica, so by the same broker as before.
    assert.deepEqual(again, leaders);
    await produceEverywhereAt(1n, 'after the clean restart');
  });

  it("a broker's SIGKILL takes its partitions offline until it is back", async () => {
    const controller = await cluster.controller();
    const killed = [1, 2, 3].find((node) => node !== controller)!;
    const survivor = [1, 2, 3].find((node) => node !== killed)!;
    const ledByKilled = [...leaders].filter(([, leader]) => leader === killed).map(([key]) => key);
    await cluster.kill(killed, 'SIGKILL');
    await waitUntil(
      async () => {
        const seen = await leadersSeenBy(cluster.broker(survivor).bootstrap, topics);
        return ledByKilled.every((key) => seen.get(key) === -1) ? seen : undefined;
      },
      { timeoutMs: stepTimeoutMs, what: `the partitions of broker ${killed} offline` },
    );
    await cluster.restart(killed);
    const back = await waitUntilLed(cluster, topics, { partitionCount, timeoutMs: stepTimeoutMs });
    assert.deepEqual(back, leaders);
    await produceEverywhereAt(2n, 'after the SIGKILL and restart');
  });
});
