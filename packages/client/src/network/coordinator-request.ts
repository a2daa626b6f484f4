// One request to a group or transaction coordinator, retried until a deadline: a moved or
// unreachable coordinator is looked up again (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a broken
// connection), and a busy one (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS) is asked
// again after a backoff. Any other error goes to the caller, which knows what it means.

import { ErrorCode } from '@gregor/protocol';
import { ClientError, ConnectionError, KafkaError, TimeoutError } from '../errors.js';
import type { Cluster, CoordinatorType } from './cluster.js';
import { sleep } from './cluster.js';
import type { Connection } from './connection.js';

const coordinatorMovedCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

/** Java retries CONCURRENT_TRANSACTIONS quickly: the coordinator is finishing the last markers. */
const concurrentTransactionsBackoffMs = 20;

export interface CoordinatorRequestOptions {
  cluster: Cluster;
  type: CoordinatorType;
  key: string;
  /** What the request is, for error messages. */
  what: string;
  deadlineMs: number;
  /** Codes the caller wants retried besides the coordinator's own (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
  retriableCodes?: ReadonlySet<number>;
  signal?: AbortSignal;
}

export async function coordinatorRequest<T>(
  options: CoordinatorRequestOptions,
  attempt: (connection: Connection) => Promise<T>,
): Promise<T> {
  const { cluster, type, key } = options;
  for (;;) {
    options.signal?.throwIfAborted();
    let backoffMs = cluster.options.retryBackoffMs;
    try {
      const connection = await cluster.coordinator(
        type,
        key,
        Math.max(0, options.deadlineMs - Date.now()),
      );
      return await attempt(connection);
    } catch (error) {
      const code = error instanceof KafkaError ? error.code : undefined;
      const moved =
        (code !== undefined && coordinatorMovedCodes.has(code)) || error instanceof ConnectionError;
      if (moved) cluster.forgetCoordinator(type, key);
      const retriable =
        moved ||
        code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
        code === ErrorCode.CONCURRENT_TRANSACTIONS ||
        (code !== undefined && options.retriableCodes?.has(code) === true) ||
        (!(error instanceof KafkaError) && error instanceof ClientError && error.retriable);
      if (!retriable) throw error;
      if (Date.now() >= options.deadlineMs) {
        throw new TimeoutError(`${options.what}: ${(error as Error).message}`, error);
      }
      if (code === ErrorCode.CONCURRENT_TRANSACTIONS) backoffMs = concurrentTransactionsBackoffMs;
    }
    await sleep(backoffMs);
  }
}
