/**
 * A full disk (ENOSPC on write) answers KAFKA_STORAGE_ERROR, leaves the log readable and
 * uncorrupted, and produce works again once space returns.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  ApiKey,
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type ProduceResponse,
  readBatchHeader,
} from '@gregor/protocol';
import { FileLogManager, type FileSystem, nodeFileSystem } from '@gregor/storage';
import { Broker } from '../broker.js';
import { logConfigFor } from '../config/index.js';
import { silentLogger } from '../logging/logger.js';
import {
  fetchRequest,
  metadataRequest,
  produceRequest,
  startTestBroker,
} from '../testing/requests.js';
import { recordBatch, TestClient } from '../testing/test-client.js';

function fillableFileSystem(state: { full: boolean }): FileSystem {
  return {
    ...nodeFileSystem,
    async openFile(path, options) {
      const handle = await nodeFileSystem.openFile(path, options);
      return {
        read: (...args) => handle.read(...args),
        async writev(buffers, position) {
          if (state.full) {
            // Like a real full disk: part of the data may land before the error.
            const first = buffers[0];
            if (first !== undefined && first.length > 8)
              await handle.writev([first.subarray(0, 8)], position);
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
              code: 'ENOSPC',
            });
          }
          return handle.writev(buffers, position);
        },
        datasync: () => handle.datasync(),
        truncate: (sizeBytes) => handle.truncate(sizeBytes),
        sizeBytes: () => handle.sizeBytes(),
        close: () => handle.close(),
      };
    },
  };
}

describe('disk full', () => {
  const disk = { full: false };
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;
  before(async () => {
    ({ broker, stop } = await startTestBroker(
      {},
      {
        openLogManager: (options) =>
          FileLogManager.open({
            logDirs: options.logDirs,
            clock: options.clock,
            fileSystem: fillableFileSystem(disk),
            defaultConfig: logConfigFor(options.config, {}),
            topicConfigs: options.topicConfigs,
          }),
      },
    ));
    client = await TestClient.connect({ port: broker.port });
  });
  after(async () => {
    client.destroy();
    disk.full = false;
    await stop();
  });

  const produce = async (count: number) => {
    const response = await client.request<ProduceResponse>(
      ApiKey.Produce,
      9,
      produceRequest({ topic: 'full-disk', records: recordBatch({ count }), acks: -1 }),
    );
    return response.responses[0]!.partitionResponses[0]!;
  };

  it('answers KAFKA_STORAGE_ERROR on ENOSPC and keeps serving', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['full-disk']));
    assert.equal((await produce(3)).baseOffset, 0n);
    disk.full = true;
    const failed = await produce(2);
    assert.equal(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    disk.full = false;
    const fetched = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({ partitions: [{ topic: 'full-disk', offset: 0n }] }),
    );
    assert.equal(
      fetched.responses[0]!.partitions[0]!.highWatermark,
      3n,
      'acknowledged data stays readable',
    );
  });

  // Storage rolls a failed append back in place (no partial batch, the log end unchanged) and
  // the next append simply tries again (packages/storage DESIGN.md "Disk full and I/O errors").
  it('accepts appends again once space returns', async () => {
    let recovered = await produce(4);
    for (let attempt = 0; attempt < 20 && recovered.errorCode !== ErrorCode.NONE; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recovered = await produce(4);
    }
    assert.equal(recovered.errorCode, ErrorCode.NONE);
    assert.equal(recovered.baseOffset, 3n, 'the failed append left no offsets behind');
    const fetched = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({ partitions: [{ topic: 'full-disk', offset: 0n }] }),
    );
    const partition = fetched.responses[0]!.partitions[0]!;
    assert.equal(partition.errorCode, ErrorCode.NONE);
    assert.equal(partition.highWatermark, 7n);
    const bytes = Buffer.isBuffer(partition.records)
      ? partition.records
      : Buffer.concat((partition.records as Buffer[] | null) ?? []);
    const offsets: bigint[] = [];
    for (let position = 0; position < bytes.length; ) {
      const header = readBatchHeader(bytes, position);
      offsets.push(header.baseOffset);
      position += header.batchLength + 12;
    }
    assert.deepEqual(offsets, [0n, 3n]);
  });
});

const run = promisify(execFile);

/** Mounts a tmpfs of `sizeBytes` at a new temp dir; null (with the reason) when mount is refused. */
async function mountTmpfs(sizeBytes: number): Promise<{ directory: string } | { problem: string }> {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', directory]);
    return { directory };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    return { problem: `cannot mount a tmpfs (needs root and mount): ${(error as Error).message}` };
  }
}

const recordsOf = (records: unknown): Buffer =>
  Buffer.isBuffer(records) ? records : Buffer.concat((records as Buffer[] | null) ?? []);

describe('disk full on a real (tmpfs) file system', () => {
  const batchValueBytes = 60_000;
  let mounted: { directory: string } | { problem: string };
  let broker: Broker | undefined;
  let client: TestClient | undefined;
  before(async () => {
    mounted = await mountTmpfs(4 * 1024 * 1024);
  });
  after(async () => {
    client?.destroy();
    await broker?.stop().catch(() => undefined);
    if ('directory' in mounted) {
      await run('umount', [mounted.directory]).catch(() => undefined);
      await rm(mounted.directory, { recursive: true, force: true });
    }
  });

  it('answers KAFKA_STORAGE_ERROR when full, keeps acknowledged data intact and resumes once space is freed', async (context) => {
    if ('problem' in mounted) {
      context.skip(mounted.problem);
      return;
    }
    const directory = mounted.directory;
    // Space the test frees later, as an operator deleting something would.
    const filler = join(directory, 'filler');
    await writeFile(filler, Buffer.alloc(512 * 1024));
    broker = await Broker.start({
      logger: silentLogger,
      settings: { 'log.dirs': join(directory, 'data'), listeners: 'PLAINTEXT://127.0.0.1:0' },
    });
    client = await TestClient.connect({ port: broker.port });
    await client.request(ApiKey.Metadata, 12, metadataRequest(['tmpfs-full']));
    const batch = (index: number) =>
      encodeRecordBatch({
        records: [{ key: null, value: Buffer.alloc(batchValueBytes, index % 251) }],
      });
    const produce = async (index: number) => {
      const response = await client!.request<ProduceResponse>(
        ApiKey.Produce,
        9,
        produceRequest({ topic: 'tmpfs-full', records: batch(index), acks: -1 }),
      );
      return response.responses[0]!.partitionResponses[0]!;
    };
    const acknowledged: number[] = [];
    let index = 0;
    for (; index < 200; index++) {
      const response = await produce(index);
      if (response.errorCode !== ErrorCode.NONE) {
        assert.equal(response.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
        break;
      }
      assert.equal(response.baseOffset, BigInt(acknowledged.length));
      acknowledged.push(index);
    }
    assert.ok(index < 200, 'the 4 MiB file system filled up');
    assert.ok(acknowledged.length > 10);
    // Still full: another attempt fails the same way and moves nothing.
    assert.equal((await produce(index + 1)).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);

    let connection = client;
    const consumeAll = async (): Promise<number[]> => {
      const fills: number[] = [];
      let offset = 0n;
      for (let round = 0; round < 500; round++) {
        const fetched = await connection.request<FetchResponse>(
          ApiKey.Fetch,
          12,
          fetchRequest({
            partitions: [{ topic: 'tmpfs-full', offset, partitionMaxBytes: 1 << 20 }],
          }),
        );
        const partition = fetched.responses[0]!.partitions[0]!;
        assert.equal(partition.errorCode, ErrorCode.NONE);
        const batches = decodeRecordBatches(recordsOf(partition.records));
        if (batches.length === 0) break;
        for (const decoded of batches) {
          for (const record of decoded.records) {
            assert.equal(record.offset, BigInt(fills.length), 'no gaps, no duplicates');
            const value = record.value!;
            assert.equal(value.length, batchValueBytes);
            assert.ok(
              value.every((byte) => byte === value[0]),
              'record intact',
            );
            fills.push(value[0]!);
            offset = record.offset + 1n;
          }
        }
      }
      return fills;
    };
    assert.deepEqual(
      await consumeAll(),
      acknowledged.map((value) => value % 251),
      'everything acknowledged, nothing else',
    );

    await rm(filler);
    const resumed = await produce(1000);
    assert.equal(resumed.errorCode, ErrorCode.NONE);
    assert.equal(resumed.baseOffset, BigInt(acknowledged.length));
    acknowledged.push(1000);
    assert.deepEqual(
      await consumeAll(),
      acknowledged.map((value) => value % 251),
    );
    // A restart on the same data reads the same log (clean shutdown, then load).
    connection.destroy();
    await broker.stop();
    broker = await Broker.start({
      logger: silentLogger,
      settings: { 'log.dirs': join(directory, 'data'), listeners: 'PLAINTEXT://127.0.0.1:0' },
    });
    client = connection = await TestClient.connect({ port: broker.port });
    assert.deepEqual(
      await consumeAll(),
      acknowledged.map((value) => value % 251),
    );
  });
});
