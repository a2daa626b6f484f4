/**
 * The network layer against hostile and careless clients, over real sockets: malformed frames
 * close only their connection, unsupported versions get Kafka's answers, responses keep request
 * order, and a client that never reads cannot make the broker buffer without bound.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type ApiVersionsResponse,
  decodeResponseFrame,
  ErrorCode,
  type FetchResponse,
  FrameDecoder,
  type MetadataResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { fetchHandler } from '../handlers/fetch.js';
import { createJsonLogger } from '../logging/logger.js';
import {
  fetchRequest,
  metadataRequest,
  produceRequest,
  startTestBroker,
} from '../testing/requests.js';
import { recordBatch, TestClient } from '../testing/test-client.js';
import { serverLimits } from './limits.js';

function sizePrefixed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

/** Request header v1 (non-flexible) or v2 (flexible) followed by `body`. */
function rawRequest(options: {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  flexibleHeader?: boolean;
  body?: Buffer;
}): Buffer {
  const header = Buffer.alloc(10);
  header.writeInt16BE(options.apiKey, 0);
  header.writeInt16BE(options.apiVersion, 2);
  header.writeInt32BE(options.correlationId, 4);
  header.writeInt16BE(-1, 8); // null client id
  const tagged = options.flexibleHeader ? Buffer.from([0]) : Buffer.alloc(0);
  return sizePrefixed(Buffer.concat([header, tagged, options.body ?? Buffer.alloc(0)]));
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the broker closes the socket (the client never ends it). */
function closedByPeer(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => {});
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
    socket.resume();
  });
}

/** A deterministic byte source (xorshift32) for the random-input test. */
function seededBytes(seed: number, length: number): Buffer {
  let state = seed >>> 0 || 1;
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network server', () => {
  let broker: Broker;
  let stop: () => Promise<void>;

  before(async () => {
    ({ broker, stop } = await startTestBroker(
      { 'connections.max.idle.ms': 60_000 },
      { connectionLimits: { queuedResponseBytesPerConnectionMax: 1024 * 1024 } },
    ));
  });
  after(async () => {
    await stop();
  });

  async function assertStillServing(): Promise<void> {
    const client = await TestClient.connect({ port: broker.port });
    try {
      const response = await client.request<ApiVersionsResponse>(ApiKey.ApiVersions, 3, {
        clientSoftwareName: 'check',
        clientSoftwareVersion: '1',
      });
      assert.equal(response.errorCode, ErrorCode.NONE);
    } finally {
      client.destroy();
    }
  }

  it('answers ApiVersions above its range with a v0 UNSUPPORTED_VERSION body (KIP-511)', async () => {
    const socket = await openSocket(broker.port);
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 20 });
    const response = new Promise<ApiVersionsResponse>((resolve, reject) => {
      socket.on('data', (chunk) => {
        decoder.push(chunk);
        const frame = decoder.next();
        if (frame === null) return;
        const decoded = decodeResponseFrame(ApiKey.ApiVersions, 0, frame);
        if (!decoded.ok) reject(decoded.error);
        else {
          assert.equal(decoded.value.header.correlationId, 77);
          resolve(decoded.value.body as ApiVersionsResponse);
        }
      });
    });
    socket.write(
      rawRequest({
        apiKey: ApiKey.ApiVersions,
        apiVersion: 99,
        correlationId: 77,
        flexibleHeader: true,
        body: Buffer.from([3, 0x61, 0x62, 2, 0x31, 0]),
      }),
    );
    const body = await response;
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.ok(
      body.apiKeys.some((api) => api.apiKey === ApiKey.ApiVersions && api.maxVersion === 4),
    );
    // The same ranges a supported ApiVersions advertises: every served API, none left out.
    assert.deepEqual(
      body.apiKeys.map(({ apiKey, minVersion, maxVersion }) => [apiKey, minVersion, maxVersion]),
      broker.services.supportedApis.map(({ apiKey, minVersion, maxVersion }) => [
        apiKey,
        minVersion,
        maxVersion,
      ]),
    );
    assert.ok(body.apiKeys.length > 20);
    socket.destroy();
  });

  it('answers a decodable version outside our range with UNSUPPORTED_VERSION', async () => {
    const client = await TestClient.connect({ port: broker.port });
    try {
      const response = await client.request<ProduceResponse>(
        ApiKey.Produce,
        2,
        produceRequest({ topic: 'old-produce', records: Buffer.alloc(0) }),
      );
      const partition = response.responses[0]!.partitionResponses[0]!;
      assert.equal(partition.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    } finally {
      client.destroy();
    }
  });

  it('answers an old Fetch version with UNSUPPORTED_VERSION on every requested partition', async () => {
    // Fetch v2 has no top-level error code: without the partitions the client sees no error.
    const client = await TestClient.connect({ port: broker.port });
    try {
      const response = await client.request<FetchResponse>(
        ApiKey.Fetch,
        2,
        fetchRequest({
          partitions: [
            { topic: 'old-fetch-a', partition: 0, offset: 0n },
            { topic: 'old-fetch-a', partition: 1, offset: 0n },
            { topic: 'old-fetch-b', partition: 0, offset: 5n },
          ],
        }),
      );
      const answered = response.responses.flatMap((topic) =>
        topic.partitions.map((partition) => [
          topic.topic,
          partition.partitionIndex,
          partition.errorCode,
        ]),
      );
      assert.deepEqual(answered, [
        ['old-fetch-a', 0, ErrorCode.UNSUPPORTED_VERSION],
        ['old-fetch-a', 1, ErrorCode.UNSUPPORTED_VERSION],
        ['old-fetch-b', 0, ErrorCode.UNSUPPORTED_VERSION],
      ]);
    } finally {
      client.destroy();
    }
  });

  it('puts a Fetch error on the partitions below v13 and only at the top from v13 (as Kafka)', () => {
    const request = fetchRequest({ partitions: [{ topic: 'any', partition: 0, offset: 0n }] });
    const errorResponse = fetchHandler.errorResponse!;
    const old = errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, 12);
    assert.equal(old.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    const current = errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, 13);
    assert.equal(current.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.deepEqual(current.responses, []);
  });

  const closingCases: [string, (port: number) => Buffer][] = [
    ['an unknown API key', () => rawRequest({ apiKey: 9999, apiVersion: 0, correlationId: 1 })],
    [
      'an API the broker does not serve',
      () => rawRequest({ apiKey: 4, apiVersion: 0, correlationId: 1 }),
    ],
    [
      'a version beyond the schemas',
      () => rawRequest({ apiKey: ApiKey.Metadata, apiVersion: 200, correlationId: 1 }),
    ],
    ['a 2 GiB size prefix', () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0])],
    ['a negative size prefix', () => Buffer.from([0xff, 0xff, 0xff, 0xf0])],
    ['a frame shorter than a header', () => sizePrefixed(Buffer.from([0, 18, 0]))],
    [
      'trailing bytes after the body',
      () =>
        rawRequest({
          apiKey: ApiKey.ApiVersions,
          apiVersion: 0,
          correlationId: 1,
          body: Buffer.from([1, 2, 3]),
        }),
    ],
    [
      'an array length larger than the frame',
      () =>
        rawRequest({
          apiKey: ApiKey.Metadata,
          apiVersion: 1,
          correlationId: 1,
          body: Buffer.from([0x00, 0x0f, 0x42, 0x40, 0, 3, 0x61]),
        }),
    ],
  ];
  for (const [name, bytes] of closingCases) {
    it(`closes the connection on ${name}, and keeps serving others`, async () => {
      const socket = await openSocket(broker.port);
      const closed = closedByPeer(socket);
      socket.write(bytes(broker.port));
      await closed;
      await assertStillServing();
    });
  }

  it('answers requests that arrive just before the client half-closes', async () => {
    const socket = await openSocket(broker.port);
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 20 });
    const frames: Buffer[] = [];
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
    });
    const closed = closedByPeer(socket);
    // More requests than may be in flight at once, so some are still buffered when the FIN
    // arrives; Metadata creating a topic is answered asynchronously.
    const requests: Buffer[] = [];
    const expected: number[] = [];
    for (let correlationId = 1; correlationId <= 80; correlationId++) {
      expected.push(correlationId);
      const name = Buffer.from(`half-close-${correlationId % 4}`);
      const topics = Buffer.alloc(6);
      topics.writeInt32BE(1, 0);
      topics.writeInt16BE(name.length, 4);
      requests.push(
        correlationId % 2 === 0
          ? rawRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId })
          : rawRequest({
              apiKey: ApiKey.Metadata,
              apiVersion: 1,
              correlationId,
              body: Buffer.concat([topics, name]),
            }),
      );
    }
    socket.end(Buffer.concat(requests));
    await closed;
    assert.deepEqual(
      frames.map((frame) => frame.readInt32BE(0)),
      expected,
    );
  });

  it('survives truncated frames and random bytes', async () => {
    const truncated = await openSocket(broker.port);
    const truncatedClosed = closedByPeer(truncated);
    const partial = rawRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 5 });
    truncated.end(partial.subarray(0, partial.length - 2));
    await truncatedClosed;
    for (let seed = 1; seed <= 20; seed++) {
      const socket = await openSocket(broker.port);
      const closed = closedByPeer(socket);
      const body = seededBytes(seed, 64 + seed * 13);
      // Half the inputs get a truthful size prefix, so the garbage reaches the decoders.
      socket.end(seed % 2 === 0 ? sizePrefixed(body) : body);
      await closed;
    }
    await assertStillServing();
  });

  it('answers pipelined requests in order, slow ones included', async () => {
    const client = await TestClient.connect({ port: broker.port });
    try {
      await client.request(ApiKey.Metadata, 12, metadataRequest(['pipelined']));
      const requests: Promise<unknown>[] = [];
      const kinds: string[] = [];
      for (let index = 0; index < 60; index++) {
        const kind = index % 3;
        if (kind === 0) {
          kinds.push('fetch');
          // Waits (nothing at offset 1000... beyond the end answers at once with an error,
          // so wait on the end offset instead).
          requests.push(
            client.request<FetchResponse>(
              ApiKey.Fetch,
              12,
              fetchRequest({
                partitions: [{ topic: 'pipelined', offset: 0n }],
                maxWaitMs: 30,
                minBytes: 1 << 20,
              }),
            ),
          );
        } else if (kind === 1) {
          kinds.push('produce');
          requests.push(
            client.request<ProduceResponse>(
              ApiKey.Produce,
              9,
              produceRequest({ topic: 'pipelined', records: recordBatch({ count: 1 }) }),
            ),
          );
        } else {
          kinds.push('metadata');
          requests.push(
            client.request<MetadataResponse>(ApiKey.Metadata, 12, metadataRequest(['pipelined'])),
          );
        }
      }
      // The test client rejects any response whose correlation id is not the next one expected.
      const responses = await Promise.all(requests);
      const produced = responses.filter(
        (_, index) => kinds[index] === 'produce',
      ) as ProduceResponse[];
      assert.deepEqual(
        produced.map((response) => response.responses[0]!.partitionResponses[0]!.baseOffset),
        produced.map((_, index) => BigInt(index)),
        'appends happen in request order',
      );
    } finally {
      client.destroy();
    }
  });

  it('bounds what it buffers for a client that never reads, and keeps serving others', async (t) => {
    const setup = await TestClient.connect({ port: broker.port });
    await setup.request(ApiKey.Metadata, 12, metadataRequest(['flood']));
    for (let index = 0; index < 8; index++) {
      await setup.request(
        ApiKey.Produce,
        9,
        produceRequest({ topic: 'flood', records: recordBatch({ count: 16, valueBytes: 8000 }) }),
      );
    }
    setup.destroy();

    const rssBefore = process.memoryUsage().rss;
    const reader = await TestClient.connect({ port: broker.port });
    reader.socket.pause(); // never reads
    const request = fetchRequest({
      partitions: [{ topic: 'flood', offset: 0n, partitionMaxBytes: 1 << 20 }],
      maxBytes: 1 << 20,
    });
    let sent = 0;
    // Send until the broker stops reading: our own socket buffer then fills up.
    for (; sent < 200_000; sent++) {
      reader.send(ApiKey.Fetch, 12, request);
      if (reader.socket.writableLength > 256 * 1024) break;
      if (sent % 1000 === 999) await sleep(1);
    }
    assert.ok(reader.socket.writableLength > 256 * 1024, 'the broker stopped reading');
    // Let the broker read, answer and stall.
    let maxQueued = 0;
    let maxBuffered = 0;
    for (let round = 0; round < 20; round++) {
      await sleep(50);
      for (const connection of broker.socketServer.listConnections()) {
        maxQueued = Math.max(maxQueued, connection.queuedResponseBytes);
        maxBuffered = Math.max(maxBuffered, connection.bufferedRequestBytes);
      }
    }
    // Queue limit (1 MiB) + the one full response an idle socket may take (1 MiB) + one batch
    // overshoot (KIP-74) + small responses of the requests still in flight.
    const bound = 1024 * 1024 + (1 << 20) + 256 * 1024 + 32 * 1024;
    assert.ok(maxQueued > 0, 'responses were queued for the non-reading client');
    assert.ok(maxQueued <= bound, `queued ${maxQueued} <= ${bound}`);
    assert.ok(maxBuffered <= 256 * 1024, `buffered request bytes ${maxBuffered}`);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    assert.ok(rssGrowth < 200 * 1024 * 1024, `rss grew by ${rssGrowth}`);
    t.diagnostic(
      `requests sent before the broker stopped reading: ${sent}; max queued ${maxQueued} B; max buffered ${maxBuffered} B; rss growth ${rssGrowth} B`,
    );
    await assertStillServing();

    // A producer that never reads its (small) responses is throttled by the same rules.
    const producer = await TestClient.connect({ port: broker.port });
    producer.socket.pause();
    const batch = produceRequest({
      topic: 'flood',
      records: recordBatch({ count: 1, valueBytes: 1000 }),
      acks: 1,
    });
    for (let index = 0; index < 2000 && producer.socket.writableLength < 1 << 20; index++) {
      producer.send(ApiKey.Produce, 9, batch);
    }
    await sleep(300);
    for (const connection of broker.socketServer.listConnections()) {
      assert.ok(connection.inFlightRequests <= serverLimits.inFlightRequestsPerConnectionMax);
      assert.ok(connection.queuedResponseBytes <= bound);
    }
    await assertStillServing();
    reader.destroy();
    producer.destroy();
  });
});

describe('idle connections', () => {
  it('are closed after connections.max.idle.ms', async () => {
    const { broker, stop } = await startTestBroker({ 'connections.max.idle.ms': 200 });
    try {
      const client = await TestClient.connect({ port: broker.port });
      await client.request(ApiKey.ApiVersions, 0, {});
      await client.closed;
      for (let round = 0; round < 100 && broker.connectionCount > 0; round++) await sleep(20);
      assert.equal(broker.connectionCount, 0);
    } finally {
      await stop();
    }
  });
});

describe('connection limits per address', () => {
  /** Opens a connection and tells whether the broker kept it (answers ApiVersions) or closed it. */
  async function tryConnection(port: number): Promise<TestClient | null> {
    const client = await TestClient.connect({ port });
    try {
      await client.request(ApiKey.ApiVersions, 0, {});
      return client;
    } catch {
      client.close();
      return null;
    }
  }

  it('closes connections from one address beyond max.connections.per.ip, and accepts again after one closes', async () => {
    const { broker, stop } = await startTestBroker({ 'max.connections.per.ip': 2 });
    try {
      const first = await tryConnection(broker.port);
      const second = await tryConnection(broker.port);
      assert.ok(first && second, 'the first two connections are served');
      assert.equal(await tryConnection(broker.port), null, 'the third is closed on accept');
      // The two kept connections go on working.
      await first.request(ApiKey.ApiVersions, 0, {});
      first.close();
      await first.closed;
      let replacement: TestClient | null = null;
      for (let round = 0; round < 100 && replacement === null; round++) {
        replacement = await tryConnection(broker.port);
        if (replacement === null) await sleep(20);
      }
      assert.ok(replacement, 'a connection is accepted once one of the two closed');
      await second.request(ApiKey.ApiVersions, 0, {});
      replacement.close();
      second.close();
    } finally {
      await stop();
    }
  });

  it('logs refusals from one address once per interval, not once per connection', async () => {
    const lines: { message: string; refusedSinceLastLog?: number }[] = [];
    const logger = createJsonLogger({
      level: 'warn',
      write: (line) => lines.push(JSON.parse(line)),
    });
    const { broker, stop } = await startTestBroker({ 'max.connections.per.ip': 1 }, { logger });
    try {
      const kept = await tryConnection(broker.port);
      assert.ok(kept);
      for (let attempt = 0; attempt < 5; attempt++)
        assert.equal(await tryConnection(broker.port), null);
      const refusals = lines.filter((line) => line.message === 'refusing connection');
      assert.equal(refusals.length, 1, JSON.stringify(refusals));
      kept.close();
    } finally {
      await stop();
    }
  });

  it('applies max.connections.per.ip.overrides to the addresses it names', async () => {
    const { broker, stop } = await startTestBroker({
      'max.connections.per.ip': 0,
      'max.connections.per.ip.overrides': '10.1.2.3:5,127.0.0.1:1',
    });
    try {
      const only = await tryConnection(broker.port);
      assert.ok(only, 'the override allows one connection from 127.0.0.1');
      assert.equal(await tryConnection(broker.port), null);
      only.close();
    } finally {
      await stop();
    }
  });

  it('refuses to start with a per-address limit of 0 and no overrides, or overrides by host name', async () => {
    await assert.rejects(
      startTestBroker({ 'max.connections.per.ip': 0 }),
      /max\.connections\.per\.ip/,
    );
    await assert.rejects(
      startTestBroker({ 'max.connections.per.ip.overrides': 'localhost:3' }),
      /max\.connections\.per\.ip\.overrides.*IP address/s,
    );
  });
});
