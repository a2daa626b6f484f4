import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { kafkajsCreateTopic, newKafkajs } from './harness/kafkajs-client.js';
import { uniqueName } from './harness/records.js';
import {
  runConsumerPerformance,
  runEndToEndLatency,
  runProducerPerformance,
} from './tools/kafka-performance-tools.js';

/**
 * Smoke version of `npm run bench -- kafka-tools`: Apache Kafka 4.4's own perf tools
 * (ProducerPerformance, ConsumerPerformance, EndToEndLatency) complete against the broker process
 * and account for exactly the records asked for.
 */

const records = 20_000;
const partitions = 3;

let broker: BrokerProcess;

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(kafka-perf-tools)',
    extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
  });
});
after(async () => {
  await broker?.dispose();
});

test('kafka perf tools: ProducerPerformance acks=all then ConsumerPerformance, same record count', {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('perf-tools');
  const kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'perf-tools-setup' });
  await kafkajsCreateTopic(kafka, { topic, partitions });

  const produced = await runProducerPerformance({
    bootstrap: broker.bootstrap,
    topic,
    records,
    recordBytes: 100,
    acks: 'all',
    timeoutMs: 60_000,
  });
  assert.equal(produced.total.records, records, produced.output);
  assert.ok(produced.total.recordsPerSecond > 0, produced.output);
  // The producer's own count (--print-metrics): every record sent once, none failed or retried.
  assert.equal(produced.metrics.get('record-send-total'), records);
  assert.equal(produced.metrics.get('record-error-total'), 0);
  assert.equal(produced.metrics.get('record-retry-total'), 0);

  // The log holds exactly the records the tool reported as sent, spread over every partition.
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets.length, partitions);
    assert.equal(
      offsets.reduce((sum, partition) => sum + Number(partition.high), 0),
      records,
    );
  } finally {
    await admin.disconnect();
  }

  const consumed = await runConsumerPerformance({
    bootstrap: broker.bootstrap,
    topic,
    records,
    timeoutMs: 60_000,
  });
  assert.equal(consumed.records, records, consumed.output);
  // 100-byte values and no keys: the tool's MB are 2^20 bytes, printed with 4 decimals.
  assert.equal(consumed.mebibytes, Number(((records * 100) / 2 ** 20).toFixed(4)));
});

test('kafka perf tools: EndToEndLatency round trips, each record checked by the tool', {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('perf-tools-latency');
  await kafkajsCreateTopic(
    newKafkajs({ bootstrap: broker.bootstrap, clientId: 'perf-tools-setup' }),
    { topic, partitions: 1 },
  );
  const latency = await runEndToEndLatency({
    bootstrap: broker.bootstrap,
    topic,
    records: 200,
    recordBytes: 100,
    acks: 'all',
    timeoutMs: 60_000,
  });
  // The tool fails unless each poll returns exactly the record just sent; it prints progress
  // every 1,000 records (here only record 0) and then the summary.
  assert.match(latency.output, /^0\t[\d.]+$/m);
  assert.ok(latency.averageMs > 0 && latency.p99Ms >= latency.p50Ms, latency.output);
});
