import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  Producer,
  type RequestTrace,
  requestChannel,
  TimeoutError,
  TransactionAbortableError,
} from '@gregor/client';
import { BrokerProcess } from './harness/broker-process.js';
import { adminScenarios } from './harness/gregor-client-admin-scenarios.js';
import { readToEnd, transactionScenarios } from './harness/gregor-client-transaction-scenarios.js';
import { typedScenarios } from './harness/gregor-client-typed-scenarios.js';
import { uniqueName } from './harness/records.js';
import { ReferenceKafka } from './harness/reference-kafka.js';

/**
 * @gregor/client transactions (KIP-98, KIP-447, KIP-360, KIP-890), typed API and admin calls: the
 * same scenarios against Gregor and against Apache Kafka 4.4 (one broker of each for the file).
 */

const scenarios = { ...transactionScenarios, ...typedScenarios, ...adminScenarios };

describe('@gregor/client producer and admin against Gregor', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await BrokerProcess.start({
      label: 'broker(gregor-client-txn)',
      extraArguments: [
        '--override',
        'transaction.state.log.num.partitions=4',
        '--override',
        'offsets.topic.num.partitions=4',
      ],
    });
  });
  after(async () => {
    await broker?.dispose();
  });
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(`gregor: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: broker.bootstrap, label: 'gregor' }),
    );
  }
  test('gregor: a send timing out against a SIGSTOPped broker makes the transaction abortable; the abort bumps the epoch and the next transaction commits', {
    timeout: 60_000,
  }, async () => {
    const context = { bootstrap: broker.bootstrap, label: 'gregor' };
    const admin = new Admin({ bootstrapServers: [broker.bootstrap] });
    const topic = uniqueName('txn-timeout');
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    admin.close();
    const producer = new Producer({
      bootstrapServers: [broker.bootstrap],
      transactionalId: uniqueName('txn-timeout'),
      requestTimeoutMs: 500,
      deliveryTimeoutMs: 1_500,
      lingerMs: 0,
      retryBackoffMs: 50,
    });
    const pid = broker.pid!;
    let stopped = false;
    try {
      await producer.initTransactions();
      const initial = producer.producerIdAndEpoch;
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'before the stop' });
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      await assert.rejects(producer.send({ topic, partition: 0, value: 'lost' }), TimeoutError);
      assert.equal(producer.transactionState, 'abortable-error');
      await assert.rejects(producer.commitTransaction(), TransactionAbortableError);
      process.kill(pid, 'SIGCONT');
      stopped = false;
      await producer.abortTransaction();
      assert.deepEqual(producer.producerIdAndEpoch, {
        producerId: initial.producerId,
        producerEpoch: initial.producerEpoch + 1,
      });
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'next transaction' });
      await producer.commitTransaction();
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      await producer.close();
    }
    const records = await readToEnd(context, topic, 1, 'read_committed');
    assert.deepEqual(
      records.map((record) => record.value?.toString()),
      ['next transaction'],
    );
  });
  test('gregor: an AbortSignal ends the wait of initTransactions and commitTransaction while the broker is SIGSTOPped; calling again waits for the same call', {
    timeout: 60_000,
  }, async () => {
    const context = { bootstrap: broker.bootstrap, label: 'gregor' };
    const admin = new Admin({ bootstrapServers: [broker.bootstrap] });
    const topic = uniqueName('txn-signal');
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    admin.close();
    const producer = new Producer({
      bootstrapServers: [broker.bootstrap],
      transactionalId: uniqueName('txn-signal'),
      requestTimeoutMs: 1_000,
      retryBackoffMs: 50,
    });
    const pid = broker.pid!;
    let stopped = false;
    const stop = () => {
      process.kill(pid, 'SIGSTOP');
      stopped = true;
    };
    const resume = () => {
      process.kill(pid, 'SIGCONT');
      stopped = false;
    };
    try {
      stop();
      await assert.rejects(
        producer.initTransactions({ signal: AbortSignal.timeout(300) }),
        (error: Error) => error.name === 'TimeoutError',
      );
      assert.equal(producer.transactionState, 'initializing');
      resume();
      await producer.initTransactions();
      assert.equal(producer.transactionState, 'ready');
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'committed after the stop' });
      stop();
      await assert.rejects(
        producer.commitTransaction({ signal: AbortSignal.timeout(300) }),
        (error: Error) => error.name === 'TimeoutError',
      );
      assert.equal(producer.transactionState, 'committing');
      resume();
      await producer.commitTransaction();
      assert.equal(producer.transactionState, 'ready');
    } finally {
      if (stopped) resume();
      await producer.close();
    }
    assert.deepEqual(
      (await readToEnd(context, topic, 1, 'read_committed')).map((record) =>
        record.value?.toString(),
      ),
      ['committed after the stop'],
    );
  });
  test('gregor: with nothing in flight a send leaves at once, not after linger.ms; sends of one tick share one request', {
    timeout: 60_000,
  }, async () => {
    const admin = new Admin({ bootstrapServers: [broker.bootstrap] });
    const topic = uniqueName('no-linger-when-idle');
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
    admin.close();
    // A linger far beyond the test's deadline: only a send that does not wait for it can pass.
    const producer = new Producer({ bootstrapServers: [broker.bootstrap], lingerMs: 600_000 });
    const produceRequests: number[] = [];
    const onTrace = (message: unknown) => {
      const trace = message as RequestTrace;
      if (trace.apiName === 'Produce') produceRequests.push(trace.correlationId);
    };
    requestChannel.subscribe(onTrace);
    const withinDeadline = <T>(promise: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the send waited past 20 s')), 20_000);
      });
      return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
    };
    try {
      const offsets: bigint[] = [];
      for (const value of ['first', 'second']) {
        const metadata = await withinDeadline(producer.send({ topic, partition: 0, value }));
        offsets.push(metadata.offset);
      }
      assert.deepEqual(offsets, [0n, 1n]);
      assert.equal(produceRequests.length, 2);
      const together = await withinDeadline(
        Promise.all(
          ['third', 'fourth', 'fifth'].map((value) =>
            producer.send({ topic, partition: 0, value }),
          ),
        ),
      );
      assert.deepEqual(
        together.map((metadata) => metadata.offset),
        [2n, 3n, 4n],
      );
      assert.equal(produceRequests.length, 3);
    } finally {
      requestChannel.unsubscribe(onTrace);
      await producer.close();
    }
  });
});

describe('@gregor/client producer and admin against Apache Kafka 4.4', () => {
  let kafka: ReferenceKafka;
  before(async () => {
    kafka = await ReferenceKafka.start({
      heapMb: 512,
      settings: {
        'transaction.state.log.num.partitions': '4',
        'offsets.topic.num.partitions': '4',
        // ACLs need an authorizer (SECURITY_DISABLED otherwise); the anonymous user may do all.
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:ANONYMOUS',
      },
    });
  });
  after(async () => {
    await kafka?.stop();
  });
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(`kafka: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: kafka.bootstrap, label: 'kafka' }),
    );
  }
});
