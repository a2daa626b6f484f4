import { mkdir, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { FrameSplitter } from './frame-splitter.js';

/**
 * A recording TCP proxy for golden-byte fixtures: clients connect to it, it forwards to the
 * broker, and writes each client→broker request frame (and, optionally, the broker's response)
 * to files named after the API and version. Without an upstream it records the first request of
 * each connection and closes it: enough to capture ApiVersions, which every client sends first.
 */

export interface RecordedFrame {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  requestFile: string;
  responseFile?: string;
}

export interface RecordProxyOptions {
  /** Where to forward; absent = record-and-close mode. */
  upstream?: { host: string; port: number };
  outputDirectory: string;
  recordResponses: boolean;
  /** Distinct frames kept per api key and version (requests repeat: heartbeats, fetches). */
  framesPerVersionMax: number;
  /** Turns an api key into a file-name word (e.g. 18 → "ApiVersions"). */
  apiName: (apiKey: number) => string;
  host?: string;
}

const frameBytesMax = 64 * 1024 * 1024;

interface PendingRequest {
  correlationId: number;
  recorded: RecordedFrame | undefined;
}

export class RecordProxy {
  readonly frames: RecordedFrame[] = [];
  private readonly options: RecordProxyOptions;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly seenPerVersion = new Map<string, Set<string>>();
  private readonly writes: Promise<void>[] = [];
  private upstream: { host: string; port: number } | undefined;
  /** While false, frames pass through unrecorded (set-up traffic that is not the client's). */
  recording = true;

  private constructor(options: RecordProxyOptions) {
    this.options = options;
    this.upstream = options.upstream;
    this.server = createServer((client) => this.accept(client));
  }

  static async start(options: RecordProxyOptions): Promise<RecordProxy> {
    await mkdir(options.outputDirectory, { recursive: true });
    const proxy = new RecordProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, options.host ?? '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get address(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** Sets where new connections are forwarded (the broker may start after the proxy). */
  setUpstream(upstream: { host: string; port: number }): void {
    this.upstream = upstream;
  }

  /** Stops listening, closes every connection and waits for the fixture files to be written. */
  async close(): Promise<RecordedFrame[]> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(this.writes);
    return this.frames;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
  }

  private accept(client: Socket): void {
    this.track(client);
    const requestSplitter = new FrameSplitter({ frameBytesMax });
    const pending: PendingRequest[] = [];
    const upstreamAddress = this.upstream;
    const upstream = upstreamAddress
      ? connect(upstreamAddress.port, upstreamAddress.host)
      : undefined;
    if (upstream) {
      this.track(upstream);
      const responseSplitter = new FrameSplitter({ frameBytesMax });
      upstream.on('data', (chunk: Buffer) => {
        client.write(chunk);
        for (const frame of responseSplitter.push(chunk)) this.recordResponse(frame, pending);
      });
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    }
    client.on('data', (chunk: Buffer) => {
      upstream?.write(chunk);
      let frames: Buffer[];
      try {
        frames = requestSplitter.push(chunk);
      } catch {
        client.destroy();
        return;
      }
      for (const frame of frames) {
        pending.push({ correlationId: frame.readInt32BE(4), recorded: this.recordRequest(frame) });
        if (!upstream) {
          client.destroy();
          return;
        }
      }
    });
  }

  private recordRequest(frame: Buffer): RecordedFrame | undefined {
    if (frame.length < 8 || !this.recording) return undefined;
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const versionKey = `${apiKey}/${apiVersion}`;
    const seen = this.seenPerVersion.get(versionKey) ?? new Set<string>();
    this.seenPerVersion.set(versionKey, seen);
    // Frames differing only in correlation id are the same fixture.
    const contentKey = Buffer.concat([frame.subarray(0, 4), frame.subarray(8)]).toString('base64');
    if (seen.has(contentKey) || seen.size >= this.options.framesPerVersionMax) return undefined;
    seen.add(contentKey);
    const base = `${this.options.apiName(apiKey)}-v${apiVersion}-${seen.size}`;
    const recorded: RecordedFrame = {
      apiKey,
      apiVersion,
      correlationId,
      requestFile: `${base}.request.bin`,
    };
    this.frames.push(recorded);
    this.writes.push(writeFile(join(this.options.outputDirectory, recorded.requestFile), frame));
    return recorded;
  }

  private recordResponse(frame: Buffer, pending: PendingRequest[]): void {
    if (frame.length < 4) return;
    const correlationId = frame.readInt32BE(0);
    // Responses come back in request order; acks=0 produce requests get none, so skip those.
    const index = pending.findIndex((request) => request.correlationId === correlationId);
    if (index < 0) return;
    const request = pending.splice(0, index + 1)[index];
    const recorded = request.recorded;
    if (!recorded || !this.options.recordResponses) return;
    recorded.responseFile = recorded.requestFile.replace('.request.bin', '.response.bin');
    this.writes.push(writeFile(join(this.options.outputDirectory, recorded.responseFile), frame));
  }
}
