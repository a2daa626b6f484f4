/**
 * @gregor/client's producer (idempotent, acks=all) and a consumer group on three Gregor brokers
 * over a real etcd while the broker coordinating the group and leading partitions of the topic
 * is SIGKILLed mid-run: every acknowledged record is delivered to the group exactly once, at its
 * acknowledged offset. The same run on Apache Kafka 4.4's three KRaft nodes and with the KIP-848
 * protocol is `npm run bench -- gregor-client-failover` (three JVMs take over a minute to start).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerCluster } from './harness/broker-cluster.js';
import { exactlyOnceProblems, runClientFailover } from './harness/gregor-client-failover.js';

const log = process.env.GREGOR_CLIENT_FAILOVER_LOG
  ? (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)
  : undefined;

test('@gregor/client on three Gregor brokers: group coordinator and leader SIGKILLed mid-run, every ack read once', {
  timeout: 180_000,
}, async () => {
  const cluster = await BrokerCluster.start({
    brokers: 3,
    sessionTimeoutMs: 2_000,
    // The group's offsets must outlive the coordinator's broker.
    extraArguments: ['--override', 'offsets.topic.replication.factor=3'],
  });
  try {
    const result = await runClientFailover(cluster, { log });
    assert.deepEqual(exactlyOnceProblems(result), []);
    assert.equal(result.victimWasCoordinator, true, 'the victim coordinated the group');
    assert.ok(result.delivered.length > 0);
  } finally {
    await cluster.dispose();
  }
});
