import { errorTable } from '../generated/error-codes.js';

/** One Kafka error code: its name, a short message, and whether a client may retry. */
export interface ErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly message: string;
  readonly retriable: boolean;
}

const errorInfoByCode = new Map<number, ErrorInfo>(
  errorTable.map(([code, name, retriable, message]) => [code, { code, name, message, retriable }]),
);

/** Details of a Kafka error code, or undefined for a code this table does not know. */
export function errorInfo(code: number): ErrorInfo | undefined {
  return errorInfoByCode.get(code);
}
