/**
 * Certificates made at test time with openssl (never committed): a CA, a server certificate for
 * 127.0.0.1 / localhost signed by it, a client certificate for mutual TLS, and an unrelated CA a
 * client may wrongly trust. PEM files, as both Kafka (`ssl.keystore.type=PEM`) and node:tls read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runToCompletion } from './managed-process.js';

export interface TestCertificates {
  /** PEM of the CA that signed the server and client certificates. */
  caCertificate: string;
  caPath: string;
  clientCertificate: string;
  clientKey: string;
  /** PEM of a CA that signed nothing here. */
  otherCaCertificate: string;
  /** Unencrypted PKCS#8 key then certificate chain: a Kafka PEM keystore file. */
  serverKeystorePath: string;
}

async function openssl(directory: string, ...parameters: string[]): Promise<void> {
  const result = await runToCompletion({
    command: 'openssl',
    arguments: parameters.map((parameter) => parameter.replace('$DIR', directory)),
    timeoutMs: 30_000,
  });
  if (result.code !== 0)
    throw new Error(`openssl ${parameters.join(' ')} failed (${result.code}): ${result.stderr}`);
}

async function selfSignedCa(directory: string, name: string): Promise<void> {
  await openssl(
    directory,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `$DIR/${name}.key`,
    '-out',
    `$DIR/${name}.pem`,
  );
}

async function signedCertificate(
  directory: string,
  name: string,
  subjectAlternativeNames: string,
): Promise<void> {
  await openssl(
    directory,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `$DIR/${name}.key`,
    '-out',
    `$DIR/${name}.csr`,
  );
  await writeFile(join(directory, `${name}.ext`), `subjectAltName=${subjectAlternativeNames}\n`);
  await openssl(
    directory,
    'x509',
    '-req',
    '-days',
    '2',
    '-in',
    `$DIR/${name}.csr`,
    '-CA',
    '$DIR/ca.pem',
    '-CAkey',
    '$DIR/ca.key',
    '-CAcreateserial',
    '-extfile',
    `$DIR/${name}.ext`,
    '-out',
    `$DIR/${name}.pem`,
  );
}

export async function makeTestCertificates(directory: string): Promise<TestCertificates> {
  await selfSignedCa(directory, 'ca');
  await selfSignedCa(directory, 'other-ca');
  await signedCertificate(directory, 'server', 'IP:127.0.0.1,DNS:localhost');
  await signedCertificate(directory, 'client', 'DNS:gregor-client');
  const read = (name: string) => readFile(join(directory, name), 'utf8');
  const serverKeystorePath = join(directory, 'server-keystore.pem');
  await writeFile(serverKeystorePath, `${await read('server.key')}${await read('server.pem')}`);
  return {
    caCertificate: await read('ca.pem'),
    caPath: join(directory, 'ca.pem'),
    clientCertificate: await read('client.pem'),
    clientKey: await read('client.key'),
    otherCaCertificate: await read('other-ca.pem'),
    serverKeystorePath,
  };
}
