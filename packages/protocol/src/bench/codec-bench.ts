// Codec throughput: a ~1 MiB Produce request and a ~1 MiB Fetch response (records as opaque
// buffers), next to a plain 1 MiB Buffer.copy measured in the same run.
// Run: npm run bench -- protocol   (or node packages/protocol/dist/bench/codec-bench.js)
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
} from '../frame.js';
import { ApiKey, type FetchResponse, type ProduceRequest } from '../generated/index.js';

const measureMs = Number(process.env.GREGOR_BENCH_MS ?? 1000);
const mebibyte = 1024 * 1024;

interface Measurement {
  name: string;
  operationsPerSecond: number;
  megabytesPerSecond: number;
}

function measure(name: string, bytesPerOperation: number, operation: () => unknown): Measurement {
  for (let warmup = 0; warmup < 50; warmup++) operation();
  let operations = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(measureMs) * 1_000_000n;
  let now = started;
  while (now < deadline) {
    for (let index = 0; index < 16; index++) operation();
    operations += 16;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - started) / 1e9;
  return {
    name,
    operationsPerSecond: operations / seconds,
    megabytesPerSecond: (operations * bytesPerOperation) / seconds / mebibyte,
  };
}

function produceRequest(records: Buffer): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: 'bench-topic', partitionData: [{ index: 0, records }] }],
  };
}

function fetchResponse(partitionCount: number, recordsPerPartition: Buffer): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topicId: 'AAECAwQFBgcICQoLDA0ODw',
        partitions: Array.from({ length: partitionCount }, (_, index) => ({
          partitionIndex: index,
          errorCode: 0,
          highWatermark: 1_000_000n,
          lastStableOffset: 1_000_000n,
          logStartOffset: 0n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: recordsPerPartition,
        })),
      },
    ],
  };
}

function frameBytes(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks).subarray(4);
}

function main(): void {
  const produceVersion = 9;
  const fetchVersion = 16;
  const produceHeader = {
    requestApiKey: ApiKey.Produce,
    requestApiVersion: produceVersion,
    correlationId: 1,
    clientId: 'bench',
  };
  const results: Measurement[] = [];

  const source = Buffer.alloc(mebibyte, 7);
  const target = Buffer.alloc(mebibyte);
  results.push(measure('Buffer.copy 1 MiB (baseline)', mebibyte, () => source.copy(target)));

  const produceBody = produceRequest(Buffer.alloc(mebibyte, 1));
  const produceFrame = frameBytes(encodeRequestFrame(produceHeader, produceBody));
  results.push(
    measure('Produce v9 1 MiB: encode', produceFrame.length, () =>
      encodeRequestFrame(produceHeader, produceBody),
    ),
    measure('Produce v9 1 MiB: decode', produceFrame.length, () =>
      decodeRequestFrame(produceFrame),
    ),
    measure('Produce v9 1 MiB: encode+decode', produceFrame.length, () => {
      encodeRequestFrame(produceHeader, produceBody);
      decodeRequestFrame(produceFrame);
    }),
  );

  const fetchBody = fetchResponse(16, Buffer.alloc(64 * 1024, 2));
  const fetchFrame = frameBytes(encodeResponseFrame(ApiKey.Fetch, fetchVersion, 1, fetchBody));
  results.push(
    measure('Fetch v16 16x64 KiB: encode', fetchFrame.length, () =>
      encodeResponseFrame(ApiKey.Fetch, fetchVersion, 1, fetchBody),
    ),
    measure('Fetch v16 16x64 KiB: decode', fetchFrame.length, () =>
      decodeResponseFrame(ApiKey.Fetch, fetchVersion, fetchFrame),
    ),
    measure('Fetch v16 16x64 KiB: encode+decode', fetchFrame.length, () => {
      encodeResponseFrame(ApiKey.Fetch, fetchVersion, 1, fetchBody);
      decodeResponseFrame(ApiKey.Fetch, fetchVersion, fetchFrame);
    }),
  );

  const smallBody = produceRequest(Buffer.alloc(1024, 1));
  const smallFrame = frameBytes(encodeRequestFrame(produceHeader, smallBody));
  results.push(
    measure('Produce v9 1 KiB: encode+decode', smallFrame.length, () => {
      encodeRequestFrame(produceHeader, smallBody);
      decodeRequestFrame(smallFrame);
    }),
  );

  process.stdout.write(`protocol codec bench (node ${process.version}, ${measureMs} ms per row)\n`);
  for (const result of results) {
    const name = result.name.padEnd(36);
    const operations = result.operationsPerSecond.toFixed(0).padStart(10);
    const megabytes = result.megabytesPerSecond.toFixed(0).padStart(10);
    process.stdout.write(`${name} ${operations} ops/s ${megabytes} MB/s\n`);
  }
}

main();
