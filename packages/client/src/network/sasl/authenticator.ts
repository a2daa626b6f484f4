// SASL on a Kafka connection (KIP-43, KIP-152): SaslHandshake v1 names the mechanism, then each
// mechanism message travels in a SaslAuthenticate request (v2 where the broker speaks it) and each
// server challenge comes back in its response. The broker's session lifetime (KIP-368) is
// returned so the connection re-authenticates before it ends.

import {
  type ApiDescriptor,
  ErrorCode,
  type SaslAuthenticateResponse,
  type SaslHandshakeResponse,
  saslAuthenticateApi,
  saslHandshakeApi,
} from '@gregor/protocol';
import { SaslAuthenticationError } from '../../errors.js';
import type { ApiVersionTable } from '../api-versions.js';
import type { SaslOptions } from '../security.js';
import { ScramError } from './scram.js';
import { createSaslSession } from './session.js';

/** How the authenticator reaches the broker: the connection's own request path. */
export interface SaslTransport {
  readonly versions: ApiVersionTable;
  readonly address: string;
  request<Response>(api: ApiDescriptor, body: unknown, version: number): Promise<Response>;
}

export interface SaslOutcome {
  /** 0 when the broker sets no lifetime (no re-authentication needed). */
  sessionLifetimeMs: number;
}

/** Bounds a broken mechanism or broker; SCRAM needs two round trips, OAUTHBEARER failure two. */
const roundTripsMax = 8;

export async function authenticate(
  transport: SaslTransport,
  options: SaslOptions,
): Promise<SaslOutcome> {
  const context = `${options.mechanism} to ${transport.address}`;
  const handshake = await transport.request<SaslHandshakeResponse>(
    saslHandshakeApi,
    { mechanism: options.mechanism },
    // v0 would send raw tokens outside Kafka framing; every broker since 1.0 speaks v1.
    Math.min(1, transport.versions.version(saslHandshakeApi)),
  );
  if (handshake.errorCode !== ErrorCode.NONE) {
    const enabled = `the broker enables ${handshake.mechanisms.join(', ') || 'no mechanism'}`;
    throw new SaslAuthenticationError(handshake.errorCode, context, enabled);
  }
  const session = await createSaslSession(options);
  const version = transport.versions.version(saslAuthenticateApi);
  let message: Buffer | null = session.initialResponse();
  let sessionLifetimeMs = 0;
  for (let roundTrip = 0; message !== null; roundTrip++) {
    if (roundTrip === roundTripsMax)
      throw new SaslAuthenticationError(ErrorCode.ILLEGAL_SASL_STATE, context, 'too many rounds');
    const response = await transport.request<SaslAuthenticateResponse>(
      saslAuthenticateApi,
      { authBytes: message },
      version,
    );
    if (response.errorCode !== ErrorCode.NONE)
      throw new SaslAuthenticationError(response.errorCode, context, response.errorMessage);
    sessionLifetimeMs = Number(response.sessionLifetimeMs ?? 0n);
    try {
      message = session.evaluate(response.authBytes);
    } catch (error) {
      if (!(error instanceof ScramError)) throw error;
      throw new SaslAuthenticationError(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        context,
        error.message,
      );
    }
  }
  if (!session.done) {
    throw new SaslAuthenticationError(
      ErrorCode.ILLEGAL_SASL_STATE,
      context,
      'the broker ended the exchange before the mechanism completed',
    );
  }
  return { sessionLifetimeMs };
}
