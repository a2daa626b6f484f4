// @gregor/client's typed API against a real broker: serializers on the producer, deserializers
// on consumed records, AbortSignal on send and flush.

import assert from 'node:assert/strict';
import {
  Admin,
  type ClusterOptions,
  deserializeRecord,
  Producer,
  SerializationError,
  serdes,
} from '@gregor/client';
import {
  readToEnd,
  scenarioClusterOptions,
  type TransactionScenarioContext,
} from './gregor-client-transaction-scenarios.js';
import { uniqueName } from './records.js';
import { withDeadline } from './wait.js';

function clusterOptions(context: TransactionScenarioContext): ClusterOptions {
  return scenarioClusterOptions(context, 'typed');
}

interface Order {
  id: number;
  items: string[];
  total: number;
}

export const typedScenarios: Record<
  string,
  (context: TransactionScenarioContext) => Promise<void>
> = {
  async 'Producer<bigint, Order> with int64 keys and JSON values reads back through deserializers'(
    context,
  ) {
    const topic = uniqueName(`typed-${context.label}`);
    const admin = new Admin(clusterOptions(context));
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    admin.close();
    const json = serdes.json<Order>();
    const producer = new Producer<bigint, Order>({
      ...clusterOptions(context),
      keySerializer: serdes.int64,
      valueSerializer: json,
    });
    const orders: Order[] = [
      { id: 1, items: ['ключ'], total: 1.5 },
      { id: 2, items: [], total: 0 },
    ];
    try {
      await producer.send({ topic, key: 10n, value: orders[0] });
      await producer.send({ topic, key: -1n, value: orders[1] });
      await producer.send({ topic, key: null, value: null });
    } finally {
      await producer.close();
    }
    const records = await readToEnd(context, topic, 1, 'read_uncommitted');
    assert.deepEqual(
      records.map((record) => deserializeRecord(record, serdes.int64, json)),
      [
        { key: 10n, value: orders[0] },
        { key: -1n, value: orders[1] },
        { key: null, value: null },
      ],
    );
    assert.deepEqual(records[0].key, Buffer.from([0, 0, 0, 0, 0, 0, 0, 10]));
    // Bytes of another width are not an int64.
    assert.throws(
      () =>
        deserializeRecord(
          // offset, timestamp and headers are getters: a spread would not copy them.
          {
            topic: records[0].topic,
            headers: records[0].headers,
            value: records[0].value,
            key: Buffer.alloc(4),
          },
          serdes.int64,
          json,
        ),
      SerializationError,
    );
  },

  async 'AbortSignal withdraws a send waiting for metadata and ends a flush wait'(context) {
    const topic = await (async () => {
      const name = uniqueName(`signal-${context.label}`);
      const admin = new Admin(clusterOptions(context));
      await admin.createTopics([{ name, partitions: 1, replicationFactor: 1 }]);
      admin.close();
      return name;
    })();
    const producer = new Producer({
      ...clusterOptions(context),
      allowAutoTopicCreation: false,
      maxBlockMs: 30_000,
    });
    try {
      // Without a serializer a key must be bytes or text.
      await assert.rejects(
        producer.send({ topic, key: 5 as unknown as string, value: 'v' }),
        SerializationError,
      );
      const controller = new AbortController();
      const missing = uniqueName('no-such-topic');
      const waiting = producer.send(
        { topic: missing, value: 'never' },
        { signal: controller.signal },
      );
      // Sends behind it wait in call order; this one is withdrawn too.
      const behind = producer.send({ topic, value: 'behind' }, { signal: controller.signal });
      controller.abort(new Error('caller gave up'));
      await assert.rejects(waiting, /caller gave up/);
      await assert.rejects(behind, /caller gave up/);
      const aborted = AbortSignal.abort(new Error('already aborted'));
      await assert.rejects(
        producer.send({ topic, value: 'x' }, { signal: aborted }),
        /already aborted/,
      );
      await assert.rejects(producer.flush({ signal: aborted }), /already aborted/);
      // The withdrawn sends no longer hold the queue (their metadata wait runs up to maxBlockMs).
      const sent = await withDeadline(producer.send({ topic, value: 'after' }), {
        timeoutMs: 10_000,
        what: 'a send behind withdrawn ones',
      });
      assert.equal(sent.offset, 0n);
    } finally {
      await producer.close({ timeoutMs: 1_000 });
    }
    const values = (await readToEnd(context, topic, 1, 'read_uncommitted')).map((record) =>
      record.value?.toString(),
    );
    assert.deepEqual(values, ['after']);
  },
};
