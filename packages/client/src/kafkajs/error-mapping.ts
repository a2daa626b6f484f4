// How @gregor/client's errors surface through the kafkajs facade: Kafka error codes become
// KafkaJSProtocolError (`type` = Kafka's name), the rest map by kind.

import { errorInfo } from '@gregor/protocol';
import {
  ClientError,
  ClosedError,
  ConnectionError,
  KafkaError,
  ProducerFencedError,
  RequestTimeoutError,
  SaslAuthenticationError,
  TimeoutError,
  TransactionAbortableError,
} from '../errors.js';
import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSTimeout,
} from './errors.js';

/** The protocol error for a Kafka error code, as kafkajs builds it from its error table. */
export function protocolError(code: number, context?: string): KafkaJSProtocolError {
  const info = errorInfo(code);
  const message = info?.message ?? `unknown error code ${code}`;
  return new KafkaJSProtocolError({
    message: context === undefined ? message : `${message} [${context}]`,
    type: info?.name ?? 'UNKNOWN',
    code,
    retriable: info?.retriable ?? false,
  });
}

/** @gregor/client's errors as kafkajs's: codes become KafkaJSProtocolError, the rest by kind. */
export function toKafkaJSError(error: unknown): Error {
  if (error instanceof KafkaJSError || error instanceof KafkaJSAggregateError) return error;
  if (error instanceof SaslAuthenticationError) {
    const converted = new KafkaJSSASLAuthenticationError(error.message);
    converted.cause = error;
    return converted;
  }
  if (error instanceof KafkaError || error instanceof ProducerFencedError) {
    const converted = protocolError(error.code);
    converted.message = error.message;
    converted.cause = error;
    return converted;
  }
  // A failure inside a transaction: kafkajs surfaces the underlying protocol error.
  if (error instanceof TransactionAbortableError && error.cause instanceof KafkaError)
    return toKafkaJSError(error.cause);
  if (error instanceof RequestTimeoutError)
    return new KafkaJSRequestTimeoutError(error.message, { cause: error });
  if (error instanceof ConnectionError)
    return new KafkaJSConnectionError(error.message, { cause: error });
  if (error instanceof TimeoutError) return new KafkaJSTimeout(error.message, { cause: error });
  if (error instanceof ClosedError) return new KafkaJSNonRetriableError(error, { cause: error });
  if (error instanceof ClientError)
    return new KafkaJSError(error.message, { retriable: error.retriable, cause: error });
  return error instanceof Error ? error : new KafkaJSError(String(error));
}
