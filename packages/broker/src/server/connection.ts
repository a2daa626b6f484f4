/**
 * One client connection: frames in, responses out in request order (pipelining), with bounded
 * memory. Reading stops while too many requests (or request bytes) are in flight or while more
 * than `queuedResponseBytesMax` of responses are unsent or held behind an earlier one (a client
 * that never reads cannot grow the broker), and resumes when the socket drains. Outbound writes
 * are corked and flushed once per tick, so many small responses leave in one writev.
 */
import { FrameDecoder, FrameSizeError } from '@gregor/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { StreamConnection } from './transport.js';

/** Thrown (or rejected) by a dispatcher to close the connection with a reason logged at WARN. */
export class ConnectionFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionFault';
  }
}

/** The frames of one encoded response (size prefix included), or null for "no response" (acks=0). */
export type ResponseFrames = readonly Buffer[] | null;

/**
 * Response bytes one request may produce beyond the connection's queue (large responses only:
 * Fetch). The only request in flight on an idle socket gets all it asks for; others share what is
 * left of `queuedResponseBytesMax` after the unsent bytes and the other requests' reservations.
 * A reservation lasts until the request's response is handed to the socket.
 */
export interface ResponseBudget {
  reserve(bytesWanted: number): number;
}

export interface RequestDispatcher {
  dispatch(
    frame: Buffer,
    connection: Connection,
    budget: ResponseBudget,
  ): ResponseFrames | Promise<ResponseFrames>;
}

export interface ConnectionOptions {
  id: number;
  /** Accepted and paused: the connection resumes it. */
  socket: StreamConnection;
  /** Name of the listener that accepted the connection. */
  listenerName: string;
  dispatcher: RequestDispatcher;
  clock: Clock;
  logger: Logger;
  frameSizeBytesMax: number;
  inFlightRequestsMax: number;
  /** Request frame bytes in flight before reading pauses; the first request is always taken. */
  inFlightRequestBytesMax: number;
  queuedResponseBytesMax: number;
  /** Runs `task` later, in a bounded batch per event-loop turn (SocketServer's TurnQueue). */
  defer: (task: () => void) => void;
  onClose: (connection: Connection) => void;
}

interface PendingResponse {
  done: boolean;
  frames: ResponseFrames;
  reservedBytes: number;
  requestBytes: number;
  /** Bytes of `frames` once done (held until the responses before it are sent). */
  responseBytes: number;
}

export class Connection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly listenerName: string;
  /** Set from the first request header that carries one. */
  clientId: string | null = null;
  lastActivityMs: number;

  private readonly socket: StreamConnection;
  private readonly options: ConnectionOptions;
  private readonly decoder: FrameDecoder;
  private readonly pending: PendingResponse[] = [];
  private readingPaused = false;
  /** The client shut down its sending side (FIN): no more bytes will come. */
  private peerEnded = false;
  /** The last parse stopped because no complete frame was buffered (not because of a pause). */
  private awaitingBytes = true;
  /** Response bytes promised to requests in flight (see ResponseBudget). */
  private reservedBytes = 0;
  /** Frame bytes of the requests in `pending`. */
  private inFlightRequestBytes = 0;
  /** Response bytes completed but waiting behind an earlier request's response. */
  private heldResponseBytes = 0;
  private processing = false;
  private closed = false;
  private draining = false;
  /** Our side is ended after a drain: whatever the client still sends is read and dropped. */
  private discardingInput = false;
  private flushScheduled = false;
  private drainWaiters: (() => void)[] = [];

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.id = options.id;
    this.listenerName = options.listenerName;
    this.socket = options.socket;
    this.remoteAddress = `${options.socket.remoteAddress ?? '?'}:${options.socket.remotePort ?? '?'}`;
    this.lastActivityMs = options.clock.monotonicMs();
    this.decoder = new FrameDecoder({ frameSizeBytesMax: options.frameSizeBytesMax });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => this.maybeResume());
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.options.logger.debug('connection error', {
        connectionId: this.id,
        remoteAddress: this.remoteAddress,
        code: error.code,
        error: error.message,
      });
    });
    this.socket.on('close', () => this.onSocketClose());
    this.socket.on('end', () => {
      // The client half-closed: answer every complete request it sent, then close our side.
      // Deferred: a storm of clients leaving at once is torn down a batch per turn.
      this.peerEnded = true;
      this.options.defer(() => {
        this.processFrames();
        this.endIfDrained();
      });
    });
  }

  /** Starts reading (the transport hands connections over paused). */
  start(): void {
    this.socket.resume();
  }

  /** Requests dispatched whose responses are not yet handed to the socket. */
  get inFlightRequests(): number {
    return this.pending.length;
  }

  get queuedResponseBytes(): number {
    return this.socket.writableLength;
  }

  /** Response bytes reserved by requests in flight. */
  get reservedResponseBytes(): number {
    return this.reservedBytes;
  }

  get bufferedRequestBytes(): number {
    return this.decoder.bufferedBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes immediately, dropping anything in flight. `reason` is logged at WARN when given. */
  close(reason?: string, fields?: Record<string, unknown>): void {
    if (this.closed) return;
    if (reason !== undefined) {
      this.options.logger.warn('closing connection', {
        connectionId: this.id,
        remoteAddress: this.remoteAddress,
        clientId: this.clientId,
        reason,
        ...fields,
      });
    }
    this.closed = true;
    this.socket.destroy();
  }

  /** Stops reading, answers in-flight requests, then ends the socket. Resolves when closed. */
  drainAndClose(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.draining = true;
    this.pauseReading();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.endIfDrained();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.discardingInput) return;
    this.lastActivityMs = this.options.clock.monotonicMs();
    this.decoder.push(chunk);
    this.processFrames();
  }

  private processFrames(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && !this.draining && !this.mustPause()) {
        let frame: Buffer | null;
        try {
          frame = this.decoder.next();
        } catch (error) {
          if (error instanceof FrameSizeError) {
            this.close(error.message, { frameSizeBytes: error.sizeBytes });
            return;
          }
          throw error;
        }
        if (frame === null) {
          this.awaitingBytes = true;
          break;
        }
        this.awaitingBytes = false;
        this.dispatch(frame);
      }
      if (!this.closed && !this.draining) {
        if (this.mustPause()) this.pauseReading();
        else this.resumeReading();
      }
      if (this.peerEnded) this.endIfDrained();
    } finally {
      this.processing = false;
    }
  }

  private dispatch(frame: Buffer): void {
    const entry: PendingResponse = {
      done: false,
      frames: null,
      reservedBytes: 0,
      requestBytes: frame.length,
      responseBytes: 0,
    };
    this.pending.push(entry);
    this.inFlightRequestBytes += entry.requestBytes;
    const budget: ResponseBudget = { reserve: (bytesWanted) => this.reserve(entry, bytesWanted) };
    let result: ResponseFrames | Promise<ResponseFrames>;
    try {
      result = this.options.dispatcher.dispatch(frame, this, budget);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (frames) => this.complete(entry, frames),
        (error) => this.fail(error),
      );
    } else {
      this.complete(entry, result);
    }
  }

  private reserve(entry: PendingResponse, bytesWanted: number): number {
    if (this.closed || bytesWanted <= 0) return 0;
    // Held responses count too (a held Fetch response is then counted twice: conservative).
    const unsent = this.socket.writableLength + this.heldResponseBytes;
    const granted =
      this.reservedBytes === 0 && unsent === 0
        ? bytesWanted
        : Math.max(
            0,
            Math.min(
              bytesWanted,
              this.options.queuedResponseBytesMax - unsent - this.reservedBytes,
            ),
          );
    entry.reservedBytes += granted;
    this.reservedBytes += granted;
    return granted;
  }

  private fail(error: unknown): void {
    if (error instanceof ConnectionFault) {
      this.close(error.message);
      return;
    }
    this.options.logger.error('request failed; closing connection', {
      connectionId: this.id,
      remoteAddress: this.remoteAddress,
      clientId: this.clientId,
      error,
    });
    this.close();
  }

  private complete(entry: PendingResponse, frames: ResponseFrames): void {
    if (this.closed) return;
    entry.done = true;
    entry.frames = frames;
    if (this.pending[0] === entry) {
      this.flushReady();
      return;
    }
    if (frames !== null) for (const buffer of frames) entry.responseBytes += buffer.length;
    this.heldResponseBytes += entry.responseBytes;
  }

  private flushReady(): void {
    let wrote = false;
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const entry = this.pending.shift()!;
      this.reservedBytes -= entry.reservedBytes;
      this.inFlightRequestBytes -= entry.requestBytes;
      this.heldResponseBytes -= entry.responseBytes;
      if (entry.frames === null) continue;
      if (!wrote && !this.flushScheduled) {
        this.socket.cork();
        this.flushScheduled = true;
        process.nextTick(() => this.uncork());
      }
      wrote = true;
      for (const buffer of entry.frames) this.socket.write(buffer);
    }
    if (wrote) this.lastActivityMs = this.options.clock.monotonicMs();
    this.maybeResume();
    this.endIfDrained();
  }

  private uncork(): void {
    this.flushScheduled = false;
    if (!this.closed) this.socket.uncork();
    this.maybeResume();
  }

  private mustPause(): boolean {
    return (
      this.pending.length >= this.options.inFlightRequestsMax ||
      this.inFlightRequestBytes >= this.options.inFlightRequestBytesMax ||
      this.socket.writableLength + this.heldResponseBytes >= this.options.queuedResponseBytesMax
    );
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  private maybeResume(): void {
    if (this.closed || this.draining || this.mustPause()) return;
    // Frames already buffered are processed first; processFrames resumes the socket.
    this.processFrames();
  }

  /** Ends our side once nothing is in flight, when stopping or when the client half-closed. */
  private endIfDrained(): void {
    if (this.closed || this.pending.length > 0) return;
    // After a FIN, frames still buffered (parsing paused) are answered first; a partial one is dropped.
    if (!this.draining && !(this.peerEnded && this.awaitingBytes)) return;
    this.socket.end();
    // 'close' follows once the peer closes too; onSocketClose resolves the waiters.
    if (this.draining) this.discardInput();
  }

  /**
   * A paused socket never emits 'end' while unread bytes are buffered, and stops polling the
   * socket once that buffer is full, so the client's FIN or reset would go unseen: no 'close',
   * a drain that never resolves, and (the socket no longer counting as pending work) an event
   * loop that can run dry in the middle of stop().
   */
  private discardInput(): void {
    if (this.discardingInput) return;
    this.discardingInput = true;
    this.readingPaused = false;
    this.socket.resume();
  }

  private onSocketClose(): void {
    this.closed = true;
    this.pending.length = 0;
    this.reservedBytes = 0;
    this.inFlightRequestBytes = 0;
    this.heldResponseBytes = 0;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.options.onClose(this);
  }
}
