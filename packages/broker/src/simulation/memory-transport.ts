/**
 * An in-memory network for running brokers and clients in one process under a seeded simulation:
 * every host gets a Transport (`network.transport(host)`), bytes travel between stream ends with
 * a per-link delay driven by the injected Clock (a ManualClock makes a run replayable), and the
 * fault hooks act as a network would:
 * - `setLink(a, b, { delayMs, lossRate })`: delivery delay, and a probability (drawn from the
 *   seeded `random`) that a chunk is lost; a stream cannot skip bytes, so a loss resets the
 *   connection (both ends see ECONNRESET), as TCP gives up on a path that drops everything;
 * - `partition(a, b)`: connections between the two hosts are reset and new ones time out
 *   (ETIMEDOUT) until `heal(a, b)`;
 * - `crash(host)`: its listeners go and its connections are reset.
 * Order within a direction is kept (a chunk is never delivered before an earlier one), and
 * backpressure is modelled: bytes written and not yet read by the peer count in `writableLength`,
 * `write` returns false above the high-water mark and 'drain' follows once the peer has read
 * everything.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type {
  ConnectOptions,
  ListenOptions,
  StreamConnection,
  Transport,
  TransportListener,
} from '../server/transport.js';

export interface LinkConditions {
  /** One-way delivery delay in milliseconds. */
  delayMs: number;
  /** Probability in [0, 1] that a chunk is lost (the connection is then reset). */
  lossRate: number;
}

export interface MemoryNetworkOptions {
  clock: Clock;
  /** Seeded source in [0, 1) for loss; Math.random when absent (not replayable). */
  random?: () => number;
  /** Conditions of links not set with `setLink`. */
  defaultLink?: Partial<LinkConditions>;
  /** How long a connect to an unreachable (partitioned) host takes to fail. */
  connectTimeoutMs?: number;
}

/** Node's default for sockets: above it `write` returns false. */
const highWaterMarkBytes = 16 * 1024;
const firstEphemeralPort = 40_000;

function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function networkError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  error.code = code;
  return error;
}

interface BoundPort {
  host: string;
  port: number;
  backlog: number;
  onConnection: (connection: StreamConnection) => void;
  errorListeners: ((error: Error) => void)[];
}

export class MemoryNetwork {
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly defaultLink: LinkConditions;
  private readonly connectTimeoutMs: number;
  private readonly links = new Map<string, LinkConditions>();
  private readonly partitions = new Set<string>();
  private readonly listeners = new Map<string, BoundPort>();
  private readonly streams = new Set<MemoryStream>();
  private nextPort = firstEphemeralPort;

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.defaultLink = { delayMs: 0, lossRate: 0, ...options.defaultLink };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
  }

  /** The network as seen from `host`: its listeners bind there, its connections come from there. */
  transport(host: string): Transport {
    return {
      listen: (options) => this.listen(host, options),
      connect: (options) => this.connect(host, options),
    };
  }

  /** Sets the conditions of both directions between `a` and `b`. */
  setLink(a: string, b: string, conditions: Partial<LinkConditions>): void {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      this.links.set(linkKey(from, to), { ...this.link(from, to), ...conditions });
    }
  }

  /** Cuts `a` from `b`: their connections are reset, new ones time out until `heal`. */
  partition(a: string, b: string): void {
    this.partitions.add(linkKey(a, b));
    this.partitions.add(linkKey(b, a));
    for (const stream of [...this.streams]) {
      if (this.isPartitioned(stream.localHost, stream.remoteHost)) {
        stream.reset(networkError('ECONNRESET', `partitioned from ${stream.remoteHost}`));
      }
    }
  }

  /**
   * `host` loses power: its listeners are gone (connects are refused) and every connection to or
   * from it is reset (its peers see ECONNRESET, as from the RST answering their next segment).
   */
  crash(host: string): void {
    for (const [key, bound] of [...this.listeners]) {
      if (bound.host === host) this.listeners.delete(key);
    }
    for (const stream of [...this.streams]) {
      if (stream.localHost === host || stream.remoteHost === host) {
        stream.reset(networkError('ECONNRESET', `${host} crashed`));
      }
    }
  }

  heal(a: string, b: string): void {
    this.partitions.delete(linkKey(a, b));
    this.partitions.delete(linkKey(b, a));
  }

  /** Open stream ends (both ends of a connection count). */
  get openStreams(): number {
    return this.streams.size;
  }

  link(from: string, to: string): LinkConditions {
    return this.links.get(linkKey(from, to)) ?? this.defaultLink;
  }

  isPartitioned(from: string, to: string): boolean {
    return this.partitions.has(linkKey(from, to));
  }

  /** True when a chunk sent from `from` to `to` is lost (one seeded draw per chunk). */
  loses(from: string, to: string): boolean {
    const { lossRate } = this.link(from, to);
    return lossRate > 0 && this.random() < lossRate;
  }

  register(stream: MemoryStream): void {
    this.streams.add(stream);
  }

  unregister(stream: MemoryStream): void {
    this.streams.delete(stream);
  }

  private async listen(host: string, options: ListenOptions): Promise<TransportListener> {
    const port = options.port === 0 ? this.nextPort++ : options.port;
    const key = `${host}:${port}`;
    if (this.listeners.has(key)) throw networkError('EADDRINUSE', `${key} is in use`);
    const bound: BoundPort = {
      host,
      port,
      backlog: options.backlog,
      onConnection: options.onConnection,
      errorListeners: [],
    };
    this.listeners.set(key, bound);
    return {
      host,
      port,
      close: async () => {
        if (this.listeners.get(key) === bound) this.listeners.delete(key);
      },
      onError: (listener) => bound.errorListeners.push(listener),
    };
  }

  private connect(fromHost: string, options: ConnectOptions): Promise<StreamConnection> {
    const toHost = options.host;
    return new Promise((resolve, reject) => {
      if (this.isPartitioned(fromHost, toHost)) {
        this.clock.schedule(this.connectTimeoutMs, () =>
          reject(networkError('ETIMEDOUT', `connect to ${toHost}:${options.port}`)),
        );
        return;
      }
      // SYN: one trip there, the listener (if any) accepts on arrival; SYN-ACK: one trip back.
      this.clock.schedule(this.link(fromHost, toHost).delayMs, () => {
        const bound = this.listeners.get(`${toHost}:${options.port}`);
        if (bound === undefined || this.isPartitioned(fromHost, toHost)) {
          this.clock.schedule(this.link(toHost, fromHost).delayMs, () =>
            reject(networkError('ECONNREFUSED', `nothing listens on ${toHost}:${options.port}`)),
          );
          return;
        }
        const clientPort = this.nextPort++;
        const client = new MemoryStream(this, fromHost, toHost, options.port, false);
        const server = new MemoryStream(this, toHost, fromHost, clientPort, true);
        client.peer = server;
        server.peer = client;
        bound.onConnection(server);
        this.clock.schedule(this.link(toHost, fromHost).delayMs, () => {
          if (client.destroyed) reject(networkError('ECONNRESET', 'reset while connecting'));
          else resolve(client);
        });
      });
    });
  }
}

/** One end of an in-memory connection. */
export class MemoryStream extends EventEmitter implements StreamConnection {
  readonly localHost: string;
  readonly remoteHost: string;
  readonly remotePort: number;
  peer: MemoryStream | undefined;
  private readonly network: MemoryNetwork;
  /** Chunks delivered by the peer and not yet emitted (we are paused). */
  private readonly inbox: Buffer[] = [];
  private corked = 0;
  private corkedChunks: Buffer[] = [];
  private paused: boolean;
  /** Bytes we wrote that the peer has not emitted yet. */
  private unreadBytes = 0;
  private needDrain = false;
  /** When our last chunk arrives at the peer: later chunks never overtake it. */
  private lastArrivalMs = 0;
  private ended = false;
  private peerEnded = false;
  private endDelivered = false;
  private closed = false;
  private destroyedFlag = false;

  constructor(
    network: MemoryNetwork,
    localHost: string,
    remoteHost: string,
    remotePort: number,
    startPaused: boolean,
  ) {
    super();
    this.network = network;
    this.localHost = localHost;
    this.remoteHost = remoteHost;
    this.remotePort = remotePort;
    this.paused = startPaused;
    network.register(this);
  }

  get remoteAddress(): string {
    return this.remoteHost;
  }

  get writableLength(): number {
    return this.unreadBytes;
  }

  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  write(chunk: Buffer): boolean {
    if (this.destroyedFlag || this.ended) return false;
    if (this.corked > 0) this.corkedChunks.push(chunk);
    else this.send(chunk);
    this.unreadBytes += chunk.length;
    if (this.unreadBytes > highWaterMarkBytes) this.needDrain = true;
    return !this.needDrain;
  }

  cork(): void {
    this.corked += 1;
  }

  uncork(): void {
    if (this.corked === 0) return;
    this.corked -= 1;
    if (this.corked > 0 || this.corkedChunks.length === 0) return;
    const chunks = this.corkedChunks;
    this.corkedChunks = [];
    this.send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.network.clock.schedule(0, () => this.emitInbox());
  }

  end(): void {
    if (this.ended || this.destroyedFlag) return;
    this.uncorkAll();
    this.ended = true;
    this.deliver(() => this.peer?.receiveEnd());
    this.closeIfDone();
  }

  destroy(): void {
    if (this.destroyedFlag) return;
    this.destroyedFlag = true;
    // The peer reads what was already sent, then sees the end of the stream.
    if (!this.ended) {
      this.ended = true;
      this.deliver(() => this.peer?.receiveEnd());
    }
    this.finishClose();
  }

  /** The network breaks the connection: both ends get the error, then 'close'. */
  reset(error: NodeJS.ErrnoException): void {
    const peer = this.peer;
    this.fail(error);
    peer?.fail(error);
  }

  private fail(error: NodeJS.ErrnoException): void {
    if (this.destroyedFlag) return;
    this.destroyedFlag = true;
    // An end nobody listens to yet (still connecting: the connect rejects; accepted and not yet
    // admitted by the server) learns of the reset from `destroyed`, as a paused node:net socket
    // learns of an RST only when it next reads or writes; an unheard 'error' would throw.
    this.network.clock.schedule(0, () => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.finishClose();
  }

  private uncorkAll(): void {
    while (this.corked > 0) this.uncork();
  }

  private send(chunk: Buffer): void {
    if (this.network.loses(this.localHost, this.remoteHost)) {
      this.reset(networkError('ECONNRESET', `a chunk to ${this.remoteHost} was lost`));
      return;
    }
    this.deliver(() => this.peer?.receive(chunk, this));
  }

  /** Runs `arrive` after the link's delay, never before an earlier delivery of this end. */
  private deliver(arrive: () => void): void {
    const nowMs = this.network.clock.monotonicMs();
    const arrivalMs = Math.max(
      this.lastArrivalMs,
      nowMs + this.network.link(this.localHost, this.remoteHost).delayMs,
    );
    this.lastArrivalMs = arrivalMs;
    this.network.clock.schedule(arrivalMs - nowMs, arrive);
  }

  private receive(chunk: Buffer, from: MemoryStream): void {
    if (this.destroyedFlag) {
      // Writing to a closed end: the sender's connection is reset, as TCP answers with RST.
      from.fail(networkError('ECONNRESET', `${this.localHost} closed the connection`));
      return;
    }
    this.inbox.push(chunk);
    this.emitInbox();
  }

  private receiveEnd(): void {
    if (this.destroyedFlag) return;
    this.peerEnded = true;
    this.emitInbox();
  }

  private emitInbox(): void {
    while (!this.paused && !this.destroyedFlag && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      this.peer?.read(chunk.length);
      this.emit('data', chunk);
    }
    if (this.peerEnded && !this.endDelivered && this.inbox.length === 0 && !this.paused) {
      this.endDelivered = true;
      this.emit('end');
      this.closeIfDone();
    }
  }

  /** The peer emitted `bytes` of ours. */
  private read(bytes: number): void {
    this.unreadBytes -= bytes;
    if (this.needDrain && this.unreadBytes === 0) {
      this.needDrain = false;
      this.network.clock.schedule(0, () => {
        if (!this.destroyedFlag) this.emit('drain');
      });
    }
  }

  private closeIfDone(): void {
    if (this.ended && this.endDelivered) this.finishClose();
  }

  private finishClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyedFlag = true;
    this.network.unregister(this);
    this.network.clock.schedule(0, () => this.emit('close'));
  }
}
