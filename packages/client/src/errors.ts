// Errors the client raises. Every error says whether retrying the same operation can help, so
// callers (and the client's own retry loops) decide without string matching.

import { ErrorCode, errorInfo } from '@gregor/protocol';

/** Base class of every error this client raises. */
export class ClientError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.retriable = options.retriable;
  }
}

/** A Kafka error code returned by a broker: code, Kafka's name for it and its retriable flag. */
export class KafkaError extends ClientError {
  readonly code: number;
  /** Kafka's name of the code, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly errorName: string;
  constructor(code: number, context?: string) {
    const info = errorInfo(code);
    const errorName = info?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
    const detail = info?.message ?? 'unknown error code';
    super(`${errorName} (${code}): ${detail}${context === undefined ? '' : ` [${context}]`}`, {
      retriable: info?.retriable ?? false,
    });
    this.name = 'KafkaError';
    this.code = code;
    this.errorName = errorName;
  }
}

/** The connection failed or closed; whether the request reached the broker is unknown. */
export class ConnectionError extends ClientError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
    this.name = 'ConnectionError';
  }
}

/** No response within the request timeout; the connection was closed (outcome unknown). */
export class RequestTimeoutError extends ClientError {
  constructor(message: string) {
    super(message, { retriable: true });
    this.name = 'RequestTimeoutError';
  }
}

/** A deadline of the client's own (delivery.timeout.ms, buffer wait, metadata wait) passed. */
export class TimeoutError extends ClientError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'TimeoutError';
  }
}

/** The producer or consumer was closed while the operation waited. */
export class ClosedError extends ClientError {
  constructor(what: string) {
    super(`${what} is closed`, { retriable: false });
    this.name = 'ClosedError';
  }
}

/** Throws a KafkaError for a non-zero code. */
export function throwIfError(code: number, context?: string): void {
  if (code !== ErrorCode.NONE) throw new KafkaError(code, context);
}

/** Codes after which cached metadata (leaders, partition counts, topic ids) is stale. */
const metadataStaleCodes: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);

export function invalidatesMetadata(code: number): boolean {
  return metadataStaleCodes.has(code);
}

/**
 * The transaction cannot commit (a send or an offset commit of it failed): call
 * `abortTransaction()`, then the producer can begin the next one. `cause` is the failure.
 */
export class TransactionAbortableError extends ClientError {
  constructor(message: string, cause: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'TransactionAbortableError';
  }
}

/** The transactional producer cannot go on (Java's fatal errors): only `close()` remains. */
export class TransactionFatalError extends ClientError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'TransactionFatalError';
  }
}

/**
 * Another producer with the same transactional id initialised after this one (a newer epoch):
 * this one is a zombie and can only close (KIP-98 fencing, KIP-588's PRODUCER_FENCED).
 */
export class ProducerFencedError extends TransactionFatalError {
  readonly code: number;
  readonly errorName: string;
  constructor(code: number, context: string) {
    const kafkaError = new KafkaError(code, context);
    super(`producer fenced: ${kafkaError.message}`, kafkaError);
    this.name = 'ProducerFencedError';
    this.code = code;
    this.errorName = kafkaError.errorName;
  }
}

/** A transactional method called in a state that does not allow it (Java's IllegalStateException). */
export class TransactionStateError extends ClientError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'TransactionStateError';
  }
}

/** A queued record of a transaction that was aborted before the record was sent. */
export class TransactionAbortedError extends ClientError {
  constructor(message = 'the transaction was aborted before the record was sent') {
    super(message, { retriable: false });
    this.name = 'TransactionAbortedError';
  }
}

/**
 * SASL authentication failed (SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE,
 * UNSUPPORTED_SASL_MECHANISM, or a server the client could not verify): the same credentials
 * fail again, so nothing retries it. `brokerMessage` is what the broker said, when it said it.
 */
export class SaslAuthenticationError extends KafkaError {
  readonly brokerMessage: string | null;
  constructor(code: number, context: string, brokerMessage: string | null = null) {
    super(code, brokerMessage === null ? context : `${context}: ${brokerMessage}`);
    this.name = 'SaslAuthenticationError';
    this.brokerMessage = brokerMessage;
  }
}

/** The TLS handshake failed on the certificate or protocol (Java's SslAuthenticationException). */
export class TlsHandshakeError extends ClientError {
  /** node:tls's code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly tlsCode: string | undefined;
  constructor(message: string, cause: Error & { code?: string }) {
    super(message, { retriable: false, cause });
    this.name = 'TlsHandshakeError';
    this.tlsCode = cause.code;
  }
}
