/**
 * The contract between the server and one handler file per API (BROKER-LAYOUT.md).
 * A handler receives the decoded request body and returns the response body; the server owns
 * framing, headers, ordering and errors. A handler that resolves to `undefined` sends no response
 * (Produce with acks=0).
 */
import type { RequestHeader } from '@gregor/protocol';
import type { BrokerServices } from '../services.js';

export type { RequestHeader };

export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  clientId: string | null;
  /**
   * The listener the connection arrived on (Metadata answers with its advertised address).
   * Absent outside the network server (unit tests): the first advertised listener.
   */
  listenerName?: string;
  /**
   * For handlers whose responses can be large (Fetch): reserve(bytesWanted) returns how many
   * response bytes this request may produce without growing the connection past its bound.
   * Absent outside the network server (unit tests): no limit.
   */
  responseBudget?: { reserve(bytesWanted: number): number };
}

export interface RequestContext {
  apiVersion: number;
  header: RequestHeader;
  connection: ConnectionInfo;
  services: BrokerServices;
}

// biome-ignore lint/suspicious/noExplicitAny: each handler narrows its own request/response types
export interface ApiHandler<Req = any, Res = any> {
  apiKey: number;
  /** The version range this handler implements and ApiVersions advertises. */
  minVersion: number;
  maxVersion: number;
  handle(request: Req, context: RequestContext): Promise<Res | undefined> | Res | undefined;
  /**
   * Optional: the response that answers `request` with `errorCode` everywhere (Kafka's
   * getErrorResponse). Used for UNSUPPORTED_VERSION and when `handle` throws; without it the
   * server closes the connection instead.
   */
  errorResponse?(request: Req, errorCode: number, apiVersion: number): Res;
}
