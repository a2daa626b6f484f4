/**
 * WriteTxnMarkers over the wire: an admin's abort of a hanging transaction (what the Admin
 * client's abortTransaction sends) writes an abort marker through the coordinator's marker path —
 * the LSO moves past it, the aborted index has the range, DescribeProducers shows no open
 * transaction — while a stale producer epoch, a stale coordinator epoch and an unknown partition
 * are refused per partition, and the transaction coordinator's own state is left alone.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  ApiKey,
  type ApiVersionsResponse,
  type DescribeProducersResponse,
  type DescribeTransactionsResponse,
  decodeControlRecord,
  decodeRecordBatches,
  type EndTxnResponse,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type ProduceResponse,
  type WriteTxnMarkersResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { fetchRequest, produceRequest, startTestBroker } from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';
import { beginTransaction } from '../testing/transactions.js';

let broker: Broker;
let client: TestClient;
let stopBroker: () => Promise<void>;
const topic = 'hanging';
const transactionalId = 'hanging-app';
const readCommitted = 1;

before(async () => {
  const started = await startTestBroker({ 'transaction.state.log.num.partitions': 1 });
  broker = started.broker;
  stopBroker = started.stop;
  await broker.services.topics.create({ name: topic, partitionCount: 1 });
  client = await TestClient.connect({ port: broker.port, clientId: 'markers-test' });
});

after(async () => {
  await client.close();
  await stopBroker();
});

async function fetchPartition(isolationLevel: number) {
  const response = await client.request<FetchResponse>(
    ApiKey.Fetch,
    11,
    fetchRequest({ partitions: [{ topic, offset: 0n }], isolationLevel }),
  );
  return response.responses[0]!.partitions[0]!;
}

function writeMarkers(
  marker: { producerId: bigint; producerEpoch: number; coordinatorEpoch: number },
  partitionIndexes: number[],
) {
  return client.request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, 1, {
    markers: [
      {
        ...marker,
        transactionResult: false,
        topics: [{ name: topic, partitionIndexes }],
      },
    ],
  });
}

it('ApiVersions advertises WriteTxnMarkers v1', async () => {
  const versions = await client.request<ApiVersionsResponse>(ApiKey.ApiVersions, 3, {
    clientSoftwareName: 'test',
    clientSoftwareVersion: '1',
  });
  const entry = versions.apiKeys.find((api) => api.apiKey === ApiKey.WriteTxnMarkers);
  assert.deepEqual([entry?.minVersion, entry?.maxVersion], [1, 1]);
});

it('an abort marker ends a hanging transaction; stale epochs and unknown partitions are refused', async () => {
  const { producerId, producerEpoch } = await beginTransaction(client, { transactionalId, topic });
  const produced = await client.request<ProduceResponse>(ApiKey.Produce, 9, {
    ...produceRequest({
      topic,
      records: encodeRecordBatch({
        records: ['h1', 'h2'].map((value) => ({ key: null, value: Buffer.from(value) })),
        producerId,
        producerEpoch,
        baseSequence: 0,
        transactional: true,
      }),
    }),
    transactionalId,
  });
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
  const hanging = await fetchPartition(readCommitted);
  assert.deepEqual([hanging.highWatermark, hanging.lastStableOffset], [2n, 0n]);

  // A marker older than the producer's epoch, and one for a partition that does not exist.
  const stale = await writeMarkers(
    { producerId, producerEpoch: producerEpoch - 1, coordinatorEpoch: 0 },
    [0, 7],
  );
  assert.deepEqual(stale.markers, [
    {
      producerId,
      topics: [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH },
            { partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
      ],
    },
  ]);
  assert.equal((await fetchPartition(readCommitted)).lastStableOffset, 0n, 'nothing written');

  // What Admin.abortTransaction sends: the described epoch, coordinator epoch 0 (none described).
  const aborted = await writeMarkers({ producerId, producerEpoch, coordinatorEpoch: 0 }, [0]);
  assert.deepEqual(aborted.markers[0]!.topics[0]!.partitions, [
    { partitionIndex: 0, errorCode: ErrorCode.NONE },
  ]);
  const afterAbort = await fetchPartition(readCommitted);
  assert.deepEqual([afterAbort.highWatermark, afterAbort.lastStableOffset], [3n, 3n]);
  assert.deepEqual(afterAbort.abortedTransactions, [{ producerId, firstOffset: 0n }]);
  const all = await fetchPartition(0);
  const records = all.records!;
  const batches = decodeRecordBatches(Buffer.isBuffer(records) ? records : Buffer.concat(records));
  assert.deepEqual(
    batches.map((entry) => [
      entry.header.baseOffset,
      entry.header.producerId,
      entry.records.length,
    ]),
    [
      [0n, producerId, 2],
      [2n, producerId, 1],
    ],
  );
  const marker = batches[1]!.records[0]!;
  assert.deepEqual(decodeControlRecord(marker.key, marker.value), {
    type: 'abort',
    typeId: 0,
    coordinatorEpoch: 0,
  });
  const producers = await client.request<DescribeProducersResponse>(ApiKey.DescribeProducers, 0, {
    topics: [{ name: topic, partitionIndexes: [0] }],
  });
  const described = producers.topics[0]!.partitions[0]!.activeProducers[0]!;
  assert.deepEqual(
    [described.producerId, described.coordinatorEpoch, described.currentTxnStartOffset],
    [producerId, 0, -1n],
  );
  // A marker from an older coordinator than the last marker's is fenced.
  const olderCoordinator = await writeMarkers(
    { producerId, producerEpoch, coordinatorEpoch: -1 },
    [0],
  );
  assert.equal(
    olderCoordinator.markers[0]!.topics[0]!.partitions[0]!.errorCode,
    ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  );

  // As in Kafka, the coordinator is left alone: it still sees its transaction as Ongoing, and the
  // producer's own abort then ends it (one more marker, no second aborted range).
  const transactions = await client.request<DescribeTransactionsResponse>(
    ApiKey.DescribeTransactions,
    0,
    { transactionalIds: [transactionalId] },
  );
  assert.equal(transactions.transactionStates[0]!.transactionState, 'Ongoing');
  const ended = await client.request<EndTxnResponse>(ApiKey.EndTxn, 3, {
    transactionalId,
    producerId,
    producerEpoch,
    committed: false,
  });
  assert.equal(ended.errorCode, ErrorCode.NONE);
  const final = await fetchPartition(readCommitted);
  assert.deepEqual([final.highWatermark, final.lastStableOffset], [4n, 4n]);
  assert.deepEqual(final.abortedTransactions, [{ producerId, firstOffset: 0n }]);
});
