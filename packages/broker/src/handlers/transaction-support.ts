/**
 * What the transaction API handlers share: the coordinator lookup and the KIP-588 error mapping
 * (PRODUCER_FENCED exists only from a version of each API on; older clients get
 * INVALID_PRODUCER_EPOCH, which they treat the same way).
 */
import { ErrorCode } from '@gregor/protocol';
import type { TransactionCoordinator } from '../txn/transaction-coordinator.js';
import type { RequestContext } from './types.js';

export type TransactionCoordinatorLookup =
  | { ok: true; coordinator: TransactionCoordinator }
  | { ok: false; errorCode: number };

export function transactionCoordinator(context: RequestContext): TransactionCoordinatorLookup {
  const coordinator = context.services.transactions;
  if (coordinator === undefined)
    return { ok: false, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
  const availability = coordinator.availability();
  if (availability !== ErrorCode.NONE) return { ok: false, errorCode: availability };
  return { ok: true, coordinator };
}

/** KIP-588: PRODUCER_FENCED for versions >= `firstVersion`, INVALID_PRODUCER_EPOCH before. */
export function fencingErrorFor(
  errorCode: number,
  apiVersion: number,
  firstVersion: number,
): number {
  if (errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersion) {
    return ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  return errorCode;
}
