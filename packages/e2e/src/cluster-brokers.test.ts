/**
 * Three real broker processes forming a cluster through a real etcd (`--metadata etcd://...`):
 * RF 1 topics spread across them, identical Metadata from every broker, kcat producing and
 * consuming across all three, a SIGKILLed broker's partitions going offline and coming back,
 * controller failover, and a SIGTERM controlled shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordBatch, TestClient } from '@gregor/broker/testing/test-client';
import { EtcdMetadataStore } from '@gregor/metadata/etcd-store';
import {
  ApiKey,
  type CreateTopicsResponse,
  type DescribeClusterResponse,
  ErrorCode,
  type FindCoordinatorResponse,
  type InitProducerIdResponse,
  type MetadataResponse,
  type OffsetFetchResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import { BrokerCluster } from './harness/broker-cluster.js';
import type { BrokerProcess } from './harness/broker-process.js';
import { runKcat } from './harness/kcat.js';
import { waitUntil, withDeadline } from './harness/wait.js';

async function request<T>(
  broker: BrokerProcess,
  apiKey: number,
  apiVersion: number,
  body: unknown,
): Promise<T> {
  const client = await TestClient.connect({ host: broker.host, port: broker.port });
  try {
    return await withDeadline(client.request<T>(apiKey, apiVersion, body), {
      timeoutMs: 20_000,
      what: `api ${apiKey} from broker ${broker.bootstrap}`,
    });
  } finally {
    client.destroy();
  }
}

function metadata(broker: BrokerProcess, topics: string[] | null): Promise<MetadataResponse> {
  return request<MetadataResponse>(broker, ApiKey.Metadata, 12, {
    topics: topics === null ? null : topics.map((name) => ({ name, topicId: undefined })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

function createTopic(
  broker: BrokerProcess,
  name: string,
  numPartitions: number,
  replicationFactor: number,
): Promise<CreateTopicsResponse> {
  return request<CreateTopicsResponse>(broker, ApiKey.CreateTopics, 7, {
    topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
}

/** Every record of one partition of `spread`, as `partition:offset:value` lines. */
async function readPartition(bootstrap: string, partition: number): Promise<string> {
  const { stdout } = await runKcat({
    bootstrap,
    arguments: [
      '-C',
      '-t',
      'spread',
      '-p',
      String(partition),
      '-o',
      'beginning',
      '-e',
      '-f',
      '%p:%o:%s\\n',
    ],
    timeoutMs: 30_000,
  });
  return stdout;
}

/** The cluster-visible part of a Metadata answer: brokers, controller, partitions. */
function clusterView(response: MetadataResponse) {
  return {
    brokers: response.brokers
      .map((broker) => `${broker.nodeId}@${broker.host}:${broker.port}/${broker.rack}`)
      .sort(),
    controllerId: response.controllerId,
    clusterId: response.clusterId,
    topics: response.topics
      .map((topic) => ({
        name: topic.name,
        topicId: topic.topicId,
        errorCode: topic.errorCode,
        partitions: topic.partitions
          .map((partition) => ({
            index: partition.partitionIndex,
            errorCode: partition.errorCode,
            leader: partition.leaderId,
            leaderEpoch: partition.leaderEpoch,
            replicas: partition.replicaNodes,
            isr: partition.isrNodes,
            offline: partition.offlineReplicas,
          }))
          .sort((left, right) => left.index - right.index),
      }))
      .sort((left, right) => (left.name ?? '').localeCompare(right.name ?? '')),
  };
}

/** FindCoordinator v4 for one key (0 = group, 1 = transactional id) asked of `broker`. */
async function findCoordinator(
  broker: Parameters<typeof request>[0],
  keyType: number,
  key: string,
): Promise<NonNullable<FindCoordinatorResponse['coordinators']>[number]> {
  const found = await request<FindCoordinatorResponse>(broker, ApiKey.FindCoordinator, 4, {
    keyType,
    coordinatorKeys: [key],
  });
  return found.coordinators![0]!;
}

describe('cluster of three brokers on etcd', { timeout: 180_000 }, () => {
  let cluster: BrokerCluster;

  before(async () => {
    cluster = await BrokerCluster.start({
      brokers: 3,
      racks: ['r1', 'r2', 'r3'],
      sessionTimeoutMs: 1000,
    });
  });

  after(async () => {
    await cluster?.dispose();
  });

  it('creates RF 1 topics across the brokers and every broker answers the same Metadata', async () => {
    const created = await createTopic(cluster.broker(2), 'spread', 6, 1);
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, JSON.stringify(created));
    const views = await waitUntil(
      async () => {
        const answers = await Promise.all(cluster.brokers.map((broker) => metadata(broker, null)));
        const views = answers.map(clusterView);
        const first = JSON.stringify(views[0]);
        return views.every((view) => JSON.stringify(view) === first) &&
          views[0]!.topics.some((topic) => topic.name === 'spread')
          ? views
          : undefined;
      },
      { timeoutMs: 10_000, what: 'identical Metadata from every broker' },
    );
    const view = views[0]!;
    assert.deepEqual(
      view.brokers,
      cluster.brokers
        .map((broker, index) => `${index + 1}@${broker.bootstrap}/r${index + 1}`)
        .sort(),
    );
    assert.ok([1, 2, 3].includes(view.controllerId ?? -1));
    const spread = view.topics.find((topic) => topic.name === 'spread')!;
    assert.equal(spread.partitions.length, 6);
    const leaders = new Map<number, number>();
    for (const partition of spread.partitions) {
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.deepEqual(partition.replicas, [partition.leader]);
      assert.deepEqual(partition.isr, [partition.leader]);
      assert.deepEqual(partition.offline, []);
      leaders.set(partition.leader, (leaders.get(partition.leader) ?? 0) + 1);
    }
    // Kafka's placement: RF 1 over three brokers puts two partitions on each.
    assert.deepEqual([...leaders.values()], [2, 2, 2]);
    // Produce to a broker that does not lead: NOT_LEADER_OR_FOLLOWER with the leader (KIP-951).
    const elsewhere = spread.partitions.find((partition) => partition.leader !== 1)!;
    const refused = await request<ProduceResponse>(cluster.broker(1), ApiKey.Produce, 11, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [
        {
          name: 'spread',
          partitionData: [{ index: elsewhere.index, records: recordBatch({ count: 1 }) }],
        },
      ],
    });
    const answer = refused.responses[0]!.partitionResponses[0]!;
    assert.equal(answer.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(
      { leaderId: answer.currentLeader?.leaderId, leaderEpoch: answer.currentLeader?.leaderEpoch },
      { leaderId: elsewhere.leader, leaderEpoch: elsewhere.leaderEpoch },
    );
    const leaderBroker = cluster.broker(elsewhere.leader);
    assert.deepEqual(
      refused.nodeEndpoints?.map((node) => `${node.nodeId}@${node.host}:${node.port}`),
      [`${elsewhere.leader}@${leaderBroker.bootstrap}`],
    );
  });

  it('kcat produces to and consumes from partitions led by every broker', async () => {
    const lines = Array.from({ length: 6 }, (_, partition) => `${partition}:value-${partition}`);
    for (const line of lines) {
      const [partition, value] = line.split(':');
      await runKcat({
        bootstrap: cluster.broker(1).bootstrap,
        arguments: ['-P', '-t', 'spread', '-p', partition!],
        input: `${value}\n`,
        timeoutMs: 30_000,
      });
    }
    for (let partition = 0; partition < 6; partition++) {
      assert.equal(
        await readPartition(cluster.broker(3).bootstrap, partition),
        `${partition}:0:value-${partition}\n`,
      );
    }
  });

  it('a consumer group is coordinated by the leader of its __consumer_offsets partition', async () => {
    const { stdout } = await runKcat({
      bootstrap: cluster.broker(2).bootstrap,
      arguments: [
        '-G',
        'cluster-group',
        '-c',
        '6',
        '-X',
        'auto.offset.reset=earliest',
        '-f',
        '%p:%o:%s\\n',
        'spread',
      ],
      timeoutMs: 60_000,
    });
    assert.deepEqual(
      stdout.trim().split('\n').sort(),
      Array.from({ length: 6 }, (_, partition) => `${partition}:0:value-${partition}`),
    );
    const coordinator = await findCoordinator(cluster.broker(1), 0, 'cluster-group');
    assert.equal(coordinator.errorCode, ErrorCode.NONE);
    const offsets = clusterView(await metadata(cluster.broker(1), ['__consumer_offsets']));
    assert.equal(offsets.topics[0]!.partitions.length, 50);
    // Committed at close: every partition at offset 1, read from the coordinator.
    const committed = await request<OffsetFetchResponse>(
      cluster.broker(coordinator.nodeId),
      ApiKey.OffsetFetch,
      8,
      { groups: [{ groupId: 'cluster-group', topics: null }], requireStable: false },
    );
    const group = committed.groups![0]!;
    assert.equal(group.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      group.topics
        .flatMap((topic) =>
          topic.partitions.map(
            (partition) => `${topic.name}-${partition.partitionIndex}@${partition.committedOffset}`,
          ),
        )
        .sort(),
      Array.from({ length: 6 }, (_, partition) => `spread-${partition}@1`),
    );
    // Any other broker is not its coordinator.
    const other = cluster.brokers.find((_, index) => index + 1 !== coordinator.nodeId)!;
    const refused = await request<OffsetFetchResponse>(other, ApiKey.OffsetFetch, 8, {
      groups: [{ groupId: 'cluster-group', topics: null }],
      requireStable: false,
    });
    assert.equal(refused.groups![0]!.errorCode, ErrorCode.NOT_COORDINATOR);
  });

  it('producer ids are unique across brokers; a transactional id has one coordinator', async () => {
    const initProducerId = (broker: BrokerProcess, transactionalId: string | null) =>
      request<InitProducerIdResponse>(broker, ApiKey.InitProducerId, 4, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      });
    const ids = [];
    for (const broker of cluster.brokers) {
      for (let round = 0; round < 2; round++) {
        const answer = await initProducerId(broker, null);
        assert.equal(answer.errorCode, ErrorCode.NONE);
        ids.push(answer.producerId);
      }
    }
    assert.equal(new Set(ids).size, ids.length, ids.join(','));
    // Creates __transaction_state (its partitions spread over the three brokers), so the restart
    // below loads it.
    const coordinator = await findCoordinator(cluster.broker(1), 1, 'cluster-transactions');
    assert.equal(coordinator.errorCode, ErrorCode.NONE);
    const transactional = await waitUntil(
      async () => {
        const answer = await initProducerId(
          cluster.broker(coordinator.nodeId),
          'cluster-transactions',
        );
        return answer.errorCode === ErrorCode.NONE ? answer : undefined;
      },
      { timeoutMs: 10_000, what: 'InitProducerId at the transaction coordinator' },
    );
    assert.ok(!ids.includes(transactional.producerId));
  });

  it("a SIGKILLed broker's partitions go offline when its lease expires and come back on restart", async () => {
    const victim = cluster.broker(2);
    const before = clusterView(await metadata(cluster.broker(1), ['spread']));
    const owned = before.topics[0]!.partitions.filter((partition) => partition.leader === 2);
    assert.equal(owned.length, 2);
    await victim.kill('SIGKILL');
    const offline = await waitUntil(
      async () => {
        const view = clusterView(await metadata(cluster.broker(1), ['spread']));
        const partitions = view.topics[0]!.partitions.filter((partition) =>
          owned.some((entry) => entry.index === partition.index),
        );
        return partitions.every((partition) => partition.leader === -1)
          ? { view, partitions }
          : undefined;
      },
      { timeoutMs: 10_000, what: "broker 2's partitions offline" },
    );
    assert.ok(!offline.view.brokers.some((broker) => broker.startsWith('2@')));
    for (const partition of offline.partitions) {
      assert.equal(partition.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
      assert.deepEqual(partition.replicas, [2]);
      assert.deepEqual(partition.offline, [2]);
    }
    await victim.restart();
    const back = await waitUntil(
      async () => {
        const view = clusterView(await metadata(cluster.broker(3), ['spread']));
        return view.topics[0]!.partitions.every((partition) => partition.leader !== -1)
          ? view
          : undefined;
      },
      { timeoutMs: 15_000, what: "broker 2's partitions back" },
    );
    for (const entry of owned) {
      const partition = back.topics[0]!.partitions.find(
        (candidate) => candidate.index === entry.index,
      )!;
      assert.equal(partition.leader, 2);
      assert.ok((partition.leaderEpoch ?? -1) > (entry.leaderEpoch ?? -1));
      // The records written before the kill are still there.
      assert.equal(
        await readPartition(cluster.broker(1).bootstrap, entry.index),
        `${entry.index}:0:value-${entry.index}\n`,
      );
    }
  });

  it('a SIGKILLed controller is replaced and CreateTopics keeps working', async () => {
    const describeCluster = (broker: BrokerProcess) =>
      request<DescribeClusterResponse>(broker, ApiKey.DescribeCluster, 1, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
    const controllerId = (await describeCluster(cluster.broker(1))).controllerId;
    assert.ok([1, 2, 3].includes(controllerId));
    await cluster.broker(controllerId).kill('SIGKILL');
    try {
      const survivor = cluster.brokers.find((_, index) => index + 1 !== controllerId)!;
      const next = await waitUntil(
        async () => {
          const id = (await describeCluster(survivor)).controllerId;
          return id !== controllerId && id !== -1 ? id : undefined;
        },
        { timeoutMs: 10_000, what: 'a new controller' },
      );
      assert.notEqual(next, controllerId);
      // Through a broker that is not the controller: forwarded to the new one.
      const other = cluster.brokers.find(
        (broker, index) => index + 1 !== controllerId && index + 1 !== next,
      )!;
      // The new controller may win its election before the dead broker's own registration lease
      // expires; until then that broker counts as alive and may be given replicas, as in Kafka
      // before its session times out. Placement is checked once the registration is gone.
      await waitUntil(
        async () =>
          clusterView(await metadata(other, null)).brokers.every(
            (broker) => !broker.startsWith(`${controllerId}@`),
          ) || undefined,
        { timeoutMs: 10_000, what: "the dead controller's registration to expire" },
      );
      const created = await createTopic(other, 'after-failover', 2, 1);
      assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, JSON.stringify(created));
      const view = clusterView(await metadata(other, ['after-failover']));
      assert.equal(view.topics[0]!.partitions.length, 2);
      for (const partition of view.topics[0]!.partitions) {
        assert.notEqual(partition.leader, controllerId);
        assert.notEqual(partition.leader, -1);
      }
      // More replicas than live brokers.
      const tooMany = await createTopic(other, 'too-many-replicas', 1, 3);
      assert.equal(tooMany.topics[0]!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    } finally {
      // The next tests need all three brokers, whatever happened here.
      await cluster.broker(controllerId).restart();
    }
  });

  it('RF 3: followers replicate, a SIGKILLed leader is replaced from the ISR with every acknowledged record', async () => {
    await waitUntil(
      async () => clusterView(await metadata(cluster.broker(1), null)).brokers.length === 3,
      { timeoutMs: 15_000, what: 'three registered brokers' },
    );
    const created = await createTopic(cluster.broker(1), 'replicated', 1, 3);
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, JSON.stringify(created));
    const produce = (values: string[], bootstrap: string) =>
      runKcat({
        bootstrap,
        arguments: ['-P', '-t', 'replicated', '-p', '0', '-X', 'request.required.acks=-1'],
        input: `${values.join('\n')}\n`,
        timeoutMs: 30_000,
      });
    await produce(['a', 'b', 'c'], cluster.bootstrap);
    const before = clusterView(await metadata(cluster.broker(1), ['replicated'])).topics[0]!
      .partitions[0]!;
    assert.deepEqual([...before.replicas].sort(), [1, 2, 3]);
    const leader = before.leader;
    await cluster.broker(leader).kill('SIGKILL');
    const survivor = cluster.brokers.find((_, index) => index + 1 !== leader)!;
    const after = await waitUntil(
      async () => {
        const partition = clusterView(await metadata(survivor, ['replicated'])).topics[0]!
          .partitions[0]!;
        return partition.leader !== leader && partition.leader !== -1 ? partition : undefined;
      },
      { timeoutMs: 10_000, what: 'a new leader of replicated-0' },
    );
    assert.ok((after.leaderEpoch ?? -1) > (before.leaderEpoch ?? -1));
    assert.ok(before.isr.includes(after.leader));
    await produce(['d'], survivor.bootstrap);
    const { stdout } = await runKcat({
      bootstrap: survivor.bootstrap,
      arguments: ['-C', '-t', 'replicated', '-p', '0', '-o', 'beginning', '-e', '-f', '%o:%s\\n'],
      timeoutMs: 30_000,
    });
    assert.equal(stdout, '0:a\n1:b\n2:c\n3:d\n');
    await cluster.broker(leader).restart();
  });

  it('SIGTERM is a controlled shutdown: leaderships end before the lease, the process exits 0', async () => {
    const victim = cluster.broker(3);
    await waitUntil(
      async () => clusterView(await metadata(cluster.broker(1), null)).brokers.length === 3,
      { timeoutMs: 15_000, what: 'three registered brokers' },
    );
    const status = await victim.kill('SIGTERM');
    assert.equal(status.code, 0);
    // No waiting for a lease: the broker is gone from the image as it exits.
    const view = clusterView(await metadata(cluster.broker(1), ['spread']));
    assert.ok(
      !view.brokers.some((broker) => broker.startsWith('3@')),
      JSON.stringify(view.brokers),
    );
    for (const partition of view.topics[0]!.partitions) {
      if (partition.replicas[0] === 3) assert.equal(partition.leader, -1);
    }
    assert.match(victim.output(), /controlled shutdown done.*"leadershipsLeft":0/);
  });

  it('a broker whose leases ended while alive registers with a new epoch and campaigns on a fresh lease', async () => {
    // Broker 3 stopped in the previous test: brokers 1 and 2 remain.
    const store = new EtcdMetadataStore({ endpoints: [cluster.etcd.endpoint] });
    try {
      const controller = await waitUntil(
        async () => {
          const id = await cluster.controller();
          return id === 1 || id === 2 ? id : undefined;
        },
        { timeoutMs: 15_000, what: 'an active controller among brokers 1 and 2' },
      );
      const other = controller === 1 ? 2 : 1;
      const state = async () => {
        const brokers = (await store.list('brokers/')).entries;
        const candidates = (await store.list('election/controller/')).entries;
        return {
          epochs: new Map(brokers.map((entry) => [entry.key, entry.createRevision])),
          candidates: candidates.map((entry) => ({ key: entry.key, id: entry.value.toString() })),
        };
      };
      const before = await state();
      const oldCandidateKeys = new Set(before.candidates.map((candidate) => candidate.key));
      assert.deepEqual(before.candidates.map((candidate) => candidate.id).sort(), ['1', '2']);
      // The waiting candidate: its registration and candidacy leases are revoked as a peer that
      // found its endpoint dead would (MetadataStore.expireBroker); the controller: stopped past
      // its 1 s leases, as a long event-loop stall would.
      await store.revokeLeaseOf(`brokers/${other}`);
      const waiting = before.candidates.find((candidate) => candidate.id === String(other))!;
      await store.revokeLeaseOf(waiting.key);
      cluster.pause(controller);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      cluster.resume(controller);
      const after = await waitUntil(
        async () => {
          const current = await state();
          const fresh = current.candidates.filter(
            (candidate) => !oldCandidateKeys.has(candidate.key),
          );
          const reRegistered = [1, 2].every(
            (id) =>
              (current.epochs.get(`brokers/${id}`) ?? 0n) >
              (before.epochs.get(`brokers/${id}`) ?? 0n),
          );
          const controllerNow = await cluster.controller();
          return reRegistered && fresh.length === 2 && controllerNow !== -1
            ? { current, fresh, controllerNow }
            : undefined;
        },
        { timeoutMs: 20_000, what: 'both brokers registered again and campaigning on new leases' },
      );
      assert.deepEqual(after.fresh.map((candidate) => candidate.id).sort(), ['1', '2']);
      assert.ok([1, 2].includes(after.controllerNow));
      // Both serve their partitions again: every 'spread' partition on 1 or 2 has its leader.
      await waitUntil(
        async () => {
          const view = clusterView(await metadata(cluster.broker(1), ['spread']));
          return view.topics[0]!.partitions.every(
            (partition) =>
              partition.replicas[0] === 3 || partition.leader === partition.replicas[0],
          );
        },
        { timeoutMs: 15_000, what: "brokers 1 and 2 lead their 'spread' partitions again" },
      );
    } finally {
      await store.close();
    }
  });
});
