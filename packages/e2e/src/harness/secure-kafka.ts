/**
 * Apache Kafka with every security listener a client meets: SSL (server certificate only), MTLS
 * (SSL with a client certificate required), SASL_PLAINTEXT and SASL_SSL with PLAIN and
 * SCRAM-SHA-256/512 (credentials stored at format time), and OAUTHBEARER (Kafka's unsecured JWS
 * validator) on SASL_PLAINTEXT only. PLAIN on SASL_PLAINTEXT has a short session lifetime so re-authentication
 * (KIP-368) happens within a test. One process serves every security case of a test file.
 */
import { ReferenceKafka } from './reference-kafka.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';
import { makeTestCertificates, type TestCertificates } from './test-certificates.js';

export const saslUsers = {
  plain: { username: 'alice', password: 'alice-secret' },
  scram: { username: 'scrammer', password: 'scram-secret' },
} as const;

/** connections.max.reauth.ms of PLAIN on SASL_PLAINTEXT. */
export const plainSessionLifetimeMs = 1_500;

const saslListeners = ['sasl_plaintext', 'sasl_ssl'] as const;

export class SecureKafka {
  private constructor(
    readonly kafka: ReferenceKafka,
    readonly certificates: TestCertificates,
    private readonly directory: string,
  ) {}

  static async start(): Promise<SecureKafka> {
    const directory = await makeTemporaryDirectory('kafka-certificates');
    try {
      const certificates = await makeTestCertificates(directory);
      const settings: Record<string, string> = {
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certificates.serverKeystorePath,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': certificates.caPath,
        'listener.name.mtls.ssl.client.auth': 'required',
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms':
          'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
        // Without OAUTHBEARER: a client asking for it meets UNSUPPORTED_SASL_MECHANISM.
        'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_plaintext.plain.connections.max.reauth.ms':
          String(plainSessionLifetimeMs),
      };
      const { username, password } = saslUsers.plain;
      for (const listener of saslListeners) {
        settings[`listener.name.${listener}.plain.sasl.jaas.config`] =
          `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`;
        for (const scram of ['scram-sha-256', 'scram-sha-512']) {
          settings[`listener.name.${listener}.${scram}.sasl.jaas.config`] =
            'org.apache.kafka.common.security.scram.ScramLoginModule required;';
        }
      }
      settings['listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config'] =
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";';
      const scram = saslUsers.scram;
      const kafka = await ReferenceKafka.start({
        heapMb: 512,
        listeners: {
          SSL: 'SSL',
          MTLS: 'SSL',
          SASL_PLAINTEXT: 'SASL_PLAINTEXT',
          SASL_SSL: 'SASL_SSL',
        },
        settings,
        formatArguments: [
          '--add-scram',
          `SCRAM-SHA-256=[name=${scram.username},password=${scram.password}]`,
          '--add-scram',
          `SCRAM-SHA-512=[name=${scram.username},password=${scram.password}]`,
        ],
      });
      return new SecureKafka(kafka, certificates, directory);
    } catch (error) {
      await removeDirectory(directory);
      throw error;
    }
  }

  bootstrap(listener: 'SSL' | 'MTLS' | 'SASL_PLAINTEXT' | 'SASL_SSL'): string {
    return this.kafka.listenerBootstrap(listener);
  }

  async stop(): Promise<void> {
    await this.kafka.stop();
    await removeDirectory(this.directory);
  }
}

/** An unsecured JWS (alg none) as Kafka's default OAUTHBEARER validator accepts it. */
export function unsecuredJwt(subject: string, lifetimeMs: number, nowMs = Date.now()): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const issuedAt = Math.floor(nowMs / 1000);
  const header = encode({ alg: 'none' });
  const payload = encode({
    sub: subject,
    iat: issuedAt,
    exp: issuedAt + Math.ceil(lifetimeMs / 1000),
  });
  return `${header}.${payload}.`;
}
