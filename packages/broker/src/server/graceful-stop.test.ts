/**
 * SocketServer.stop against a client that keeps sending while the server drains. A draining
 * connection stops reading; once its answers are sent and its side is ended, it must still see the
 * client close, or stop() waits for a 'close' that never comes: the socket is then no longer
 * polled, so the event loop can run dry and a broker's SIGTERM ends the process before the logs
 * are closed.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { systemClock } from '../clock.js';
import { createJsonLogger } from '../logging/logger.js';
import type { ResponseFrames } from './connection.js';
import { SocketServer } from './socket-server.js';

function frameOf(body: string): Buffer {
  const bytes = Buffer.from(body);
  const frame = Buffer.alloc(4 + bytes.length);
  frame.writeInt32BE(bytes.length, 0);
  bytes.copy(frame, 4);
  return frame;
}

describe('graceful stop', () => {
  it('closes a draining connection whose client sent more after the stop began, then closed', async () => {
    const warnings: string[] = [];
    const answers: ((frames: ResponseFrames) => void)[] = [];
    let onDispatch: () => void = () => {};
    const dispatched = new Promise<void>((resolve) => {
      onDispatch = resolve;
    });
    const server = new SocketServer({
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
      dispatcher: {
        dispatch: () =>
          new Promise<ResponseFrames>((resolve) => {
            answers.push(resolve);
            onDispatch();
          }),
      },
      clock: systemClock,
      logger: createJsonLogger({ level: 'warn', write: (line) => warnings.push(line) }),
      requestSizeBytesMax: 1 << 20,
      connectionIdleMsMax: 0,
    });
    const [bound] = await server.listen();
    const client = connect({ host: '127.0.0.1', port: bound!.port });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    // Like Kafka's clients, it closes once the server has ended its side.
    client.on('end', () => client.end());
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    client.write(frameOf('first'));
    await dispatched;
    const stopped = server.stop();
    // Sent after the stop began: the draining connection no longer reads, so these bytes stay
    // unread in its socket (a client pipelining requests when the broker is told to stop).
    client.write(frameOf('second'));
    client.write(frameOf('third'));
    assert.equal(answers.length, 1);
    answers[0]!([frameOf('answer to first')]);

    await stopped;
    await clientClosed;
    assert.deepEqual(Buffer.concat(received), frameOf('answer to first'));
    assert.equal(server.connectionCount, 0);
    assert.deepEqual(warnings, [], 'the connection closed by draining, not at the drain deadline');
  });
});
