/**
 * The network under the socket server (and, for replication, under the follower fetcher): listen
 * for byte-stream connections, or open one. `nodeTransport` (node:net) is the default; an
 * in-memory one (`simulation/memory-transport.ts`) lets a whole cluster run in one process with
 * delays, loss and partitions driven by the injected Clock. Framing stays above this layer
 * (@gregor/protocol's FrameDecoder).
 */

/** One end of a connection: the part of node:net's Socket the broker relies on. */
export interface StreamConnection {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Bytes queued for sending and not yet taken by the peer's side. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  /** Queues `chunk`; false once the queue is above its high-water mark ('drain' follows). */
  write(chunk: Buffer): boolean;
  /** Writes between cork and uncork leave together. */
  cork(): void;
  uncork(): void;
  /** Stops / restarts delivering 'data'. */
  pause(): void;
  resume(): void;
  /** Half-closes our sending side (the peer sees 'end'); 'close' follows once both sides ended. */
  end(): void;
  /** Closes both directions at once; 'close' follows. */
  destroy(): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'drain' | 'end' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): this;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Connections accepted by the transport but not yet handed over (socket.listen.backlog.size). */
  backlog: number;
  /**
   * Called for each accepted connection, which arrives paused: nothing is read until the
   * receiver calls `resume()` (so a server can admit connections at its own pace). The peer may
   * half-close (FIN) and still read what is answered.
   */
  onConnection: (connection: StreamConnection) => void;
}

export interface TransportListener {
  /** The bound address (the port is chosen when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Stops accepting; connections already accepted are not touched. */
  close(): Promise<void>;
  onError(listener: (error: Error) => void): void;
}

export interface ConnectOptions {
  host: string;
  port: number;
}

export interface Transport {
  /** Binds; rejects when the address cannot be bound. */
  listen(options: ListenOptions): Promise<TransportListener>;
  /** Opens a connection; rejects when refused or unreachable. */
  connect(options: ConnectOptions): Promise<StreamConnection>;
}
