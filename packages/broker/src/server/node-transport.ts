/**
 * The default transport: TCP through node:net, with Nagle off on both sides. Accepted sockets
 * are paused until the server admits them, and half-open: a client that sends its requests and
 * then shuts down its side still gets every answer.
 */
import { connect, createServer, type Server } from 'node:net';
import type { ConnectOptions, ListenOptions, Transport, TransportListener } from './transport.js';

export const nodeTransport: Transport = {
  async listen(options: ListenOptions): Promise<TransportListener> {
    const server = createServer(
      { noDelay: true, allowHalfOpen: true, pauseOnConnect: true },
      (socket) => options.onConnection(socket),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') {
      await closeServer(server);
      throw new Error(`${options.host}:${options.port} has no TCP address`);
    }
    return {
      host: address.address,
      port: address.port,
      close: () => closeServer(server),
      onError: (listener) => server.on('error', listener),
    };
  },

  connect(options: ConnectOptions) {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  },
};

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
