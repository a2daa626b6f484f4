// One SASL exchange, mechanism by mechanism: the client's first message, then an answer to each
// server challenge until the mechanism says it is done. Sessions hold no socket: the
// authenticator carries their bytes in SaslAuthenticate requests.

import type { OauthBearerToken, SaslOptions } from '../security.js';
import { ScramSession } from './scram.js';

export interface SaslSession {
  /** True once the mechanism has verified everything it needs from the server. */
  readonly done: boolean;
  initialResponse(): Buffer;
  /** The next message for a server challenge; null when there is nothing more to send. */
  evaluate(challenge: Buffer): Buffer | null;
}

/** RFC 4616: authzid NUL authcid NUL password; done after one message. */
export class PlainSession implements SaslSession {
  done = false;
  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly authorizationId = '',
  ) {}

  initialResponse(): Buffer {
    this.done = true;
    return Buffer.from(`${this.authorizationId}\u0000${this.username}\u0000${this.password}`);
  }

  evaluate(): Buffer | null {
    return null;
  }
}

const separator = '\u0001';

/**
 * RFC 7628: the GS2 header, `auth=Bearer <token>` and the extensions, each ended by ^A. A server
 * that refuses the token answers with a JSON error status; the client then sends a lone ^A and
 * the server fails the exchange (so the status reaches the caller in the error).
 */
export class OauthBearerSession implements SaslSession {
  done = false;
  private rejected = false;
  constructor(private readonly token: OauthBearerToken) {}

  initialResponse(): Buffer {
    const extensions = Object.entries(this.token.extensions ?? {})
      .map(([key, value]) => `${key}=${value}${separator}`)
      .join('');
    return Buffer.from(
      `n,,${separator}auth=Bearer ${this.token.value}${separator}${extensions}${separator}`,
    );
  }

  evaluate(challenge: Buffer): Buffer | null {
    if (challenge.length === 0) {
      this.done = true;
      return null;
    }
    if (this.rejected) return null;
    this.rejected = true;
    return Buffer.from(separator);
  }
}

export async function createSaslSession(options: SaslOptions): Promise<SaslSession> {
  switch (options.mechanism) {
    case 'PLAIN':
      return new PlainSession(options.username, options.password, options.authorizationId);
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return new ScramSession(options.mechanism, options.username, options.password);
    case 'OAUTHBEARER':
      return new OauthBearerSession(await options.tokenProvider());
  }
}
