/**
 * Transaction steps shared by broker tests: a transactional producer's InitProducerId and its
 * AddPartitionsToTxn of one partition, each checked to succeed.
 */
import assert from 'node:assert/strict';
import {
  type AddPartitionsToTxnResponse,
  ApiKey,
  ErrorCode,
  type InitProducerIdResponse,
} from '@gregor/protocol';
import type { TestClient } from './test-client.js';

/** InitProducerId for `transactionalId`, then adds `topic`-`partition` to its transaction. */
export async function beginTransaction(
  client: TestClient,
  options: { transactionalId: string; topic: string; partition?: number },
): Promise<{ producerId: bigint; producerEpoch: number }> {
  const { transactionalId } = options;
  const init = await client.request<InitProducerIdResponse>(ApiKey.InitProducerId, 4, {
    transactionalId,
    transactionTimeoutMs: 60_000,
  });
  assert.equal(init.errorCode, ErrorCode.NONE);
  const { producerId, producerEpoch } = init;
  const add = await client.request<AddPartitionsToTxnResponse>(ApiKey.AddPartitionsToTxn, 3, {
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: producerId,
    v3AndBelowProducerEpoch: producerEpoch,
    v3AndBelowTopics: [{ name: options.topic, partitions: [options.partition ?? 0] }],
  });
  assert.equal(
    add.resultsByTopicV3AndBelow?.[0]?.resultsByPartition[0]?.partitionErrorCode,
    ErrorCode.NONE,
  );
  return { producerId, producerEpoch };
}
