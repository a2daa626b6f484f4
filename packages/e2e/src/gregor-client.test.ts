import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { murmur2, partitionForKey } from '@gregor/client';
import { BrokerProcess } from './harness/broker-process.js';
import { clientScenarios } from './harness/gregor-client-scenarios.js';
import { runJava } from './harness/java.js';
import { ReferenceKafka } from './harness/reference-kafka.js';

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
