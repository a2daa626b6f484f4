/**
 * TxnOffsetCommit (key 28), v0-v4: offsets committed inside a transaction (KIP-98). The transaction
 * coordinator checks the producer and that AddOffsetsToTxn put the group's partition in the
 * transaction (KIP-890 verification); the group coordinator fences stale members and generations
 * (v3+, KIP-447) and keeps the offsets pending until the transaction's marker.
 */
import {
  ApiKey,
  ErrorCode,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import { fencingErrorFor, transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

function allWith(request: TxnOffsetCommitRequest, errorCode: number): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => ({
        partitionIndex: partition.partitionIndex,
        errorCode,
      })),
    })),
  };
}

export const txnOffsetCommitHandler: ApiHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const transactions = transactionCoordinator(context);
    if (!transactions.ok) return allWith(request, transactions.errorCode);
    const groups = groupCoordinator(context);
    if (!groups.ok) return allWith(request, groups.errorCode);
    const verified = transactions.coordinator.verifyOffsetCommit({
      transactionalId: request.transactionalId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      groupId: request.groupId,
    });
    if (verified !== ErrorCode.NONE) {
      // PRODUCER_FENCED appears in TxnOffsetCommit only as INVALID_PRODUCER_EPOCH.
      return allWith(request, fencingErrorFor(verified, context.apiVersion, Number.MAX_VALUE));
    }
    const stillOpen = () =>
      transactions.coordinator.verifyOffsetCommit({
        transactionalId: request.transactionalId,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        groupId: request.groupId,
      }) === ErrorCode.NONE;
    const topics = await groups.coordinator.commitTransactionalOffsets({
      stillOpen,
      apiVersion: context.apiVersion,
      groupId: request.groupId,
      generationIdOrMemberEpoch: request.generationId ?? -1,
      memberId: request.memberId ?? '',
      groupInstanceId: request.groupInstanceId ?? null,
      retentionTimeMs: -1n,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          committedOffset: partition.committedOffset,
          committedLeaderEpoch: partition.committedLeaderEpoch ?? -1,
          commitTimestampMs: -1n,
          committedMetadata: partition.committedMetadata,
        })),
      })),
    });
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return allWith(request, errorCode);
  },
};
