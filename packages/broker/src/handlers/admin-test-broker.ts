/**
 * Test support for the admin API tests: a real broker on an ephemeral port over a temporary data
 * dir, with a connected test client. Not a test file itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, type CreateTopicsResponse, type ProduceResponse } from '@gregor/protocol';
import { Broker } from '../broker.js';
import { loadBrokerConfig } from '../config/index.js';
import { silentLogger } from '../logging/logger.js';
import { recordBatch, TestClient } from '../testing/test-client.js';

export interface AdminTestBroker {
  broker: Broker;
  client: TestClient;
  dataDir: string;
  /** Stops the broker (keeping the data dir) and starts a new one over the same dir. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAdminTestBroker(
  settings: Readonly<Record<string, string | number | boolean>> = {},
  settingsForDataDir: (dataDir: string) => Record<string, string> = () => ({}),
): Promise<AdminTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gregor-admin-'));
  // As the CLI does: loadBrokerConfig also re-applies persisted dynamic broker settings.
  const start = async () =>
    Broker.start({
      config: await loadBrokerConfig({
        settings: {
          listeners: 'PLAINTEXT://127.0.0.1:0',
          'log.dirs': dataDir,
          ...settings,
          ...settingsForDataDir(dataDir),
        },
      }),
      logger: silentLogger,
    });
  const state = { broker: await start(), client: undefined as unknown as TestClient };
  state.client = await TestClient.connect({ port: state.broker.port });
  const handle: AdminTestBroker = {
    get broker() {
      return state.broker;
    },
    get client() {
      return state.client;
    },
    dataDir,
    async restart() {
      await state.client.close();
      await state.broker.stop();
      state.broker = await start();
      state.client = await TestClient.connect({ port: state.broker.port });
    },
    async close() {
      await state.client.close();
      await state.broker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** CreateTopics v7 for one topic; returns its result. */
export async function createTopic(
  client: TestClient,
  topic: {
    name: string;
    numPartitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
    validateOnly?: boolean;
  },
): Promise<CreateTopicsResponse['topics'][number]> {
  const response = await client.request<CreateTopicsResponse>(ApiKey.CreateTopics, 7, {
    topics: [
      {
        name: topic.name,
        numPartitions: topic.numPartitions ?? 1,
        replicationFactor: topic.replicationFactor ?? 1,
        assignments: [],
        configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      },
    ],
    timeoutMs: 5000,
    validateOnly: topic.validateOnly ?? false,
  });
  return response.topics[0];
}

/** Produces `count` records to one partition with acks=-1; returns the partition error code. */
export async function produceRecords(
  client: TestClient,
  options: { topic: string; partition: number; count: number },
): Promise<number> {
  const response = await client.request<ProduceResponse>(ApiKey.Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      {
        name: options.topic,
        partitionData: [
          { index: options.partition, records: recordBatch({ count: options.count }) },
        ],
      },
    ],
  });
  return response.responses[0].partitionResponses[0].errorCode;
}
