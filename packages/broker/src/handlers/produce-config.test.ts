/**
 * Produce applies each topic's effective configuration (its overrides over the broker synonyms),
 * and follows dynamic broker changes without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultCompressionCodecs } from '@gregor/compression';
import {
  ApiKey,
  batchAttributes,
  CompressionType,
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type IncrementalAlterConfigsResponse,
  type ProduceResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { produceRequest, startTestBroker } from '../testing/requests.js';
import { recordBatch, TestClient } from '../testing/test-client.js';

const brokerResource = 4;
const setOperation = 0;
const deleteOperation = 1;
const hourMs = 3_600_000;

/** Produce (v9 unless told) to partition 0; the partition's response. */
async function producePartition(
  client: TestClient,
  options: { topic: string; records: Buffer; acks?: number; version?: number },
) {
  const response = await client.request<ProduceResponse>(
    ApiKey.Produce,
    options.version ?? 9,
    produceRequest(options),
  );
  return response.responses[0]!.partitionResponses[0]!;
}

describe('Produce with topic overrides that differ from the broker defaults', () => {
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;

  before(async () => {
    ({ broker, stop } = await startTestBroker({
      'message.max.bytes': 1000,
      'log.message.timestamp.before.max.ms': 60_000,
      'min.insync.replicas': 2,
    }));
    client = await TestClient.connect({ port: broker.port });
    const topics = broker.services.topics;
    await topics.create({ name: 'plain', partitionCount: 1, configs: {} });
    await topics.create({
      name: 'relaxed',
      partitionCount: 1,
      configs: {
        'max.message.bytes': '100000',
        'message.timestamp.before.max.ms': String(24 * hourMs),
        'min.insync.replicas': '1',
      },
    });
    await topics.create({
      name: 'append-time',
      partitionCount: 1,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
    // Kafka's LogConfig: before.max.ms falls back to difference.max.ms only while it is "no
    // limit"; here it is the broker's 60 s, so the topic's one-day difference does not loosen it.
    await topics.create({
      name: 'difference-only',
      partitionCount: 1,
      configs: { 'message.timestamp.difference.max.ms': String(24 * hourMs) },
    });
  });
  after(async () => {
    client.destroy();
    await stop();
  });

  const produce = (topic: string, records: Buffer, acks = -1) =>
    producePartition(client, { topic, records, acks });
  const oldBatch = (valueBytes = 10) =>
    recordBatch({ count: 1, valueBytes, timestamp: BigInt(Date.now() - hourMs) });
  const freshBatch = (valueBytes = 10) =>
    recordBatch({ count: 1, valueBytes, timestamp: BigInt(Date.now()) });
  const alterBrokerDefaults = async (
    configs: { name: string; configOperation: number; value: string | null }[],
  ) => {
    const response = await client.request<IncrementalAlterConfigsResponse>(
      ApiKey.IncrementalAlterConfigs,
      1,
      {
        resources: [{ resourceType: brokerResource, resourceName: '', configs }],
        validateOnly: false,
      },
    );
    assert.equal(response.responses[0]!.errorCode, ErrorCode.NONE);
  };

  it('a topic without overrides gets the broker defaults', async () => {
    assert.equal(
      (await produce('plain', freshBatch(2000), 1)).errorCode,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    assert.equal((await produce('plain', freshBatch())).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.equal((await produce('plain', oldBatch(), 1)).errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.equal((await produce('plain', freshBatch(), 1)).errorCode, ErrorCode.NONE);
  });

  it('topic overrides win over the broker defaults', async () => {
    const relaxed = await produce('relaxed', oldBatch(2000));
    assert.equal(relaxed.errorCode, ErrorCode.NONE);
    assert.equal(relaxed.logAppendTimeMs, -1n);
    const stamped = await produce('append-time', oldBatch(), 1);
    assert.equal(stamped.errorCode, ErrorCode.NONE);
    assert.ok((stamped.logAppendTimeMs ?? -1n) > BigInt(Date.now() - 60_000));
    const tenMinutesOld = recordBatch({ count: 1, timestamp: BigInt(Date.now() - 600_000) });
    assert.equal(
      (await produce('difference-only', tenMinutesOld, 1)).errorCode,
      ErrorCode.INVALID_TIMESTAMP,
    );
  });

  it('dynamic broker changes reach topics already produced to', async () => {
    await alterBrokerDefaults([
      { name: 'message.max.bytes', configOperation: setOperation, value: '100000' },
      { name: 'min.insync.replicas', configOperation: setOperation, value: '1' },
      {
        name: 'log.message.timestamp.before.max.ms',
        configOperation: setOperation,
        value: '3600000000',
      },
    ]);
    assert.equal((await produce('plain', oldBatch(2000))).errorCode, ErrorCode.NONE);
    await alterBrokerDefaults([
      { name: 'min.insync.replicas', configOperation: setOperation, value: '3' },
      {
        name: 'log.message.timestamp.before.max.ms',
        configOperation: deleteOperation,
        value: null,
      },
    ]);
    assert.equal((await produce('plain', freshBatch())).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    // Back to the static 60 s; the topic's own override still wins on 'relaxed'.
    assert.equal((await produce('plain', oldBatch(), 1)).errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.equal((await produce('relaxed', oldBatch())).errorCode, ErrorCode.NONE);
  });
});

describe('Produce: one batch per partition, keys on compacted topics (Kafka: INVALID_RECORD)', () => {
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;

  before(async () => {
    ({ broker, stop } = await startTestBroker({ 'auto.create.topics.enable': false }));
    client = await TestClient.connect({ port: broker.port });
    const topics = broker.services.topics;
    await topics.create({
      name: 'compacted',
      partitionCount: 1,
      configs: { 'cleanup.policy': 'compact' },
    });
    await topics.create({
      name: 'compact-delete',
      partitionCount: 1,
      configs: { 'cleanup.policy': 'compact,delete' },
    });
    await topics.create({ name: 'deleting', partitionCount: 1, configs: {} });
  });
  after(async () => {
    client.destroy();
    await stop();
  });

  const produce = (topic: string, records: Buffer) => producePartition(client, { topic, records });
  const batch = (keys: (string | null)[], compression: CompressionType = CompressionType.none) =>
    encodeRecordBatch({
      records: keys.map((key) => ({
        key: key === null ? null : Buffer.from(key),
        value: Buffer.from('value'),
      })),
      compression,
      codecs: defaultCompressionCodecs,
    });

  it('refuses two batches for one partition and an empty records field, and appends nothing', async () => {
    const two = Buffer.concat([batch(['a']), batch(['b'])]);
    const refused = await produce('deleting', two);
    assert.equal(refused.errorCode, ErrorCode.INVALID_RECORD);
    assert.match(refused.errorMessage ?? '', /exactly one record batch/);
    assert.equal((await produce('deleting', Buffer.alloc(0))).errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(broker.services.logs.getLog('deleting', 0)?.logEndOffset, 0n);
    assert.equal((await produce('deleting', batch(['a', 'b']))).errorCode, ErrorCode.NONE);
  });

  it('refuses zstd before Produce v7 (KIP-110), accepts it from v7', async () => {
    const zstd = batch(['a'], CompressionType.zstd);
    const at = async (version: number, records = zstd) =>
      (await producePartition(client, { topic: 'deleting', records, version })).errorCode;
    assert.equal(await at(6), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    assert.equal(await at(7), ErrorCode.NONE);
    assert.equal(await at(3, batch(['b'], CompressionType.lz4)), ErrorCode.NONE);
  });

  it('refuses records without a key on compacted topics only, compressed or not', async () => {
    for (const topic of ['compacted', 'compact-delete']) {
      for (const compression of [CompressionType.none, CompressionType.zstd, CompressionType.lz4]) {
        const refused = await produce(topic, batch(['a', null, 'c'], compression));
        assert.equal(refused.errorCode, ErrorCode.INVALID_RECORD, `${topic} ${compression}`);
        assert.match(refused.errorMessage ?? '', /record 1 has no key/);
        const keyed = await produce(topic, batch(['a', 'b', 'c'], compression));
        assert.equal(keyed.errorCode, ErrorCode.NONE, `${topic} ${compression}`);
      }
    }
    assert.equal(broker.services.logs.getLog('compacted', 0)?.logEndOffset, 9n);
    assert.equal((await produce('deleting', batch([null, null]))).errorCode, ErrorCode.NONE);
  });
});

describe("Produce stores batches in the topic's compression.type (Kafka's LogValidator recompression)", () => {
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;

  before(async () => {
    ({ broker, stop } = await startTestBroker({ 'auto.create.topics.enable': false }));
    client = await TestClient.connect({ port: broker.port });
    const topics = broker.services.topics;
    for (const compression of ['gzip', 'zstd', 'uncompressed', 'producer']) {
      await topics.create({
        name: `to-${compression}`,
        partitionCount: 1,
        configs: { 'compression.type': compression },
      });
    }
  });
  after(async () => {
    client.destroy();
    await stop();
  });

  const keyedBatch = (prefix: string, count: number, compression: CompressionType) =>
    encodeRecordBatch({
      records: Array.from({ length: count }, (_, index) => ({
        key: Buffer.from(`${prefix}-key-${index}`),
        value: Buffer.from(`${prefix}-value-${index}-${'x'.repeat(index * 10)}`),
        headers: [{ key: 'index', value: Buffer.from(String(index)) }],
        timestamp: 1_700_000_000_000n + BigInt(index),
      })),
      compression,
      codecs: defaultCompressionCodecs,
    });

  /** Every stored batch of the topic's partition 0: its codec and its records. */
  async function stored(topic: string) {
    const log = broker.services.logs.getLog(topic, 0)!;
    const { buffers } = await log.read(0n, { maxBytes: 1 << 20 });
    return buffers.flatMap((buffer) =>
      decodeRecordBatches(buffer, defaultCompressionCodecs).map(({ header, records }) => ({
        compression: header.attributes & batchAttributes.compressionMask,
        baseOffset: header.baseOffset,
        records: records.map((record) => ({
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key?.toString(),
          value: record.value?.toString(),
          headers: record.headers.map((header) => `${header.key}=${header.value?.toString()}`),
        })),
      })),
    );
  }

  const expectedRecords = (prefix: string, count: number, firstOffset = 0) =>
    Array.from({ length: count }, (_, index) => ({
      offset: BigInt(firstOffset + index),
      timestamp: 1_700_000_000_000n + BigInt(index),
      key: `${prefix}-key-${index}`,
      value: `${prefix}-value-${index}-${'x'.repeat(index * 10)}`,
      headers: [`index=${index}`],
    }));

  it('recompresses into gzip or zstd, decompresses into uncompressed, keeps records, offsets and headers', async () => {
    const cases = [
      { topic: 'to-gzip', sent: CompressionType.none, kept: CompressionType.gzip },
      { topic: 'to-zstd', sent: CompressionType.lz4, kept: CompressionType.zstd },
      { topic: 'to-uncompressed', sent: CompressionType.snappy, kept: CompressionType.none },
      { topic: 'to-producer', sent: CompressionType.lz4, kept: CompressionType.lz4 },
    ];
    for (const { topic, sent, kept } of cases) {
      const response = await producePartition(client, {
        topic,
        records: keyedBatch(topic, 5, sent),
      });
      assert.equal(response.errorCode, ErrorCode.NONE, topic);
      assert.equal(response.baseOffset, 0n, topic);
      assert.deepEqual(
        await stored(topic),
        [{ compression: kept, baseOffset: 0n, records: expectedRecords(topic, 5) }],
        topic,
      );
    }
  });

  it('refuses Produce below v7 to a zstd topic (KIP-110), whatever the batch codec', async () => {
    const old = await producePartition(client, {
      topic: 'to-zstd',
      records: keyedBatch('old', 1, CompressionType.none),
      version: 6,
    });
    assert.equal(old.errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  it('appends pipelined produces in request order while they are recompressed', async () => {
    const log = broker.services.logs.getLog('to-gzip', 0)!;
    const start = Number(log.logEndOffset);
    // Batch sizes vary so that later (smaller) ones compress faster than earlier ones.
    const sizes = [40, 1, 25, 2, 30, 1, 10, 3];
    const pending = sizes.map((count, index) => {
      const correlationId = client.send(
        ApiKey.Produce,
        9,
        produceRequest({ topic: 'to-gzip', records: keyedBatch(`p${index}`, count, 0) }),
      );
      return client.expectResponse<ProduceResponse>(ApiKey.Produce, 9, correlationId);
    });
    const responses = await Promise.all(pending);
    let expectedBase = start;
    for (const [index, response] of responses.entries()) {
      const partition = response.responses[0]!.partitionResponses[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(
        partition.baseOffset,
        BigInt(expectedBase),
        `request ${index} appended in order`,
      );
      expectedBase += sizes[index]!;
    }
    const batches = (await stored('to-gzip')).slice(1);
    assert.deepEqual(
      batches.map((batch) => [batch.compression, batch.records[0]?.key]),
      sizes.map((_, index) => [CompressionType.gzip, `p${index}-key-0`]),
    );
  });
});
