import { connect, type Socket } from 'node:net';
import {
  ApiKey,
  decodeResponseFrame,
  encodeRecordBatch,
  encodeRequestFrame,
  type FetchResponse,
  FrameDecoder,
  type ProduceResponse,
  recordsAsBuffer,
} from '@gregor/protocol';

/**
 * The broker's own ceiling, measured with no client library in the way: Produce requests encoded
 * once and written again and again, pipelined on one connection (only the response frames are
 * counted), and Fetch requests whose responses are walked batch header by batch header without
 * decoding records. What a client reaches beside these figures is what its own work leaves.
 */

const produceVersion = 9;
const fetchVersion = 12;
/** A 16 KiB batch per partition per request, as the clients' default batch.size. */
const batchBytes = 16_384;

function open(bootstrap: string): Promise<Socket> {
  const separator = bootstrap.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: bootstrap.slice(0, separator),
      port: Number(bootstrap.slice(separator + 1)),
    });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  const decoder = new FrameDecoder({ frameSizeBytesMax: 200 * 1024 * 1024 });
  socket.on('data', (chunk: Buffer) => {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== null; frame = decoder.next()) onFrame(frame);
  });
}

export interface RawProduceResult {
  recordsPerSecond: number;
}

export async function rawProduce(options: {
  bootstrap: string;
  topic: string;
  partitions: number;
  recordBytes: number;
  windowRequests: number;
  warmupMs: number;
  measureMs: number;
}): Promise<RawProduceResult> {
  const recordsPerBatch = Math.max(1, Math.floor(batchBytes / (options.recordBytes + 12)));
  const value = Buffer.alloc(options.recordBytes, 7);
  const batch = encodeRecordBatch({
    records: Array.from({ length: recordsPerBatch }, () => ({
      key: null,
      value,
      timestamp: BigInt(Date.now()),
    })),
  });
  const request = Buffer.concat(
    encodeRequestFrame(
      {
        requestApiKey: ApiKey.Produce,
        requestApiVersion: produceVersion,
        correlationId: 1,
        clientId: 'raw',
      },
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [
          {
            name: options.topic,
            partitionData: Array.from({ length: options.partitions }, (_, index) => ({
              index,
              records: batch,
            })),
          },
        ],
      },
    ),
  );
  const recordsPerRequest = recordsPerBatch * options.partitions;
  const socket = await open(options.bootstrap);
  let acknowledged = 0;
  let checked = false;
  let running = true;
  let failure: Error | undefined;
  frames(socket, (frame) => {
    if (!checked) {
      checked = true;
      const decoded = decodeResponseFrame(ApiKey.Produce, produceVersion, frame);
      const body = decoded.ok ? (decoded.value.body as ProduceResponse) : undefined;
      const codes = body?.responses.flatMap((topic) =>
        topic.partitionResponses.map((p) => p.errorCode),
      );
      if (codes === undefined || codes.some((code) => code !== 0))
        failure = new Error(`raw Produce failed: ${JSON.stringify(codes)}`);
    }
    acknowledged += recordsPerRequest;
    if (running) socket.write(request);
  });
  for (let index = 0; index < options.windowRequests; index++) socket.write(request);
  await sleep(options.warmupMs);
  const startCount = acknowledged;
  const startMs = performance.now();
  await sleep(options.measureMs);
  const recordsPerSecond = ((acknowledged - startCount) * 1000) / (performance.now() - startMs);
  running = false;
  socket.destroy();
  if (failure) throw failure;
  return { recordsPerSecond };
}

export async function rawConsume(options: {
  bootstrap: string;
  topic: string;
  partitions: number;
  expectedRecords: number;
}): Promise<{ recordsPerSecond: number }> {
  const socket = await open(options.bootstrap);
  const positions = Array.from({ length: options.partitions }, () => 0n);
  let received = 0;
  let firstAtMs = 0;
  let receivedBeforeClock = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const sendFetch = () => {
    const request = encodeRequestFrame(
      {
        requestApiKey: ApiKey.Fetch,
        requestApiVersion: fetchVersion,
        correlationId: 1,
        clientId: 'raw',
      },
      {
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 50 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: options.topic,
            partitions: positions.map((fetchOffset, partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1024 * 1024,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      },
    );
    for (const frame of request) socket.write(frame);
  };
  frames(socket, (frame) => {
    const decoded = decodeResponseFrame(ApiKey.Fetch, fetchVersion, frame);
    if (!decoded.ok) throw decoded.error;
    const body = decoded.value.body as FetchResponse;
    for (const topic of body.responses) {
      for (const partition of topic.partitions) {
        const records = recordsAsBuffer(partition.records);
        if (records === null) continue;
        for (let position = 0; position + 61 <= records.length; ) {
          const batchLength = records.readInt32BE(position + 8);
          if (position + 12 + batchLength > records.length) break;
          const baseOffset = records.readBigInt64BE(position);
          const lastOffsetDelta = records.readInt32BE(position + 23);
          received += records.readInt32BE(position + 57);
          positions[partition.partitionIndex] = baseOffset + BigInt(lastOffsetDelta) + 1n;
          position += 12 + batchLength;
        }
      }
    }
    if (firstAtMs === 0 && received > 0) {
      // The clock starts once the first records are in, as for the clients.
      firstAtMs = performance.now();
      receivedBeforeClock = received;
    }
    if (received >= options.expectedRecords) resolveDone();
    else sendFetch();
  });
  sendFetch();
  await done;
  const elapsedMs = performance.now() - firstAtMs;
  socket.destroy();
  return { recordsPerSecond: ((received - receivedBeforeClock) * 1000) / elapsedMs };
}

function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}
