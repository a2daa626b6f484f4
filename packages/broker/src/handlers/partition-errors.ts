/**
 * Maps failures of partition operations (storage errors, file system errors) to Kafka error codes.
 * Disk errors such as ENOSPC become KAFKA_STORAGE_ERROR (retriable): the client retries and the
 * broker keeps serving once space returns.
 */
import { ErrorCode } from '@gregor/protocol';
import type { BrokerServices } from '../services.js';

const storageErrnoCodes = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EBADF',
]);

export interface ClassifiedError {
  errorCode: number;
  message: string;
  /** True when it is not an expected condition (logged at ERROR by the caller). */
  unexpected: boolean;
}

export function classifyPartitionError(error: unknown): ClassifiedError {
  const message = error instanceof Error ? error.message : String(error);
  if (error !== null && typeof error === 'object') {
    const withCode = error as { errorCode?: unknown; code?: unknown };
    if (typeof withCode.errorCode === 'number') {
      return {
        errorCode: withCode.errorCode,
        message,
        unexpected: withCode.errorCode === ErrorCode.KAFKA_STORAGE_ERROR,
      };
    }
    if (typeof withCode.code === 'string' && storageErrnoCodes.has(withCode.code)) {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, message, unexpected: true };
    }
  }
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message, unexpected: true };
}

/**
 * The error for a partition this broker has no replica of: in a cluster, a partition of a known
 * topic lives on other brokers (NOT_LEADER_OR_FOLLOWER: the client refreshes its metadata and
 * goes to the leader); otherwise it does not exist.
 */
export function absentPartitionError(
  services: BrokerServices,
  topic: { partitionCount: number } | undefined,
  index: number,
): number {
  return services.cluster !== undefined &&
    topic !== undefined &&
    index >= 0 &&
    index < topic.partitionCount
    ? ErrorCode.NOT_LEADER_OR_FOLLOWER
    : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}
