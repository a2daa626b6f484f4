/**
 * InitProducerId (key 22), v0-v5: a producer id for an idempotent producer (KIP-98), or the
 * current producer id with a bumped epoch for a transactional id, fencing earlier instances
 * (v3+ lets the client resume with its id and epoch, KIP-360; v4+ PRODUCER_FENCED, KIP-588).
 */
import { ApiKey, type InitProducerIdRequest, type InitProducerIdResponse } from '@gregor/protocol';
import { fencingErrorFor, transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
}

export const initProducerIdHandler: ApiHandler<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const lookup = transactionCoordinator(context);
    if (!lookup.ok) return failed(lookup.errorCode);
    const result = await lookup.coordinator.initProducerId({
      transactionalId: request.transactionalId,
      transactionTimeoutMs: request.transactionTimeoutMs,
      producerId: request.producerId ?? -1n,
      producerEpoch: request.producerEpoch ?? -1,
    });
    return {
      throttleTimeMs: 0,
      errorCode: fencingErrorFor(result.errorCode, context.apiVersion, 4),
      producerId: result.producerId,
      producerEpoch: result.producerEpoch,
    };
  },
  errorResponse(_request, errorCode) {
    return failed(errorCode);
  },
};
