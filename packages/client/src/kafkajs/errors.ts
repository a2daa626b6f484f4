// kafkajs's error classes: the same names, fields and hierarchy as kafkajs 2.2.4, so code that
// branches on `error.name`, `instanceof`, `error.type` or `error.retriable` keeps working.

interface ErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class KafkaJSError extends Error {
  retriable: boolean;
  helpUrl?: string;
  constructor(error: Error | string, options: ErrorOptions = {}) {
    const message = error instanceof Error ? error.message : error;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KafkaJSError';
    this.retriable = options.retriable ?? true;
  }
}

export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(error: Error | string, options: { cause?: unknown } = {}) {
    super(error, { retriable: false, cause: options.cause });
    this.name = 'KafkaJSNonRetriableError';
  }
}

/** A Kafka error code: `type` is Kafka's name (`UNKNOWN_TOPIC_OR_PARTITION`), `code` the number. */
export class KafkaJSProtocolError extends KafkaJSError {
  readonly type: string;
  readonly code: number;
  constructor(
    error: Error | string | { message: string; type: string; code: number; retriable: boolean },
    options: { retriable?: boolean } = {},
  ) {
    const described =
      typeof error === 'string' || error instanceof Error
        ? { message: typeof error === 'string' ? error : error.message, type: 'UNKNOWN', code: -1 }
        : error;
    const retriable =
      options.retriable ??
      (typeof error === 'object' && !(error instanceof Error) ? error.retriable : false);
    super(described.message, { retriable });
    this.name = 'KafkaJSProtocolError';
    this.type = described.type;
    this.code = described.code;
  }
}

export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  readonly topic: string;
  readonly partition: number;
  constructor(error: KafkaJSProtocolError, where: { topic: string; partition: number }) {
    super({ message: error.message, type: error.type, code: error.code, retriable: false });
    this.name = 'KafkaJSOffsetOutOfRange';
    this.topic = where.topic;
    this.partition = where.partition;
  }
}

export class KafkaJSMemberIdRequired extends KafkaJSProtocolError {
  readonly memberId: string;
  constructor(error: KafkaJSProtocolError, options: { memberId: string }) {
    super({ message: error.message, type: error.type, code: error.code, retriable: false });
    this.name = 'KafkaJSMemberIdRequired';
    this.memberId = options.memberId;
  }
}

export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  readonly retryCount: number;
  readonly retryTime: number;
  constructor(error: Error, options: { retryCount: number; retryTime: number }) {
    super(error, { cause: error });
    this.name = 'KafkaJSNumberOfRetriesExceeded';
    this.retryCount = options.retryCount;
    this.retryTime = options.retryTime;
  }
}

export class KafkaJSConnectionError extends KafkaJSError {
  readonly broker?: string;
  readonly code?: string;
  constructor(
    error: Error | string,
    options: { broker?: string; code?: string; cause?: unknown } = {},
  ) {
    super(error, { cause: options.cause });
    this.name = 'KafkaJSConnectionError';
    this.broker = options.broker;
    this.code = options.code;
  }
}

export class KafkaJSConnectionClosedError extends KafkaJSConnectionError {
  readonly host?: string;
  readonly port?: number;
  constructor(error: Error | string, options: { host?: string; port?: number } = {}) {
    super(error, { broker: `${options.host}:${options.port}` });
    this.name = 'KafkaJSConnectionClosedError';
    this.host = options.host;
    this.port = options.port;
  }
}

export class KafkaJSRequestTimeoutError extends KafkaJSError {
  constructor(error: Error | string, options: { cause?: unknown } = {}) {
    super(error, options);
    this.name = 'KafkaJSRequestTimeoutError';
  }
}

export class KafkaJSMetadataNotLoaded extends KafkaJSError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSMetadataNotLoaded';
  }
}

export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  readonly topic?: string;
  constructor(error: Error | string, options: { topic?: string } = {}) {
    super(error);
    this.name = 'KafkaJSTopicMetadataNotLoaded';
    this.topic = options.topic;
  }
}

export class KafkaJSStaleTopicMetadataAssignment extends KafkaJSError {
  readonly topic?: string;
  readonly unknownPartitions?: number[];
  constructor(
    error: Error | string,
    options: { topic?: string; unknownPartitions?: number[] } = {},
  ) {
    super(error);
    this.name = 'KafkaJSStaleTopicMetadataAssignment';
    this.topic = options.topic;
    this.unknownPartitions = options.unknownPartitions;
  }
}

export class KafkaJSDeleteGroupsError extends KafkaJSError {
  readonly groups: { groupId: string; errorCode: number; error: KafkaJSError }[];
  constructor(
    error: Error | string,
    groups: { groupId: string; errorCode: number; error: KafkaJSError }[] = [],
  ) {
    super(error);
    this.name = 'KafkaJSDeleteGroupsError';
    this.groups = groups;
  }
}

export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError {
  readonly apiKey?: number;
  readonly apiName?: string;
  constructor(error: Error | string, options: { apiKey?: number; apiName?: string } = {}) {
    super(error);
    this.name = 'KafkaJSServerDoesNotSupportApiKey';
    this.apiKey = options.apiKey;
    this.apiName = options.apiName;
  }
}

export class KafkaJSBrokerNotFound extends KafkaJSError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSBrokerNotFound';
  }
}

export class KafkaJSPartialMessageError extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSPartialMessageError';
  }
}

export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSSASLAuthenticationError';
  }
}

export class KafkaJSGroupCoordinatorNotFound extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSGroupCoordinatorNotFound';
  }
}

export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSNotImplemented';
  }
}

export class KafkaJSTimeout extends KafkaJSNonRetriableError {
  constructor(error: Error | string, options: { cause?: unknown } = {}) {
    super(error, options);
    this.name = 'KafkaJSTimeout';
  }
}

export class KafkaJSLockTimeout extends KafkaJSTimeout {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSLockTimeout';
  }
}

export class KafkaJSUnsupportedMagicByteInMessageSet extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSUnsupportedMagicByteInMessageSet';
  }
}

export class KafkaJSDeleteTopicRecordsError extends KafkaJSError {
  readonly partitions: { partition: number; offset: string; error: KafkaJSError }[];
  constructor(options: {
    partitions: { partition: number; offset: string; error: KafkaJSError }[];
  }) {
    super('Error while deleting records', {
      retriable: options.partitions.every((partition) => partition.error.retriable),
    });
    this.name = 'KafkaJSDeleteTopicRecordsError';
    this.partitions = options.partitions;
  }
}

export class KafkaJSInvariantViolation extends KafkaJSNonRetriableError {
  constructor(message: string) {
    super(`Invariant violated: ${message}. This is likely a bug and should be reported.`);
    this.name = 'KafkaJSInvariantViolation';
  }
}

export class KafkaJSInvalidVarIntError extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSNonRetriableError';
  }
}

export class KafkaJSInvalidLongError extends KafkaJSNonRetriableError {
  constructor(error: Error | string) {
    super(error);
    this.name = 'KafkaJSNonRetriableError';
  }
}

export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  readonly topic: string;
  constructor(error: KafkaJSProtocolError, topic: string) {
    super({
      message: error.message,
      type: error.type,
      code: error.code,
      retriable: error.retriable,
    });
    this.name = 'KafkaJSCreateTopicError';
    this.topic = topic;
  }
}

export class KafkaJSAlterPartitionReassignmentsError extends KafkaJSProtocolError {
  readonly topic?: string;
  readonly partition?: number;
  constructor(error: KafkaJSProtocolError, topic?: string, partition?: number) {
    super({
      message: error.message,
      type: error.type,
      code: error.code,
      retriable: error.retriable,
    });
    this.name = 'KafkaJSAlterPartitionReassignmentsError';
    this.topic = topic;
    this.partition = partition;
  }
}

export class KafkaJSAggregateError extends Error {
  readonly errors: Error[];
  constructor(message: string, errors: Error[]) {
    super(message);
    this.name = 'KafkaJSAggregateError';
    this.errors = errors;
  }
}

export class KafkaJSFetcherRebalanceError extends Error {}

export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  constructor() {
    super('No broker available');
    this.name = 'KafkaJSNoBrokerAvailableError';
  }
}
