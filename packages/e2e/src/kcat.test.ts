import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { kafkajsCreateTopic, newKafkajs } from './harness/kafkajs-client.js';
import { runKcat } from './harness/kcat.js';
import { assertContiguousOffsets, uniqueName } from './harness/records.js';

/** Debian's kcat 1.7.1 (librdkafka 2.0.2) against a real broker process. */

const partitions = 3;
const recordCount = 300;

let broker: BrokerProcess;
const topic = uniqueName('kcat');

before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(kcat)' });
  await kafkajsCreateTopic(newKafkajs({ bootstrap: broker.bootstrap, clientId: 'kcat-setup' }), {
    topic,
    partitions,
  });
});
after(async () => {
  await broker?.dispose();
});

test('kcat: metadata (-L) lists the broker and the topic with its partitions', {
  timeout: 60_000,
}, async () => {
  const { stdout } = await runKcat({
    bootstrap: broker.bootstrap,
    arguments: ['-L', '-J', '-t', topic],
    timeoutMs: 20_000,
  });
  const metadata = JSON.parse(stdout) as {
    brokers: { id: number; name: string }[];
    topics: {
      topic: string;
      partitions: { partition: number; leader: number; replicas: { id: number }[] }[];
    }[];
  };
  assert.equal(metadata.brokers.length, 1);
  assert.equal(
    metadata.brokers[0].name,
    broker.bootstrap,
    'the broker advertises the address it listens on',
  );
  const described = metadata.topics.find((entry) => entry.topic === topic);
  assert.ok(described, `topic ${topic} in ${stdout}`);
  assert.deepEqual(described.partitions.map((partition) => partition.partition).sort(), [0, 1, 2]);
  for (const partition of described.partitions) {
    assert.equal(partition.leader, metadata.brokers[0].id, 'the only broker leads every partition');
  }
});

test('kcat: produces keyed records from a file (-K:), consumes them back in order (-C -e), -Q offsets', {
  timeout: 90_000,
}, async (context) => {
  const lines = Array.from(
    { length: recordCount },
    (_, index) => `key-${index % 17}:value-${index}`,
  );
  const file = join(broker.dataDirectory, '..', `${topic}-input.txt`);
  await writeFile(file, `${lines.join('\n')}\n`);
  context.after(() => writeFile(file, ''));
  await runKcat({
    bootstrap: broker.bootstrap,
    arguments: ['-P', '-t', topic, '-K:', '-X', 'acks=all', '-l', file],
    timeoutMs: 30_000,
  });
  const { stdout } = await runKcat({
    bootstrap: broker.bootstrap,
    arguments: ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%k|%s\\n'],
    timeoutMs: 30_000,
  });
  const consumed = stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, key, value] = line.split('|');
      return { partition: Number(partition), offset: Number(offset), key, value };
    });
  assert.equal(consumed.length, recordCount, 'every record comes back once');
  assertContiguousOffsets(consumed, { from: 0, what: 'kcat consumed offsets' });
  assert.deepEqual(
    consumed.map((record) => `${record.key}:${record.value}`).sort(),
    [...lines].sort(),
    'exact keys and values',
  );
  // Per partition, records come back in the order of the file; equal keys share a partition.
  const partitionOfKey = new Map<string, number>();
  for (const partition of [0, 1, 2]) {
    const values = consumed
      .filter((record) => record.partition === partition)
      .sort((a, b) => a.offset - b.offset)
      .map((record) => Number(record.value.slice('value-'.length)));
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      `partition ${partition} in file order`,
    );
  }
  for (const record of consumed) {
    const known = partitionOfKey.get(record.key);
    assert.ok(
      known === undefined || known === record.partition,
      `key ${record.key} on one partition`,
    );
    partitionOfKey.set(record.key, record.partition);
  }

  // ListOffsets through kcat -Q: the end offset of each partition is its record count.
  const query = await runKcat({
    bootstrap: broker.bootstrap,
    arguments: ['-Q', '-t', `${topic}:0:-1`, '-t', `${topic}:1:-1`, '-t', `${topic}:2:-1`],
    timeoutMs: 20_000,
  });
  for (const partition of [0, 1, 2]) {
    const count = consumed.filter((record) => record.partition === partition).length;
    assert.match(query.stdout, new RegExp(`${topic} \\[${partition}\\] offset ${count}\\b`));
  }
});

test('kcat: records compressed with gzip, snappy, lz4 and zstd come back exactly', {
  timeout: 120_000,
}, async () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const codecTopic = uniqueName(`kcat-${codec}`);
    await kafkajsCreateTopic(newKafkajs({ bootstrap: broker.bootstrap, clientId: 'kcat-setup' }), {
      topic: codecTopic,
      partitions: 1,
    });
    // Repetitive values so every codec really compresses; several records per batch.
    const lines = Array.from(
      { length: 200 },
      (_, index) => `key-${index}:${codec}-value-${index}-${'x'.repeat(index % 50)}`,
    );
    await runKcat({
      bootstrap: broker.bootstrap,
      arguments: ['-P', '-t', codecTopic, '-K:', '-z', codec, '-X', 'linger.ms=50'],
      input: `${lines.join('\n')}\n`,
      timeoutMs: 30_000,
    });
    const { stdout } = await runKcat({
      bootstrap: broker.bootstrap,
      arguments: ['-C', '-t', codecTopic, '-o', 'beginning', '-e', '-q', '-f', '%o|%k:%s\\n'],
      timeoutMs: 30_000,
    });
    const consumed = stdout.split('\n').filter((line) => line.length > 0);
    assert.deepEqual(
      consumed,
      lines.map((line, index) => `${index}|${line}`),
      `${codec}: every record once, in order, with its exact key and value`,
    );
  }
});
