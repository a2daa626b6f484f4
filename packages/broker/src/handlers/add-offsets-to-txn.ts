/**
 * AddOffsetsToTxn (key 25), v0-v4: adds the group's `__consumer_offsets` partition to the
 * producer's transaction, so the TxnOffsetCommit that follows becomes visible only when the
 * transaction commits (KIP-98, KIP-447).
 */
import {
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  ApiKey,
} from '@gregor/protocol';
import { fencingErrorFor, transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

export const addOffsetsToTxnHandler: ApiHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const lookup = transactionCoordinator(context);
    if (!lookup.ok) return { throttleTimeMs: 0, errorCode: lookup.errorCode };
    const errorCode = await lookup.coordinator.addOffsets({
      transactionalId: request.transactionalId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      groupId: request.groupId,
    });
    return { throttleTimeMs: 0, errorCode: fencingErrorFor(errorCode, context.apiVersion, 2) };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};
