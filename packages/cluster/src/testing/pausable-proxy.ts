/**
 * A loopback TCP proxy that can stop forwarding, in both directions, without closing anything:
 * bytes wait in the sockets' buffers until `resume`. To the client behind it this is a process
 * paused past its lease (SIGSTOP) or a stalled network: its requests are sent but not delivered,
 * its keepalives do not arrive, and on resume everything it sent arrives late, in order.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class PausableProxy {
  private readonly sockets = new Set<Socket>();
  private paused = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<PausableProxy> {
    let proxy: PausableProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no proxy address');
    proxy = new PausableProxy(server, address.port);
    return proxy;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const upstream = createConnection(target);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk) => to.write(chunk));
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      from.on('error', () => to.destroy());
      if (this.paused) from.pause();
    }
  }
}
