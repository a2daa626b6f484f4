// Storage errors carry the Kafka error code the broker should answer with.

export const storageErrorCode = {
  offsetOutOfRange: 1,
  corruptMessage: 2,
  kafkaStorageError: 56,
  invalidRecord: 87,
  notLeaderOrFollower: 6,
} as const;

export class StorageError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'StorageError';
    this.errorCode = errorCode;
  }
}

export class OffsetOutOfRangeError extends StorageError {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  constructor(offset: bigint, logStartOffset: bigint, logEndOffset: bigint) {
    super(
      storageErrorCode.offsetOutOfRange,
      `offset ${offset} outside [${logStartOffset}, ${logEndOffset}]`,
    );
    this.name = 'OffsetOutOfRangeError';
    this.logStartOffset = logStartOffset;
    this.logEndOffset = logEndOffset;
  }
}

export class LogClosedError extends StorageError {
  constructor(name: string) {
    super(storageErrorCode.kafkaStorageError, `log ${name} is closed or offline`);
    this.name = 'LogClosedError';
  }
}
