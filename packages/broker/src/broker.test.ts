/**
 * Broker start-up over real sockets: what `Broker.start` takes from its options and from the
 * data dir.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type DescribeClusterResponse,
  ErrorCode,
  type FetchResponse,
  type FindCoordinatorResponse,
  type IncrementalAlterConfigsResponse,
  type MetadataResponse,
} from '@gregor/protocol';
import { Broker } from './broker.js';
import { ConfigSource } from './config/index.js';
import { silentLogger } from './logging/logger.js';
import { fetchRequest, metadataRequest, startTestBroker } from './testing/requests.js';
import { TestClient } from './testing/test-client.js';

const brokerResource = 4;
const setOperation = 0;

describe('Broker.start({ settings })', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-broker-start-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    Broker.start({
      logger: silentLogger,
      settings: {
        'log.dirs': dataDir,
        listeners: 'PLAINTEXT://127.0.0.1:0',
        'log.retention.hours': 48,
      },
    });

  it('re-applies the dynamic broker settings saved by an earlier run, above the static settings', async () => {
    const first = await start();
    try {
      const client = await TestClient.connect({ port: first.port });
      try {
        const response = await client.request<IncrementalAlterConfigsResponse>(
          ApiKey.IncrementalAlterConfigs,
          1,
          {
            resources: [
              {
                resourceType: brokerResource,
                resourceName: '',
                configs: [
                  { name: 'log.retention.ms', configOperation: setOperation, value: '3600000' },
                ],
              },
            ],
            validateOnly: false,
          },
        );
        assert.equal(response.responses[0].errorCode, ErrorCode.NONE);
      } finally {
        await client.close();
      }
    } finally {
      await first.stop();
    }
    const second = await start();
    try {
      assert.equal(second.config.get('log.retention.ms'), 3_600_000);
      assert.equal(
        second.config.sourceOf('log.retention.ms'),
        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
      );
      assert.equal(second.config.get('log.retention.hours'), 48);
    } finally {
      await second.stop();
    }
  });
});

describe('Broker listeners', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-broker-listeners-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const protocolMap = 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,HIDDEN:PLAINTEXT';

  it('binds every listener and advertises, per listener name, the address of that listener', async () => {
    const broker = await Broker.start({
      logger: silentLogger,
      settings: {
        'log.dirs': dataDir,
        listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0,HIDDEN://127.0.0.1:0',
        'listener.security.protocol.map': protocolMap,
        'advertised.listeners': 'PLAINTEXT://public.example.com:19092,INTERNAL://127.0.0.1:0',
      },
    });
    const clients: TestClient[] = [];
    try {
      assert.deepEqual(
        broker.listeners.map((listener) => listener.name),
        ['PLAINTEXT', 'INTERNAL', 'HIDDEN'],
      );
      const ports = broker.listeners.map((listener) => listener.port);
      assert.equal(new Set(ports).size, 3);
      for (const port of ports) clients.push(await TestClient.connect({ port }));
      const [external, internal, hidden] = clients as [TestClient, TestClient, TestClient];
      const metadata = (client: TestClient, version = 12) =>
        client.request<MetadataResponse>(ApiKey.Metadata, version, metadataRequest(['events']));

      const fromExternal = await metadata(external);
      assert.deepEqual(
        fromExternal.brokers.map((node) => [node.host, node.port]),
        [['public.example.com', 19092]],
      );
      assert.equal(fromExternal.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      const fromInternal = await metadata(internal);
      assert.deepEqual(
        fromInternal.brokers.map((node) => [node.host, node.port]),
        [['127.0.0.1', ports[1]]],
      );
      // Not advertised: Kafka lists no broker and answers LISTENER_NOT_FOUND (v6+).
      const fromHidden = await metadata(hidden);
      assert.deepEqual(fromHidden.brokers, []);
      assert.equal(fromHidden.topics[0]!.partitions[0]!.errorCode, ErrorCode.LISTENER_NOT_FOUND);
      assert.equal(fromHidden.topics[0]!.partitions[0]!.leaderId, -1);
      const fromHiddenV5 = await metadata(hidden, 5);
      assert.equal(
        fromHiddenV5.topics[0]!.partitions[0]!.errorCode,
        ErrorCode.LEADER_NOT_AVAILABLE,
      );

      const findCoordinator = (client: TestClient) =>
        client.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 4, {
          keyType: 0,
          coordinatorKeys: ['group'],
        });
      const coordinator = (await findCoordinator(internal)).coordinators?.[0];
      assert.deepEqual([coordinator?.host, coordinator?.port], ['127.0.0.1', ports[1]]);
      assert.equal(
        (await findCoordinator(hidden)).coordinators?.[0]?.errorCode,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
      );
      const cluster = await external.request<DescribeClusterResponse>(ApiKey.DescribeCluster, 1, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      assert.deepEqual(
        cluster.brokers.map((node) => [node.host, node.port]),
        [['public.example.com', 19092]],
      );
    } finally {
      for (const client of clients) client.destroy();
      await broker.stop();
    }
  });

  it('refuses a listener that is not PLAINTEXT with a clear error', async () => {
    await assert.rejects(
      Broker.start({
        logger: silentLogger,
        settings: {
          'log.dirs': dataDir,
          listeners: 'PLAINTEXT://127.0.0.1:0,SECURE://127.0.0.1:0',
          'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SECURE:SSL',
        },
      }),
      /listener SECURE uses SSL; Gregor serves PLAINTEXT listeners only/,
    );
  });

  it('fails to start when a listener cannot bind, releasing the ones already bound', async () => {
    const occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const busyPort = (occupied.address() as AddressInfo).port;
    try {
      const settings = {
        'log.dirs': dataDir,
        'listener.security.protocol.map': protocolMap,
      };
      await assert.rejects(
        Broker.start({
          logger: silentLogger,
          settings: {
            ...settings,
            listeners: `PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:${busyPort}`,
          },
        }),
        /EADDRINUSE/,
      );
      const restarted = await Broker.start({
        logger: silentLogger,
        settings: { ...settings, listeners: 'PLAINTEXT://127.0.0.1:0' },
      });
      await restarted.stop();
    } finally {
      await new Promise<void>((resolve) => occupied.close(() => resolve()));
    }
  });
});

describe('Broker.stop with long polls waiting', () => {
  it('answers one-partition and several-partition long polls at once instead of waiting them out', async () => {
    const { broker, stop } = await startTestBroker({ 'num.partitions': 2 });
    const client = await TestClient.connect({ port: broker.port });
    try {
      await client.request(ApiKey.Metadata, 12, metadataRequest(['quiet']));
      const longPoll = (partitions: number[]) =>
        client.request<FetchResponse>(
          ApiKey.Fetch,
          12,
          fetchRequest({
            partitions: partitions.map((partition) => ({ topic: 'quiet', partition, offset: 0n })),
            maxWaitMs: 60_000,
            minBytes: 1,
          }),
        );
      const waits = [longPoll([0]), longPoll([0, 1])];
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await stop();
      const answered = await Promise.all(waits);
      assert.ok(Date.now() - started < 5_000, `stopped in ${Date.now() - started} ms`);
      assert.deepEqual(
        answered.map((response) => response.responses[0]!.partitions.length),
        [1, 2],
      );
    } finally {
      client.destroy();
    }
  });
});

describe('many long polls at once', () => {
  it('waits on the shutdown signal without a MaxListenersExceededWarning (one listener per poll, removed when it ends)', async () => {
    const pollCount = 12;
    const { broker, stop } = await startTestBroker({ 'num.partitions': pollCount });
    const clients = await Promise.all(
      Array.from({ length: pollCount * 2 }, () => TestClient.connect({ port: broker.port })),
    );
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      await clients[0]!.request(ApiKey.Metadata, 12, metadataRequest(['crowded']));
      const longPoll = (client: TestClient, partitions: number[]) =>
        client.request<FetchResponse>(
          ApiKey.Fetch,
          12,
          fetchRequest({
            partitions: partitions.map((partition) => ({
              topic: 'crowded',
              partition,
              offset: 0n,
            })),
            maxWaitMs: 300,
            minBytes: 1,
          }),
        );
      // As many consumers as a MirrorMaker 2 or Connect worker runs, all waiting at the same
      // time: one-partition polls and polls on every partition of a topic (Connect's offset
      // topic has 25).
      const everyPartition = Array.from({ length: pollCount }, (_, partition) => partition);
      const answered = await Promise.all(
        clients.map((client, index) => longPoll(client, index % 2 === 0 ? [0] : everyPartition)),
      );
      assert.equal(answered.length, pollCount * 2);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.map((warning) => `${warning.name}: ${warning.message}`),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      for (const client of clients) client.destroy();
      await stop();
    }
  });
});
