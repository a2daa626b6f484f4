/**
 * The listeners (one per configured listener name, sharing one connection registry,
 * `max.connections` and the per-address limits `max.connections.per.ip` / `...overrides`): accepts
 * connections, keeps the registry, reaps idle connections (`connections.max.idle.ms`) and shuts
 * down gracefully (stop accepting, answer in-flight requests, close). A connection over a limit
 * is closed as soon as it is accepted, with a WARN naming the limit, as Kafka does.
 *
 * Accepted connections are admitted (registered and read from), and connections the client
 * closed are ended, at most `stormTasksPerTurnMax` per event-loop turn (TurnQueue), so a
 * reconnect storm's handshakes and tear-downs are spread over many turns and the I/O of the
 * connections already there is served between them.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { normalizeAddress } from '../config/per-address-overrides.js';
import type { Logger } from '../logging/logger.js';
import { Connection, type RequestDispatcher } from './connection.js';
import { serverLimits } from './limits.js';
import { nodeTransport } from './node-transport.js';
import type { StreamConnection, Transport, TransportListener } from './transport.js';
import { TurnQueue } from './turn-queue.js';

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
  /** node:net when absent; an in-memory one under simulation. */
  transport?: Transport;
  /** Told when a connection closed (cluster mode: a follower's fetch connection may mean it died). */
  onConnectionClosed?: (connectionId: number) => void;
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
  private readonly listeners: TransportListener[] = [];
  /** Accepted (and counted against the limits) but not yet admitted. */
  private readonly admissions = new Set<StreamConnection>();
  private readonly turnQueue = new TurnQueue(serverLimits.stormTasksPerTurnMax);
  private nextConnectionId = 1;
  private sweepTimer: TimerHandle | null = null;
  private stopping = false;

  constructor(options: SocketServerOptions) {
    this.options = options;
    this.logger = options.logger;
  }

  /** Connections admitted or waiting for admission. */
  get connectionCount(): number {
    return this.connections.size + this.admissions.size;
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
      await Promise.all(this.listeners.map((listener) => listener.close()));
      this.listeners.length = 0;
      throw error;
    }
    this.scheduleSweep();
    return bound;
  }

  private async bind(listener: ListenerEndpoint): Promise<BoundListener> {
    const transport = this.options.transport ?? nodeTransport;
    const bound = await transport.listen({
      host: listener.host,
      port: listener.port,
      backlog: this.options.listenBacklog ?? serverLimits.listenBacklog,
      onConnection: (socket) => this.accept(socket, listener.name),
    });
    this.listeners.push(bound);
    bound.onError((error) =>
      this.logger.error('listener error', { listener: listener.name, error }),
    );
    return { name: listener.name, host: bound.host, port: bound.port };
  }

  /** Stops accepting, lets every connection answer what is in flight, then closes them. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.sweepTimer?.cancel();
    const closed = Promise.all(this.listeners.map((listener) => listener.close()));
    // Their admission tasks find them destroyed and release their addresses.
    for (const socket of this.admissions) socket.destroy();
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

  /** Checks the limits at once (a refused socket is closed unread) and queues the admission. */
  private accept(socket: StreamConnection, listenerName: string): void {
    const address = normalizeAddress(socket.remoteAddress ?? '?');
    const refusal = this.refusal(address);
    if (refusal !== null) {
      this.logRefusal(address, refusal);
      socket.destroy();
      return;
    }
    this.connectionsByAddress.set(address, (this.connectionsByAddress.get(address) ?? 0) + 1);
    this.admissions.add(socket);
    this.turnQueue.push(() => {
      this.admissions.delete(socket);
      if (socket.destroyed) this.releaseAddress(address);
      else this.admit(socket, listenerName, address);
    });
  }

  private releaseAddress(address: string): void {
    const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
    if (left > 0) this.connectionsByAddress.set(address, left);
    else this.connectionsByAddress.delete(address);
  }

  private admit(socket: StreamConnection, listenerName: string, address: string): void {
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
      defer: (task) => this.turnQueue.push(task),
      onClose: (closed) => {
        this.connections.delete(closed.id);
        this.releaseAddress(address);
        this.options.onConnectionClosed?.(closed.id);
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
    connection.start();
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
    if (this.connectionCount >= connectionsMax)
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
