// One TCP connection to one broker. Requests are pipelined: each gets the next correlation id
// and responses come back in request order (Kafka's per-connection ordering guarantee), so the
// oldest in-flight request is the only one a frame can answer. At most `maxInFlightRequests`
// are on the wire; more wait in a FIFO, and nothing is written while the socket wants `drain`.
// A request timeout closes the whole connection: the stream cannot be re-synchronised reliably
// and every pipelined sibling's outcome becomes unknown (like Java's NetworkClient).
// With `tls` the socket is a TLS socket; with `sasl` the connection authenticates right after
// ApiVersions and again before the broker's session lifetime ends (KIP-368), holding other
// requests back while the SASL exchange is on the wire.

import { channel } from 'node:diagnostics_channel';
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import {
  type ApiDescriptor,
  ApiKey,
  type ApiVersionsResponse,
  apiVersionsApi,
  decodeResponseFrame,
  ErrorCode,
  FrameDecoder,
  FrameSizeError,
} from '@gregor/protocol';
import { ConnectionError, KafkaError, RequestTimeoutError, TlsHandshakeError } from '../errors.js';
import { ApiVersionTable } from './api-versions.js';
import { authenticate } from './sasl/authenticator.js';
import type { SaslOptions, TlsOptions } from './security.js';
import { encodeRequest, layoutVersion } from './version-aliases.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string | null;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  maxInFlightRequests: number;
  /** Largest response frame accepted (fetch responses are bounded by fetch.max.bytes). */
  responseSizeBytesMax: number;
  softwareName: string;
  softwareVersion: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
}

export interface RequestOptions {
  /** Defaults to the negotiated version. */
  version?: number;
  /** False for Produce with acks=0: the broker sends nothing back. */
  expectResponse?: boolean;
  /** Defaults to the connection's request timeout (a long-poll Fetch adds its wait). */
  timeoutMs?: number;
  /** A SASL request: written even while other requests wait for (re-)authentication. */
  authentication?: boolean;
}

/**
 * Tracing (node:diagnostics_channel): one message per finished request, published only while
 * someone subscribes, so the cost without subscribers is one property read.
 */
export const requestChannel = channel('gregor.client.request');

export interface RequestTrace {
  broker: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  correlationId: number;
  durationMs: number;
  /** Set when the request failed (timeout, connection) rather than got a response. */
  error?: Error;
}

interface PendingRequest {
  startedAtMs: number;
  api: ApiDescriptor;
  version: number;
  correlationId: number;
  frames: Buffer[];
  expectResponse: boolean;
  authentication: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
}

const apiVersionsRequestVersionMax = apiVersionsApi.maxVersion;
/** How long a closing connection may take to flush its last writes. */
const gracefulCloseMs = 5_000;
/**
 * Re-authentication starts at a random 85–95 % of the session lifetime (as Java's client does),
 * so a broker's connections do not all re-authenticate at once.
 */
const reauthenticationShareMin = 0.85;
const reauthenticationShareSpread = 0.1;

export class Connection {
  /** Versions negotiated on this connection; set once open() resolves. */
  versions!: ApiVersionTable;
  private readonly decoder: FrameDecoder;
  private readonly waiting: PendingRequest[] = [];
  /** SASL requests; while `authenticating`, the only ones written. */
  private readonly authenticationWaiting: PendingRequest[] = [];
  private authenticating = false;
  private reauthenticationTimer: NodeJS.Timeout | undefined;
  /** SASL exchanges completed on this connection (the first one and re-authentications). */
  authentications = 0;
  private readonly inFlight: PendingRequest[] = [];
  private nextCorrelationId = 0;
  private waitingForDrain = false;
  private corked = false;
  private failure: Error | null = null;
  private readonly closeListeners: Array<(error: Error) => void> = [];

  private constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.decoder = new FrameDecoder({ frameSizeBytesMax: options.responseSizeBytesMax });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
    socket.on('error', (error) => this.fail(socketError(this.describe(error), error)));
    socket.on('close', () => this.fail(new ConnectionError(`${this.address} closed`)));
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get isClosed(): boolean {
    return this.failure !== null;
  }

  /** Requests written and not yet answered plus those waiting for a slot. */
  get pendingRequests(): number {
    return this.inFlight.length + this.waiting.length + this.authenticationWaiting.length;
  }

  /** Connects, then negotiates versions with ApiVersions before any other request. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const socket = await connectSocket(options);
    const connection = new Connection(socket, options);
    try {
      connection.versions = new ApiVersionTable(await connection.negotiate());
      if (options.sasl !== undefined) await connection.authenticate(options.sasl);
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** Calls `listener` once when the connection closes or fails. */
  onClose(listener: (error: Error) => void): void {
    if (this.failure !== null) listener(this.failure);
    else this.closeListeners.push(listener);
  }

  /** Sends a request and resolves with the decoded response body. */
  request<Response>(
    api: ApiDescriptor,
    body: unknown,
    options: RequestOptions = {},
  ): Promise<Response> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const version = options.version ?? this.versions.version(api);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    const frames = encodeRequest(
      api,
      {
        requestApiKey: api.apiKey,
        requestApiVersion: version,
        correlationId,
        clientId: this.options.clientId,
      },
      body,
    );
    return new Promise<Response>((resolve, reject) => {
      const request: PendingRequest = {
        startedAtMs: performance.now(),
        api,
        version,
        correlationId,
        frames,
        expectResponse: options.expectResponse ?? true,
        authentication: options.authentication ?? false,
        timer: undefined,
        resolve: resolve as (body: unknown) => void,
        reject,
      };
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      request.timer = setTimeout(() => this.onTimeout(request, timeoutMs), timeoutMs);
      (request.authentication ? this.authenticationWaiting : this.waiting).push(request);
      this.pump();
    });
  }

  /**
   * One SASL exchange; other requests wait until it ends, since the broker reads every frame in
   * between as part of it. On success the next one is scheduled within the session lifetime;
   * a failure closes the connection (the broker would close it at the session's end anyway).
   */
  private async authenticate(sasl: SaslOptions): Promise<void> {
    this.authenticating = true;
    try {
      const startedAtMs = Date.now();
      const outcome = await authenticate(
        {
          versions: this.versions,
          address: this.address,
          request: (api, body, version) =>
            this.request(api, body, { version, authentication: true }),
        },
        sasl,
      );
      this.authentications++;
      if (outcome.sessionLifetimeMs > 0 && this.failure === null) {
        const share = reauthenticationShareMin + Math.random() * reauthenticationShareSpread;
        const delayMs = startedAtMs + outcome.sessionLifetimeMs * share - Date.now();
        this.reauthenticationTimer = setTimeout(() => this.reauthenticate(sasl), delayMs);
        this.reauthenticationTimer.unref();
      }
    } finally {
      this.authenticating = false;
    }
    this.pump();
  }

  private reauthenticate(sasl: SaslOptions): void {
    this.authenticate(sasl).catch((error: unknown) => {
      this.fail(
        error instanceof Error
          ? error
          : new ConnectionError(`${this.address}: re-authentication failed`, error),
      );
    });
  }

  /**
   * Closes after what was written leaves (acks=0 records are only written, never answered);
   * anything still waiting for a response fails.
   */
  close(): void {
    this.fail(new ConnectionError(`${this.address} closed by the client`), { graceful: true });
  }

  private async negotiate(): Promise<ApiVersionsResponse> {
    const body = {
      clientSoftwareName: this.options.softwareName,
      clientSoftwareVersion: this.options.softwareVersion,
    };
    const response = await this.request<ApiVersionsResponse>(apiVersionsApi, body, {
      version: apiVersionsRequestVersionMax,
    });
    if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      // The broker answered in v0 with its own range of ApiVersions: retry at its highest.
      const range = response.apiKeys.find((entry) => entry.apiKey === ApiKey.ApiVersions);
      const version = Math.min(range?.maxVersion ?? 0, apiVersionsRequestVersionMax);
      const retried = await this.request<ApiVersionsResponse>(apiVersionsApi, body, { version });
      if (retried.errorCode !== ErrorCode.NONE)
        throw new KafkaError(retried.errorCode, 'ApiVersions');
      return retried;
    }
    if (response.errorCode !== ErrorCode.NONE)
      throw new KafkaError(response.errorCode, 'ApiVersions');
    return response;
  }

  /** Writes waiting requests while in-flight slots are free and the socket takes more. */
  private pump(): void {
    for (;;) {
      const queue = this.authenticating ? this.authenticationWaiting : this.waiting;
      if (
        this.failure !== null ||
        this.waitingForDrain ||
        queue.length === 0 ||
        this.inFlight.length >= this.options.maxInFlightRequests
      )
        break;
      const request = queue.shift()!;
      this.cork();
      let accepted = true;
      for (const frame of request.frames) accepted = this.socket.write(frame);
      request.frames = [];
      if (request.expectResponse) {
        this.inFlight.push(request);
      } else {
        clearTimeout(request.timer);
        this.trace(request);
        request.resolve(undefined);
      }
      if (!accepted) this.waitingForDrain = true;
    }
  }

  /** One tick's writes leave in one writev. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      if (!this.socket.destroyed) this.socket.uncork();
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let frame: Buffer | null;
      try {
        frame = this.decoder.next();
      } catch (error) {
        const detail = error instanceof FrameSizeError ? error.message : String(error);
        this.fail(new ConnectionError(`${this.address}: ${detail}`, error));
        return;
      }
      if (frame === null) break;
      const request = this.inFlight.shift();
      if (request === undefined) {
        this.fail(new ConnectionError(`${this.address}: a response without a request`));
        return;
      }
      clearTimeout(request.timer);
      this.complete(request, frame);
    }
    this.pump();
  }

  private complete(request: PendingRequest, frame: Buffer): void {
    let decoded = decodeResponseFrame(
      request.api.apiKey,
      layoutVersion(request.api, request.version),
      frame,
    );
    if (!decoded.ok && request.api.apiKey === ApiKey.ApiVersions && request.version > 0) {
      // A broker that does not speak this ApiVersions version answers in v0 (KIP-511).
      decoded = decodeResponseFrame(ApiKey.ApiVersions, 0, frame);
    }
    if (!decoded.ok) {
      const detail = `${request.api.name} v${request.version}: ${decoded.error.message}`;
      request.reject(new ConnectionError(`${this.address}: undecodable response to ${detail}`));
      this.fail(new ConnectionError(`${this.address}: undecodable response`));
      return;
    }
    if (decoded.value.header.correlationId !== request.correlationId) {
      const detail = `correlation id ${decoded.value.header.correlationId}, expected ${request.correlationId}`;
      this.fail(new ConnectionError(`${this.address}: ${detail}`));
      request.reject(new ConnectionError(`${this.address}: ${detail}`));
      return;
    }
    this.trace(request);
    request.resolve(decoded.value.body);
  }

  private trace(request: PendingRequest, error?: Error): void {
    if (!requestChannel.hasSubscribers) return;
    const trace: RequestTrace = {
      broker: this.address,
      apiKey: request.api.apiKey,
      apiName: request.api.name,
      apiVersion: request.version,
      correlationId: request.correlationId,
      durationMs: performance.now() - request.startedAtMs,
    };
    if (error !== undefined) trace.error = error;
    requestChannel.publish(trace);
  }

  private onTimeout(request: PendingRequest, timeoutMs: number): void {
    const error = new RequestTimeoutError(
      `${request.api.name} to ${this.address} got no response within ${timeoutMs} ms`,
    );
    this.removeRequest(request);
    this.trace(request, error);
    request.reject(error);
    this.fail(new ConnectionError(`${this.address} closed after a request timeout`, error));
  }

  private removeRequest(request: PendingRequest): void {
    for (const queue of [this.waiting, this.authenticationWaiting, this.inFlight]) {
      const index = queue.indexOf(request);
      if (index >= 0) queue.splice(index, 1);
    }
  }

  private fail(error: Error, options: { graceful?: boolean } = {}): void {
    if (this.failure !== null) return;
    this.failure = error;
    clearTimeout(this.reauthenticationTimer);
    if (options.graceful === true) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), gracefulCloseMs).unref();
    } else {
      this.socket.destroy();
    }
    const pending = [
      ...this.inFlight.splice(0),
      ...this.authenticationWaiting.splice(0),
      ...this.waiting.splice(0),
    ];
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(error);
    }
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }

  private describe(error: Error): string {
    return `${this.address}: ${error.message}`;
  }
}

/**
 * TLS failures that a new attempt cannot fix: certificate verification (node:tls's OpenSSL
 * codes), host name mismatch, and alerts the broker sent (e.g. a client certificate required).
 */
const tlsFailureCode = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_)/;

function socketError(message: string, error: Error & { code?: string }): Error {
  if (error.code !== undefined && tlsFailureCode.test(error.code))
    return new TlsHandshakeError(`${message} (TLS)`, error);
  return new ConnectionError(message, error);
}

function openSocket(options: ConnectionOptions): { socket: Socket; readyEvent: string } {
  const tls = options.tls;
  if (tls === undefined) {
    return { socket: connect({ host: options.host, port: options.port }), readyEvent: 'connect' };
  }
  // SNI carries host names only; for an IP address the certificate is checked against its SAN.
  const servername = tls.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
  const socket = connectTls({ ...tls, host: options.host, port: options.port, servername });
  return { socket, readyEvent: 'secureConnect' };
}

function connectSocket(options: ConnectionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { socket, readyEvent } = openSocket(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new ConnectionError(
          `connecting to ${options.host}:${options.port} took over ${options.connectionTimeoutMs} ms`,
        ),
      );
    }, options.connectionTimeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(socketError(`connecting to ${options.host}:${options.port}: ${error.message}`, error));
    });
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
