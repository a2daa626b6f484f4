/**
 * Load generator child process for the scale benches (forked with an IPC channel by
 * connection-load.ts). Raw sockets and frames encoded once, so the generator costs a connect, one
 * write and a frame count per connection and is not what a benchmark measures. Commands arrive as
 * IPC messages (ConnectionLoadCommand) and each gets exactly one reply.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ApiKey, encodeRecordBatch, encodeRequestFrame } from '@gregor/protocol';
import { percentile } from './statistics.js';
import { serveWorkerCommands } from './worker-commands.js';

export type ConnectionLoadCommand =
  | { type: 'open'; host: string; port: number; count: number; concurrency: number }
  | { type: 'close' }
  | { type: 'sequential'; host: string; port: number; count: number }
  | { type: 'produce'; host: string; port: number; topic: string; intervalMs: number }
  | { type: 'latency'; fromEpochMs: number; toEpochMs: number }
  | { type: 'stop-producing' }
  | { type: 'plain-server' };

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type ConnectionLoadReply =
  | { type: 'opened'; elapsedMs: number; failures: number; latency: LatencySummary }
  | { type: 'closed'; count: number }
  | { type: 'sequential-done'; elapsedMs: number; latency: LatencySummary }
  | { type: 'producing' }
  | { type: 'latency'; latency: LatencySummary; failures: number }
  | { type: 'stopped'; sent: number }
  | { type: 'plain-server'; port: number }
  | { type: 'error'; message: string };

const clientId = 'scale-bench';

/** ApiVersions v3 then Metadata v12 for no topics: what every client sends after connecting. */
const handshakeFrames = Buffer.concat([
  ...encodeRequestFrame(
    {
      requestApiKey: ApiKey.ApiVersions,
      requestApiVersion: 3,
      correlationId: 1,
      clientId,
    },
    { clientSoftwareName: clientId, clientSoftwareVersion: '1' },
  ),
  ...encodeRequestFrame(
    { requestApiKey: ApiKey.Metadata, requestApiVersion: 12, correlationId: 2, clientId },
    { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
  ),
]);

/** Counts complete `[int32 size][body]` frames in a byte stream without keeping the bodies. */
class FrameCounter {
  private prefix = Buffer.alloc(4);
  private prefixFilled = 0;
  private bodyLeft = 0;

  /** Frames completed by `chunk`. */
  push(chunk: Buffer): number {
    let completed = 0;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const taken = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= taken;
        offset += taken;
        if (this.bodyLeft === 0) completed += 1;
        continue;
      }
      const taken = Math.min(4 - this.prefixFilled, chunk.length - offset);
      chunk.copy(this.prefix, this.prefixFilled, offset, offset + taken);
      this.prefixFilled += taken;
      offset += taken;
      if (this.prefixFilled === 4) {
        this.prefixFilled = 0;
        this.bodyLeft = this.prefix.readInt32BE(0);
        if (this.bodyLeft === 0) completed += 1;
      }
    }
    return completed;
  }
}

function summarize(samples: number[]): LatencySummary {
  const sorted = samples.slice().sort((left, right) => left - right);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? 0,
  };
}

const openSockets = new Set<Socket>();

/** Connects, sends the handshake, resolves with the time until both answers arrived. */
function handshake(host: string, port: number, keepOpen: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAtMs = performance.now();
    const socket = connect({ host, port, noDelay: true }, () => socket.write(handshakeFrames));
    const counter = new FrameCounter();
    let answers = 0;
    socket.on('data', (chunk: Buffer) => {
      answers += counter.push(chunk);
      if (answers < 2) return;
      socket.removeAllListeners('data');
      const elapsedMs = performance.now() - startedAtMs;
      if (keepOpen) openSockets.add(socket);
      else socket.destroy();
      resolve(elapsedMs);
    });
    socket.on('error', (error) => {
      openSockets.delete(socket);
      reject(error);
    });
    socket.on('close', () => {
      openSockets.delete(socket);
      if (answers < 2) reject(new Error('closed before the handshake was answered'));
    });
  });
}

async function openMany(
  command: Extract<ConnectionLoadCommand, { type: 'open' }>,
): Promise<ConnectionLoadReply> {
  const latencies: number[] = [];
  let failures = 0;
  let started = 0;
  const startedAtMs = performance.now();
  const lane = async () => {
    while (started < command.count) {
      started += 1;
      try {
        latencies.push(await handshake(command.host, command.port, true));
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, lane));
  return {
    type: 'opened',
    elapsedMs: performance.now() - startedAtMs,
    failures,
    latency: summarize(latencies),
  };
}

async function closeAll(): Promise<ConnectionLoadReply> {
  const count = openSockets.size;
  const closes = [...openSockets].map(
    (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
  );
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
  await Promise.all(closes);
  return { type: 'closed', count };
}

async function sequential(
  command: Extract<ConnectionLoadCommand, { type: 'sequential' }>,
): Promise<ConnectionLoadReply> {
  const latencies: number[] = [];
  const startedAtMs = performance.now();
  for (let index = 0; index < command.count; index++) {
    latencies.push(await handshake(command.host, command.port, false));
  }
  return {
    type: 'sequential-done',
    elapsedMs: performance.now() - startedAtMs,
    latency: summarize(latencies),
  };
}

/**
 * One producer connection sending one acks=1 Produce of a 100-byte record every `intervalMs`
 * (the next one waits for the previous answer), each latency kept with its send time.
 */
class Producer {
  private readonly samples: { atEpochMs: number; latencyMs: number }[] = [];
  private failures = 0;
  private sent = 0;
  private stopped = false;
  private socket: Socket | undefined;

  async start(command: Extract<ConnectionLoadCommand, { type: 'produce' }>): Promise<void> {
    const socket = connect({ host: command.host, port: command.port, noDelay: true });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const counter = new FrameCounter();
    let waiting: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (counter.push(chunk) > 0) waiting?.();
    });
    socket.on('error', () => {});
    const roundTrip = (frames: Buffer[]) =>
      new Promise<void>((resolve) => {
        waiting = resolve;
        for (const frame of frames) socket.write(frame);
      });
    // Creates the topic (auto-creation) before the first Produce.
    await roundTrip(
      encodeRequestFrame(
        { requestApiKey: ApiKey.Metadata, requestApiVersion: 12, correlationId: 0, clientId },
        {
          topics: [{ name: command.topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
          allowAutoTopicCreation: true,
          includeTopicAuthorizedOperations: false,
        },
      ),
    );
    const value = Buffer.alloc(100, 7);
    const loop = async () => {
      let correlationId = 1;
      while (!this.stopped) {
        const records = encodeRecordBatch({
          records: [{ key: null, value, timestamp: BigInt(Date.now()) }],
        });
        const frames = encodeRequestFrame(
          { requestApiKey: ApiKey.Produce, requestApiVersion: 9, correlationId, clientId },
          {
            transactionalId: null,
            acks: 1,
            timeoutMs: 30_000,
            topicData: [{ name: command.topic, partitionData: [{ index: 0, records }] }],
          },
        );
        correlationId += 1;
        const atEpochMs = performance.timeOrigin + performance.now();
        const startedAtMs = performance.now();
        const answered = roundTrip(frames);
        const timedOut = await Promise.race([
          answered.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 30_000).unref()),
        ]);
        if (timedOut) this.failures += 1;
        this.samples.push({ atEpochMs, latencyMs: performance.now() - startedAtMs });
        this.sent += 1;
        await new Promise((resolve) => setTimeout(resolve, command.intervalMs));
      }
    };
    void loop();
  }

  latency(fromEpochMs: number, toEpochMs: number): ConnectionLoadReply {
    const inWindow = this.samples
      .filter((sample) => sample.atEpochMs >= fromEpochMs && sample.atEpochMs < toEpochMs)
      .map((sample) => sample.latencyMs);
    return { type: 'latency', latency: summarize(inWindow), failures: this.failures };
  }

  stop(): ConnectionLoadReply {
    this.stopped = true;
    this.socket?.destroy();
    return { type: 'stopped', sent: this.sent };
  }
}

/** A bare node:net server answering each frame with a fixed small frame: the baseline. */
function startPlainServer(): Promise<ConnectionLoadReply> {
  const answer = Buffer.alloc(16);
  answer.writeInt32BE(12, 0);
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const counter = new FrameCounter();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const frames = counter.push(chunk);
      for (let index = 0; index < frames; index++) socket.write(answer);
    });
  });
  return new Promise((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const address = server.address();
      resolve({
        type: 'plain-server',
        port: typeof address === 'object' && address !== null ? address.port : 0,
      });
    });
  });
}

let producer: Producer | undefined;

async function run(command: ConnectionLoadCommand): Promise<ConnectionLoadReply> {
  switch (command.type) {
    case 'open':
      return openMany(command);
    case 'close':
      return closeAll();
    case 'sequential':
      return sequential(command);
    case 'produce':
      producer = new Producer();
      await producer.start(command);
      return { type: 'producing' };
    case 'latency':
      if (producer === undefined) return { type: 'error', message: 'no producer' };
      return producer.latency(command.fromEpochMs, command.toEpochMs);
    case 'stop-producing':
      if (producer === undefined) return { type: 'error', message: 'no producer' };
      return producer.stop();
    case 'plain-server':
      return startPlainServer();
  }
}

serveWorkerCommands<ConnectionLoadCommand>(run);
