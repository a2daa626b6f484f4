// Typed failures of record batch validation and decoding. Each carries the Kafka error code a
// broker answers with, so a handler never has to map exception classes to codes.

/** The Kafka error codes that record batch checks produce (a subset of Kafka's Errors table). */
export const recordErrorCode = {
  corruptMessage: 2,
  messageTooLarge: 10,
  invalidTimestamp: 32,
  unsupportedForMessageFormat: 43,
  unsupportedCompressionType: 76,
  invalidRecord: 87,
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
  | 'control-from-client';

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
