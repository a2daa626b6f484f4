// kafkajs's admin example (tulios/kafkajs examples/admin.js at 2.2.4, without its TLS/SASL set-up
// and pretty logger) followed by calls from its documentation, "Admin Client"
// (kafka.js.org/docs/admin, docs/Admin.md). Only the import differs from kafkajs; brokers and
// names come from the environment, and results are printed so runs can be compared.
import kafkajs from '@gregor/client/kafkajs';

const { ConfigResourceTypes, Kafka, logLevel } = kafkajs;

const kafka = new Kafka({
  logLevel: logLevel.ERROR,
  brokers: process.env.KAFKA_BROKERS.split(','),
  clientId: 'test-admin-id',
});

const prefix = process.env.TOPIC_PREFIX ?? '';
const topic = `${prefix}topic-test1`;
const groupId = `${prefix}my-consumer-group`;
const print = (label, result) => console.log(label, JSON.stringify(result));

const admin = kafka.admin();

await admin.connect();
print(
  'createTopics',
  await admin.createTopics({
    topics: [{ topic }],
    waitForLeaders: true,
  }),
);
print(
  'createTopics again',
  await admin.createTopics({
    topics: [{ topic }],
    waitForLeaders: true,
  }),
);
print(
  'createPartitions',
  await admin.createPartitions({
    topicPartitions: [{ topic: topic, count: 3 }],
  }),
);

const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
print(
  'fetchTopicMetadata',
  metadata.topics.map((entry) => ({
    name: entry.name,
    partitions: entry.partitions.map((partition) => ({
      partitionErrorCode: partition.partitionErrorCode,
      partitionId: partition.partitionId,
    })),
  })),
);
print('listTopics has the topic', (await admin.listTopics()).includes(topic));

const producer = kafka.producer();
await producer.connect();
await producer.send({
  topic,
  messages: Array.from({ length: 30 }, (_, index) => ({
    value: `v${index}`,
    partition: index % 3,
  })),
});
await producer.disconnect();
print('fetchTopicOffsets', await admin.fetchTopicOffsets(topic));

await admin.setOffsets({
  groupId,
  topic,
  partitions: [
    { partition: 0, offset: '5' },
    { partition: 2, offset: '9' },
  ],
});
print('fetchOffsets', await admin.fetchOffsets({ groupId, topics: [topic] }));
await admin.resetOffsets({ groupId, topic, earliest: true });
print('fetchOffsets after resetOffsets', await admin.fetchOffsets({ groupId, topics: [topic] }));

print(
  'describeConfigs',
  (
    await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] },
      ],
    })
  ).resources.map((resource) => ({
    errorCode: resource.errorCode,
    resourceName: resource.resourceName,
    resourceType: resource.resourceType,
    configEntries: resource.configEntries.map((entry) => [entry.configName, entry.configValue]),
  })),
);
await admin.alterConfigs({
  resources: [
    {
      type: ConfigResourceTypes.TOPIC,
      name: topic,
      configEntries: [{ name: 'retention.ms', value: '86400000' }],
    },
  ],
});
print(
  'describeConfigs after alterConfigs',
  (
    await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
    })
  ).resources[0].configEntries.map((entry) => [entry.configName, entry.configValue]),
);

print(
  'listGroups has the group',
  (await admin.listGroups()).groups.some((group) => group.groupId === groupId),
);
print(
  'describeGroups',
  (await admin.describeGroups([groupId])).groups.map((group) => ({
    errorCode: group.errorCode,
    groupId: group.groupId,
    members: group.members,
    state: group.state,
  })),
);

await admin.deleteTopicRecords({
  topic,
  partitions: [
    { partition: 0, offset: '4' },
    { partition: 1, offset: '-1' },
  ],
});
print('fetchTopicOffsets after deleteTopicRecords', await admin.fetchTopicOffsets(topic));

print('deleteGroups', await admin.deleteGroups([groupId]));
try {
  await admin.deleteGroups([`${prefix}no-such-group`]);
} catch (error) {
  print(
    'deleteGroups of an unknown group',
    error.groups.map((group) => [error.name, group.groupId, group.error.type]),
  );
}
await admin.deleteTopics({ topics: [topic] });
print('deleted', !(await admin.listTopics()).includes(topic));
await admin.disconnect();
