// SCRAM (RFC 5802, SHA-256/512 per RFC 7677) as a client: no channel binding ("n,,"), a random
// nonce, the salted password by PBKDF2 at the server's salt and iteration count, and the
// server's signature checked before the exchange counts as done, so a server that does not know
// the password cannot pass itself off as the broker.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramMechanismName } from '../security.js';
import type { SaslSession } from './session.js';

const digests: Record<ScramMechanismName, { digest: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { digest: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { digest: 'sha512', bytes: 64 },
};

/** Kafka refuses fewer (ScramMechanism.minIterations); a server asking fewer is not Kafka. */
const iterationsMin = 4096;
/** Bounds the CPU a hostile server can make us spend on PBKDF2. */
const iterationsMax = 1_000_000;

/** RFC 5802 §5.1: `=` and `,` in a user name are escaped as `=3D` and `=2C`. */
export function escapeUsername(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** A printable nonce without `,` (RFC 5802's `printable`), 32 random bytes in base64. */
export function randomNonce(): string {
  return randomBytes(32).toString('base64');
}

function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const separator = part.indexOf('=');
    if (separator !== 1) throw new ScramError(`malformed SCRAM message "${message}"`);
    attributes.set(part.slice(0, 1), part.slice(2));
  }
  return attributes;
}

export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

export class ScramSession implements SaslSession {
  private readonly digest: 'sha256' | 'sha512';
  private readonly digestBytes: number;
  private readonly clientFirstBare: string;
  private state: 'initial' | 'first sent' | 'final sent' | 'done' = 'initial';
  private expectedServerSignature: Buffer | null = null;

  constructor(
    mechanism: ScramMechanismName,
    username: string,
    private readonly password: string,
    private readonly clientNonce: string = randomNonce(),
  ) {
    this.digest = digests[mechanism].digest;
    this.digestBytes = digests[mechanism].bytes;
    this.clientFirstBare = `n=${escapeUsername(username)},r=${clientNonce}`;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  initialResponse(): Buffer {
    if (this.state !== 'initial') throw new ScramError('SCRAM exchange already started');
    this.state = 'first sent';
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  evaluate(challenge: Buffer): Buffer | null {
    if (this.state === 'first sent') return this.clientFinal(challenge.toString('utf8'));
    if (this.state === 'final sent') {
      this.verifyServerFinal(challenge.toString('utf8'));
      return null;
    }
    throw new ScramError(`unexpected SCRAM challenge in state ${this.state}`);
  }

  private clientFinal(serverFirst: string): Buffer {
    const attributes = parseAttributes(serverFirst);
    if (attributes.has('m')) throw new ScramError('server requires an unsupported SCRAM extension');
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || salt === undefined)
      throw new ScramError(`server-first-message without nonce or salt: "${serverFirst}"`);
    if (!nonce.startsWith(this.clientNonce) || nonce.length <= this.clientNonce.length)
      throw new ScramError('server nonce does not extend the client nonce');
    if (!Number.isInteger(iterations) || iterations < iterationsMin || iterations > iterationsMax)
      throw new ScramError(`server asked for ${attributes.get('i')} iterations`);
    const saltedPassword = pbkdf2Sync(
      Buffer.from(this.password, 'utf8'),
      Buffer.from(salt, 'base64'),
      iterations,
      this.digestBytes,
      this.digest,
    );
    const clientKey = this.hmac(saltedPassword, 'Client Key');
    const storedKey = createHash(this.digest).update(clientKey).digest();
    // "biws" is base64("n,,"): the GS2 header without channel binding.
    const clientFinalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let index = 0; index < proof.length; index++)
      proof[index] = clientKey[index]! ^ clientSignature[index]!;
    this.expectedServerSignature = this.hmac(this.hmac(saltedPassword, 'Server Key'), authMessage);
    this.state = 'final sent';
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  private verifyServerFinal(serverFinal: string): void {
    const attributes = parseAttributes(serverFinal);
    const error = attributes.get('e');
    if (error !== undefined) throw new ScramError(`server rejected the SCRAM proof: ${error}`);
    const verifier = attributes.get('v');
    const expected = this.expectedServerSignature;
    if (verifier === undefined || expected === null)
      throw new ScramError(`server-final-message without verifier: "${serverFinal}"`);
    const received = Buffer.from(verifier, 'base64');
    if (received.length !== expected.length || !timingSafeEqual(received, expected))
      throw new ScramError(
        'the server signature does not match: the server does not know the password',
      );
    this.state = 'done';
  }

  private hmac(key: Buffer, text: string): Buffer {
    return createHmac(this.digest, key).update(text, 'utf8').digest();
  }
}
