/**
 * One connection from this broker to another broker's listener (requests forwarded to the
 * controller), on @gregor/protocol's framing: pipelined requests, responses matched in order by
 * correlation id, a deadline per request. A broken connection fails what is in flight; the owner
 * opens a new one for the next request.
 */
import { connect, type Socket } from 'node:net';
import { decodeResponseFrame, encodeRequestFrame, FrameDecoder } from '@gregor/protocol';

interface Pending {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class BrokerConnection {
  private readonly pending: Pending[] = [];
  private readonly decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 30 });
  private nextCorrelationId = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(options: {
    host: string;
    port: number;
    clientId: string;
    timeoutMs: number;
  }): Promise<BrokerConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connecting to ${options.host}:${options.port} timed out`));
      }, options.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new BrokerConnection(socket, options.clientId));
      });
    });
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
      const timer = setTimeout(() => {
        // Responses come in order: one that never comes leaves the connection unusable.
        this.fail(new Error(`request ${apiKey} v${apiVersion} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({
        apiKey,
        apiVersion,
        correlationId,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      for (const frame of frames) this.socket.write(frame);
    });
  }

  close(): void {
    this.fail(new Error('connection closed'));
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      const frame = this.decoder.next();
      if (frame === null) return;
      const request = this.pending.shift();
      if (request === undefined) {
        this.fail(new Error('a response without a request'));
        return;
      }
      clearTimeout(request.timer);
      const decoded = decodeResponseFrame(request.apiKey, request.apiVersion, frame);
      if (!decoded.ok) request.reject(decoded.error);
      else if (decoded.value.header.correlationId !== request.correlationId) {
        this.fail(new Error('responses out of order'));
        request.reject(new Error('responses out of order'));
      } else request.resolve(decoded.value.body);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.socket.destroy();
    for (const request of this.pending.splice(0)) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }
}
