/**
 * One PeerConnection per other broker, opened on first use and replaced once broken: for requests
 * a broker sends to whichever broker leads something (transaction markers to partition leaders).
 * The broker's address is looked up at every request, so a broker that came back on another port
 * is reached there.
 */
import type { Clock } from '../clock.js';
import { PeerConnection } from './peer-connection.js';
import type { Transport } from './transport.js';

export interface PeerConnectionsOptions {
  transport: Transport;
  clock: Clock;
  clientId: string;
  /** The broker's inter-broker endpoint now; undefined when it is not registered. */
  address: (brokerId: number) => { host: string; port: number } | undefined;
  connectTimeoutMs: number;
}

export class PeerConnections {
  private readonly connections = new Map<
    number,
    { address: string; connection: Promise<PeerConnection> }
  >();
  private closed = false;

  constructor(private readonly options: PeerConnectionsOptions) {}

  /** Sends one request to `brokerId`; rejects when it is unknown, unreachable or times out. */
  async request<Response>(
    brokerId: number,
    request: { apiKey: number; apiVersion: number; body: unknown; timeoutMs: number },
  ): Promise<Response> {
    const connection = await this.connect(brokerId);
    return connection.request<Response>(
      request.apiKey,
      request.apiVersion,
      request.body,
      request.timeoutMs,
    );
  }

  close(): void {
    this.closed = true;
    for (const { connection } of this.connections.values()) {
      void connection.then((open) => open.close()).catch(() => {});
    }
    this.connections.clear();
  }

  private async connect(brokerId: number): Promise<PeerConnection> {
    if (this.closed) throw new Error('peer connections closed');
    const endpoint = this.options.address(brokerId);
    if (endpoint === undefined) throw new Error(`broker ${brokerId} has no known endpoint`);
    const address = `${endpoint.host}:${endpoint.port}`;
    const current = this.connections.get(brokerId);
    if (current !== undefined && current.address === address) {
      const open = await current.connection.catch(() => undefined);
      if (open !== undefined && !open.isBroken) return open;
      if (this.connections.get(brokerId) === current) this.connections.delete(brokerId);
    } else if (current !== undefined) {
      this.connections.delete(brokerId);
      void current.connection.then((open) => open.close()).catch(() => {});
    }
    const opening = PeerConnection.open({
      transport: this.options.transport,
      clock: this.options.clock,
      host: endpoint.host,
      port: endpoint.port,
      clientId: this.options.clientId,
      timeoutMs: this.options.connectTimeoutMs,
    });
    const entry = { address, connection: opening };
    this.connections.set(brokerId, entry);
    try {
      const open = await opening;
      if (this.closed) {
        open.close();
        throw new Error('peer connections closed');
      }
      return open;
    } catch (error) {
      if (this.connections.get(brokerId) === entry) this.connections.delete(brokerId);
      throw error;
    }
  }
}
