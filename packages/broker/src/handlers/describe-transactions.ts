/** DescribeTransactions (key 65), v0 (KIP-664): the coordinator's view of each transactional id. */
import {
  ApiKey,
  type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
} from '@gregor/protocol';
import { undescribedTransaction } from '../txn/transaction-coordinator.js';
import { transactionCoordinator } from './transaction-support.js';
import type { ApiHandler } from './types.js';

export const describeTransactionsHandler: ApiHandler<
  DescribeTransactionsRequest,
  DescribeTransactionsResponse
> = {
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, context) {
    const lookup = transactionCoordinator(context);
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) =>
        lookup.ok
          ? lookup.coordinator.describe(transactionalId)
          : undescribedTransaction(transactionalId, lookup.errorCode),
      ),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((id) =>
        undescribedTransaction(id, errorCode),
      ),
    };
  },
};
