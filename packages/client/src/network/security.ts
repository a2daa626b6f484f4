// What a connection needs to be secured: TLS (node:tls options) and SASL credentials. Only the
// options' shapes live here; the handshakes are in connection.ts (TLS) and sasl/ (SASL).

import type { ConnectionOptions as NodeTlsOptions } from 'node:tls';

/**
 * node:tls options for every broker connection (`ca`, `cert`, `key`, `servername`,
 * `rejectUnauthorized`, ...). `servername` defaults to the broker's host name (never to an IP
 * address, which SNI forbids); `host` and `port` come from the broker address.
 */
export type TlsOptions = Omit<NodeTlsOptions, 'host' | 'port' | 'socket' | 'path'>;

/** What an OAUTHBEARER token provider returns (RFC 7628). */
export interface OauthBearerToken {
  /** The bearer token (for Kafka's default validator an unsecured JWS). */
  value: string;
  /** SASL extensions (KIP-342) sent beside the token. */
  extensions?: Record<string, string>;
}

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export type SaslOptions =
  | { mechanism: 'PLAIN'; username: string; password: string; authorizationId?: string }
  | { mechanism: ScramMechanismName; username: string; password: string }
  | {
      mechanism: 'OAUTHBEARER';
      /** Called for every authentication and re-authentication: return a fresh token. */
      tokenProvider: () => OauthBearerToken | Promise<OauthBearerToken>;
    };

export interface SecurityOptions {
  tls?: TlsOptions;
  sasl?: SaslOptions;
}
