// The integration suite of @gregor/client, written once and run against every broker the test
// file starts (Gregor, Apache Kafka 4.4). Each scenario takes a bootstrap address and asserts
// exact content: partitions, offsets, keys, values, headers.

import assert from 'node:assert/strict';
import {
  Admin,
  type ClusterOptions,
  Consumer,
  type ConsumerRecord,
  KafkaError,
  Producer,
  type ProducerOptions,
  partitionForKey,
  type RecordMetadata,
  type RequestTrace,
  requestChannel,
  TimeoutError,
} from '@gregor/client';
import { JavaClients, recordsOf } from './java-clients.js';
import { runKcat } from './kcat.js';
import { sortByPlace, uniqueName } from './records.js';
import { sleep, withDeadline } from './wait.js';

export interface ClientScenarioContext {
  bootstrap: string;
  /** Label in topic names (`gregor`, `kafka`). */
  label: string;
}

function clusterOptions(context: ClientScenarioContext): ClusterOptions {
  return {
    bootstrapServers: [context.bootstrap],
    clientId: `gregor-client-${context.label}`,
    requestTimeoutMs: 15_000,
  };
}

export async function createTopic(
  context: ClientScenarioContext,
  prefix: string,
  partitions: number,
): Promise<string> {
  const topic = uniqueName(`${prefix}-${context.label}`);
  const admin = new Admin(clusterOptions(context));
  try {
    await admin.createTopics([{ name: topic, partitions, replicationFactor: 1 }]);
  } finally {
    admin.close();
  }
  return topic;
}

/** Reads every partition of `topic` from the start until `count` records arrived. */
export async function consumeAll(
  context: ClientScenarioContext,
  topic: string,
  partitions: number,
  count: number,
): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ ...clusterOptions(context), maxWaitMs: 200 });
  const records: ConsumerRecord[] = [];
  try {
    consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({
        topic,
        partition,
        offset: 'earliest' as const,
      })),
    );
    await withDeadline(
      (async () => {
        for await (const record of consumer) {
          records.push(record);
          if (records.length >= count) break;
        }
      })(),
      { timeoutMs: 30_000, what: `${count} records of ${topic}` },
    );
  } finally {
    consumer.close();
  }
  return records;
}

interface SentRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  metadata: RecordMetadata;
}

async function produceNumbered(
  producer: Producer,
  topic: string,
  count: number,
  valueFor: (index: number) => string = (index) => `value-${index}`,
): Promise<SentRecord[]> {
  const sends = Array.from({ length: count }, async (_, index) => {
    const key = `key-${index}`;
    const value = valueFor(index);
    const headers = { index: String(index), origin: 'gregor-client' };
    const metadata = await producer.send({ topic, key, value, headers });
    return { key, value, headers, metadata };
  });
  return Promise.all(sends);
}

/** Consumed records equal the sent ones exactly: same partition and offset, key, value, headers. */
function assertSameRecords(sent: readonly SentRecord[], consumed: readonly ConsumerRecord[]): void {
  assert.equal(consumed.length, sent.length);
  const byPlace = new Map(
    consumed.map((record) => [`${record.partition}:${record.offset}`, record]),
  );
  for (const record of sent) {
    const found = byPlace.get(`${record.metadata.partition}:${record.metadata.offset}`);
    assert.ok(
      found,
      `record ${record.key} at ${record.metadata.partition}:${record.metadata.offset}`,
    );
    assert.equal(found.key?.toString(), record.key);
    assert.equal(found.value?.toString(), record.value);
    assert.deepEqual(
      found.headers.map((header) => [header.key, header.value?.toString()]),
      Object.entries(record.headers),
    );
  }
}

/** Offsets per partition are 0..n-1 in send order (the producer kept call order). */
function assertOrderPerPartition(sent: readonly SentRecord[]): void {
  const offsetsByPartition = new Map<number, bigint[]>();
  for (const record of sent) {
    const list = offsetsByPartition.get(record.metadata.partition) ?? [];
    list.push(record.metadata.offset);
    offsetsByPartition.set(record.metadata.partition, list);
  }
  for (const [partition, offsets] of offsetsByPartition) {
    assert.deepEqual(
      offsets,
      offsets.map((_, index) => BigInt(index)),
      `partition ${partition} offsets in send order`,
    );
  }
}

export const clientScenarios: Record<string, (context: ClientScenarioContext) => Promise<void>> = {
  async 'keyed records land on the Java partition, in send order, and are consumed exactly'(
    context,
  ) {
    const partitions = 3;
    const topic = await createTopic(context, 'keyed', partitions);
    const traces: RequestTrace[] = [];
    const onTrace = (message: unknown) => traces.push(message as RequestTrace);
    requestChannel.subscribe(onTrace);
    const producer = new Producer(clusterOptions(context));
    try {
      const sent = await produceNumbered(producer, topic, 300);
      for (const record of sent) {
        assert.equal(
          record.metadata.partition,
          partitionForKey(Buffer.from(record.key), partitions),
          record.key,
        );
      }
      assertOrderPerPartition(sent);
      // Tracing: every request of the producer is published with its negotiated version.
      requestChannel.unsubscribe(onTrace);
      const versions = new Map(traces.map((trace) => [trace.apiName, trace.apiVersion]));
      assert.deepEqual([...versions.keys()].sort(), [
        'ApiVersions',
        'InitProducerId',
        'Metadata',
        'Produce',
      ]);
      // Gregor speaks Produce up to v11; Kafka 4.4 beyond the client's v12 (v13 needs topic ids).
      assert.equal(versions.get('Produce'), context.label === 'kafka' ? 12 : 11, 'Produce version');
      assert.ok(
        traces.every((trace) => trace.broker === context.bootstrap && trace.error === undefined),
      );
      assertSameRecords(sent, await consumeAll(context, topic, partitions, sent.length));
    } finally {
      requestChannel.unsubscribe(onTrace);
      await producer.close();
    }
  },

  async 'idempotent producer keeps order with 5 batches in flight per partition'(context) {
    const topic = await createTopic(context, 'idempotent', 1);
    // One record per batch and no linger: up to 5 Produce requests in flight on one partition.
    const producer = new Producer({ ...clusterOptions(context), batchSizeBytes: 1, lingerMs: 0 });
    try {
      assert.equal(producer.isIdempotent, true);
      const sent = await produceNumbered(producer, topic, 200);
      assertOrderPerPartition(sent);
      assertSameRecords(sent, await consumeAll(context, topic, 1, sent.length));
    } finally {
      await producer.close();
    }
  },

  async 'every compression codec round-trips (gzip, snappy, lz4, zstd)'(context) {
    const topic = await createTopic(context, 'compression', 1);
    const all: SentRecord[] = [];
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const producer = new Producer({ ...clusterOptions(context), compression, lingerMs: 20 });
      try {
        all.push(
          ...(await produceNumbered(
            producer,
            topic,
            50,
            (index) => `${compression}-${'x'.repeat(index)}`,
          )),
        );
      } finally {
        await producer.close();
      }
    }
    assertSameRecords(all, await consumeAll(context, topic, 1, all.length));
  },

  async 'a batch over max.message.bytes is split (MESSAGE_TOO_LARGE) and every record lands in order'(
    context,
  ) {
    const topic = uniqueName(`split-${context.label}`);
    const admin = new Admin(clusterOptions(context));
    try {
      await admin.createTopics([
        {
          name: topic,
          partitions: 1,
          replicationFactor: 1,
          configs: { 'max.message.bytes': '1500' },
        },
      ]);
    } finally {
      admin.close();
    }
    // One 16 KiB batch of 60 records of ~230 bytes: the broker refuses it until halves fit.
    const producer = new Producer({ ...clusterOptions(context), lingerMs: 50 });
    try {
      const sent = await produceNumbered(
        producer,
        topic,
        60,
        (index) => `${index}-${'s'.repeat(200)}`,
      );
      assertOrderPerPartition(sent);
      assertSameRecords(sent, await consumeAll(context, topic, 1, sent.length));
    } finally {
      await producer.close();
    }
  },

  async 'send waits for buffer.memory: the buffered bytes never exceed it'(context) {
    const topic = await createTopic(context, 'backpressure', 1);
    const bufferMemoryBytes = 8 * 1024;
    const producer = new Producer({
      ...clusterOptions(context),
      bufferMemoryBytes,
      batchSizeBytes: 2048,
    });
    let peakBytes = 0;
    const sampler = setInterval(() => {
      peakBytes = Math.max(peakBytes, producer.bufferedBytes);
    }, 1);
    try {
      const sent = await produceNumbered(
        producer,
        topic,
        200,
        (index) => `${index}-${'v'.repeat(1000)}`,
      );
      assert.ok(peakBytes > 0 && peakBytes <= bufferMemoryBytes, `peak ${peakBytes} bytes`);
      assertOrderPerPartition(sent);
      assert.equal(producer.bufferedBytes, 0);
    } finally {
      clearInterval(sampler);
      await producer.close();
    }
  },

  async 'acks 0 and 1: records are stored, acks 0 reports offset -1'(context) {
    const topic = await createTopic(context, 'acks', 1);
    const sent: SentRecord[] = [];
    for (const acks of [1, 0] as const) {
      const options: ProducerOptions = { ...clusterOptions(context), acks };
      const producer = new Producer(options);
      try {
        assert.equal(producer.isIdempotent, false);
        const records = await produceNumbered(
          producer,
          topic,
          10,
          (index) => `acks${acks}-${index}`,
        );
        if (acks === 0) for (const record of records) assert.equal(record.metadata.offset, -1n);
        sent.push(...records);
      } finally {
        await producer.close();
      }
    }
    const consumed = await consumeAll(context, topic, 1, 20);
    assert.deepEqual(
      consumed.map((record) => `${record.offset}:${record.value}`),
      sent.map((record, index) => `${index}:${record.value}`),
    );
  },

  async 'ListOffsets, seek and latest: the consumer starts where it is told'(context) {
    const topic = await createTopic(context, 'seek', 1);
    const producer = new Producer(clusterOptions(context));
    const consumer = new Consumer({ ...clusterOptions(context), maxWaitMs: 200 });
    try {
      await produceNumbered(producer, topic, 10);
      const partition = { topic, partition: 0 };
      assert.deepEqual(
        (await consumer.offsetsFor([partition], 'earliest')).map((entry) => entry.offset),
        [0n],
      );
      assert.deepEqual(
        (await consumer.offsetsFor([partition], 'latest')).map((entry) => entry.offset),
        [10n],
      );
      consumer.assign([{ ...partition, offset: 7n }]);
      const firstRound = await nextRecords(consumer, 3);
      assert.deepEqual(
        firstRound.map((record) => record.offset),
        [7n, 8n, 9n],
      );
      consumer.seek(partition, 2n);
      const fromTwo = await nextRecords(consumer, 8);
      assert.deepEqual(
        fromTwo.map((record) => record.value?.toString()),
        [2, 3, 4, 5, 6, 7, 8, 9].map((index) => `value-${index}`),
      );
      consumer.seek(partition, 'latest');
      await consumer.poll(); // resolves the latest offset (10) before more records arrive
      assert.equal(consumer.position(partition), 10n);
      await producer.send({ topic, key: 'late', value: 'after-latest' });
      const late = await nextRecords(consumer, 1);
      assert.deepEqual(
        late.map((record) => [record.offset, record.value?.toString()]),
        [[10n, 'after-latest']],
      );
    } finally {
      consumer.close();
      await producer.close();
    }
  },

  async 'committed offsets: a consumer commits its positions, the next one resumes from them'(
    context,
  ) {
    const topic = await createTopic(context, 'commits', 2);
    const groupId = uniqueName(`group-${context.label}`);
    const producer = new Producer(clusterOptions(context));
    let sent: SentRecord[];
    try {
      sent = await produceNumbered(producer, topic, 40);
    } finally {
      await producer.close();
    }
    const counts = [0, 1].map(
      (partition) => sent.filter((record) => record.metadata.partition === partition).length,
    );
    const partitions = [0, 1].map((partition) => ({ topic, partition }));
    const first = new Consumer({
      ...clusterOptions(context),
      groupId,
      maxWaitMs: 200,
      autoOffsetReset: 'earliest',
    });
    try {
      assert.deepEqual(
        (await first.committed(partitions)).map((entry) => entry.offset),
        [null, null],
      );
      // Nothing committed yet: autoOffsetReset (earliest) decides.
      first.assign(partitions.map((partition) => ({ ...partition, offset: 'committed' as const })));
      assert.equal((await nextRecords(first, 40)).length, 40);
      await first.commit();
      assert.deepEqual(
        (await first.committed(partitions)).map((entry) => entry.offset),
        counts.map(BigInt),
      );
      await first.commit([
        { ...partitions[0], offset: 5n, metadata: 'rewound' },
        { ...partitions[1], offset: 7n },
      ]);
    } finally {
      first.close();
    }
    const second = new Consumer({ ...clusterOptions(context), groupId, maxWaitMs: 200 });
    try {
      const committed = await second.committed(partitions);
      assert.deepEqual(
        committed.map((entry) => [entry.offset, entry.metadata]),
        [
          [5n, 'rewound'],
          [7n, ''], // null metadata is stored as empty, by Kafka and Gregor alike
        ],
      );
      second.assign(
        partitions.map((partition) => ({ ...partition, offset: 'committed' as const })),
      );
      const resumed = await nextRecords(second, counts[0] - 5 + counts[1] - 7);
      for (const [partition, from] of [5, 7].entries()) {
        assert.deepEqual(
          resumed.filter((record) => record.partition === partition).map((record) => record.offset),
          Array.from({ length: counts[partition] - from }, (_, index) => BigInt(from + index)),
        );
      }
    } finally {
      second.close();
    }
  },

  async 'Kafka errors carry their code, name and retriable flag'(context) {
    const topic = await createTopic(context, 'errors', 1);
    const admin = new Admin(clusterOptions(context));
    try {
      await assert.rejects(
        admin.createTopics([{ name: topic, partitions: 1 }]),
        (error: unknown) => {
          assert.ok(error instanceof KafkaError);
          assert.equal(error.code, 36);
          assert.equal(error.errorName, 'TOPIC_ALREADY_EXISTS');
          assert.equal(error.retriable, false);
          return true;
        },
      );
    } finally {
      admin.close();
    }
    const producer = new Producer(clusterOptions(context));
    try {
      await assert.rejects(
        producer.send({ topic, partition: 5, value: 'x' }),
        /partition 5 of .* does not exist/,
      );
    } finally {
      await producer.close();
    }
  },

  async 'send waits for a topic created after it; a topic that never comes fails after maxBlockMs'(
    context,
  ) {
    const topic = uniqueName(`later-${context.label}`);
    const producer = new Producer({
      ...clusterOptions(context),
      allowAutoTopicCreation: false,
      maxBlockMs: 20_000,
    });
    const admin = new Admin(clusterOptions(context));
    try {
      const pending = producer.send({
        topic,
        key: 'early',
        value: 'sent before the topic existed',
      });
      await sleep(300);
      await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
      const metadata = await pending;
      assert.equal(metadata.partition, partitionForKey(Buffer.from('early'), 2));
      assert.equal(metadata.offset, 0n);
      const impatient = new Producer({
        ...clusterOptions(context),
        allowAutoTopicCreation: false,
        maxBlockMs: 500,
      });
      try {
        await assert.rejects(
          impatient.send({ topic: uniqueName('never'), value: 'x' }),
          TimeoutError,
        );
      } finally {
        await impatient.close();
      }
    } finally {
      admin.close();
      await producer.close();
    }
  },

  async 'partitions added later are used once metadata is older than metadataMaxAgeMs'(context) {
    const topic = await createTopic(context, 'grow', 2);
    const key = Array.from({ length: 100 }, (_, index) => `grow-${index}`).find(
      (candidate) =>
        partitionForKey(Buffer.from(candidate), 2) !== partitionForKey(Buffer.from(candidate), 5),
    )!;
    const producer = new Producer({ ...clusterOptions(context), metadataMaxAgeMs: 300 });
    const admin = new Admin(clusterOptions(context));
    try {
      const before = await producer.send({ topic, key, value: 'two partitions' });
      assert.equal(before.partition, partitionForKey(Buffer.from(key), 2));
      await admin.createPartitions({ [topic]: 5 });
      assert.equal(await admin.partitionCount(topic), 5);
      await sleep(400);
      const after = await producer.send({ topic, key, value: 'five partitions' });
      assert.equal(after.partition, partitionForKey(Buffer.from(key), 5));
      assert.equal(after.offset, 0n);
    } finally {
      admin.close();
      await producer.close();
    }
  },

  async 'tombstones, empty keys, null and repeated headers come back exactly'(context) {
    const topic = await createTopic(context, 'edge-records', 1);
    const producer = new Producer(clusterOptions(context));
    try {
      const records = [
        { key: 'deleted', value: null, headers: [] },
        { key: '', value: 'empty key', headers: [{ key: 'trace', value: null }] },
        {
          key: null,
          value: Buffer.from([0, 255, 1, 254]),
          headers: [
            { key: 'dup', value: 'first' },
            { key: 'dup', value: 'second' },
            { key: 'ключ', value: Buffer.alloc(0) },
          ],
        },
      ];
      for (const record of records) await producer.send({ topic, ...record });
      const consumed = await consumeAll(context, topic, 1, records.length);
      assert.deepEqual(
        consumed.map((record) => ({
          key: record.key?.toString() ?? null,
          value: record.value === null ? null : record.value.toString('hex'),
          headers: record.headers.map((header) => [
            header.key,
            header.value?.toString('hex') ?? null,
          ]),
        })),
        [
          { key: 'deleted', value: null, headers: [] },
          { key: '', value: Buffer.from('empty key').toString('hex'), headers: [['trace', null]] },
          {
            key: null,
            value: '00ff01fe',
            headers: [
              ['dup', Buffer.from('first').toString('hex')],
              ['dup', Buffer.from('second').toString('hex')],
              ['ключ', ''],
            ],
          },
        ],
      );
    } finally {
      await producer.close();
    }
  },

  async 'the consumer reads what kcat produced, keys on the partitions murmur2_random chose'(
    context,
  ) {
    const partitions = 3;
    const topic = await createTopic(context, 'kcat-to-client', partitions);
    const lines = Array.from({ length: 60 }, (_, index) => `user-${index * 37}:payload-${index}`);
    await runKcat({
      bootstrap: context.bootstrap,
      arguments: ['-P', '-t', topic, '-K:', '-z', 'snappy', '-X', 'partitioner=murmur2_random'],
      input: `${lines.join('\n')}\n`,
      timeoutMs: 30_000,
    });
    const consumed = await consumeAll(context, topic, partitions, lines.length);
    const sentByPartition = new Map<number, string[]>();
    for (const line of lines) {
      const key = line.slice(0, line.indexOf(':'));
      const partition = partitionForKey(Buffer.from(key), partitions);
      const list = sentByPartition.get(partition) ?? [];
      list.push(line);
      sentByPartition.set(partition, list);
    }
    for (let partition = 0; partition < partitions; partition++) {
      const read = consumed
        .filter((record) => record.partition === partition)
        .map((record) => `${record.offset}|${record.key}:${record.value}`);
      const expected = (sentByPartition.get(partition) ?? []).map(
        (line, index) => `${index}|${line}`,
      );
      assert.deepEqual(read, expected, `partition ${partition}`);
    }
  },

  async 'the Java client reads what this client produced; read_committed skips its aborted transaction'(
    context,
  ) {
    const java = await JavaClients.start({ bootstrap: context.bootstrap, heapMb: 192 });
    try {
      const partitions = 2;
      const plainTopic = await createTopic(context, 'to-java', partitions);
      const producer = new Producer({ ...clusterOptions(context), compression: 'zstd' });
      let sent: SentRecord[];
      try {
        sent = await produceNumbered(producer, plainTopic, 40);
      } finally {
        await producer.close();
      }
      const readByJava = recordsOf(
        await java.run('read', { topic: plainTopic, settings: {} }, { timeoutMs: 60_000 }),
        'record',
      );
      assert.deepEqual(
        sortByPlace(readByJava),
        sortByPlace(
          sent.map((record) => ({
            partition: record.metadata.partition,
            offset: Number(record.metadata.offset),
            key: record.key,
            value: record.value,
          })),
        ),
      );

      // Java's transactional producer: transactions 1 and 3 commit, 2 aborts (20 records each).
      const transactionalTopic = await createTopic(context, 'from-java-txn', partitions);
      const events = await java.run(
        'transactions',
        {
          topic: transactionalTopic,
          partitions,
          count: 20,
          prefix: 'txn',
          transactionalId: uniqueName('txn-id'),
        },
        { timeoutMs: 90_000 },
      );
      const acknowledged = events.filter((event) => event.event === 'ack');
      const committed = recordsOf(
        acknowledged.filter((event) => event.committed === true),
        'ack',
      );
      const all = recordsOf(acknowledged, 'ack');
      assert.deepEqual([committed.length, all.length], [40, 60]);
      for (const isolationLevel of ['read_committed', 'read_uncommitted'] as const) {
        const consumer = new Consumer({
          ...clusterOptions(context),
          isolationLevel,
          maxWaitMs: 200,
        });
        try {
          const expected = isolationLevel === 'read_committed' ? committed : all;
          consumer.assign(
            [0, 1].map((partition) => ({
              topic: transactionalTopic,
              partition,
              offset: 'earliest' as const,
            })),
          );
          const records = await nextRecords(consumer, expected.length);
          assert.deepEqual(
            sortByPlace(
              records.map((record) => ({
                partition: record.partition,
                offset: Number(record.offset),
                key: record.key?.toString() ?? null,
                value: record.value?.toString() ?? null,
              })),
            ),
            sortByPlace(expected),
            isolationLevel,
          );
          // Each partition ends with three markers; the position steps over the last one.
          for (const partition of [0, 1]) {
            assert.equal(
              consumer.position({ topic: transactionalTopic, partition }),
              33n,
              `${isolationLevel} ${partition}`,
            );
          }
        } finally {
          consumer.close();
        }
      }
    } finally {
      await java.stop();
    }
  },

  async 'kcat (librdkafka) reads exactly what the client produced'(context) {
    const partitions = 2;
    const topic = await createTopic(context, 'kcat-interop', partitions);
    const producer = new Producer({ ...clusterOptions(context), compression: 'lz4' });
    let sent: SentRecord[];
    try {
      sent = await produceNumbered(producer, topic, 40);
    } finally {
      await producer.close();
    }
    const { stdout } = await runKcat({
      bootstrap: context.bootstrap,
      arguments: ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%k|%s|%h\\n'],
      timeoutMs: 30_000,
    });
    const lines = stdout
      .split('\n')
      .filter((line) => line.length > 0)
      .sort();
    const expected = sent
      .map((record) => {
        const headers = Object.entries(record.headers)
          .map(([key, value]) => `${key}=${value}`)
          .join(',');
        return `${record.metadata.partition}|${record.metadata.offset}|${record.key}|${record.value}|${headers}`;
      })
      .sort();
    assert.deepEqual(lines, expected);
  },
};

/** Takes the next `count` records from a consumer's poll rounds (with a deadline). */
async function nextRecords(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  return withDeadline(
    (async () => {
      const records: ConsumerRecord[] = [];
      while (records.length < count) records.push(...(await consumer.poll()));
      return records;
    })(),
    { timeoutMs: 20_000, what: `${count} records` },
  );
}
