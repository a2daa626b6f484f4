import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiKey,
  type ApiVersionsResponse,
  ErrorCode,
  type FetchResponse,
  type ListOffsetsResponse,
  type MetadataResponse,
  type ProduceResponse,
  readBatchHeader,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { offsetCommit } from '../group/test-support.js';
import {
  fetchRequest,
  metadataRequest,
  produceRequest,
  startTestBroker,
} from '../testing/requests.js';
import { recordBatch, TestClient } from '../testing/test-client.js';
import { handlers } from './index.js';

type FetchPartition = FetchResponse['responses'][number]['partitions'][number];

function recordsLength(records: unknown): number {
  if (records === null || records === undefined) return 0;
  if (Buffer.isBuffer(records)) return records.length;
  return (records as Buffer[]).reduce((sum, buffer) => sum + buffer.length, 0);
}

function recordsBuffer(records: unknown): Buffer {
  if (Buffer.isBuffer(records)) return records;
  return Buffer.concat((records as Buffer[] | null) ?? []);
}

describe('handlers over real sockets', () => {
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;

  before(async () => {
    ({ broker, stop } = await startTestBroker({ 'num.partitions': 2 }));
    client = await TestClient.connect({ port: broker.port });
  });
  after(async () => {
    client.destroy();
    await stop();
  });

  const produce = (
    topic: string,
    records: Buffer,
    options: { acks?: number; partition?: number; version?: number } = {},
  ) =>
    client.request<ProduceResponse>(
      ApiKey.Produce,
      options.version ?? 9,
      produceRequest({ topic, records, acks: options.acks, partition: options.partition }),
    );
  const partitionOf = (response: ProduceResponse) => response.responses[0]!.partitionResponses[0]!;
  const fetchOne = async (
    topic: string,
    offset: bigint,
    extra: Parameters<typeof fetchRequest>[0] extends infer T ? Partial<T> : never = {},
    version = 12,
  ) => {
    const response = await client.request<FetchResponse>(
      ApiKey.Fetch,
      version,
      fetchRequest({ partitions: [{ topic, offset }], ...extra }),
    );
    assert.equal(response.errorCode, ErrorCode.NONE);
    return response.responses[0]!.partitions[0]! as FetchPartition;
  };

  it('ApiVersions advertises exactly the registered handlers, v0 to v4', async () => {
    for (let version = 0; version <= 4; version++) {
      const response = await client.request<ApiVersionsResponse>(ApiKey.ApiVersions, version, {
        clientSoftwareName: 'gregor-test',
        clientSoftwareVersion: '1.0',
      });
      assert.equal(response.errorCode, ErrorCode.NONE);
      const advertised = response.apiKeys.map((api) => [
        api.apiKey,
        api.minVersion,
        api.maxVersion,
      ]);
      const expected = handlers
        .map((handler) => [handler.apiKey, handler.minVersion, handler.maxVersion])
        .sort((left, right) => left[0]! - right[0]!);
      assert.deepEqual(advertised, expected);
    }
  });

  it('ApiVersions v3+ refuses an invalid client software name (KIP-511)', async () => {
    const response = await client.request<ApiVersionsResponse>(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'bad name!',
      clientSoftwareVersion: '1.0',
    });
    assert.equal(response.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('Metadata auto-creates requested topics with ids, cluster id and controller = self', async () => {
    const response = await client.request<MetadataResponse>(
      ApiKey.Metadata,
      12,
      metadataRequest(['auto-one']),
    );
    assert.equal(response.clusterId, broker.clusterId);
    assert.equal(response.controllerId, broker.nodeId);
    assert.deepEqual(
      response.brokers.map((node) => [node.nodeId, node.host, node.port]),
      [[broker.nodeId, '127.0.0.1', broker.port]],
    );
    const topic = response.topics[0]!;
    assert.equal(topic.errorCode, ErrorCode.NONE);
    assert.equal(topic.name, 'auto-one');
    assert.equal(topic.topicId, broker.services.topics.get('auto-one')!.topicId);
    assert.equal(topic.partitions.length, 2);
    assert.deepEqual(
      topic.partitions.map((partition) => partition.leaderId),
      [1, 1],
    );
  });

  it('Metadata v0, v1 and v4+ rules for listing and auto-creation', async () => {
    const v0 = await client.request<MetadataResponse>(ApiKey.Metadata, 0, { topics: [] });
    assert.ok(
      v0.topics.some((topic) => topic.name === 'auto-one'),
      'v0: empty list = every topic',
    );
    const none = await client.request<MetadataResponse>(ApiKey.Metadata, 1, { topics: [] });
    assert.equal(none.topics.length, 0, 'v1: empty list = no topic');
    const refused = await client.request<MetadataResponse>(
      ApiKey.Metadata,
      9,
      metadataRequest(['never-created'], { allowAutoTopicCreation: false }),
    );
    assert.equal(refused.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(broker.services.topics.get('never-created'), undefined);
    const invalid = await client.request<MetadataResponse>(
      ApiKey.Metadata,
      9,
      metadataRequest(['bad name!']),
    );
    assert.equal(invalid.topics[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const all = await client.request<MetadataResponse>(ApiKey.Metadata, 12, metadataRequest(null));
    assert.ok(all.topics.some((topic) => topic.name === 'auto-one'));
  });

  it('produces and fetches the same bytes, offsets and high watermark', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['round-trip']));
    const batch = recordBatch({ count: 10, valueBytes: 100 });
    const first = partitionOf(await produce('round-trip', batch));
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.baseOffset, 0n);
    const second = partitionOf(await produce('round-trip', recordBatch({ count: 5 }), { acks: 1 }));
    assert.equal(second.baseOffset, 10n);
    const fetched = await fetchOne('round-trip', 0n);
    assert.equal(fetched.errorCode, ErrorCode.NONE);
    assert.equal(fetched.highWatermark, 15n);
    const bytes = recordsBuffer(fetched.records);
    const header = readBatchHeader(bytes, 0);
    assert.equal(header.baseOffset, 0n);
    assert.equal(header.recordsCount, 10);
    // Everything after the base offset, length and leader epoch is what the producer sent.
    assert.deepEqual(bytes.subarray(16, batch.length), batch.subarray(16));
    const fromMiddle = await fetchOne('round-trip', 12n);
    assert.equal(readBatchHeader(recordsBuffer(fromMiddle.records), 0).baseOffset, 10n);
    const atEnd = await fetchOne('round-trip', 15n);
    assert.equal(recordsLength(atEnd.records), 0);
    const beyond = await fetchOne('round-trip', 16n);
    assert.equal(beyond.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('rejects bad produce requests with per-partition errors', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['errors']));
    assert.equal(
      partitionOf(await produce('no-such-topic', recordBatch({ count: 1 }))).errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(
      partitionOf(await produce('errors', recordBatch({ count: 1 }), { partition: 7 })).errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(
      partitionOf(await produce('errors', recordBatch({ count: 1 }), { acks: 2 })).errorCode,
      ErrorCode.INVALID_REQUIRED_ACKS,
    );
    const corrupt = recordBatch({ count: 3 });
    corrupt[corrupt.length - 1] ^= 0xff;
    assert.equal(
      partitionOf(await produce('errors', corrupt)).errorCode,
      ErrorCode.CORRUPT_MESSAGE,
    );
    const legacy = recordBatch({ count: 1 });
    legacy[16] = 1; // magic v1
    const legacyAnswer = partitionOf(await produce('errors', legacy));
    assert.equal(legacyAnswer.errorCode, ErrorCode.INVALID_RECORD);
    assert.match(legacyAnswer.errorMessage ?? '', /magic 1/);
    await broker.services.topics.create({
      name: 'small-messages',
      partitionCount: 1,
      configs: { 'max.message.bytes': '500' },
    });
    assert.equal(
      partitionOf(await produce('small-messages', recordBatch({ count: 1, valueBytes: 1000 })))
        .errorCode,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    assert.equal(
      partitionOf(await produce('small-messages', recordBatch({ count: 1, valueBytes: 10 })))
        .errorCode,
      ErrorCode.NONE,
    );
    await broker.services.topics.create({
      name: 'needs-two-replicas',
      partitionCount: 1,
      configs: { 'min.insync.replicas': '2' },
    });
    assert.equal(
      partitionOf(await produce('needs-two-replicas', recordBatch({ count: 1 }))).errorCode,
      ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    assert.equal(
      partitionOf(await produce('needs-two-replicas', recordBatch({ count: 1 }), { acks: 1 }))
        .errorCode,
      ErrorCode.NONE,
    );
    // An internal topic refuses client batches once it exists (a commit creates __consumer_offsets).
    const [committed] = await broker.services.groups!.commitOffsets(
      offsetCommit('errors-group', [{ topic: 'errors', partition: 0, offset: 0n }]),
    );
    assert.equal(committed!.partitions[0]!.errorCode, ErrorCode.NONE);
    const offsetsTopic = partitionOf(
      await produce('__consumer_offsets', recordBatch({ count: 1 }), { partition: 0 }),
    );
    assert.equal(offsetsTopic.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.match(offsetsTopic.errorMessage ?? '', /internal topic __consumer_offsets/);
  });

  it('checks CreateTime against message.timestamp.before/after.max.ms and stamps LogAppendTime', async () => {
    await broker.services.topics.create({
      name: 'recent-only',
      partitionCount: 1,
      configs: {
        'message.timestamp.before.max.ms': '60000',
        'message.timestamp.after.max.ms': '60000',
      },
    });
    const old = recordBatch({ count: 1, timestamp: BigInt(Date.now() - 3_600_000) });
    const rejected = partitionOf(await produce('recent-only', old));
    assert.equal(rejected.errorCode, ErrorCode.INVALID_TIMESTAMP);
    const fresh = recordBatch({ count: 1, timestamp: BigInt(Date.now()) });
    assert.equal(partitionOf(await produce('recent-only', fresh)).errorCode, ErrorCode.NONE);

    await broker.services.topics.create({
      name: 'append-time',
      partitionCount: 1,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
    const before = BigInt(Date.now());
    const stamped = partitionOf(await produce('append-time', old));
    assert.equal(stamped.errorCode, ErrorCode.NONE);
    assert.ok(stamped.logAppendTimeMs! >= before, 'LogAppendTime returned');
    const fetched = await fetchOne('append-time', 0n);
    const header = readBatchHeader(recordsBuffer(fetched.records), 0);
    assert.equal(header.maxTimestamp, stamped.logAppendTimeMs);
  });

  it('answers acks=0 with nothing, in order with what follows', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['fire-and-forget']));
    client.send(
      ApiKey.Produce,
      9,
      produceRequest({ topic: 'fire-and-forget', records: recordBatch({ count: 2 }), acks: 0 }),
    );
    client.send(
      ApiKey.Produce,
      9,
      produceRequest({ topic: 'fire-and-forget', records: recordBatch({ count: 3 }), acks: 0 }),
    );
    const next = partitionOf(await produce('fire-and-forget', recordBatch({ count: 1 })));
    assert.equal(next.baseOffset, 5n);
    // A failed acks=0 produce has no response to carry the error: the connection closes instead.
    const careless = await TestClient.connect({ port: broker.port });
    careless.send(
      ApiKey.Produce,
      9,
      produceRequest({ topic: 'no-such-topic', records: recordBatch({ count: 1 }), acks: 0 }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      careless.closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('connection not closed')), 10_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(
      partitionOf(await produce('fire-and-forget', recordBatch({ count: 1 }))).baseOffset,
      6n,
    );
  });

  /**
   * Starts `longPoll`, then (50 ms later, from another connection) appends one record to
   * `topic`-`partition`; returns the long poll's answer once it came, checking that the append
   * (not maxWaitMs) ended it.
   */
  const appendDuringLongPoll = async <T>(
    longPoll: () => Promise<T>,
    target: { topic: string; partition: number },
  ): Promise<T> => {
    const waiting = longPoll();
    const producer = await TestClient.connect({ port: broker.port });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await producer.request(
        ApiKey.Produce,
        9,
        produceRequest({ ...target, records: recordBatch({ count: 1 }) }),
      );
      const answered = await waiting;
      assert.ok(Date.now() - started < 15_000, 'woken by the append, not by maxWaitMs');
      return answered;
    } finally {
      producer.destroy();
    }
  };

  it('long-polls until an append arrives', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['long-poll']));
    const fetched = await appendDuringLongPoll(
      () => fetchOne('long-poll', 0n, { maxWaitMs: 20_000, minBytes: 1 }),
      { topic: 'long-poll', partition: 0 },
    );
    assert.ok(recordsLength(fetched.records) > 0);
  });

  it('long-polls on several partitions until one of them gets an append', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['long-poll-two']));
    const fetched = await appendDuringLongPoll(
      () =>
        client.request<FetchResponse>(
          ApiKey.Fetch,
          12,
          fetchRequest({
            partitions: [
              { topic: 'long-poll-two', partition: 0, offset: 0n },
              { topic: 'long-poll-two', partition: 1, offset: 0n },
            ],
            maxWaitMs: 20_000,
            minBytes: 1,
          }),
        ),
      { topic: 'long-poll-two', partition: 1 },
    );
    const withRecords = fetched.responses[0]!.partitions.map((partition) => [
      partition.partitionIndex,
      recordsLength(partition.records) > 0,
    ]);
    assert.deepEqual(withRecords, [
      [0, false],
      [1, true],
    ]);
  });

  it('waits maxWaitMs when minBytes is not reached, and returns what there is', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['min-bytes']));
    await produce('min-bytes', recordBatch({ count: 1 }));
    const started = Date.now();
    const fetched = await fetchOne('min-bytes', 0n, { maxWaitMs: 300, minBytes: 1_000_000 });
    assert.ok(Date.now() - started >= 250);
    assert.ok(recordsLength(fetched.records) > 0);
  });

  it('returns at least one batch above the byte limits (KIP-74) and respects them otherwise', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['limits']));
    for (let index = 0; index < 3; index++)
      await produce('limits', recordBatch({ count: 1, valueBytes: 2000 }));
    const one = await fetchOne('limits', 0n, {
      partitions: [{ topic: 'limits', offset: 0n, partitionMaxBytes: 100 }],
    });
    const header = readBatchHeader(recordsBuffer(one.records), 0);
    assert.equal(recordsLength(one.records), header.batchLength + 12, 'exactly one batch');
    const response = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({
        partitions: [{ topic: 'limits', offset: 0n, partitionMaxBytes: 1_000_000 }],
        maxBytes: 4500,
      }),
    );
    const bytes = recordsLength(response.responses[0]!.partitions[0]!.records);
    assert.ok(bytes > 0 && bytes <= 4500, `response within maxBytes (${bytes})`);
  });

  it('serves fetch sessions (KIP-227): full, then incremental with only changes', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['session-a', 'session-b']));
    await produce('session-a', recordBatch({ count: 1 }));
    const full = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({
        partitions: [
          { topic: 'session-a', offset: 0n },
          { topic: 'session-b', offset: 0n },
        ],
        sessionId: 0,
        sessionEpoch: 0,
      }),
    );
    assert.notEqual(full.sessionId, 0);
    assert.equal(full.responses.length, 2);
    const sessionId = full.sessionId!;
    // Nothing new once the client moved past what it got: the response is empty.
    const quiet = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({
        partitions: [{ topic: 'session-a', offset: 1n }],
        sessionId,
        sessionEpoch: 1,
      }),
    );
    assert.equal(quiet.errorCode, ErrorCode.NONE);
    assert.equal(quiet.responses.length, 0);
    await produce('session-b', recordBatch({ count: 2 }));
    const news = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({ partitions: [], sessionId, sessionEpoch: 2 }),
    );
    assert.deepEqual(
      news.responses.map((topic) => topic.topic),
      ['session-b'],
    );
    const stale = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({ partitions: [], sessionId, sessionEpoch: 2 }),
    );
    assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    const unknown = await client.request<FetchResponse>(
      ApiKey.Fetch,
      12,
      fetchRequest({ partitions: [], sessionId: sessionId + 1, sessionEpoch: 1 }),
    );
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('fetches by topic id from v13 and reports unknown ids', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['by-id']));
    await produce('by-id', recordBatch({ count: 4 }));
    const topicId = broker.services.topics.get('by-id')!.topicId;
    const response = await client.request<FetchResponse>(
      ApiKey.Fetch,
      17,
      fetchRequest({ partitions: [{ topic: '', topicId, offset: 0n }] }),
    );
    assert.equal(response.responses[0]!.topicId, topicId);
    assert.equal(response.responses[0]!.partitions[0]!.highWatermark, 4n);
    const unknown = await client.request<FetchResponse>(
      ApiKey.Fetch,
      17,
      fetchRequest({ partitions: [{ topic: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', offset: 0n }] }),
    );
    assert.equal(unknown.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    // Deleted and re-created under the same name: the old id names nothing any more.
    await broker.services.topics.delete('by-id');
    await broker.services.topics.create({ name: 'by-id', partitionCount: 1 });
    const recreated = await client.request<FetchResponse>(
      ApiKey.Fetch,
      17,
      fetchRequest({ partitions: [{ topic: '', topicId, offset: 0n }] }),
    );
    assert.equal(recreated.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('lists earliest, latest, max-timestamp and by-timestamp offsets', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['list-offsets']));
    const base = BigInt(Date.now() - 10_000);
    await produce('list-offsets', recordBatch({ count: 2, timestamp: base }));
    await produce('list-offsets', recordBatch({ count: 2, timestamp: base + 5000n }));
    await produce('list-offsets', recordBatch({ count: 1, timestamp: base + 1000n }));
    const ask = async (timestamp: bigint, version = 7) => {
      const response = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, version, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          {
            name: 'list-offsets',
            partitions: [
              { partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 },
            ],
          },
        ],
        timeoutMs: 0,
      });
      return response.topics[0]!.partitions[0]!;
    };
    assert.equal((await ask(-2n)).offset, 0n);
    assert.equal((await ask(-1n)).offset, 5n);
    assert.equal((await ask(-1n, 1)).offset, 5n);
    const max = await ask(-3n);
    assert.equal(max.timestamp, base + 5000n);
    assert.ok(max.offset! >= 2n && max.offset! <= 3n);
    assert.equal((await ask(base + 2000n)).offset, 2n);
    assert.equal((await ask(base + 60_000n)).offset, -1n);
    const unknown = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, 5, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'nope',
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    assert.equal(unknown.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('answers every version it advertises (responses encode in each)', async () => {
    await client.request(ApiKey.Metadata, 12, metadataRequest(['every-version']));
    const topicId = broker.services.topics.get('every-version')!.topicId;
    for (let version = 0; version <= 12; version++) {
      const request =
        version === 0
          ? { topics: [{ name: 'every-version' }] }
          : metadataRequest(['every-version']);
      const response = await client.request<MetadataResponse>(ApiKey.Metadata, version, request);
      assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE, `Metadata v${version}`);
    }
    for (let version = 3; version <= 11; version++) {
      const response = await produce('every-version', recordBatch({ count: 1 }), { version });
      assert.equal(partitionOf(response).errorCode, ErrorCode.NONE, `Produce v${version}`);
      assert.equal(partitionOf(response).baseOffset, BigInt(version - 3));
    }
    for (let version = 4; version <= 17; version++) {
      const response = await client.request<FetchResponse>(
        ApiKey.Fetch,
        version,
        fetchRequest({ partitions: [{ topic: 'every-version', topicId, offset: 0n }] }),
      );
      const partition = response.responses[0]!.partitions[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE, `Fetch v${version}`);
      assert.equal(partition.highWatermark, 9n);
      assert.ok(recordsLength(partition.records) > 0);
    }
    for (let version = 1; version <= 9; version++) {
      const response = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, version, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          {
            name: 'every-version',
            partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
          },
        ],
      });
      const partition = response.topics[0]!.partitions[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE, `ListOffsets v${version}`);
      assert.equal(partition.offset, 9n);
    }
  });
});
