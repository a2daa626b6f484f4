/**
 * The transaction APIs over real sockets (helper G): InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, TxnOffsetCommit, EndTxn, DescribeTransactions, ListTransactions,
 * DescribeProducers, and the read side (read_committed Fetch up to the LSO with aborted ranges,
 * ListOffsets, requireStable OffsetFetch), plus a duplicate produce answered with its first offset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AddOffsetsToTxnResponse,
  ApiKey,
  type DescribeProducersResponse,
  type DescribeTransactionsResponse,
  type EndTxnResponse,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type InitProducerIdResponse,
  type ListOffsetsResponse,
  type ListTransactionsResponse,
  type OffsetFetchResponse,
  type ProduceResponse,
  type TxnOffsetCommitResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { fetchRequest, produceRequest, startTestBroker } from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';
import { beginTransaction } from '../testing/transactions.js';

let broker: Broker;
let client: TestClient;
let stopBroker: () => Promise<void>;
const topic = 'payments';
const readCommitted = 1;

before(async () => {
  const started = await startTestBroker({
    'transaction.state.log.num.partitions': 2,
    'offsets.topic.num.partitions': 2,
  });
  broker = started.broker;
  stopBroker = started.stop;
  await broker.services.topics.create({ name: topic, partitionCount: 1 });
  client = await TestClient.connect({ port: broker.port, clientId: 'txn-test' });
});

after(async () => {
  await client.close();
  await stopBroker();
});

function batch(options: {
  producerId: bigint;
  producerEpoch: number;
  sequence: number;
  values: string[];
  transactional?: boolean;
}): Buffer {
  return encodeRecordBatch({
    records: options.values.map((value) => ({ key: null, value: Buffer.from(value) })),
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: options.sequence,
    transactional: options.transactional ?? false,
  });
}

async function produce(records: Buffer, transactionalId: string | null = null) {
  const response = await client.request<ProduceResponse>(ApiKey.Produce, 9, {
    ...produceRequest({ topic, records }),
    transactionalId,
  });
  return response.responses[0]!.partitionResponses[0]!;
}

async function fetchCommitted(offset: bigint) {
  const response = await client.request<FetchResponse>(
    ApiKey.Fetch,
    11,
    fetchRequest({ partitions: [{ topic, offset }], isolationLevel: readCommitted }),
  );
  return response.responses[0]!.partitions[0]!;
}

describe('transaction APIs over the wire', () => {
  it('an idempotent retry is answered with the original offset and written once', async () => {
    const init = await client.request<InitProducerIdResponse>(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: -1,
    });
    assert.equal(init.errorCode, ErrorCode.NONE);
    const records = batch({
      producerId: init.producerId,
      producerEpoch: 0,
      sequence: 0,
      values: ['a', 'b'],
    });
    const first = await produce(records);
    const retried = await produce(
      batch({ producerId: init.producerId, producerEpoch: 0, sequence: 0, values: ['a', 'b'] }),
    );
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.deepEqual([retried.errorCode, retried.baseOffset], [ErrorCode.NONE, first.baseOffset]);
    const gap = await produce(
      batch({ producerId: init.producerId, producerEpoch: 0, sequence: 5, values: ['c'] }),
    );
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(broker.services.logs.getLog(topic, 0)!.logEndOffset, 2n);
  });

  it('a transaction: commit-visible offsets, aborted ranges, LSO, admin views, stable offsets', async () => {
    const transactionalId = 'payments-app';
    const { producerId, producerEpoch } = await beginTransaction(client, {
      transactionalId,
      topic,
    });
    const written = await produce(
      batch({ producerId, producerEpoch, sequence: 0, values: ['t1', 't2'], transactional: true }),
      transactionalId,
    );
    assert.equal(written.errorCode, ErrorCode.NONE);
    // The open transaction holds the LSO at its first offset.
    const open = await fetchCommitted(0n);
    assert.equal(open.highWatermark, 4n);
    assert.equal(open.lastStableOffset, 2n);
    const listOffsets = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, 5, {
      replicaId: -1,
      isolationLevel: readCommitted,
      topics: [
        {
          name: topic,
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    assert.equal(listOffsets.topics[0]!.partitions[0]!.offset, 2n);

    const offsets = await client.request<AddOffsetsToTxnResponse>(ApiKey.AddOffsetsToTxn, 3, {
      transactionalId,
      producerId,
      producerEpoch,
      groupId: 'payments-group',
    });
    assert.equal(offsets.errorCode, ErrorCode.NONE);
    const commitOffsets = await client.request<TxnOffsetCommitResponse>(ApiKey.TxnOffsetCommit, 3, {
      transactionalId,
      groupId: 'payments-group',
      producerId,
      producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 42n,
              committedLeaderEpoch: -1,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(commitOffsets.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    // KIP-447: a member the group does not know (a zombie from an old generation) is fenced.
    const zombieCommit = await client.request<TxnOffsetCommitResponse>(ApiKey.TxnOffsetCommit, 3, {
      transactionalId,
      groupId: 'payments-group',
      producerId,
      producerEpoch,
      generationId: 3,
      memberId: 'departed-member',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 7n,
              committedLeaderEpoch: -1,
              committedMetadata: null,
            },
          ],
        },
      ],
    });
    assert.equal(zombieCommit.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const unstable = await client.request<OffsetFetchResponse>(ApiKey.OffsetFetch, 7, {
      groupId: 'payments-group',
      topics: [{ name: topic, partitionIndexes: [0] }],
      requireStable: true,
    });
    assert.equal(unstable.topics![0]!.partitions[0]!.errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);

    const described = await client.request<DescribeTransactionsResponse>(
      ApiKey.DescribeTransactions,
      0,
      {
        transactionalIds: [transactionalId, 'nobody'],
      },
    );
    assert.equal(described.transactionStates[0]!.transactionState, 'Ongoing');
    assert.deepEqual(described.transactionStates[0]!.topics.map((entry) => entry.topic).sort(), [
      '__consumer_offsets',
      topic,
    ]);
    assert.equal(described.transactionStates[1]!.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const listed = await client.request<ListTransactionsResponse>(ApiKey.ListTransactions, 1, {
      stateFilters: ['Ongoing', 'Bogus'],
      producerIdFilters: [],
      durationFilter: -1n,
    });
    assert.deepEqual(listed.unknownStateFilters, ['Bogus']);
    assert.deepEqual(
      listed.transactionStates.map((state) => state.transactionalId),
      [transactionalId],
    );
    const producers = await client.request<DescribeProducersResponse>(ApiKey.DescribeProducers, 0, {
      topics: [{ name: topic, partitionIndexes: [0] }],
    });
    const active = producers.topics[0]!.partitions[0]!.activeProducers;
    const ours = active.find((entry) => entry.producerId === producerId);
    assert.equal(ours?.currentTxnStartOffset, 2n);

    const aborted = await client.request<EndTxnResponse>(ApiKey.EndTxn, 3, {
      transactionalId,
      producerId,
      producerEpoch,
      committed: false,
    });
    assert.equal(aborted.errorCode, ErrorCode.NONE);
    const afterAbort = await fetchCommitted(0n);
    assert.equal(afterAbort.lastStableOffset, afterAbort.highWatermark);
    assert.deepEqual(
      afterAbort.abortedTransactions?.map((entry) => [entry.producerId, entry.firstOffset]),
      [[producerId, 2n]],
    );
    const stable = await client.request<OffsetFetchResponse>(ApiKey.OffsetFetch, 7, {
      groupId: 'payments-group',
      topics: [{ name: topic, partitionIndexes: [0] }],
      requireStable: true,
    });
    assert.deepEqual(
      [
        stable.topics![0]!.partitions[0]!.errorCode,
        stable.topics![0]!.partitions[0]!.committedOffset,
      ],
      [ErrorCode.NONE, -1n],
      'aborted offsets are dropped',
    );
    // Old versions get INVALID_PRODUCER_EPOCH where new ones get PRODUCER_FENCED (KIP-588).
    const stale = {
      transactionalId,
      producerId,
      producerEpoch: producerEpoch - 1,
      committed: true,
    };
    const fencedOld = await client.request<EndTxnResponse>(ApiKey.EndTxn, 1, stale);
    const fencedNew = await client.request<EndTxnResponse>(ApiKey.EndTxn, 3, stale);
    assert.equal(fencedOld.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(fencedNew.errorCode, ErrorCode.PRODUCER_FENCED);
  });
});
