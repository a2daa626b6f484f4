/**
 * The TCP listeners (one per configured listener name, sharing one connection registry,
 * `max.connections` and the per-address limits `max.connections.per.ip` / `...overrides`): accepts
 * connections, keeps the registry, reaps idle connections (`connections.max.idle.ms`) and shuts
 * down gracefully (stop accepting, answer in-flight requests, close). A connection over a limit
 * is closed as soon as it is accepted, with a WARN naming the limit, as Kafka does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../clock.js';
import { normalizeAddress } from '../config/per-address-overrides.js';
import type { Logger } from '../logging/logger.js';
import { Connection, type RequestDispatcher } from './connection.js';
import { serverLimits } from './limits.js';

export interface ListenerEndpoint {
  /** Listener name (PLAINTEXT, INTERNAL, ...): Metadata answers with that listener's address. */
  name: string;
  host: string;
  port: number;
}

export interface SocketServerOptions {
  /** At least one; each is bound, and a failure to bind any of them fails `listen`. */
  listeners: readonly ListenerEndpoint[];
  dispatcher: RequestDispatcher;
  clock: Clock;
  logger: Logger;
  /** `socket.request.max.bytes`. */
  requestSizeBytesMax: number;
  /** `connections.max.idle.ms`; <= 0 disables reaping. */
  connectionIdleMsMax: number;
  inFlightRequestsPerConnectionMax?: number;
  inFlightRequestBytesPerConnectionMax?: number;
  queuedResponseBytesPerConnectionMax?: number;
  connectionsMax?: number;
  /** `max.connections.per.ip`; unlimited when absent. */
  connectionsPerAddressMax?: number;
  /** `max.connections.per.ip.overrides`, by normalized address. */
  connectionsPerAddressOverrides?: ReadonlyMap<string, number>;
  /** `socket.listen.backlog.size`. */
  listenBacklog?: number;
}

export interface BoundListener {
  name: string;
  host: string;
  port: number;
}

export class SocketServer {
  private readonly options: SocketServerOptions;
  private readonly logger: Logger;
  private readonly connections = new Map<number, Connection>();
  /** Open connections by normalized remote address. */
  private readonly connectionsByAddress = new Map<string, number>();
  /** When a refusal from each address was last logged, and how many were not logged since. */
  private readonly refusalsLogged = new Map<string, { atMs: number; unlogged: number }>();
  private readonly servers: Server[] = [];
  private nextConnectionId = 1;
  private sweepTimer: TimerHandle | null = null;
  private stopping = false;

  constructor(options: SocketServerOptions) {
    this.options = options;
    this.logger = options.logger;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live connections (for tests and metrics). */
  listConnections(): Connection[] {
    return [...this.connections.values()];
  }

  /** Binds every listener, in order; if one fails, the ones already bound are closed. */
  async listen(): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    try {
      for (const listener of this.options.listeners) bound.push(await this.bind(listener));
    } catch (error) {
      await Promise.all(this.servers.map((server) => closeServer(server)));
      this.servers.length = 0;
      throw error;
    }
    this.scheduleSweep();
    return bound;
  }

  private async bind(listener: ListenerEndpoint): Promise<BoundListener> {
    // allowHalfOpen: a client that sends its requests and then shuts down its side still gets
    // every answer; Connection ends our side once nothing is in flight.
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) =>
      this.accept(socket, listener.name),
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      const backlog = this.options.listenBacklog ?? serverLimits.listenBacklog;
      server.listen({ host: listener.host, port: listener.port, backlog }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.servers.push(server);
    server.on('error', (error) =>
      this.logger.error('listener error', { listener: listener.name, error }),
    );
    const address = server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`listener ${listener.name} has no TCP address`);
    }
    return { name: listener.name, host: address.address, port: address.port };
  }

  /** Stops accepting, lets every connection answer what is in flight, then closes them. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.sweepTimer?.cancel();
    const closed = Promise.all(this.servers.map((server) => closeServer(server)));
    const drains = [...this.connections.values()].map((connection) => connection.drainAndClose());
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.options.clock.schedule(serverLimits.shutdownDrainMsMax, () =>
        resolve('timeout'),
      );
    });
    const outcome = await Promise.race([Promise.all(drains), timeout]);
    // A manual clock (simulation) would otherwise keep the drain deadline pending after stop.
    timer?.cancel();
    if (outcome === 'timeout') {
      this.logger.warn('connections did not drain in time; closing them', {
        connections: this.connections.size,
        drainMsMax: serverLimits.shutdownDrainMsMax,
      });
    }
    for (const connection of this.connections.values()) connection.close();
    await closed;
  }

  private accept(socket: Socket, listenerName: string): void {
    const address = normalizeAddress(socket.remoteAddress ?? '?');
    const refusal = this.refusal(address);
    if (refusal !== null) {
      this.logRefusal(address, refusal);
      socket.destroy();
      return;
    }
    const connection = new Connection({
      id: this.nextConnectionId++,
      socket,
      listenerName,
      dispatcher: this.options.dispatcher,
      clock: this.options.clock,
      logger: this.logger,
      frameSizeBytesMax: this.options.requestSizeBytesMax,
      inFlightRequestsMax:
        this.options.inFlightRequestsPerConnectionMax ??
        serverLimits.inFlightRequestsPerConnectionMax,
      inFlightRequestBytesMax:
        this.options.inFlightRequestBytesPerConnectionMax ??
        serverLimits.inFlightRequestBytesPerConnectionMax,
      queuedResponseBytesMax:
        this.options.queuedResponseBytesPerConnectionMax ??
        serverLimits.queuedResponseBytesPerConnectionMax,
      onClose: (closed) => {
        this.connections.delete(closed.id);
        const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
        if (left > 0) this.connectionsByAddress.set(address, left);
        else this.connectionsByAddress.delete(address);
        if (this.logger.isEnabled('debug')) {
          this.logger.debug('connection closed', {
            connectionId: closed.id,
            remoteAddress: closed.remoteAddress,
            clientId: closed.clientId,
          });
        }
      },
    });
    this.connections.set(connection.id, connection);
    this.connectionsByAddress.set(address, (this.connectionsByAddress.get(address) ?? 0) + 1);
    if (this.logger.isEnabled('debug')) {
      this.logger.debug('connection opened', {
        connectionId: connection.id,
        remoteAddress: connection.remoteAddress,
        listener: listenerName,
        connections: this.connections.size,
      });
    }
  }

  /**
   * One WARN per address per `refusalLogIntervalMs`, carrying how many refusals it stood for, so a
   * client reconnecting in a loop cannot flood the log.
   */
  private logRefusal(address: string, reason: string): void {
    const now = this.options.clock.monotonicMs();
    const last = this.refusalsLogged.get(address);
    if (last !== undefined && now - last.atMs < serverLimits.refusalLogIntervalMs) {
      last.unlogged += 1;
      return;
    }
    if (this.refusalsLogged.size >= serverLimits.refusalLogAddressesMax)
      this.refusalsLogged.clear();
    this.refusalsLogged.set(address, { atMs: now, unlogged: 0 });
    this.logger.warn('refusing connection', {
      remoteAddress: address,
      reason,
      ...(last !== undefined && last.unlogged > 0 ? { refusedSinceLastLog: last.unlogged } : {}),
    });
  }

  /** Why a new connection from `address` must be closed, or null to accept it. */
  private refusal(address: string): string | null {
    if (this.stopping) return 'shutting down';
    const connectionsMax = this.options.connectionsMax ?? serverLimits.connectionsMax;
    if (this.connections.size >= connectionsMax)
      return `too many connections (max.connections=${connectionsMax})`;
    const override = this.options.connectionsPerAddressOverrides?.get(address);
    const perAddressMax = override ?? this.options.connectionsPerAddressMax;
    if (
      perAddressMax !== undefined &&
      (this.connectionsByAddress.get(address) ?? 0) >= perAddressMax
    )
      return `too many connections from ${address} (${override === undefined ? 'max.connections.per.ip' : 'max.connections.per.ip.overrides'}=${perAddressMax})`;
    return null;
  }

  private scheduleSweep(): void {
    const idleMsMax = this.options.connectionIdleMsMax;
    if (idleMsMax <= 0 || this.stopping) return;
    const interval = Math.max(10, Math.min(serverLimits.idleSweepIntervalMsMax, idleMsMax / 4));
    this.sweepTimer = this.options.clock.schedule(interval, () => {
      this.reapIdle(idleMsMax);
      this.scheduleSweep();
    });
  }

  private reapIdle(idleMsMax: number): void {
    const now = this.options.clock.monotonicMs();
    for (const connection of this.connections.values()) {
      if (connection.inFlightRequests === 0 && now - connection.lastActivityMs > idleMsMax) {
        this.logger.debug('closing idle connection', {
          connectionId: connection.id,
          remoteAddress: connection.remoteAddress,
          idleMs: Math.round(now - connection.lastActivityMs),
        });
        connection.close();
      }
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
