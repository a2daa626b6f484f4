// @gregor/client's admin calls against a real broker, with exact results: configs, groups and
// their offsets, lag and resets, delete records, cluster and log dirs, transactions and producers,
// and (where the broker serves them) ACLs, quotas and reassignments.

import assert from 'node:assert/strict';
import { Admin, type ClusterOptions, Producer, UnsupportedVersionError } from '@gregor/client';
import {
  readToEnd,
  scenarioClusterOptions,
  type TransactionScenarioContext,
} from './gregor-client-transaction-scenarios.js';
import { uniqueName } from './records.js';
import { waitUntil } from './wait.js';

function clusterOptions(context: TransactionScenarioContext): ClusterOptions {
  return scenarioClusterOptions(context, 'admin');
}

async function withAdmin<T>(
  context: TransactionScenarioContext,
  body: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = new Admin(clusterOptions(context));
  try {
    return await body(admin);
  } finally {
    admin.close();
  }
}

/** A topic with `counts[p]` records in partition p (values `p-i`). */
async function topicWithRecords(
  context: TransactionScenarioContext,
  admin: Admin,
  prefix: string,
  counts: readonly number[],
  configs: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(`${prefix}-${context.label}`);
  await admin.createTopics([
    { name: topic, partitions: counts.length, replicationFactor: 1, configs },
  ]);
  const producer = new Producer(clusterOptions(context));
  try {
    await Promise.all(
      counts.flatMap((count, partition) =>
        Array.from({ length: count }, (_, index) =>
          producer.send({ topic, partition, value: `${partition}-${index}` }),
        ),
      ),
    );
  } finally {
    await producer.close();
  }
  return topic;
}

/** The broker serves the API (Gregor does not serve ACLs, quotas and reassignments yet). */
function serves(context: TransactionScenarioContext): boolean {
  return context.label === 'kafka';
}

export const adminScenarios: Record<
  string,
  (context: TransactionScenarioContext) => Promise<void>
> = {
  async 'admin: describe and alter topic configs (incremental set and delete)'(context) {
    await withAdmin(context, async (admin) => {
      const topic = uniqueName(`configs-${context.label}`);
      await admin.createTopics([
        {
          name: topic,
          partitions: 1,
          replicationFactor: 1,
          configs: { 'retention.ms': '3600000' },
        },
      ]);
      const resource = { type: 'topic' as const, name: topic };
      const read = async () =>
        (
          await admin.describeConfigs([resource], { names: ['retention.ms', 'cleanup.policy'] })
        )[0].configs.map((entry) => [entry.name, entry.value, entry.source, entry.isDefault]);
      assert.deepEqual(await read(), [
        ['cleanup.policy', 'delete', 'default', true],
        ['retention.ms', '3600000', 'dynamic-topic', false],
      ]);
      await admin.incrementalAlterConfigs([
        { resource, set: { 'cleanup.policy': 'compact', 'retention.ms': '7200000' } },
      ]);
      assert.deepEqual(await read(), [
        ['cleanup.policy', 'compact', 'dynamic-topic', false],
        ['retention.ms', '7200000', 'dynamic-topic', false],
      ]);
      await admin.incrementalAlterConfigs([{ resource, delete: ['retention.ms'] }]);
      await admin.incrementalAlterConfigs([{ resource, set: { 'retention.ms': '1000' } }], {
        validateOnly: true,
      });
      assert.deepEqual(await read(), [
        ['cleanup.policy', 'compact', 'dynamic-topic', false],
        ['retention.ms', '604800000', 'default', true],
      ]);
    });
  },

  async 'admin: groups — list, describe, offsets, lag, reset, delete offsets, delete'(context) {
    await withAdmin(context, async (admin) => {
      const topic = await topicWithRecords(context, admin, 'groups', [5, 3]);
      const groupId = uniqueName(`admin-group-${context.label}`);
      await admin.alterGroupOffsets(groupId, [
        { topic, partition: 0, offset: 2n },
        { topic, partition: 1, offset: 1n, metadata: 'm1' },
      ]);
      const listed = (await admin.listGroups()).filter((group) => group.groupId === groupId);
      assert.deepEqual(
        listed.map((group) => [group.groupId, group.state]),
        [[groupId, 'Empty']],
      );
      const [described] = await admin.describeGroups([groupId]);
      assert.deepEqual(
        [described.groupId, described.state, described.members],
        [groupId, 'Empty', []],
      );
      const offsets = () =>
        admin
          .listGroupOffsets(groupId)
          .then((list) => list.map((entry) => [entry.partition, entry.offset, entry.metadata]));
      assert.deepEqual(await offsets(), [
        [0, 2n, ''],
        [1, 1n, 'm1'],
      ]);
      assert.deepEqual(
        (await admin.groupLag(groupId, [topic])).map((entry) => [
          entry.partition,
          entry.committed,
          entry.end,
          entry.lag,
        ]),
        [
          [0, 2n, 5n, 3n],
          [1, 1n, 3n, 2n],
        ],
      );
      await admin.resetGroupOffsets(groupId, topic, 'earliest');
      assert.deepEqual(await offsets(), [
        [0, 0n, ''],
        [1, 0n, ''],
      ]);
      await admin.resetGroupOffsets(groupId, topic, 'latest');
      assert.deepEqual(await offsets(), [
        [0, 5n, ''],
        [1, 3n, ''],
      ]);
      await admin.deleteGroupOffsets(groupId, [{ topic, partition: 1 }]);
      assert.deepEqual(await offsets(), [[0, 5n, '']]);
      await admin.deleteGroups([groupId]);
      assert.deepEqual(
        (await admin.listGroups()).filter((group) => group.groupId === groupId),
        [],
      );
    });
  },

  async 'admin: delete records moves the log start; readers start there'(context) {
    await withAdmin(context, async (admin) => {
      const topic = await topicWithRecords(context, admin, 'delete-records', [10, 2]);
      const result = await admin.deleteRecords([
        { topic, partition: 0, offset: 4n },
        { topic, partition: 1, offset: -1n },
      ]);
      assert.deepEqual(
        result.map((entry) => [entry.partition, entry.lowWatermark]),
        [
          [0, 4n],
          [1, 2n],
        ],
      );
      assert.deepEqual(
        (
          await admin.listOffsets(
            [
              { topic, partition: 0 },
              { topic, partition: 1 },
            ],
            'earliest',
          )
        ).map((entry) => entry.offset),
        [4n, 2n],
      );
      const values = (await readToEnd(context, topic, 2, 'read_uncommitted')).map((record) =>
        record.value?.toString(),
      );
      assert.deepEqual(values, ['0-4', '0-5', '0-6', '0-7', '0-8', '0-9']);
    });
  },

  async 'admin: describe cluster and log dirs'(context) {
    await withAdmin(context, async (admin) => {
      const topic = await topicWithRecords(context, admin, 'logdirs', [3]);
      const description = await admin.describeCluster();
      const [host, port] = context.bootstrap.split(':');
      assert.equal(description.brokers.length, 1);
      assert.deepEqual(
        [description.brokers[0].host, description.brokers[0].port],
        [host, Number(port)],
      );
      assert.ok(description.clusterId.length > 0);
      const directories = await admin.describeLogDirs();
      assert.equal(directories.length, 1);
      assert.equal(directories[0].brokerId, description.brokers[0].nodeId);
      const replicas = directories[0].replicas.filter((replica) => replica.topic === topic);
      assert.deepEqual(
        replicas.map((replica) => [replica.partition, replica.offsetLag]),
        [[0, 0n]],
      );
      assert.ok(replicas[0].sizeBytes > 0n, `size ${replicas[0].sizeBytes}`);
    });
  },

  async 'admin: list and describe transactions, describe producers'(context) {
    await withAdmin(context, async (admin) => {
      const topic = await topicWithRecords(context, admin, 'txn-admin', [2]);
      const transactionalId = uniqueName(`admin-txn-${context.label}`);
      const producer = new Producer({ ...clusterOptions(context), transactionalId });
      try {
        await producer.initTransactions();
        producer.beginTransaction();
        await producer.send({ topic, partition: 0, value: 'open' });
        const { producerId, producerEpoch } = producer.producerIdAndEpoch;
        const listed = (await admin.listTransactions()).filter(
          (entry) => entry.transactionalId === transactionalId,
        );
        assert.deepEqual(listed, [{ transactionalId, producerId, state: 'Ongoing' }]);
        const [ongoing] = await admin.describeTransactions([transactionalId]);
        assert.deepEqual(
          [ongoing.state, ongoing.producerId, ongoing.producerEpoch, ongoing.partitions],
          ['Ongoing', producerId, producerEpoch, [{ topic, partition: 0 }]],
        );
        const active = (await admin.describeProducers([{ topic, partition: 0 }])).filter(
          (entry) => entry.producerId === producerId,
        );
        assert.deepEqual(
          active.map((entry) => [
            entry.producerEpoch,
            entry.lastSequence,
            entry.currentTransactionStartOffset,
          ]),
          [[producerEpoch, 0, 2n]],
        );
        await producer.commitTransaction();
        await waitUntil(
          async () =>
            (await admin.describeTransactions([transactionalId]))[0].state === 'CompleteCommit'
              ? true
              : undefined,
          { timeoutMs: 10_000, what: 'the transaction to complete' },
        );
        const [completed] = await admin.describeTransactions([transactionalId]);
        assert.deepEqual(completed.partitions, []);
      } finally {
        await producer.close();
      }
    });
  },

  async 'admin: ACLs create, describe, delete (Kafka; Gregor does not serve them)'(context) {
    await withAdmin(context, async (admin) => {
      const topic = uniqueName(`acl-${context.label}`);
      const read = {
        resourceType: 'topic',
        resourceName: topic,
        patternType: 'literal',
        principal: 'User:alice',
        host: '*',
        operation: 'read',
        permission: 'allow',
      } as const;
      const write = { ...read, operation: 'write', permission: 'deny' } as const;
      if (!serves(context)) {
        await assert.rejects(admin.createAcls([read]), UnsupportedVersionError);
        return;
      }
      await admin.createAcls([read, write]);
      const filter = { resourceType: 'topic', resourceName: topic } as const;
      // KRaft applies ACLs through the metadata log: wait until the broker shows both.
      await waitUntil(
        async () => ((await admin.describeAcls(filter)).length === 2 ? true : undefined),
        {
          timeoutMs: 10_000,
          what: 'the ACLs to appear',
        },
      );
      assert.deepEqual(await admin.describeAcls(filter), [read, write]);
      assert.deepEqual(await admin.describeAcls({ ...filter, operation: 'write' }), [write]);
      assert.deepEqual(await admin.deleteAcls([{ ...filter, permission: 'deny' }]), [write]);
      await waitUntil(
        async () => ((await admin.describeAcls(filter)).length === 1 ? true : undefined),
        {
          timeoutMs: 10_000,
          what: 'the deleted ACL to go',
        },
      );
      assert.deepEqual(await admin.describeAcls(filter), [read]);
    });
  },

  async 'admin: client quotas and partition reassignments (Kafka; Gregor does not serve them)'(
    context,
  ) {
    await withAdmin(context, async (admin) => {
      const user = uniqueName('quota-user');
      if (!serves(context)) {
        await assert.rejects(
          admin.describeClientQuotas([{ entityType: 'user' }]),
          UnsupportedVersionError,
        );
        await assert.rejects(admin.listPartitionReassignments(), UnsupportedVersionError);
        return;
      }
      await admin.alterClientQuotas([
        { entity: { user }, values: { producer_byte_rate: 1024, consumer_byte_rate: 2048 } },
      ]);
      const quotas = () => admin.describeClientQuotas([{ entityType: 'user', match: user }]);
      await waitUntil(async () => ((await quotas()).length === 1 ? true : undefined), {
        timeoutMs: 10_000,
        what: 'the quota to appear',
      });
      assert.deepEqual(await quotas(), [
        { entity: { user }, values: { consumer_byte_rate: 2048, producer_byte_rate: 1024 } },
      ]);
      await admin.alterClientQuotas([{ entity: { user }, values: { consumer_byte_rate: null } }]);
      await waitUntil(
        async () =>
          (await quotas())[0]?.values.consumer_byte_rate === undefined ? true : undefined,
        { timeoutMs: 10_000, what: 'the quota value to go' },
      );
      assert.deepEqual(await quotas(), [
        { entity: { user }, values: { producer_byte_rate: 1024 } },
      ]);
      // One broker: moving a replica onto the broker it is on completes at once.
      const topic = await topicWithRecords(context, admin, 'reassign', [1]);
      const [broker] = (await admin.describeCluster()).brokers;
      await admin.alterPartitionReassignments([{ topic, partition: 0, replicas: [broker.nodeId] }]);
      assert.deepEqual(await admin.listPartitionReassignments([{ topic, partition: 0 }]), []);
    });
  },
};
