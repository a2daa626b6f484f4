import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * One Kafka API as the generated code describes it: version range, header versions, and untyped
 * entry points for dispatch by api key (typed ones are exported per message).
 */
export interface ApiDescriptor {
  readonly apiKey: number;
  /** The API name without Request/Response, e.g. `Produce`. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible (KIP-482) version; Infinity when the API is never flexible. */
  readonly flexibleMinVersion: number;
  requestHeaderVersion(version: number): number;
  responseHeaderVersion(version: number): number;
  decodeRequest(reader: Reader, version: number): unknown;
  encodeRequest(writer: Writer, version: number, value: unknown): void;
  decodeResponse(reader: Reader, version: number): unknown;
  encodeResponse(writer: Writer, version: number, value: unknown): void;
}
