// kafkajs's transaction examples, "Transactions" (kafka.js.org/docs/transactions,
// tulios/kafkajs docs/Transactions.md at 2.2.4): a transactional producer, one committed and one
// aborted transaction, and offsets sent within a transaction. Only the import differs from
// kafkajs; brokers and names come from the environment, and results are printed.
import kafkajs from '@gregor/client/kafkajs';

const { Kafka } = kafkajs;

const client = new Kafka({
  clientId: 'transactional-client',
  brokers: process.env.KAFKA_BROKERS.split(','),
});
const prefix = process.env.TOPIC_PREFIX ?? '';
const topic = `${prefix}transactions`;
const consumerGroupId = `${prefix}transactions-group`;
const print = (label, result) => console.log(label, JSON.stringify(result));

const producer = client.producer({
  transactionalId: `${prefix}my-transactional-producer`,
  maxInFlightRequests: 1,
  idempotent: true,
});
await producer.connect();

for (const [outcome, messages] of [
  [
    'commit',
    [
      { key: 'a', value: 'committed 1' },
      { key: 'b', value: 'committed 2' },
    ],
  ],
  ['abort', [{ key: 'a', value: 'aborted 1' }]],
]) {
  const transaction = await producer.transaction();
  try {
    await transaction.send({ topic, messages });
    if (outcome === 'abort') throw new Error('abort this one');
    await transaction.commit();
    print('committed', messages.length);
  } catch (e) {
    await transaction.abort();
    print('aborted', e.message);
  }
}

// Sending offsets
const transaction = await producer.transaction();
await transaction.send({ topic, messages: [{ key: 'c', value: 'with offsets' }] });
await transaction.sendOffsets({
  consumerGroupId,
  topics: [{ topic, partitions: [{ partition: 0, offset: '2' }] }],
});
await transaction.commit();
print('isActive after commit', transaction.isActive());
try {
  await transaction.send({ topic, messages: [{ value: 'too late' }] });
} catch (error) {
  print('send after commit', [error.name, error.message]);
}
await producer.disconnect();

const admin = client.admin();
await admin.connect();
print('fetchOffsets', await admin.fetchOffsets({ groupId: consumerGroupId, topics: [topic] }));
await admin.disconnect();
