// Typed failures of record batch validation and decoding. Each carries the Kafka error code a
// broker answers with, so a handler never has to map exception classes to codes.

import { ErrorCode } from '../generated/error-codes.js';

/** The Kafka error codes that record batch checks produce (from the generated error table). */
export const recordErrorCode = {
  corruptMessage: ErrorCode.CORRUPT_MESSAGE,
  messageTooLarge: ErrorCode.MESSAGE_TOO_LARGE,
  unsupportedCompressionType: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  invalidRecord: ErrorCode.INVALID_RECORD,
} as const;

export type RecordBatchErrorReason =
  | 'truncated'
  | 'bad-length'
  | 'bad-magic'
  | 'crc-mismatch'
  | 'bad-count'
  | 'bad-offset-delta'
  | 'bad-compression'
  | 'decompression-failed'
  | 'too-large'
  | 'trailing-bytes'
  | 'control-from-client'
  | 'missing-key';

export class RecordBatchError extends Error {
  override readonly name = 'RecordBatchError';

  constructor(
    readonly reason: RecordBatchErrorReason,
    readonly errorCode: number,
    message: string,
    readonly position = 0,
  ) {
    super(message);
  }
}

/** The typed-result form of a RecordBatchError, for validators that never throw on bad input. */
export interface RecordBatchFailure {
  ok: false;
  errorCode: number;
  reason: RecordBatchErrorReason;
  message: string;
  position: number;
}

/** Converts a RecordBatchError into a failure result; anything else is a bug and is rethrown. */
export function recordBatchFailure(error: unknown): RecordBatchFailure {
  if (!(error instanceof RecordBatchError)) throw error;
  return {
    ok: false,
    errorCode: error.errorCode,
    reason: error.reason,
    message: error.message,
    position: error.position,
  };
}
