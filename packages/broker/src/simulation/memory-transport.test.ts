import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ApiKey,
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import { ManualClock } from '@gregor/protocol/testing/manual-clock';
import { systemClock } from '../clock.js';
import type { StreamConnection } from '../server/transport.js';
import {
  fetchRequest,
  metadataRequest,
  produceRequest,
  startTestBroker,
} from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';
import { MemoryNetwork } from './memory-transport.js';

/** What one end saw, in order: data as text, 'end', 'close', errors by code. */
function recordEvents(connection: StreamConnection): string[] {
  const events: string[] = [];
  connection.on('data', (chunk) => events.push(`data:${chunk.toString()}`));
  connection.on('end', () => events.push('end'));
  connection.on('close', () => events.push('close'));
  connection.on('error', (error) => events.push(`error:${error.code}`));
  return events;
}

/** A Fetch partition's records as one buffer. */
function recordBytes(records: Buffer | readonly Buffer[] | null): Buffer {
  if (records === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(records)) return records;
  return Buffer.concat([...records]);
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('in-memory transport', () => {
  test('delays each direction by the link delay, keeps order, and half-closes', async () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, defaultLink: { delayMs: 5 } });
    const accepted: StreamConnection[] = [];
    const listener = await network
      .transport('server')
      .listen({ host: 'server', port: 0, backlog: 10, onConnection: (c) => accepted.push(c) });
    const opened: { connection?: StreamConnection } = {};
    void network
      .transport('client')
      .connect({ host: 'server', port: listener.port })
      .then((connection) => {
        opened.connection = connection;
      });
    clock.advance(5);
    assert.equal(accepted.length, 1, 'accepted once the SYN arrives');
    assert.equal(accepted[0]!.remoteAddress, 'client');
    await Promise.resolve();
    assert.ok(!('connection' in opened), 'the client waits for the answer');
    clock.advance(5);
    await Promise.resolve();
    const client = opened.connection;
    assert.ok(client !== undefined);
    const serverEvents = recordEvents(accepted[0]!);
    const clientEvents = recordEvents(client);

    client.write(Buffer.from('one'));
    clock.advance(1);
    client.write(Buffer.from('two'));
    clock.advance(10);
    assert.deepEqual(serverEvents, [], 'accepted connections arrive paused');
    assert.equal(client.writableLength, 6, 'unread bytes count as unsent');
    accepted[0]!.resume();
    clock.advance(0);
    assert.deepEqual(serverEvents, ['data:one', 'data:two']);
    assert.equal(client.writableLength, 0);

    client.end();
    clock.advance(5);
    assert.deepEqual(serverEvents, ['data:one', 'data:two', 'end']);
    accepted[0]!.write(Buffer.from('answer'));
    accepted[0]!.end();
    clock.advance(4);
    assert.deepEqual(clientEvents, []);
    clock.advance(1);
    assert.deepEqual(clientEvents, ['data:answer', 'end', 'close']);
    assert.deepEqual(serverEvents, ['data:one', 'data:two', 'end', 'close']);
    assert.equal(network.openStreams, 0);
  });

  test('a crashed host refuses connects; a connect in flight and an unadmitted accept just end', async () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, defaultLink: { delayMs: 5 } });
    const accepted: StreamConnection[] = [];
    await network
      .transport('server')
      .listen({ host: 'server', port: 9092, backlog: 10, onConnection: (c) => accepted.push(c) });
    const connecting = network.transport('client').connect({ host: 'server', port: 9092 });
    clock.advance(5);
    assert.equal(accepted.length, 1);
    network.crash('server');
    clock.advance(5);
    await assert.rejects(connecting, { code: 'ECONNRESET' });
    assert.equal(
      accepted[0]!.destroyed,
      true,
      'the accepted end is gone, without an unheard error',
    );
    const again = network.transport('client').connect({ host: 'server', port: 9092 });
    clock.advance(10);
    await assert.rejects(again, { code: 'ECONNREFUSED' });
    assert.equal(network.openStreams, 0);
  });

  test('a partition resets connections and times out new ones until healed; loss resets', async () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({
      clock,
      random: seededRandom(7),
      connectTimeoutMs: 100,
    });
    const accepted: StreamConnection[] = [];
    const listener = await network.transport('server').listen({
      host: 'server',
      port: 9092,
      backlog: 10,
      onConnection: (connection) => {
        // A server always listens for errors on what it accepts (node:net would throw too).
        connection.on('error', () => {});
        accepted.push(connection);
      },
    });
    const opening = network.transport('client').connect({ host: 'server', port: listener.port });
    clock.advance(0);
    const client = await opening;
    const clientEvents = recordEvents(client);
    const serverEvents = recordEvents(accepted[0]!);

    network.partition('client', 'server');
    clock.advance(0);
    assert.deepEqual(clientEvents, ['error:ECONNRESET', 'close']);
    assert.deepEqual(serverEvents, ['error:ECONNRESET', 'close']);

    const refused = network.transport('client').connect({ host: 'server', port: 9092 });
    const outcome = refused.then(
      () => 'connected',
      (error: NodeJS.ErrnoException) => error.code,
    );
    clock.advance(100);
    assert.equal(await outcome, 'ETIMEDOUT');

    network.heal('client', 'server');
    network.setLink('client', 'server', { lossRate: 1 });
    const again = network.transport('client').connect({ host: 'server', port: 9092 });
    clock.advance(0);
    const lossy = await again;
    const lossyEvents = recordEvents(lossy);
    lossy.write(Buffer.from('lost'));
    clock.advance(0);
    assert.deepEqual(lossyEvents, ['error:ECONNRESET', 'close']);

    const nobody = network.transport('client').connect({ host: 'server', port: 1 });
    const nobodyOutcome = nobody.then(
      () => 'connected',
      (error: NodeJS.ErrnoException) => error.code,
    );
    clock.advance(0);
    assert.equal(await nobodyOutcome, 'ECONNREFUSED');
  });

  test("a broker's request path over it: metadata, produce, fetch, and a reconnect after a partition", async () => {
    const network = new MemoryNetwork({ clock: systemClock, defaultLink: { delayMs: 1 } });
    // The system clock's timers do not hold the process open, and no real socket does here.
    const keepAlive = setInterval(() => {}, 1_000);
    const { broker, stop } = await startTestBroker(
      { listeners: 'PLAINTEXT://broker-1:9092' },
      { transport: network.transport('broker-1') },
    );
    try {
      const connect = async () =>
        TestClient.over(
          await network.transport('client-1').connect({ host: 'broker-1', port: 9092 }),
        );
      const client = await connect();
      const metadata = await client.request<MetadataResponse>(
        ApiKey.Metadata,
        12,
        metadataRequest(['simulated']),
      );
      assert.deepEqual(
        metadata.brokers.map((entry) => `${entry.host}:${entry.port}`),
        ['broker-1:9092'],
      );
      assert.equal(metadata.topics[0]!.errorCode, ErrorCode.NONE);

      const values = ['alpha', 'beta', 'gamma'];
      const produced = await client.request<ProduceResponse>(
        ApiKey.Produce,
        9,
        produceRequest({
          topic: 'simulated',
          records: encodeRecordBatch({
            records: values.map((value) => ({ key: null, value: Buffer.from(value) })),
          }),
        }),
      );
      const partition = produced.responses[0]!.partitionResponses[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(partition.baseOffset, 0n);

      const readAll = async (reader: TestClient) => {
        const fetched = await reader.request<FetchResponse>(
          ApiKey.Fetch,
          12,
          fetchRequest({ partitions: [{ topic: 'simulated', offset: 0n }] }),
        );
        const records = fetched.responses[0]!.partitions[0]!.records;
        return decodeRecordBatches(recordBytes(records)).flatMap((batch) =>
          batch.records.map((record) => `${record.offset}:${record.value?.toString()}`),
        );
      };
      assert.deepEqual(await readAll(client), ['0:alpha', '1:beta', '2:gamma']);

      network.partition('client-1', 'broker-1');
      await client.closed;
      assert.equal(client.isClosed, true);
      await assert.rejects(connect(), { code: 'ETIMEDOUT' });
      network.heal('client-1', 'broker-1');
      const reconnected = await connect();
      assert.deepEqual(await readAll(reconnected), ['0:alpha', '1:beta', '2:gamma']);
      await reconnected.close();
      assert.equal(broker.connectionCount, 0);
    } finally {
      await stop();
      clearInterval(keepAlive);
    }
  });
});
