/**
 * A connection from this broker to another broker (a follower's fetches to its leader, requests
 * forwarded to the controller) over the injected transport (node:net or the simulation's memory
 * network), on @gregor/protocol's framing: requests pipelined, responses matched in order by
 * correlation id, a deadline per request on the injected Clock. A broken connection fails what is
 * in flight and stays broken; the owner opens a new one for the next request.
 */
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from '@gregor/protocol';
import type { Clock, TimerHandle } from '../clock.js';
import type { StreamConnection, Transport } from './transport.js';

interface Pending {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  timer: TimerHandle;
}

export class PeerConnection {
  private readonly pending: Pending[] = [];
  private readonly decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 30 });
  private nextCorrelationId = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly stream: StreamConnection,
    private readonly clock: Clock,
    private readonly clientId: string,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (error) => this.fail(error));
    stream.on('end', () => this.fail(new Error('connection ended by the peer')));
    stream.on('close', () => this.fail(new Error('connection closed')));
  }

  static async open(options: {
    transport: Transport;
    clock: Clock;
    host: string;
    port: number;
    clientId: string;
    timeoutMs: number;
  }): Promise<PeerConnection> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = options.clock.schedule(options.timeoutMs, () =>
        reject(new Error(`connecting to ${options.host}:${options.port} timed out`)),
      );
    });
    const connecting = options.transport.connect({ host: options.host, port: options.port });
    try {
      const stream = await Promise.race([connecting, deadline]);
      return new PeerConnection(stream, options.clock, options.clientId);
    } catch (error) {
      // A connection that completes after the deadline is closed at once.
      connecting.then((late) => late.destroy()).catch(() => {});
      throw error;
    } finally {
      timer?.cancel();
    }
  }

  get isBroken(): boolean {
    return this.failure !== undefined;
  }

  request<Response>(
    apiKey: number,
    apiVersion: number,
    body: unknown,
    timeoutMs: number,
  ): Promise<Response> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const frames = encodeRequestFrame(
      {
        requestApiKey: apiKey,
        requestApiVersion: apiVersion,
        correlationId,
        clientId: this.clientId,
      },
      body,
    );
    return new Promise<Response>((resolve, reject) => {
      const timer = this.clock.schedule(timeoutMs, () => {
        // Responses come in order: one that never comes leaves the connection unusable.
        this.fail(new Error(`request ${apiKey} v${apiVersion} timed out after ${timeoutMs} ms`));
      });
      this.pending.push({
        apiKey,
        apiVersion,
        correlationId,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      this.stream.cork();
      for (const frame of frames) this.stream.write(frame);
      this.stream.uncork();
    });
  }

  close(): void {
    this.fail(new Error('connection closed'));
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      if (this.failure !== undefined) return;
      const frame = this.decoder.next();
      if (frame === null) return;
      const request = this.pending.shift();
      if (request === undefined) {
        this.fail(new Error('a response without a request'));
        return;
      }
      request.timer.cancel();
      const decoded = decodeResponseFrame(request.apiKey, request.apiVersion, frame);
      if (!decoded.ok) {
        request.reject(decoded.error);
        this.fail(decoded.error);
      } else if (decoded.value.header.correlationId !== request.correlationId) {
        const error = new Error('responses out of order');
        request.reject(error);
        this.fail(error);
      } else request.resolve(decoded.value.body);
    }
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.stream.destroy();
    for (const request of this.pending.splice(0)) {
      request.timer.cancel();
      request.reject(error);
    }
  }
}
