/**
 * ListTransactions (key 66), v0-v1 (KIP-664; v1 adds the duration filter, KIP-994). Unknown state
 * names in the filter are echoed back, as Kafka does.
 */
import {
  ApiKey,
  ErrorCode,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
} from '@gregor/protocol';
import { transactionStatusNames } from '../txn/transaction-metadata.js';
import { transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

export const listTransactionsHandler: ApiHandler<
  ListTransactionsRequest,
  ListTransactionsResponse
> = {
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(request, context) {
    const lookup = transactionCoordinator(context);
    if (!lookup.ok) {
      return {
        throttleTimeMs: 0,
        errorCode: lookup.errorCode,
        unknownStateFilters: [],
        transactionStates: [],
      };
    }
    const known = new Set<string>(transactionStatusNames);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      unknownStateFilters: request.stateFilters.filter((state) => !known.has(state)),
      transactionStates: lookup.coordinator.list({
        states: request.stateFilters,
        producerIds: request.producerIdFilters,
        durationMs: Number(request.durationFilter ?? -1n),
      }),
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, unknownStateFilters: [], transactionStates: [] };
  },
};
