/**
 * EndTxn (key 26), v0-v5: commits or aborts the producer's transaction; answered once the
 * markers are written to every partition of the transaction. v5 (KIP-890 part 2) bumps the epoch
 * at every transaction end and returns the new producer id/epoch.
 */
import { ApiKey, type EndTxnRequest, type EndTxnResponse } from '@gregor/protocol';
import { fencingErrorFor, transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

const firstEpochBumpingVersion = 5;

export const endTxnHandler: ApiHandler<EndTxnRequest, EndTxnResponse> = {
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const lookup = transactionCoordinator(context);
    if (!lookup.ok) return { throttleTimeMs: 0, errorCode: lookup.errorCode };
    const result = await lookup.coordinator.endTransaction({
      transactionalId: request.transactionalId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      commit: request.committed,
      bumpEpoch: context.apiVersion >= firstEpochBumpingVersion,
    });
    const errorCode = fencingErrorFor(result.errorCode, context.apiVersion, 2);
    if (context.apiVersion < firstEpochBumpingVersion) return { throttleTimeMs: 0, errorCode };
    return {
      throttleTimeMs: 0,
      errorCode,
      producerId: result.producerId,
      producerEpoch: result.producerEpoch,
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
  },
};
