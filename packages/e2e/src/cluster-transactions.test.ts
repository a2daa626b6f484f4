/**
 * Exactly-once across a coordinator failover: three Gregor broker processes on a real etcd
 * (internal topics at RF 3, min.insync 2), Apache Kafka 4.4's Java client running a
 * consume-transform-produce processor (ExactlyOnceProcessor.java: read_committed group member,
 * transactional producer, offsets in the transaction), and the broker that coordinates its
 * transactional id — then, in a second case, its group — SIGKILLed mid-run. Every fourth
 * transaction is aborted on purpose (its records stay in the log). The output read back with
 * read_committed holds every input exactly once (no loss, no duplicate: nothing of an aborted or
 * half-done transaction is visible), while read_uncommitted sees the aborted records too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClient } from '@gregor/broker/testing/test-client';
import { Admin, Producer } from '@gregor/client';
import { ApiKey, ErrorCode, type FindCoordinatorResponse } from '@gregor/protocol';
import { BrokerCluster } from './harness/broker-cluster.js';
import { underReplicatedPartitions } from './harness/cluster-queries.js';
import { inputValuesByKey, outputValuesByKey } from './harness/gregor-client-exactly-once.js';
import { readToEnd } from './harness/gregor-client-transaction-scenarios.js';
import { assertKafkaJars, startJava } from './harness/java.js';
import { JsonLinesProcess } from './harness/json-lines-process.js';
import { uniqueName } from './harness/records.js';
import { waitUntil, withDeadline } from './harness/wait.js';

const partitions = 3;
const recordCount = 600;
const keyCount = 30;
const keyType = { group: 0, transaction: 1 } as const;

describe('exactly-once across a coordinator failover (three brokers on etcd, RF 3)', () => {
  let cluster: BrokerCluster;

  before(async () => {
    await assertKafkaJars();
    // No initial rebalance delay: the processor's group forms at once.
    cluster = await BrokerCluster.start({
      brokers: 3,
      extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
    });
  });

  after(async () => {
    await cluster?.dispose();
  });

  const running = () =>
    cluster.brokers.filter((broker) => broker.isRunning).map((broker) => broker.bootstrap);

  /** The node id coordinating `key` as a running broker answers (creating the internal topic). */
  async function coordinatorOf(key: string, type: number, exclude = -1): Promise<number> {
    return waitUntil(
      async () => {
        const broker = cluster.brokers.find(
          (candidate, index) => candidate.isRunning && index + 1 !== exclude,
        )!;
        const client = await TestClient.connect({ host: broker.host, port: broker.port });
        try {
          const found = await withDeadline(
            client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 4, {
              keyType: type,
              coordinatorKeys: [key],
            }),
            { timeoutMs: 10_000, what: 'FindCoordinator' },
          );
          const answer = found.coordinators?.[0];
          return answer?.errorCode === ErrorCode.NONE && answer.nodeId !== exclude
            ? answer.nodeId
            : undefined;
        } finally {
          client.destroy();
        }
      },
      { timeoutMs: 20_000, what: `the coordinator of ${key}` },
    );
  }

  for (const target of ['transaction', 'group'] as const) {
    it(`consume-transform-produce stays exactly-once when the ${target} coordinator is SIGKILLed`, async () => {
      const survivor = () =>
        cluster.brokers.find((broker) => broker.isRunning)?.bootstrap ?? cluster.bootstrap;
      const common = { bootstrapServers: [survivor()], clientId: `eos-failover-${target}` };
      const input = uniqueName(`eos-failover-in-${target}`);
      const output = uniqueName(`eos-failover-out-${target}`);
      const admin = new Admin(common);
      try {
        await admin.createTopics(
          [input, output].map((name) => ({
            name,
            partitions,
            replicationFactor: 3,
            configs: { 'min.insync.replicas': '2' },
          })),
        );
      } finally {
        admin.close();
      }
      // Idempotent acks=all input (the client's default).
      const producer = new Producer(common);
      await Promise.all(
        Array.from({ length: recordCount }, (_, index) =>
          producer.send({ topic: input, key: `key-${index % keyCount}`, value: String(index) }),
        ),
      );
      await producer.close();

      const transactionalId = uniqueName(`eos-failover-${target}`);
      const group = uniqueName(`eos-failover-group-${target}`);
      const processor = new JsonLinesProcess(
        startJava({
          main: 'ExactlyOnceProcessor.java',
          arguments: [cluster.bootstrap, input, output, group, transactionalId, '20', '4'],
          label: `eos-processor-${target}`,
          heapMb: 192,
        }),
      );
      let victim = -1;
      try {
        await processor.waitFor(
          (events) => events.filter((event) => event.event === 'committed').length >= 3,
          {
            timeoutMs: 90_000,
            what: 'three committed transactions',
          },
        );
        victim = await coordinatorOf(
          target === 'transaction' ? transactionalId : group,
          target === 'transaction' ? keyType.transaction : keyType.group,
        );
        const committedBeforeKill = processor.eventsOf('committed').length;
        console.log(
          JSON.stringify({
            transactionCoordinator: await coordinatorOf(transactionalId, keyType.transaction),
            groupCoordinator: await coordinatorOf(group, keyType.group),
          }),
        );
        await cluster.kill(victim, 'SIGKILL');
        const successor = await coordinatorOf(
          target === 'transaction' ? transactionalId : group,
          target === 'transaction' ? keyType.transaction : keyType.group,
          victim,
        );
        assert.notEqual(successor, victim);
        const done = await processor.waitForEvent('done', { timeoutMs: 120_000 });
        assert.equal(Number(done.total) >= recordCount, true, JSON.stringify(done));
        const committedAfterKill = processor.eventsOf('committed').length - committedBeforeKill;
        assert.ok(committedAfterKill > 0, 'the processor committed after the kill');
        const exited = await withDeadline(processor.process.exited, {
          timeoutMs: 30_000,
          what: 'the processor to exit',
        });
        assert.equal(exited.code, 0, processor.process.output().slice(-4000));
        console.log(
          JSON.stringify({
            target,
            victim,
            successor,
            committedBeforeKill,
            committedAfterKill,
            aborted: processor.eventsOf('aborted').map((event) => event.error),
          }),
        );
      } finally {
        await processor.kill();
        // The next case starts with three brokers again, every partition fully replicated (else a
        // second kill could leave a partition below min.insync.replicas).
        if (victim > 0 && !cluster.broker(victim).isRunning) {
          await cluster.restart(victim);
          await waitUntil(
            async () =>
              (await underReplicatedPartitions(running())).length === 0 ? true : undefined,
            { timeoutMs: 30_000, what: `broker ${victim} back in every ISR` },
          );
        }
      }

      const records = await readToEnd(
        { bootstrap: survivor(), label: `eos-failover-${target}` },
        output,
        partitions,
        'read_committed',
      );
      assert.equal(records.length, recordCount, 'every input once in the committed output');
      assert.deepEqual(outputValuesByKey(records), inputValuesByKey(recordCount, keyCount));
      const everything = await readToEnd(
        { bootstrap: survivor(), label: `eos-failover-${target}` },
        output,
        partitions,
        'read_uncommitted',
      );
      assert.ok(
        everything.length > recordCount,
        `aborted records are in the log (${everything.length} records in all)`,
      );
    });
  }
});
