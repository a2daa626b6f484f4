// The producer examples of kafkajs's documentation, "Producing Messages" (kafka.js.org/docs/producing,
// tulios/kafkajs docs/Producing.md at 2.2.4), in order, run as one program. Only the import differs
// from kafkajs; the brokers and a topic-name prefix come from the environment where the
// documentation has placeholders, and each call's result is printed so runs can be compared.
import kafkajs from '@gregor/client/kafkajs';

const { CompressionTypes, Kafka, Partitioners } = kafkajs;

const kafka = new Kafka({ clientId: 'my-app', brokers: process.env.KAFKA_BROKERS.split(',') });
const prefix = process.env.TOPIC_PREFIX ?? '';
const print = (label, result) => console.log(label, JSON.stringify(result));

const producer = kafka.producer();

await producer.connect();
print(
  'send',
  await producer.send({
    topic: `${prefix}topic-name`,
    messages: [
      { key: 'key1', value: 'hello world' },
      { key: 'key2', value: 'hey hey!' },
    ],
  }),
);

// Example with a defined partition
print(
  'send with partitions',
  await producer.send({
    topic: `${prefix}topic-name`,
    messages: [
      { key: 'key1', value: 'hello world', partition: 0 },
      { key: 'key2', value: 'hey hey!', partition: 1 },
    ],
  }),
);

// Headers
print(
  'send with headers',
  await producer.send({
    topic: `${prefix}topic-name`,
    messages: [
      {
        key: 'key1',
        value: 'hello world',
        headers: {
          'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67',
          'system-id': 'my-system',
        },
      },
    ],
  }),
);

// Producing to multiple topics
const topicMessages = [
  {
    topic: `${prefix}topic-a`,
    messages: [{ key: 'key', value: 'hello topic-a' }],
  },
  {
    topic: `${prefix}topic-b`,
    messages: [{ key: 'key', value: 'hello topic-b' }],
  },
  {
    topic: `${prefix}topic-c`,
    messages: [
      {
        key: 'key',
        value: 'hello topic-c',
        headers: {
          'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67',
        },
      },
    ],
  },
];
print('sendBatch', await producer.sendBatch({ topicMessages }));

// Compression: GZIP
print(
  'send gzip',
  await producer.send({
    topic: `${prefix}topic-name`,
    compression: CompressionTypes.GZIP,
    messages: [
      { key: 'key1', value: 'hello world' },
      { key: 'key2', value: 'hey hey!' },
    ],
  }),
);
await producer.disconnect();

// Custom partitioner
const MyPartitioner = () => {
  return ({ topic, partitionMetadata, message }) => {
    // select a partition based on some logic
    // return the partition number
    return 0;
  };
};
const custom = kafka.producer({ createPartitioner: MyPartitioner });
await custom.connect();
print(
  'send with MyPartitioner',
  await custom.send({ topic: `${prefix}topic-name`, messages: [{ key: 'key2', value: 'mine' }] }),
);
await custom.disconnect();

// The partitioner kafkajs used before 2.0
const legacy = kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner });
await legacy.connect();
print(
  'send with LegacyPartitioner',
  await legacy.send({
    topic: `${prefix}topic-name`,
    messages: ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff'].map((key) => ({ key, value: key })),
  }),
);
await legacy.disconnect();
