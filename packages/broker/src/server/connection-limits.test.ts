/**
 * The per-connection byte limits that pause reading: request frame bytes in flight, and response
 * bytes completed but held behind an earlier response (in-order delivery). A dispatcher that
 * answers only when the test says so makes the in-flight state observable.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { systemClock } from '../clock.js';
import { silentLogger } from '../logging/logger.js';
import type { RequestDispatcher, ResponseFrames } from './connection.js';
import { SocketServer } from './socket-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds every request until `answer(index, bytes)`; index = order of arrival on the connection. */
class HeldDispatcher implements RequestDispatcher {
  readonly answers: ((frames: ResponseFrames) => void)[] = [];
  private readonly answered = new Set<number>();
  dispatch(): Promise<ResponseFrames> {
    return new Promise((resolve) => this.answers.push(resolve));
  }
  answer(index: number, responseBytes: number): void {
    this.answered.add(index);
    const frame = Buffer.alloc(4 + responseBytes);
    frame.writeInt32BE(responseBytes, 0);
    this.answers[index]!([frame]);
  }
  /** Lets stop() drain: answers every request still held. */
  answerAll(): void {
    for (let index = 0; index < this.answers.length; index++) {
      if (!this.answered.has(index)) this.answer(index, 0);
    }
  }
}

function frameOf(bodyBytes: number): Buffer {
  const frame = Buffer.alloc(4 + bodyBytes);
  frame.writeInt32BE(bodyBytes, 0);
  return frame;
}

async function withServer(
  limits: {
    inFlightRequestsPerConnectionMax?: number;
    inFlightRequestBytesPerConnectionMax?: number;
    queuedResponseBytesPerConnectionMax?: number;
  },
  body: (context: {
    server: SocketServer;
    dispatcher: HeldDispatcher;
    client: Socket;
  }) => Promise<void>,
): Promise<void> {
  const dispatcher = new HeldDispatcher();
  const server = new SocketServer({
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
    dispatcher,
    clock: systemClock,
    logger: silentLogger,
    requestSizeBytesMax: 1 << 20,
    connectionIdleMsMax: 0,
    ...limits,
  });
  const [bound] = await server.listen();
  const client = connect({ host: '127.0.0.1', port: bound!.port });
  client.on('data', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    await body({ server, dispatcher, client });
  } finally {
    dispatcher.answerAll();
    client.destroy();
    await server.stop();
  }
}

async function dispatchedCount(dispatcher: HeldDispatcher, expected: number): Promise<number> {
  for (let round = 0; round < 100 && dispatcher.answers.length < expected; round++) await sleep(5);
  await sleep(50); // more would have arrived by now if reading were not paused
  return dispatcher.answers.length;
}

describe('connection limits', () => {
  it('pauses reading while the request bytes in flight reach the limit', async () => {
    await withServer(
      { inFlightRequestBytesPerConnectionMax: 2500 },
      async ({ dispatcher, client }) => {
        for (let index = 0; index < 10; index++) client.write(frameOf(1000));
        // 0 → 1000 → 2000 → 3000 bytes: the third request crosses the limit.
        assert.equal(await dispatchedCount(dispatcher, 3), 3);
        dispatcher.answer(0, 10);
        assert.equal(await dispatchedCount(dispatcher, 4), 4);
        for (let index = 1; index < 4; index++) dispatcher.answer(index, 10);
        assert.equal(await dispatchedCount(dispatcher, 7), 7);
      },
    );
  });

  it('takes a first request larger than the request-bytes limit', async () => {
    await withServer(
      { inFlightRequestBytesPerConnectionMax: 100 },
      async ({ dispatcher, client }) => {
        client.write(frameOf(5000));
        client.write(frameOf(10));
        assert.equal(await dispatchedCount(dispatcher, 1), 1);
        dispatcher.answer(0, 10);
        assert.equal(await dispatchedCount(dispatcher, 2), 2);
      },
    );
  });

  it('counts responses held behind an earlier one against the response limit', async () => {
    await withServer(
      { queuedResponseBytesPerConnectionMax: 2500, inFlightRequestsPerConnectionMax: 100 },
      async ({ server, dispatcher, client }) => {
        for (let index = 0; index < 20; index++) client.write(frameOf(10));
        assert.equal(await dispatchedCount(dispatcher, 20), 20);
        // The first request stays unanswered; later answers wait behind it.
        for (let index = 1; index < 20; index++) dispatcher.answer(index, 1000);
        for (let index = 20; index < 40; index++) client.write(frameOf(10));
        // 19 held responses (19,000 B) are over the 2,500 B limit: nothing more is read.
        assert.equal(await dispatchedCount(dispatcher, 21), 20);
        const [connection] = server.listConnections();
        assert.equal(connection!.inFlightRequests, 20);
        dispatcher.answer(0, 10);
        // Everything is sent; reading resumes.
        assert.equal(await dispatchedCount(dispatcher, 40), 40);
      },
    );
  });
});
