/**
 * AddPartitionsToTxn (key 24), v0-v3 — the client versions (v4+ batch several transactions and
 * are sent by brokers for KIP-890 verification, which a single node does in process). The
 * partitions join the producer's ongoing transaction durably before the answer.
 */
import {
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  ApiKey,
} from '@gregor/protocol';
import { partitionKey } from '../txn/transaction-metadata.js';
import { fencingErrorFor, transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

type TopicResult = NonNullable<AddPartitionsToTxnResponse['resultsByTopicV3AndBelow']>[number];

function results(
  request: AddPartitionsToTxnRequest,
  errorFor: (topic: string, partition: number) => number,
): AddPartitionsToTxnResponse {
  const topics: TopicResult[] = (request.v3AndBelowTopics ?? []).map((topic) => ({
    name: topic.name,
    resultsByPartition: topic.partitions.map((partition) => ({
      partitionIndex: partition,
      partitionErrorCode: errorFor(topic.name, partition),
    })),
  }));
  return { throttleTimeMs: 0, resultsByTopicV3AndBelow: topics };
}

export const addPartitionsToTxnHandler: ApiHandler<
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse
> = {
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const lookup = transactionCoordinator(context);
    if (!lookup.ok) return results(request, () => lookup.errorCode);
    const partitions = (request.v3AndBelowTopics ?? []).flatMap((topic) =>
      topic.partitions.map((partition) => ({ topic: topic.name, partition })),
    );
    const result = await lookup.coordinator.addPartitions({
      transactionalId: request.v3AndBelowTransactionalId ?? '',
      producerId: request.v3AndBelowProducerId ?? -1n,
      producerEpoch: request.v3AndBelowProducerEpoch ?? -1,
      partitions,
    });
    return results(request, (topic, partition) =>
      fencingErrorFor(
        result.partitionErrors.get(partitionKey(topic, partition)) ?? result.errorCode,
        context.apiVersion,
        2,
      ),
    );
  },
  errorResponse(request, errorCode) {
    return results(request, () => errorCode);
  },
};
