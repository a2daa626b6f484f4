/**
 * A tiny Kafka client for broker tests, built only on @gregor/protocol's frame helpers: one TCP
 * connection, pipelined requests, responses matched in order by correlation id. Also sends raw
 * bytes for hostile-input tests. Not for production use (no retries, no metadata handling).
 */
import { connect } from 'node:net';
import {
  ApiKey,
  decodeResponseFrame,
  encodeRecordBatch,
  encodeRequestFrame,
  FrameDecoder,
  type RecordInput,
} from '@gregor/protocol';
import type { StreamConnection } from '../server/transport.js';

interface PendingRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
}

export interface TestClientOptions {
  host?: string;
  port: number;
  clientId?: string | null;
}

export class TestClient {
  readonly socket: StreamConnection;
  private readonly clientId: string | null;
  private readonly pending: PendingRequest[] = [];
  private readonly decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 30 });
  private nextCorrelationId = 1;
  private closedError: Error | null = null;
  /** Resolves when the connection closes (by either side). */
  readonly closed: Promise<void>;

  private constructor(socket: StreamConnection, clientId: string | null) {
    this.socket = socket;
    this.clientId = clientId;
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static connect(options: TestClientOptions): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(
          new TestClient(socket, options.clientId === undefined ? 'gregor-test' : options.clientId),
        );
      });
    });
  }

  /** A client over a connection already open (another transport, e.g. the in-memory one). */
  static over(connection: StreamConnection, clientId: string | null = 'gregor-test'): TestClient {
    return new TestClient(connection, clientId);
  }

  get isClosed(): boolean {
    return this.closedError !== null || this.socket.destroyed;
  }

  /** Sends a request and resolves with the decoded response body. */
  request<T = unknown>(apiKey: number, apiVersion: number, body: unknown): Promise<T> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const correlationId = this.send(apiKey, apiVersion, body);
    return this.expectResponse<T>(apiKey, apiVersion, correlationId);
  }

  /** Sends a request without waiting for a response (Produce acks=0); returns its correlation id. */
  send(apiKey: number, apiVersion: number, body: unknown): number {
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
    for (const frame of frames) this.socket.write(frame);
    return correlationId;
  }

  /** Writes raw bytes (hostile-input tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /**
   * Registers an expected response to a request written with writeRaw, decoded as
   * (apiKey, apiVersion) — e.g. the v0 ApiVersions answer to an unsupported version.
   */
  expectResponse<T = unknown>(
    apiKey: number,
    apiVersion: number,
    correlationId: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        apiKey,
        apiVersion,
        correlationId,
        resolve: resolve as (body: unknown) => void,
        reject,
      });
    });
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      const frame = this.decoder.next();
      if (frame === null) return;
      const request = this.pending.shift();
      if (request === undefined) {
        this.failAll(new Error('response without a request'));
        this.socket.destroy();
        return;
      }
      const decoded = decodeResponseFrame(request.apiKey, request.apiVersion, frame);
      if (!decoded.ok) {
        request.reject(decoded.error);
        continue;
      }
      if (decoded.value.header.correlationId !== request.correlationId) {
        request.reject(
          new Error(
            `correlation id ${decoded.value.header.correlationId}, expected ${request.correlationId}`,
          ),
        );
        continue;
      }
      request.resolve(decoded.value.body);
    }
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const request of this.pending.splice(0)) request.reject(error);
  }
}

/** One uncompressed batch of `count` records with `valueBytes`-byte values. */
export function recordBatch(options: {
  count: number;
  valueBytes?: number;
  key?: Buffer | null;
  timestamp?: bigint;
}): Buffer {
  const value = Buffer.alloc(options.valueBytes ?? 10, 0x61);
  const records: RecordInput[] = [];
  for (let index = 0; index < options.count; index++) {
    records.push({ key: options.key ?? null, value, timestamp: options.timestamp });
  }
  return encodeRecordBatch({ records });
}

export { ApiKey };
