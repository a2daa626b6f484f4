import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeUsername, ScramError, ScramSession } from './scram.js';
import { OauthBearerSession, PlainSession } from './session.js';

// RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
const serverFirst =
  'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const clientFinal =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const serverFinal = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

test('SCRAM-SHA-256 reproduces RFC 7677 and verifies the server signature', () => {
  const session = new ScramSession('SCRAM-SHA-256', 'user', 'pencil', clientNonce);
  assert.equal(session.initialResponse().toString(), `n,,n=user,r=${clientNonce}`);
  assert.equal(session.evaluate(Buffer.from(serverFirst))?.toString(), clientFinal);
  assert.equal(session.done, false);
  assert.equal(session.evaluate(Buffer.from(serverFinal)), null);
  assert.equal(session.done, true);
});

test('SCRAM rejects a forged server signature, a foreign nonce, a server error and few iterations', () => {
  const forged = new ScramSession('SCRAM-SHA-256', 'user', 'pencil', clientNonce);
  forged.initialResponse();
  forged.evaluate(Buffer.from(serverFirst));
  assert.throws(
    () => forged.evaluate(Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')),
    /server signature does not match/,
  );
  assert.equal(forged.done, false);

  const foreign = new ScramSession('SCRAM-SHA-256', 'user', 'pencil', clientNonce);
  foreign.initialResponse();
  assert.throws(
    () => foreign.evaluate(Buffer.from('r=someoneElse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')),
    /does not extend the client nonce/,
  );

  const refused = new ScramSession('SCRAM-SHA-512', 'user', 'pencil', clientNonce);
  refused.initialResponse();
  refused.evaluate(Buffer.from(serverFirst));
  assert.throws(() => refused.evaluate(Buffer.from('e=invalid-proof')), /invalid-proof/);

  const cheap = new ScramSession('SCRAM-SHA-512', 'user', 'pencil', clientNonce);
  cheap.initialResponse();
  assert.throws(
    () => cheap.evaluate(Buffer.from(`r=${clientNonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000`)),
    ScramError,
  );
});

test('SCRAM-SHA-512 proof is 64 bytes and names escape = and ,', () => {
  assert.equal(escapeUsername('a=b,c'), 'a=3Db=2Cc');
  const session = new ScramSession('SCRAM-SHA-512', 'a=b,c', 'pencil', clientNonce);
  assert.equal(session.initialResponse().toString(), `n,,n=a=3Db=2Cc,r=${clientNonce}`);
  const final = session.evaluate(Buffer.from(serverFirst))!.toString();
  const proof = final.slice(final.indexOf(',p=') + 3);
  assert.equal(Buffer.from(proof, 'base64').length, 64);
});

test('PLAIN and OAUTHBEARER initial responses', () => {
  assert.equal(
    new PlainSession('alice', 'secret').initialResponse().toString(),
    '\u0000alice\u0000secret',
  );
  const oauth = new OauthBearerSession({ value: 'token', extensions: { traceId: '42' } });
  assert.equal(
    oauth.initialResponse().toString(),
    'n,,\u0001auth=Bearer token\u0001traceId=42\u0001\u0001',
  );
  // A refusal is a JSON status; the client answers ^A so the broker fails the exchange.
  assert.equal(oauth.evaluate(Buffer.from('{"status":"invalid_token"}'))?.toString(), '\u0001');
  assert.equal(oauth.done, false);
});
