// @gregor/client's TLS and SASL options against Apache Kafka 4.4 (Gregor's broker has no security
// listeners yet): one Kafka process with SSL, mutual-TLS, SASL_PLAINTEXT and SASL_SSL listeners
// serves every case. Each case produces records and reads exactly those back over the secured
// connection; wrong credentials fail fast with a typed, non-retriable error.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  type ClusterOptions,
  Consumer,
  Producer,
  type RequestTrace,
  requestChannel,
  SaslAuthenticationError,
  TlsHandshakeError,
} from '@gregor/client';
import { Kafka } from '@gregor/client/kafkajs';
import { uniqueName } from './harness/records.js';
import {
  plainSessionLifetimeMs,
  SecureKafka,
  saslUsers,
  unsecuredJwt,
} from './harness/secure-kafka.js';
import { sleep, withDeadline } from './harness/wait.js';

/** Creates a topic, sends `count` keyed records, reads them back: exact keys, values, offsets. */
async function roundTrip(options: ClusterOptions, label: string, count = 20): Promise<void> {
  const topic = uniqueName(`secure-${label}`);
  const admin = new Admin(options);
  try {
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
  } finally {
    admin.close();
  }
  const producer = new Producer(options);
  const sent: Array<{ key: string; value: string; place: string }> = [];
  try {
    const metadata = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        producer.send({ topic, key: `key-${index}`, value: `${label}-${index}` }),
      ),
    );
    metadata.forEach((entry, index) => {
      sent.push({
        key: `key-${index}`,
        value: `${label}-${index}`,
        place: `${entry.partition}:${entry.offset}`,
      });
    });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({ ...options, maxWaitMs: 200 });
  const received: Array<{ key: string; value: string; place: string }> = [];
  try {
    consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    await withDeadline(
      (async () => {
        for await (const record of consumer) {
          received.push({
            key: record.key?.toString() ?? '',
            value: record.value?.toString() ?? '',
            place: `${record.partition}:${record.offset}`,
          });
          if (received.length >= count) break;
        }
      })(),
      { timeoutMs: 30_000, what: `${count} records of ${topic}` },
    );
  } finally {
    consumer.close();
  }
  const byPlace = (left: { place: string }, right: { place: string }) =>
    left.place.localeCompare(right.place);
  assert.deepEqual(received.sort(byPlace), sent.sort(byPlace));
}

/** Collects the client's request traces while `body` runs. */
async function traced<T>(body: () => Promise<T>): Promise<{ result: T; traces: RequestTrace[] }> {
  const traces: RequestTrace[] = [];
  const onTrace = (message: unknown) => traces.push(message as RequestTrace);
  requestChannel.subscribe(onTrace);
  try {
    return { result: await body(), traces };
  } finally {
    requestChannel.unsubscribe(onTrace);
  }
}

describe('@gregor/client security against Apache Kafka 4.4', { timeout: 240_000 }, () => {
  let kafka: SecureKafka;

  before(async () => {
    kafka = await SecureKafka.start();
  });
  after(async () => {
    await kafka?.stop();
  });

  const base = (bootstrap: string): ClusterOptions => ({
    bootstrapServers: [bootstrap],
    clientId: 'gregor-client-security',
    requestTimeoutMs: 15_000,
  });

  test('SSL: produce and consume with the server verified against the test CA', async () => {
    await roundTrip(
      { ...base(kafka.bootstrap('SSL')), tls: { ca: kafka.certificates.caCertificate } },
      'ssl',
    );
  });

  test('SSL with a client certificate (mutual TLS); without one the broker refuses', async () => {
    const certificates = kafka.certificates;
    await roundTrip(
      {
        ...base(kafka.bootstrap('MTLS')),
        tls: {
          ca: certificates.caCertificate,
          cert: certificates.clientCertificate,
          key: certificates.clientKey,
        },
      },
      'mtls',
    );
    const admin = new Admin({
      ...base(kafka.bootstrap('MTLS')),
      tls: { ca: certificates.caCertificate },
    });
    try {
      const error = await admin.partitionCount('anything').then(
        () => assert.fail('connected without a client certificate'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof TlsHandshakeError, String(error));
      assert.equal(error.retriable, false);
    } finally {
      admin.close();
    }
  });

  test('SSL: a broker certificate from another CA is refused as a TLS error', async () => {
    const admin = new Admin({
      ...base(kafka.bootstrap('SSL')),
      tls: { ca: kafka.certificates.otherCaCertificate },
    });
    try {
      const error = await admin.partitionCount('anything').then(
        () => assert.fail('trusted a certificate of an unknown CA'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof TlsHandshakeError, String(error));
      assert.equal(error.retriable, false);
      assert.match(error.tlsCode ?? '', /CERT|SIGNATURE|ISSUER/);
    } finally {
      admin.close();
    }
  });

  test('SASL_SSL PLAIN: produce and consume', async () => {
    await roundTrip(
      {
        ...base(kafka.bootstrap('SASL_SSL')),
        tls: { ca: kafka.certificates.caCertificate },
        sasl: { mechanism: 'PLAIN', ...saslUsers.plain },
      },
      'sasl-ssl-plain',
    );
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    test(`SASL ${mechanism}: produce and consume (plaintext and over TLS)`, async () => {
      const sasl = { mechanism, ...saslUsers.scram };
      const { traces } = await traced(() =>
        roundTrip({ ...base(kafka.bootstrap('SASL_PLAINTEXT')), sasl }, mechanism.toLowerCase()),
      );
      // Two SaslAuthenticate round trips per connection: client-first, client-final.
      const authentications = traces.filter((trace) => trace.apiName === 'SaslAuthenticate');
      const handshakes = traces.filter((trace) => trace.apiName === 'SaslHandshake');
      assert.ok(handshakes.length > 0);
      assert.equal(authentications.length, handshakes.length * 2);
      assert.ok(authentications.every((trace) => trace.apiVersion === 2));
      await roundTrip(
        {
          ...base(kafka.bootstrap('SASL_SSL')),
          tls: { ca: kafka.certificates.caCertificate },
          sasl,
        },
        `${mechanism.toLowerCase()}-ssl`,
      );
    });
  }

  test('SASL OAUTHBEARER: the token provider is called per connection', async () => {
    let tokens = 0;
    await roundTrip(
      {
        ...base(kafka.bootstrap('SASL_PLAINTEXT')),
        sasl: {
          mechanism: 'OAUTHBEARER',
          tokenProvider: () => {
            tokens++;
            return { value: unsecuredJwt('oauth-user', 3_600_000) };
          },
        },
      },
      'oauthbearer',
    );
    assert.ok(tokens >= 1);
  });

  test('wrong credentials: SASL_AUTHENTICATION_FAILED, not retried', async () => {
    const cases: ClusterOptions['sasl'][] = [
      { mechanism: 'PLAIN', username: saslUsers.plain.username, password: 'wrong' },
      { mechanism: 'SCRAM-SHA-256', username: saslUsers.scram.username, password: 'wrong' },
      { mechanism: 'SCRAM-SHA-512', username: 'nobody', password: 'wrong' },
      { mechanism: 'OAUTHBEARER', tokenProvider: () => ({ value: 'not-a-jwt' }) },
    ];
    for (const sasl of cases) {
      const producer = new Producer({ ...base(kafka.bootstrap('SASL_PLAINTEXT')), sasl });
      try {
        const { result: error, traces } = await traced(async () => {
          const caught = await producer.send({ topic: uniqueName('never'), value: 'x' }).then(
            () => assert.fail('sent with wrong credentials'),
            (rejection: unknown) => rejection,
          );
          // Nothing keeps trying in the background after the failure was reported.
          await sleep(500);
          return caught;
        });
        assert.ok(error instanceof SaslAuthenticationError, `${sasl?.mechanism}: ${error}`);
        assert.equal(error.errorName, 'SASL_AUTHENTICATION_FAILED');
        assert.equal(error.retriable, false);
        const handshakes = traces.filter((trace) => trace.apiName === 'SaslHandshake').length;
        assert.equal(handshakes, 1, `${sasl?.mechanism}: one attempt, not a retry storm`);
      } finally {
        await producer.close();
      }
    }
  });

  test('a mechanism the listener does not enable: UNSUPPORTED_SASL_MECHANISM naming those it does', async () => {
    const admin = new Admin({
      ...base(kafka.bootstrap('SASL_SSL')),
      tls: { ca: kafka.certificates.caCertificate },
      sasl: {
        mechanism: 'OAUTHBEARER',
        tokenProvider: () => ({ value: unsecuredJwt('x', 60_000) }),
      },
    });
    try {
      const error = await admin.partitionCount('anything').then(
        () => assert.fail('authenticated with a disabled mechanism'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof SaslAuthenticationError, String(error));
      assert.equal(error.errorName, 'UNSUPPORTED_SASL_MECHANISM');
      const enabled = error.brokerMessage?.replace('the broker enables ', '').split(', ');
      assert.deepEqual(enabled?.sort(), ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
    } finally {
      admin.close();
    }
  });

  test(`re-authentication (KIP-368) within a ${plainSessionLifetimeMs} ms session lifetime keeps one connection`, async () => {
    const options: ClusterOptions = {
      ...base(kafka.bootstrap('SASL_PLAINTEXT')),
      sasl: { mechanism: 'PLAIN', ...saslUsers.plain },
    };
    const topic = uniqueName('reauthentication');
    const producer = new Producer(options);
    try {
      const { traces } = await traced(async () => {
        const offsets: bigint[] = [];
        const untilMs = Date.now() + plainSessionLifetimeMs * 3;
        for (let index = 0; Date.now() < untilMs; index++) {
          offsets.push((await producer.send({ topic, partition: 0, value: `v${index}` })).offset);
          await sleep(100);
        }
        assert.deepEqual(
          offsets,
          offsets.map((_, index) => BigInt(index)),
        );
      });
      const count = (api: string) => traces.filter((trace) => trace.apiName === api).length;
      // The first authentication plus at least two re-authentications on the same connection:
      // no reconnect (one ApiVersions), and no request ever failed.
      assert.equal(count('ApiVersions'), 1);
      assert.ok(count('SaslHandshake') >= 3, `${count('SaslHandshake')} handshakes`);
      assert.equal(count('SaslHandshake'), count('SaslAuthenticate'));
      assert.deepEqual(
        traces.filter((trace) => trace.error !== undefined),
        [],
      );
    } finally {
      await producer.close();
    }
  });

  test('the kafkajs facade maps ssl and sasl', async () => {
    const client = new Kafka({
      clientId: 'kafkajs-secure',
      brokers: [kafka.bootstrap('SASL_SSL')],
      ssl: { ca: [kafka.certificates.caCertificate] },
      sasl: { mechanism: 'scram-sha-512', ...saslUsers.scram },
    });
    const topic = uniqueName('kafkajs-secure');
    const producer = client.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          { key: 'a', value: 'one' },
          { key: 'b', value: 'two' },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = client.consumer({ groupId: uniqueName('kafkajs-secure-group') });
    await consumer.connect();
    const received: string[] = [];
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await withDeadline(
        new Promise<void>((resolve) => {
          void consumer.run({
            eachMessage: async ({ message }) => {
              received.push(`${message.key?.toString()}=${message.value?.toString()}`);
              if (received.length === 2) resolve();
            },
          });
        }),
        { timeoutMs: 30_000, what: 'two records through the kafkajs facade' },
      );
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(received.sort(), ['a=one', 'b=two']);
    const refused = new Kafka({
      brokers: [kafka.bootstrap('SASL_PLAINTEXT')],
      sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' },
      retry: { retries: 0 },
    }).admin();
    const error = await refused.connect().then(
      () => assert.fail('connected with a wrong password'),
      (caught: unknown) => caught,
    );
    assert.equal((error as Error).name, 'KafkaJSSASLAuthenticationError', String(error));
  });
});
