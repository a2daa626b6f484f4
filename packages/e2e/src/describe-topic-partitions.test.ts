/**
 * DescribeTopicPartitions (key 75, KIP-966) on three Gregor brokers on etcd: raw pages from every
 * broker checked against Metadata, and Apache Kafka 4.4's Java Admin, whose describeTopics uses
 * this API when the broker advertises it (only this API carries the ELR fields the Admin returns).
 * A SIGKILLed replica of an RF 3 topic with min.insync.replicas=3 shows as offline, out of the ISR
 * and in the ELR. One node: the broker's describe-topic-partitions.test.ts (raw) and
 * java-clients.test.ts's Admin describeTopics, which goes through this API there too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClient } from '@gregor/broker/testing/test-client';
import {
  ApiKey,
  type CreateTopicsResponse,
  type DescribeTopicPartitionsResponse,
  ErrorCode,
  type MetadataResponse,
} from '@gregor/protocol';
import { BrokerCluster } from './harness/broker-cluster.js';
import { JavaClients } from './harness/java-clients.js';
import { waitUntil, withDeadline } from './harness/wait.js';

async function request<T>(bootstrap: string, apiKey: number, version: number, body: unknown) {
  const [host, port] = bootstrap.split(':');
  const client = await TestClient.connect({ host: host!, port: Number(port) });
  try {
    return await withDeadline(client.request<T>(apiKey, version, body), {
      timeoutMs: 20_000,
      what: `api ${apiKey} from ${bootstrap}`,
    });
  } finally {
    client.destroy();
  }
}

async function createTopic(
  bootstrap: string,
  topic: { name: string; partitions: number; replicationFactor: number; minInsync?: number },
): Promise<void> {
  const response = await request<CreateTopicsResponse>(bootstrap, ApiKey.CreateTopics, 7, {
    topics: [
      {
        name: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        assignments: [],
        configs:
          topic.minInsync === undefined
            ? []
            : [{ name: 'min.insync.replicas', value: String(topic.minInsync) }],
      },
    ],
    timeoutMs: 15_000,
    validateOnly: false,
  });
  assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE, JSON.stringify(response));
}

/** Every page of DescribeTopicPartitions for `topics`, `limit` partitions at a time. */
async function describeAllPages(bootstrap: string, topics: string[], limit: number) {
  const pages: DescribeTopicPartitionsResponse[] = [];
  let cursor: DescribeTopicPartitionsResponse['nextCursor'] = null;
  do {
    const page: DescribeTopicPartitionsResponse = await request<DescribeTopicPartitionsResponse>(
      bootstrap,
      ApiKey.DescribeTopicPartitions,
      0,
      { topics: topics.map((name) => ({ name })), responsePartitionLimit: limit, cursor },
    );
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

/** The fields Metadata and DescribeTopicPartitions share, under short names. */
function sharedFields(partition: {
  partitionIndex: number;
  leaderId: number;
  leaderEpoch?: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas?: number[];
}) {
  return {
    partition: partition.partitionIndex,
    leader: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    replicas: partition.replicaNodes,
    isr: partition.isrNodes,
    offline: partition.offlineReplicas,
  };
}

/** One topic's partitions as Metadata v12 describes them. */
async function metadataPartitions(bootstrap: string, topic: string) {
  const response = await request<MetadataResponse>(bootstrap, ApiKey.Metadata, 12, {
    topics: [{ name: topic, topicId: undefined }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  return response.topics[0]!.partitions.map(sharedFields);
}

/** The same fields from the pages, plus the ELR ones. */
function pagedPartitions(pages: readonly DescribeTopicPartitionsResponse[], topic: string) {
  return pages.flatMap((page) =>
    page.topics
      .filter((described) => described.name === topic)
      .flatMap((described) =>
        described.partitions.map((partition) => ({
          ...sharedFields(partition),
          elr: partition.eligibleLeaderReplicas,
          lastKnownElr: partition.lastKnownElr,
        })),
      ),
  );
}

describe('DescribeTopicPartitions on three Gregor brokers on etcd', { timeout: 180_000 }, () => {
  let cluster: BrokerCluster;
  let java: JavaClients;
  const topic = 'dtp-three';
  before(async () => {
    cluster = await BrokerCluster.start({ brokers: 3 });
    await createTopic(cluster.brokers[0]!.bootstrap, {
      name: topic,
      partitions: 3,
      replicationFactor: 3,
      minInsync: 3,
    });
    java = await JavaClients.start({ bootstrap: cluster.bootstrap });
  });
  after(async () => {
    await java?.stop();
    await cluster?.dispose();
  });

  it('every broker pages the image: Metadata fields, full ISR, empty ELRs', async () => {
    const full = await waitUntil(
      async () => {
        const partitions = await metadataPartitions(cluster.brokers[0]!.bootstrap, topic);
        return partitions.length === 3 &&
          partitions.every((p) => p.isr.length === 3 && p.leader > 0)
          ? partitions
          : undefined;
      },
      { timeoutMs: 30_000, what: `${topic} with three in-sync replicas per partition` },
    );
    for (const broker of cluster.brokers) {
      const pages = await describeAllPages(broker.bootstrap, [topic], 2);
      assert.deepEqual(
        pages.map((page) => page.nextCursor),
        [{ topicName: topic, partitionIndex: 2 }, null],
      );
      assert.deepEqual(
        pagedPartitions(pages, topic),
        full.map((partition) => ({ ...partition, elr: [], lastKnownElr: [] })),
        broker.bootstrap,
      );
    }
  });

  it('a killed replica is offline, out of the ISR and in the ELR, also for the Java Admin', async () => {
    const victim = 3;
    await cluster.kill(victim, 'SIGKILL');
    const others = cluster.brokers.slice(0, 2);
    try {
      for (const broker of others) {
        const partitions = await waitUntil(
          async () => {
            const described = pagedPartitions(
              await describeAllPages(broker.bootstrap, [topic], 2000),
              topic,
            );
            return described.length === 3 &&
              described.every((p) => p.isr.length === 2 && p.elr?.length === 1 && p.leader > 0)
              ? described
              : undefined;
          },
          { timeoutMs: 30_000, what: `broker ${victim} in the ELR as ${broker.bootstrap} sees it` },
        );
        for (const partition of partitions) {
          assert.deepEqual(
            {
              offline: partition.offline,
              isr: [...partition.isr].sort(),
              elr: partition.elr,
              lastKnownElr: partition.lastKnownElr,
            },
            { offline: [victim], isr: [1, 2], elr: [victim], lastKnownElr: [] },
            JSON.stringify(partition),
          );
        }
      }
      const results = await java.results(
        'describeTopicsPaged',
        { topics: [topic], limit: 1 },
        { timeoutMs: 30_000 },
      );
      const described = results[topic] as {
        partitions: { partition: number; isr: number[]; elr: number[]; replicas: number[] }[];
      };
      assert.deepEqual(
        described.partitions.map((partition) => ({
          partition: partition.partition,
          replicas: [...partition.replicas].sort(),
          isr: [...partition.isr].sort(),
          elr: partition.elr,
        })),
        [0, 1, 2].map((index) => ({
          partition: index,
          replicas: [1, 2, 3],
          isr: [1, 2],
          elr: [victim],
        })),
      );
    } finally {
      await cluster.restart(victim);
    }
  });
});
