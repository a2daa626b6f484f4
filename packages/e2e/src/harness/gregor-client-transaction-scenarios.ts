// @gregor/client transactions and KIP-360, written once and run against every broker the test
// file starts (Gregor, Apache Kafka 4.4). Each scenario asserts exact content: the values each
// isolation level reads, committed offsets, the producer's id and epoch, the error classes.

import assert from 'node:assert/strict';
import {
  Admin,
  type ClusterOptions,
  Consumer,
  type ConsumerRecord,
  type IsolationLevel,
  KafkaError,
  Producer,
  ProducerFencedError,
  type RequestTrace,
  requestChannel,
  standaloneGroupMetadata,
  TransactionAbortableError,
  TransactionStateError,
} from '@gregor/client';
import { uniqueName } from './records.js';
import { withDeadline } from './wait.js';

export interface TransactionScenarioContext {
  bootstrap: string;
  /** Label in topic and transactional id names (`gregor`, `kafka`). */
  label: string;
}

/** Client options for a scenario; `area` names the client id (`gregor-client-<area>-<label>`). */
export function scenarioClusterOptions(
  context: TransactionScenarioContext,
  area: string,
): ClusterOptions {
  return {
    bootstrapServers: [context.bootstrap],
    clientId: `gregor-client-${area}-${context.label}`,
    requestTimeoutMs: 15_000,
  };
}

function clusterOptions(context: TransactionScenarioContext): ClusterOptions {
  return scenarioClusterOptions(context, 'txn');
}

async function createTopic(
  context: TransactionScenarioContext,
  prefix: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(`${prefix}-${context.label}`);
  const admin = new Admin(clusterOptions(context));
  try {
    await admin.createTopics([{ name: topic, partitions, replicationFactor: 1, configs }]);
  } finally {
    admin.close();
  }
  return topic;
}

/**
 * Every record of `topic` up to its current end (the high watermark; with read_committed the
 * position passes the markers and aborted data up to the last stable offset, which equals it
 * once no transaction is open).
 */
export async function readToEnd(
  context: TransactionScenarioContext,
  topic: string,
  partitions: number,
  isolationLevel: IsolationLevel,
): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ ...clusterOptions(context), maxWaitMs: 100, isolationLevel });
  const records: ConsumerRecord[] = [];
  try {
    const all = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const ends = await consumer.offsetsFor(all, 'latest');
    consumer.assign(all.map((entry) => ({ ...entry, offset: 'earliest' as const })));
    const reachedEnd = () => ends.every((end) => (consumer.position(end) ?? -1n) >= end.offset);
    await withDeadline(
      (async () => {
        while (!reachedEnd()) records.push(...(await consumer.poll()));
      })(),
      { timeoutMs: 30_000, what: `${topic} read to its end (${isolationLevel})` },
    );
  } finally {
    consumer.close();
  }
  return records;
}

function values(records: readonly ConsumerRecord[], partition?: number): string[] {
  return records
    .filter((record) => partition === undefined || record.partition === partition)
    .map((record) => record.value?.toString() ?? '<null>');
}

async function sendAll(producer: Producer, topic: string, texts: readonly string[], partition = 0) {
  return Promise.all(texts.map((value) => producer.send({ topic, partition, value })));
}

function transactionalProducer(
  context: TransactionScenarioContext,
  transactionalId: string,
): Producer {
  return new Producer({
    ...clusterOptions(context),
    transactionalId,
    transactionTimeoutMs: 20_000,
    maxBlockMs: 20_000,
  });
}

export const transactionScenarios: Record<
  string,
  (context: TransactionScenarioContext) => Promise<void>
> = {
  async 'committed transactions are read by both isolation levels, an aborted one only by read_uncommitted'(
    context,
  ) {
    const topic = await createTopic(context, 'txn-commit-abort', 2);
    const producer = transactionalProducer(context, uniqueName(`txn-ca-${context.label}`));
    const traces: RequestTrace[] = [];
    const onTrace = (message: unknown) => traces.push(message as RequestTrace);
    requestChannel.subscribe(onTrace);
    try {
      await producer.initTransactions();
      assert.equal(producer.transactionState, 'ready');
      // Kafka 4.4 finalizes transaction.version 2 (KIP-890); Gregor advertises no feature levels.
      const version = context.label === 'kafka' ? 2 : 1;
      assert.equal(producer.transactionVersion, version);
      const initial = producer.producerIdAndEpoch;
      producer.beginTransaction();
      await sendAll(producer, topic, ['a0', 'a1', 'a2'], 0);
      await sendAll(producer, topic, ['b0', 'b1'], 1);
      await producer.commitTransaction();
      // Version 2: every EndTxn bumps the epoch; version 1 keeps it.
      assert.deepEqual(producer.producerIdAndEpoch, {
        producerId: initial.producerId,
        producerEpoch: initial.producerEpoch + (version === 2 ? 1 : 0),
      });
      producer.beginTransaction();
      // Not awaited before the abort: some may still be queued, and those fail.
      const aborted = sendAll(producer, topic, ['x0', 'x1'], 0).catch(() => 'rejected');
      await sendAll(producer, topic, ['y0'], 1);
      await producer.abortTransaction();
      await aborted;
      producer.beginTransaction();
      await sendAll(producer, topic, ['a3'], 0);
      await producer.commitTransaction();
      assert.equal(producer.transactionState, 'ready');
      requestChannel.unsubscribe(onTrace);
      const versions = new Map<string, Set<number>>();
      for (const trace of traces) {
        const set = versions.get(trace.apiName) ?? new Set<number>();
        set.add(trace.apiVersion);
        versions.set(trace.apiName, set);
      }
      // Version 2 adds partitions with Produce v12 and ends with EndTxn v5; version 1 stays below.
      assert.deepEqual([...(versions.get('Produce') ?? [])], [version === 2 ? 12 : 11]);
      assert.deepEqual([...(versions.get('EndTxn') ?? [])], [version === 2 ? 5 : 4]);
      assert.equal(versions.has('AddPartitionsToTxn'), version === 1);
    } finally {
      requestChannel.unsubscribe(onTrace);
      await producer.close();
    }
    const committed = await readToEnd(context, topic, 2, 'read_committed');
    assert.deepEqual(values(committed, 0), ['a0', 'a1', 'a2', 'a3']);
    assert.deepEqual(values(committed, 1), ['b0', 'b1']);
    const uncommitted = await readToEnd(context, topic, 2, 'read_uncommitted');
    const partition0 = values(uncommitted, 0);
    // x0/x1 may have been dropped before they were sent; whatever was sent is read uncommitted.
    assert.deepEqual(
      partition0.filter((value) => !value.startsWith('x')),
      ['a0', 'a1', 'a2', 'a3'],
    );
    assert.ok(
      ['', 'x0', 'x0x1'].includes(partition0.filter((value) => value.startsWith('x')).join('')),
    );
    assert.deepEqual(values(uncommitted, 1), ['b0', 'b1', 'y0']);
    // Offsets: data, then one commit/abort marker per transaction and partition.
    assert.deepEqual(
      committed.filter((record) => record.partition === 1).map((record) => record.offset),
      [0n, 1n],
    );
    const y0 = uncommitted.find((record) => record.value?.toString() === 'y0');
    assert.equal(y0?.offset, 3n, 'y0 follows b0, b1 and the commit marker');
  },

  async 'sendOffsetsToTransaction: offsets become visible only when the transaction commits'(
    context,
  ) {
    const topic = await createTopic(context, 'txn-offsets', 1);
    const groupId = uniqueName(`txn-group-${context.label}`);
    const group = standaloneGroupMetadata(groupId);
    const producer = transactionalProducer(context, uniqueName(`txn-off-${context.label}`));
    const consumer = new Consumer({ ...clusterOptions(context), groupId });
    try {
      await producer.initTransactions();
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'aborted' });
      await producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 7n }], group);
      await producer.abortTransaction();
      assert.deepEqual(
        (await consumer.committed([{ topic, partition: 0 }])).map((entry) => entry.offset),
        [null],
      );
      producer.beginTransaction();
      await producer.sendOffsetsToTransaction(
        [{ topic, partition: 0, offset: 11n, metadata: 'eleven' }],
        group,
      );
      await producer.commitTransaction();
      const committed = await consumer.committed([{ topic, partition: 0 }]);
      assert.deepEqual(
        committed.map((entry) => [entry.offset, entry.metadata]),
        [[11n, 'eleven']],
      );
    } finally {
      consumer.close();
      await producer.close();
    }
    assert.deepEqual(values(await readToEnd(context, topic, 1, 'read_committed')), []);
  },

  async 'a second producer with the same transactional id fences the first (ProducerFencedError)'(
    context,
  ) {
    const topic = await createTopic(context, 'txn-fenced', 1);
    const transactionalId = uniqueName(`txn-fence-${context.label}`);
    const first = transactionalProducer(context, transactionalId);
    const second = transactionalProducer(context, transactionalId);
    try {
      await first.initTransactions();
      const firstEpoch = first.producerIdAndEpoch;
      first.beginTransaction();
      await first.send({ topic, partition: 0, value: 'from the zombie' });
      // The second instance aborts the first one's open transaction and takes a newer epoch.
      await second.initTransactions();
      assert.equal(second.producerIdAndEpoch.producerId, firstEpoch.producerId);
      assert.ok(second.producerIdAndEpoch.producerEpoch > firstEpoch.producerEpoch);
      const commit = first.commitTransaction();
      await assert.rejects(commit, ProducerFencedError);
      const error = await commit.catch((failure: unknown) => failure);
      assert.ok(error instanceof ProducerFencedError);
      assert.ok(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'].includes(error.errorName));
      assert.equal(first.transactionState, 'fatal-error');
      await assert.rejects(
        first.send({ topic, partition: 0, value: 'after' }),
        ProducerFencedError,
      );
      assert.throws(() => first.beginTransaction(), ProducerFencedError);
      second.beginTransaction();
      await second.send({ topic, partition: 0, value: 'from the live instance' });
      await second.commitTransaction();
    } finally {
      await first.close();
      await second.close();
    }
    assert.deepEqual(values(await readToEnd(context, topic, 1, 'read_committed')), [
      'from the live instance',
    ]);
  },

  async 'transactional calls out of order throw TransactionStateError; a failed send makes the transaction abortable'(
    context,
  ) {
    const topic = await createTopic(context, 'txn-states', 1, { 'max.message.bytes': '1000' });
    const producer = transactionalProducer(context, uniqueName(`txn-st-${context.label}`));
    try {
      await assert.rejects(producer.send({ topic, value: 'too early' }), TransactionStateError);
      assert.throws(() => producer.beginTransaction(), TransactionStateError);
      await producer.initTransactions();
      await assert.rejects(producer.commitTransaction(), TransactionStateError);
      await assert.rejects(producer.send({ topic, value: 'outside' }), TransactionStateError);
      const before = producer.producerIdAndEpoch;
      producer.beginTransaction();
      assert.throws(() => producer.beginTransaction(), TransactionStateError);
      await producer.send({ topic, partition: 0, value: 'small' });
      const tooLarge = await producer
        .send({ topic, partition: 0, value: 'L'.repeat(5000) })
        .catch((error: unknown) => error);
      assert.ok(tooLarge instanceof KafkaError, String(tooLarge));
      assert.equal(tooLarge.errorName, 'MESSAGE_TOO_LARGE');
      assert.equal(producer.transactionState, 'abortable-error');
      await assert.rejects(producer.commitTransaction(), TransactionAbortableError);
      await assert.rejects(producer.send({ topic, value: 'x' }), TransactionAbortableError);
      await producer.abortTransaction();
      // KIP-360: the abort bumped the epoch of the same producer id.
      const after = producer.producerIdAndEpoch;
      assert.equal(after.producerId, before.producerId);
      assert.equal(after.producerEpoch, before.producerEpoch + 1);
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'next transaction' });
      await producer.commitTransaction();
    } finally {
      await producer.close();
    }
    assert.deepEqual(values(await readToEnd(context, topic, 1, 'read_committed')), [
      'next transaction',
    ]);
  },

  async 'KIP-447: offsets sent with a stale generation are fenced (abortable); the live generation commits'(
    context,
  ) {
    const topic = await createTopic(context, 'txn-kip447', 1);
    const groupId = uniqueName(`txn-member-${context.label}`);
    const consumer = new Consumer({
      ...clusterOptions(context),
      groupId,
      groupProtocol: 'classic',
      maxWaitMs: 100,
      enableAutoCommit: false,
    });
    const producer = transactionalProducer(context, uniqueName(`txn-447-${context.label}`));
    try {
      consumer.subscribe([topic]);
      await withDeadline(
        (async () => {
          while (consumer.assignment().length === 0) await consumer.poll();
        })(),
        { timeoutMs: 30_000, what: 'the group assignment' },
      );
      const live = consumer.groupMetadata();
      assert.ok(live.generationId >= 1 && live.memberId !== '', JSON.stringify(live));
      await producer.initTransactions();
      producer.beginTransaction();
      const stale = { ...live, generationId: live.generationId + 5 };
      const fenced = await producer
        .sendOffsetsToTransaction([{ topic, partition: 0, offset: 3n }], stale)
        .catch((error: unknown) => error);
      assert.ok(fenced instanceof TransactionAbortableError, String(fenced));
      assert.ok(fenced.cause instanceof KafkaError);
      assert.equal(fenced.cause.errorName, 'ILLEGAL_GENERATION');
      await producer.abortTransaction();
      producer.beginTransaction();
      await producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 4n }], live);
      await producer.commitTransaction();
      assert.deepEqual(
        (await consumer.committed([{ topic, partition: 0 }])).map((entry) => entry.offset),
        [4n],
      );
    } finally {
      await consumer.close();
      await producer.close();
    }
  },

  async "DeleteRecords past an idempotent producer's last offset: its later sends land in order, no epoch bump needed"(
    context,
  ) {
    const topic = await createTopic(context, 'kip360-delete', 1);
    const producer = new Producer({ ...clusterOptions(context), lingerMs: 0 });
    const admin = new Admin(clusterOptions(context));
    try {
      const first = await sendAll(producer, topic, ['d0', 'd1', 'd2']);
      const before = producer.producerIdAndEpoch;
      assert.deepEqual(
        first.map((metadata) => metadata.offset),
        [0n, 1n, 2n],
      );
      // The log now starts after everything this producer wrote: brokers may drop its state.
      assert.deepEqual(
        (await admin.deleteRecords([{ topic, partition: 0, offset: -1n }])).map(
          (entry) => entry.lowWatermark,
        ),
        [3n],
      );
      const later = [];
      for (const value of ['d3', 'd4', 'd5'])
        later.push(await producer.send({ topic, partition: 0, value }));
      assert.deepEqual(
        later.map((metadata) => metadata.offset),
        [3n, 4n, 5n],
      );
      // Both brokers accept the producer's next sequence although its batches are gone.
      assert.deepEqual(producer.producerIdAndEpoch, before);
    } finally {
      admin.close();
      await producer.close();
    }
    assert.deepEqual(values(await readToEnd(context, topic, 1, 'read_uncommitted')), [
      'd3',
      'd4',
      'd5',
    ]);
  },

  async 'KIP-360: an idempotent producer bumps its epoch after a batch fails for good and goes on in order'(
    context,
  ) {
    const topic = await createTopic(context, 'kip360', 1, { 'max.message.bytes': '1000' });
    const producer = new Producer({ ...clusterOptions(context), lingerMs: 0 });
    try {
      const first = await sendAll(producer, topic, ['v0', 'v1', 'v2']);
      assert.deepEqual(
        first.map((metadata) => metadata.offset),
        [0n, 1n, 2n],
      );
      const before = producer.producerIdAndEpoch;
      // One record over max.message.bytes fails for good: its sequence will never land.
      const failed = await producer
        .send({ topic, partition: 0, value: 'L'.repeat(5000) })
        .catch((error: unknown) => error);
      assert.ok(failed instanceof KafkaError && failed.errorName === 'MESSAGE_TOO_LARGE');
      const later = await sendAll(producer, topic, ['v3', 'v4', 'v5', 'v6']);
      assert.deepEqual(
        later.map((metadata) => metadata.offset),
        [3n, 4n, 5n, 6n],
      );
      const after = producer.producerIdAndEpoch;
      assert.equal(after.producerId, before.producerId, 'same producer id');
      assert.equal(after.producerEpoch, before.producerEpoch + 1, 'next epoch');
    } finally {
      await producer.close();
    }
    assert.deepEqual(values(await readToEnd(context, topic, 1, 'read_uncommitted')), [
      'v0',
      'v1',
      'v2',
      'v3',
      'v4',
      'v5',
      'v6',
    ]);
  },
};
