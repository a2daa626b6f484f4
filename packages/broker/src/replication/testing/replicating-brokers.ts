/**
 * Brokers in one process that replicate one another's partitions: each a full standalone Broker
 * (node.id 1, 2, ...) on loopback with a ReplicaFetcherManager over node:net; roles are set by
 * hand here (the metadata image does it in cluster mode).
 */
import { ApiKey, encodeRecordBatch, type ProduceResponse } from '@gregor/protocol';
import type { Broker } from '../../broker.js';
import { systemClock } from '../../clock.js';
import { createJsonLogger } from '../../logging/logger.js';
import { nodeTransport } from '../../server/node-transport.js';
import { produceRequest, startTestBroker } from '../../testing/requests.js';
import { TestClient } from '../../testing/test-client.js';
import { ReplicaFetcherManager, type ReplicaFetchSettings } from '../replica-fetcher.js';
import { leaderEpoch, replicaId } from '../types.js';

export interface ReplicatingBroker {
  id: number;
  broker: Broker;
  fetchers: ReplicaFetcherManager;
  client: TestClient;
  stop: () => Promise<void>;
}

export async function startReplicatingBrokers(
  count: number,
  settings: Partial<ReplicaFetchSettings> = {},
  brokerSettings: Readonly<Record<string, string | number | boolean>> = {},
): Promise<ReplicatingBroker[]> {
  const result: ReplicatingBroker[] = [];
  const ports = new Map<number, number>();
  for (let id = 1; id <= count; id++) {
    const started = await startTestBroker({ 'node.id': id, ...brokerSettings });
    ports.set(id, started.broker.port);
    const fetchers = new ReplicaFetcherManager({
      replicas: started.broker.services.replicas,
      transport: nodeTransport,
      clock: systemClock,
      logger: createJsonLogger({ level: 'off' }),
      brokerEpoch: () => -1n,
      brokerAddress: (brokerId) => {
        const port = ports.get(brokerId);
        return port === undefined ? undefined : { host: '127.0.0.1', port };
      },
      settings: { backoffMs: 50, ...settings },
    });
    const client = await TestClient.connect({ port: started.broker.port, clientId: `test-${id}` });
    result.push({
      id,
      broker: started.broker,
      fetchers,
      client,
      stop: async () => {
        await fetchers.stop();
        await client.close();
        await started.stop();
      },
    });
  }
  return result;
}

/** Creates `topic` (one partition) on every broker (each standalone broker has its own id). */
export async function createEverywhere(
  brokers: ReplicatingBroker[],
  topic: string,
  configs: Readonly<Record<string, string>> = {},
): Promise<void> {
  for (const member of brokers) {
    await member.broker.services.topics.create({ name: topic, partitionCount: 1, configs });
  }
}

/** `leader` leads partition 0 at `epoch` with `isr`; the others follow it and fetch. */
export async function assignRoles(
  brokers: ReplicatingBroker[],
  options: {
    topic: string;
    leader: number;
    epoch: number;
    isr?: number[];
    partitionEpoch?: number;
    /** Followers that take the role but do not fetch (down or cut off). */
    silent?: number[];
  },
): Promise<void> {
  const replicas = brokers.map((member) => replicaId(member.id));
  const epoch = leaderEpoch(options.epoch);
  const leader = brokers.find((member) => member.id === options.leader)!;
  const topicId = leader.broker.services.topics.get(options.topic)!.topicId;
  for (const member of brokers) {
    if (member.id === options.leader) {
      member.fetchers.unfollow(options.topic, 0);
      await member.broker.services.replicas.makeLeader(options.topic, 0, {
        leaderEpoch: epoch,
        replicas,
        isr: (options.isr ?? brokers.map((other) => other.id)).map(replicaId),
        partitionEpoch: options.partitionEpoch,
      });
    } else {
      member.broker.services.replicas.makeFollower(options.topic, 0, {
        leaderEpoch: epoch,
        replicas,
      });
      if (options.silent?.includes(member.id)) {
        member.fetchers.unfollow(options.topic, 0);
        continue;
      }
      member.fetchers.follow({
        topic: options.topic,
        topicId,
        partition: 0,
        leaderId: options.leader,
        leaderEpoch: epoch,
      });
    }
  }
}

export function batchOf(values: string[], timestampMs = 1_000n): Buffer {
  return encodeRecordBatch({
    records: values.map((value) => ({
      key: null,
      value: Buffer.from(value),
      timestamp: timestampMs,
    })),
  });
}

export async function produceTo(
  member: ReplicatingBroker,
  topic: string,
  values: string[],
  acks: number,
  timeoutMs = 10_000,
) {
  const response = await member.client.request<ProduceResponse>(
    ApiKey.Produce,
    9,
    produceRequest({ topic, records: batchOf(values), acks, timeoutMs }),
  );
  return response.responses[0]!.partitionResponses[0]!;
}

/** Polls `condition` every 10 ms; throws naming `what` after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
