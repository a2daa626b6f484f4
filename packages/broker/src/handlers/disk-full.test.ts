/**
 * A full disk (ENOSPC on write) answers KAFKA_STORAGE_ERROR, leaves the log readable and
 * uncorrupted, and produce works again once space returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  ErrorCode,
  type FetchResponse,
  type ProduceResponse,
  readBatchHeader,
} from '@gregor/protocol';
import { FileLogManager, type FileSystem, nodeFileSystem } from '@gregor/storage';
import type { Broker } from '../broker.js';
import { logConfigFor } from '../config/index.js';
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
            clock: { nowMs: () => Date.now() },
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

  // Storage keeps a log that failed a write offline until restart (Kafka marks the log dir
  // offline); appends resume only once storage can re-open the log in place.
  it('accepts appends again once space returns', {
    todo: 'storage: re-open a log after a failed write',
  }, async () => {
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
