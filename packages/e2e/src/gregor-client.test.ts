import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  ClosedError,
  ConnectionError,
  Consumer,
  murmur2,
  Producer,
  partitionForKey,
  type RecordMetadata,
  RequestTimeoutError,
  TimeoutError,
} from '@gregor/client';
import { Connection } from '@gregor/client/network/connection';
import { metadataApi } from '@gregor/protocol';
import { BrokerProcess } from './harness/broker-process.js';
import { clientScenarios } from './harness/gregor-client-scenarios.js';
import { runJava } from './harness/java.js';
import { uniqueName } from './harness/records.js';
import { ReferenceKafka } from './harness/reference-kafka.js';
import { sleep, withDeadline } from './harness/wait.js';

/**
 * @gregor/client's integration suite, the same scenarios against Gregor (the CLI as a process)
 * and against Apache Kafka 4.4 (KRaft, from its jars): passing only against our broker would
 * prove little.
 */

describe('@gregor/client against Gregor', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await BrokerProcess.start({ label: 'broker(gregor-client)' });
  });
  after(async () => {
    await broker?.dispose();
  });
  for (const [name, scenario] of Object.entries(clientScenarios)) {
    test(`gregor: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: broker.bootstrap, label: 'gregor' }),
    );
  }
});

describe('@gregor/client against Apache Kafka 4.4', () => {
  let kafka: ReferenceKafka;
  before(async () => {
    kafka = await ReferenceKafka.start({ heapMb: 512 });
  });
  after(async () => {
    await kafka?.stop();
  });
  for (const [name, scenario] of Object.entries(clientScenarios)) {
    test(`kafka: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: kafka.bootstrap, label: 'kafka' }),
    );
  }
});

test("murmur2: keys hash and land on the same partition as in Kafka 4.4's Java producer", {
  timeout: 60_000,
}, async () => {
  const partitionCount = 7;
  // Every tail length, empty, multi-byte UTF-8, long keys.
  const keys = [
    '',
    ...Array.from({ length: 400 }, (_, index) => `key-${index}`),
    ...Array.from({ length: 40 }, (_, index) => 'k'.repeat(index)),
    ...['ключ', '鍵', 'clé-é', '🔑-emoji', 'kafka'],
    ...Array.from({ length: 20 }, (_, index) => `order:${index * 7919}:${'x'.repeat(index * 13)}`),
  ];
  const result = await runJava({
    main: 'KeyPartitions.java',
    arguments: [String(partitionCount)],
    input: `${keys.join('\n')}\n`,
    heapMb: 128,
    timeoutMs: 45_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const javaLines = result.stdout.trimEnd().split('\n');
  const ours = keys.map((key) => {
    const bytes = Buffer.from(key, 'utf8');
    return `${murmur2(bytes)} ${partitionForKey(bytes, partitionCount)}`;
  });
  assert.deepEqual(ours, javaLines);
});

test('gregor: an idempotent producer rides out a broker SIGKILL and restart: every record once, in send order', {
  timeout: 120_000,
}, async () => {
  const broker = await BrokerProcess.start({ label: 'broker(gregor-client-crash)' });
  const options = {
    bootstrapServers: [broker.bootstrap],
    clientId: 'gregor-client-crash',
    requestTimeoutMs: 5_000,
    connectionTimeoutMs: 2_000,
    retryBackoffMs: 100,
  };
  const producer = new Producer({ ...options, deliveryTimeoutMs: 60_000 });
  const consumer = new Consumer({ ...options, maxWaitMs: 200 });
  try {
    const topic = uniqueName('client-crash');
    const admin = new Admin(options);
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
    admin.close();
    const recordCount = 3000;
    const sends: Promise<RecordMetadata>[] = [];
    let acknowledgedCount = 0;
    let acknowledgedAtKill = -1;
    for (let index = 0; index < recordCount; index++) {
      const send = producer.send({ topic, key: `key-${index % 50}`, value: `value-${index}` });
      sends.push(
        send.then((metadata) => {
          acknowledgedCount++;
          return metadata;
        }),
      );
      if (index % 100 === 99) await sleep(5);
      if (index === 1000) {
        acknowledgedAtKill = acknowledgedCount;
        await broker.kill('SIGKILL');
        await broker.restart();
      }
    }
    const placed = await withDeadline(Promise.all(sends), {
      timeoutMs: 90_000,
      what: 'every send acknowledged',
    });
    assert.ok(
      acknowledgedAtKill < 1001,
      `sends were pending when the broker died (${acknowledgedAtKill} acknowledged)`,
    );
    // Exactly once and in order: each partition's offsets are 0..n-1 in send order.
    const valuesByPartition = new Map<number, string[]>();
    placed.forEach((metadata, index) => {
      const list = valuesByPartition.get(metadata.partition) ?? [];
      assert.equal(
        metadata.offset,
        BigInt(list.length),
        `value-${index} at ${metadata.partition}:${metadata.offset}`,
      );
      list.push(`value-${index}`);
      valuesByPartition.set(metadata.partition, list);
    });
    consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const consumedByPartition = new Map<number, string[]>();
    let consumedCount = 0;
    await withDeadline(
      (async () => {
        for await (const record of consumer) {
          const list = consumedByPartition.get(record.partition) ?? [];
          list.push(record.value?.toString() ?? '');
          consumedByPartition.set(record.partition, list);
          if (++consumedCount === recordCount) break;
        }
      })(),
      { timeoutMs: 30_000, what: 'the records read back' },
    );
    assert.deepEqual(consumedByPartition.get(0), valuesByPartition.get(0));
    assert.deepEqual(consumedByPartition.get(1), valuesByPartition.get(1));
  } finally {
    consumer.close();
    await producer.close().catch(() => undefined);
    await broker.dispose();
  }
});

test('gregor: a request timeout closes the connection; pipelined siblings fail as ConnectionError', {
  timeout: 60_000,
}, async () => {
  const broker = await BrokerProcess.start({ label: 'broker(gregor-client-timeout)' });
  const [host, port] = broker.bootstrap.split(':');
  const connection = await Connection.open({
    host,
    port: Number(port),
    clientId: 'gregor-client-timeout',
    requestTimeoutMs: 800,
    connectionTimeoutMs: 2_000,
    maxInFlightRequests: 5,
    responseSizeBytesMax: 1 << 20,
    softwareName: 'gregor-client',
    softwareVersion: '0.1.0',
  });
  const pid = broker.pid!;
  try {
    const answered = await connection.request<{ brokers: unknown[] }>(metadataApi, { topics: [] });
    assert.equal(answered.brokers.length, 1);
    process.kill(pid, 'SIGSTOP');
    const started = Date.now();
    const first = connection.request(metadataApi, { topics: [] });
    const second = connection.request(metadataApi, { topics: [] }, { timeoutMs: 30_000 });
    await assert.rejects(first, RequestTimeoutError);
    assert.ok(Date.now() - started < 5_000, 'the timeout fired near 800 ms');
    await assert.rejects(second, ConnectionError);
    assert.equal(connection.isClosed, true);
    await assert.rejects(connection.request(metadataApi, { topics: [] }), ConnectionError);
  } finally {
    process.kill(pid, 'SIGCONT');
    connection.close();
    await broker.dispose();
  }
});

test('gregor: delivery.timeout.ms fails a send to a SIGSTOPped broker; the producer works again after SIGCONT', {
  timeout: 60_000,
}, async () => {
  const broker = await BrokerProcess.start({ label: 'broker(gregor-client-delivery)' });
  const pid = broker.pid!;
  const options = { bootstrapServers: [broker.bootstrap], clientId: 'gregor-client-delivery' };
  const producer = new Producer({
    ...options,
    requestTimeoutMs: 500,
    deliveryTimeoutMs: 1_500,
    retryBackoffMs: 50,
    lingerMs: 0,
  });
  let stopped = false;
  try {
    const topic = uniqueName('client-delivery');
    const admin = new Admin(options);
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    admin.close();
    assert.equal((await producer.send({ topic, value: 'before' })).offset, 0n);
    const epochBefore = producer.producerIdAndEpoch;
    process.kill(pid, 'SIGSTOP');
    stopped = true;
    const started = Date.now();
    await assert.rejects(producer.send({ topic, value: 'while stopped' }), TimeoutError);
    const elapsedMs = Date.now() - started;
    assert.ok(elapsedMs >= 1_400 && elapsedMs < 10_000, `failed after ${elapsedMs} ms`);
    process.kill(pid, 'SIGCONT');
    stopped = false;
    // The failed batch left a sequence gap: the producer bumps its epoch (KIP-360) and goes on.
    const after = await withDeadline(producer.send({ topic, value: 'after' }), {
      timeoutMs: 20_000,
      what: 'a send after SIGCONT',
    });
    assert.deepEqual(producer.producerIdAndEpoch, {
      producerId: epochBefore.producerId,
      producerEpoch: epochBefore.producerEpoch + 1,
    });
    assert.equal(after.partition, 0);
    assert.ok(after.offset >= 1n, `offset ${after.offset}`);
    // close({ timeoutMs }) gives up on what the stopped broker never acknowledges.
    process.kill(pid, 'SIGSTOP');
    stopped = true;
    const unanswered = producer.send({ topic, value: 'never acknowledged' });
    const closing = Date.now();
    await producer.close({ timeoutMs: 300 });
    assert.ok(Date.now() - closing < 2_000, 'close returned after its timeout');
    await assert.rejects(unanswered, ClosedError);
  } finally {
    if (stopped) process.kill(pid, 'SIGCONT');
    await producer.close().catch(() => undefined);
    await broker.dispose();
  }
});
