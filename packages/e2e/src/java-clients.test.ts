import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { everyCodec, runCodecScenario } from './harness/codec-scenario.js';
import {
  JavaClients,
  javaCodecClient,
  javaRoundTripClient,
  recordsOf,
} from './harness/java-clients.js';
import { runKcat } from './harness/kcat.js';
import {
  assertContiguousOffsets,
  assertInOrderPerPartition,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  uniqueName,
} from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';
import { compressionCodes, storedCompressionCodes } from './harness/stored-batches.js';

/**
 * Apache Kafka's Java client 4.4.0 (kafka-clients from the Maven registry, the jars of
 * packages/e2e/java/lib) against the broker process: producers (acks=all, idempotent,
 * transactional), every compression codec, consumer groups with the classic protocol (eager range,
 * cooperative-sticky) and KIP-848, and the Admin client across every call the broker serves.
 * One JVM (java/src/JavaClients.java) runs every command of this file.
 */

const kafkaVersion = '4.4.0';
let broker: BrokerProcess;
let java: JavaClients;

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(java-clients)',
    // A new classic group waits group.initial.rebalance.delay.ms (3 s) before its first
    // assignment; the tests start many groups, so no delay (as the reference Kafka runs).
    extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
  });
  java = await JavaClients.start({ bootstrap: broker.bootstrap });
});
after(async () => {
  await java?.stop();
  await broker?.dispose();
});

test(`Java client ${kafkaVersion}: the JVM runs the pinned kafka-clients version`, () => {
  assert.equal(java.version, kafkaVersion);
});

test(`Java client ${kafkaVersion}: acks=all producer, classic group consumer (range): exact records, commit, resume`, {
  timeout: 180_000,
}, async () => {
  await runRoundTripScenario(
    javaRoundTripClient(java, { producer: { 'enable.idempotence': 'false' }, consumer: {} }),
    { name: 'java-classic', partitions: 3, firstCount: 300, secondCount: 90 },
  );
});

test(`Java client ${kafkaVersion}: KIP-848 consumer group (group.protocol=consumer): exact records, commit, resume`, {
  timeout: 180_000,
}, async () => {
  await runRoundTripScenario(
    javaRoundTripClient(java, { producer: {}, consumer: { 'group.protocol': 'consumer' } }),
    { name: 'java-848', partitions: 3, firstCount: 300, secondCount: 90 },
  );
});

async function createTopic(topic: string, partitions: number): Promise<void> {
  await java.run('createTopic', { topic, partitions }, { timeoutMs: 30_000 });
}

async function readAll(topic: string, settings: Record<string, string> = {}) {
  const events = await java.run('read', { topic, settings }, { timeoutMs: 60_000 });
  const end = events.find((event) => event.event === 'end');
  assert.ok(end, 'read reports the end offsets it read to');
  const endOffsets = new Map(
    Object.entries(end)
      .filter(([name]) => /^\d+$/.test(name))
      .map(([partition, offset]) => [Number(partition), Number(offset)]),
  );
  return { records: recordsOf(events, 'record'), endOffsets };
}

test(`Java client ${kafkaVersion}: idempotent producer (5 in flight, small batches): every record once, contiguous offsets`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('java-idempotent');
  await createTopic(topic, 4);
  const events = await java.run(
    'produce',
    {
      topic,
      partitions: 4,
      count: 4000,
      prefix: 'idempotent',
      settings: {
        'enable.idempotence': 'true',
        'max.in.flight.requests.per.connection': '5',
        'batch.size': '2048',
        'linger.ms': '0',
      },
    },
    { timeoutMs: 90_000 },
  );
  const acknowledged = recordsOf(events, 'ack');
  assert.equal(acknowledged.length, 4000);
  assertContiguousOffsets(acknowledged, { from: 0, what: 'idempotent acks' });
  const { records, endOffsets: ends } = await readAll(topic);
  assertInOrderPerPartition(records, 'idempotent read');
  assertSameRecords(records, acknowledged, 'idempotent read');
  assert.deepEqual(ends, endOffsets(acknowledged), 'end offsets = acknowledged records');
  // Per partition, the records are in send order (idempotence keeps order with 5 in flight).
  for (const partition of [0, 1, 2, 3]) {
    const indexes = records
      .filter((record) => record.partition === partition)
      .map((record) => Number(record.key?.split('-').at(-1)));
    assert.deepEqual(
      indexes,
      [...indexes].sort((left, right) => left - right),
    );
  }
});

test(`Java client ${kafkaVersion}: transactions commit and abort; read_committed sees only committed records`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('java-txn');
  await createTopic(topic, 2);
  const events = await java.run(
    'transactions',
    { topic, partitions: 2, count: 20, prefix: 'txn', transactionalId: uniqueName('java-txn-id') },
    { timeoutMs: 90_000 },
  );
  const acknowledged = events
    .filter((event) => event.event === 'ack')
    .map((event) => ({ record: recordsOf([event], 'ack')[0], committed: event.committed }));
  assert.equal(acknowledged.length, 60, 'three transactions of 20 records');
  const committed = acknowledged.filter((ack) => ack.committed === true).map((ack) => ack.record);
  const aborted = acknowledged.filter((ack) => ack.committed === false).map((ack) => ack.record);
  assert.deepEqual(
    [committed.length, aborted.length],
    [40, 20],
    'transactions 1 and 3 committed, 2 aborted',
  );
  assert.ok(aborted.every((record) => record.key?.startsWith('txn-2-')));

  const readCommitted = await readAll(topic, { 'isolation.level': 'read_committed' });
  assertSameRecords(
    readCommitted.records,
    committed,
    'read_committed: exactly the committed records',
  );
  const readUncommitted = await readAll(topic, { 'isolation.level': 'read_uncommitted' });
  assertSameRecords(
    readUncommitted.records,
    [...committed, ...aborted],
    'read_uncommitted: committed and aborted records, no control records',
  );
  // Each transaction ends with a marker per partition: 3 markers after each partition's 30 records.
  assert.deepEqual(
    readCommitted.endOffsets,
    new Map([
      [0, 33],
      [1, 33],
    ]),
    'end offsets count the commit/abort markers',
  );
});

test(`Java client ${kafkaVersion}: consume-transform-produce with sendOffsetsToTransaction (KIP-447)`, {
  timeout: 120_000,
}, async () => {
  const input = uniqueName('java-eos-in');
  const output = uniqueName('java-eos-out');
  const group = uniqueName('java-eos-group');
  await createTopic(input, 2);
  await createTopic(output, 2);
  const produced = recordsOf(
    await java.run(
      'produce',
      { topic: input, partitions: 2, count: 50, prefix: 'eos', settings: {} },
      { timeoutMs: 60_000 },
    ),
    'ack',
  );
  const [copied] = await java.run(
    'transactionalCopy',
    { topic: input, output, group, expected: 50, transactionalId: uniqueName('java-eos-id') },
    { timeoutMs: 90_000 },
  );
  assert.equal(copied.count, 50);
  const { records } = await readAll(output, { 'isolation.level': 'read_committed' });
  assert.deepEqual(
    records.map((record) => `${record.partition}|${record.key}|${record.value}`).sort(),
    produced
      .map((record) => `${record.partition}|${record.key}|${record.value?.toUpperCase()}`)
      .sort(),
    'every input record copied once, upper-cased, to the same partition',
  );
  const [offsets] = await java.run('committed', { group }, { timeoutMs: 30_000 });
  assert.deepEqual(
    offsets.offsets,
    Object.fromEntries(
      [...endOffsets(produced)].map(([partition, end]) => [String(partition), end]),
    ),
    'the transaction committed the consumed offsets',
  );
});

test(`Java client ${kafkaVersion}: gzip, snappy, lz4 and zstd batches stored as sent, read back exactly by the Java consumer and by kcat`, {
  timeout: 180_000,
}, async () => {
  const produced = new Map<string, PlacedRecord[]>();
  await runCodecScenario(javaCodecClient(java, produced), {
    name: 'java-codec',
    dataDirectory: broker.dataDirectory,
    count: 400,
  });
  assert.equal(produced.size, everyCodec.length);
  for (const [topic, acknowledged] of produced) {
    const kcat = await runKcat({
      bootstrap: broker.bootstrap,
      arguments: ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%k|%s\\n'],
      timeoutMs: 30_000,
    });
    const readByKcat: PlacedRecord[] = kcat.stdout
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [partition, offset, key, value] = line.split('|');
        return { partition: Number(partition), offset: Number(offset), key, value };
      });
    assertSameRecords(
      readByKcat,
      acknowledged,
      `${topic}: kcat (librdkafka) reads the Java batches`,
    );
  }
});

test(`Java client ${kafkaVersion}: a topic's compression.type makes the broker recompress uncompressed batches; the Java consumer reads them exactly`, {
  timeout: 180_000,
}, async () => {
  for (const codec of everyCodec) {
    const topic = uniqueName(`java-topic-${codec}`);
    await java.run(
      'createTopic',
      { topic, partitions: 1, configs: { 'compression.type': codec } },
      { timeoutMs: 30_000 },
    );
    const acknowledged = recordsOf(
      await java.run(
        'produce',
        {
          topic,
          count: 300,
          prefix: codec,
          padding: 'compressible-',
          settings: { 'compression.type': 'none', 'linger.ms': '20' },
        },
        { timeoutMs: 60_000 },
      ),
      'ack',
    );
    const { records } = await readAll(topic);
    assertSameRecords(
      records,
      acknowledged,
      `${codec}: the Java consumer reads the recompressed batches`,
    );
    const codes = await storedCompressionCodes({
      dataDirectory: broker.dataDirectory,
      topic,
      partition: 0,
    });
    assert.deepEqual(
      [...new Set(codes)],
      [compressionCodes[codec]],
      `${codec}: stored batches recompressed`,
    );
  }
});

interface SharedGroupRun {
  split: Record<string, number[]>;
  acknowledged: PlacedRecord[];
  consumed: (PlacedRecord & { member: string })[];
}

async function runSharedGroup(options: {
  name: string;
  settings: Record<string, string>;
}): Promise<SharedGroupRun> {
  const topic = uniqueName(`java-${options.name}`);
  const group = uniqueName(`java-${options.name}-group`);
  await createTopic(topic, 4);
  const events = await java.run(
    'sharedGroup',
    {
      topic,
      partitions: 4,
      count: 200,
      prefix: options.name,
      settings: { 'group.id': group, ...options.settings },
    },
    { timeoutMs: 120_000 },
  );
  const split = events.find((event) => event.event === 'split');
  assert.ok(split, 'the members split the partitions');
  const acknowledged = recordsOf(events, 'ack');
  const consumed = events
    .filter((event) => event.event === 'record')
    .map((event) => ({ ...recordsOf([event], 'record')[0], member: String(event.member) }));
  assertSameRecords(
    consumed,
    acknowledged,
    `${options.name}: the two members read every record once`,
  );
  for (const record of consumed) {
    const owned = (split[record.member] as number[]).includes(record.partition);
    assert.ok(
      owned,
      `${options.name}: ${record.member} read partition ${record.partition} it does not own`,
    );
  }
  const [committed] = await java.run('committed', { group }, { timeoutMs: 30_000 });
  assert.deepEqual(
    committed.offsets,
    Object.fromEntries(
      [...endOffsets(acknowledged)].map(([partition, end]) => [String(partition), end]),
    ),
    `${options.name}: the members committed every partition's end`,
  );
  return {
    split: { first: split.first as number[], second: split.second as number[] },
    acknowledged,
    consumed,
  };
}

function sortedSplit(split: Record<string, number[]>): number[][] {
  return Object.values(split)
    .map((partitions) => [...partitions].sort((left, right) => left - right))
    .sort((left, right) => left[0] - right[0]);
}

test(`Java client ${kafkaVersion}: classic group, eager range assignor: two members share four partitions`, {
  timeout: 180_000,
}, async () => {
  const run = await runSharedGroup({
    name: 'range',
    settings: {
      'partition.assignment.strategy': 'org.apache.kafka.clients.consumer.RangeAssignor',
    },
  });
  assert.deepEqual(sortedSplit(run.split), [
    [0, 1],
    [2, 3],
  ]);
});

test(`Java client ${kafkaVersion}: classic group, cooperative-sticky assignor: two members share four partitions`, {
  timeout: 180_000,
}, async () => {
  const run = await runSharedGroup({
    name: 'cooperative',
    settings: {
      'partition.assignment.strategy':
        'org.apache.kafka.clients.consumer.CooperativeStickyAssignor',
    },
  });
  assert.deepEqual(
    sortedSplit(run.split).map((partitions) => partitions.length),
    [2, 2],
  );
});

for (const assignor of ['uniform', 'range']) {
  test(`Java client ${kafkaVersion}: KIP-848 group (${assignor} server-side assignor): two members share four partitions`, {
    timeout: 180_000,
  }, async () => {
    const run = await runSharedGroup({
      name: `kip848-${assignor}`,
      settings: { 'group.protocol': 'consumer', 'group.remote.assignor': assignor },
    });
    const split = sortedSplit(run.split);
    if (assignor === 'range') {
      assert.deepEqual(split, [
        [0, 1],
        [2, 3],
      ]);
    } else {
      assert.deepEqual(
        split.map((partitions) => partitions.length),
        [2, 2],
      );
    }
  });
}

// ------------------------------------------------------------------------------------------- admin

test(`Java client ${kafkaVersion}: Admin createTopics, listTopics, describeTopics, createPartitions, deleteTopics (and their errors)`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('java-admin-topics');
  const results = await java.results('adminTopics', { topic }, { timeoutMs: 45_000 });
  const partition = (number: number) => ({ partition: number, leader: 1, replicas: [1], isr: [1] });
  assert.deepEqual(results, {
    createTopics: { partitions: 2, replicationFactor: 1, 'retention.ms': '3600000' },
    'describeTopics internal': { internal: true, partitions: 50 },
    // Deliberate: internal topics cannot be deleted (Kafka 4.4 in KRaft mode deletes them).
    'deleteTopics internal': { error: 'InvalidRequestException' },
    'createTopics existing': { error: 'TopicExistsException' },
    'createTopics replication factor 3': { error: 'InvalidReplicationFactorException' },
    'createTopics invalid name': { error: 'InvalidTopicException' },
    'createTopics validateOnly': { listed: false },
    'createTopics default partitions': { partitions: 1 },
    listTopics: { topic: true, internalHidden: true },
    describeTopics: {
      name: topic,
      internal: false,
      hasTopicId: true,
      partitions: [partition(0), partition(1)],
    },
    'describeTopics by id': { name: topic },
    'describeTopics unknown': { error: 'UnknownTopicOrPartitionException' },
    createPartitions: { partitions: 4 },
    'createPartitions decrease': { error: 'InvalidPartitionsException' },
    'createPartitions unknown': { error: 'UnknownTopicOrPartitionException' },
    deleteTopics: { listed: false },
    'deleteTopics unknown': { error: 'UnknownTopicOrPartitionException' },
  });
});

test(`Java client ${kafkaVersion}: Admin describeConfigs and incrementalAlterConfigs on topics, the broker and broker loggers`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('java-admin-configs');
  const results = await java.results('adminConfigs', { topic }, { timeoutMs: 45_000 });
  const topicDefaults = {
    'segment.bytes': '1073741824 (DEFAULT_CONFIG)',
  };
  assert.deepEqual(results, {
    'describeConfigs topic': {
      ...topicDefaults,
      'cleanup.policy': 'delete (DEFAULT_CONFIG)',
      'retention.ms': '7200000 (DYNAMIC_TOPIC_CONFIG)',
      'max.message.bytes': '1048588 (DEFAULT_CONFIG)',
    },
    'describeConfigs topic synonyms': [
      'retention.ms=7200000 (DYNAMIC_TOPIC_CONFIG)',
      'log.retention.hours=168 (DEFAULT_CONFIG)',
    ],
    'incrementalAlterConfigs topic': {
      ...topicDefaults,
      'cleanup.policy': 'delete,compact (DYNAMIC_TOPIC_CONFIG)',
      'retention.ms': '600000 (DYNAMIC_TOPIC_CONFIG)',
      'max.message.bytes': '2000000 (DYNAMIC_TOPIC_CONFIG)',
    },
    'incrementalAlterConfigs topic delete and subtract': {
      ...topicDefaults,
      'cleanup.policy': 'compact (DYNAMIC_TOPIC_CONFIG)',
      'retention.ms': '604800000 (DEFAULT_CONFIG)',
      'max.message.bytes': '2000000 (DYNAMIC_TOPIC_CONFIG)',
    },
    'incrementalAlterConfigs invalid value': { error: 'InvalidConfigurationException' },
    'incrementalAlterConfigs unknown name': { error: 'InvalidConfigurationException' },
    'incrementalAlterConfigs unknown topic': { error: 'UnknownTopicOrPartitionException' },
    'describeConfigs unknown topic': { error: 'UnknownTopicOrPartitionException' },
    'describeConfigs broker': {
      'auto.create.topics.enable': 'true (DEFAULT_CONFIG)',
      'log.retention.hours': '168 (DEFAULT_CONFIG)',
      'num.partitions': '1 (DEFAULT_CONFIG)',
      'node.id': '1 (DEFAULT_CONFIG)',
    },
    'incrementalAlterConfigs broker': { 'log.retention.ms': '86400000 (DYNAMIC_BROKER_CONFIG)' },
    // Kafka answers a broker change it cannot apply with INVALID_REQUEST.
    'incrementalAlterConfigs broker read-only': { error: 'InvalidRequestException' },
    'describeConfigs broker logger': { root: 'INFO (DYNAMIC_BROKER_LOGGER_CONFIG)' },
  });
});

test(`Java client ${kafkaVersion}: Admin describeCluster, describeFeatures, describeLogDirs`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('java-admin-cluster');
  const results = await java.results('adminCluster', { topic }, { timeoutMs: 45_000 });
  assert.deepEqual(results, {
    describeCluster: {
      clusterIdPresent: true,
      controller: 1,
      nodes: [`1@${broker.bootstrap}`],
    },
    // No feature levels are advertised: the client keeps transactions V1 (no KIP-890 part 2).
    describeFeatures: { finalized: {}, supported: {} },
    describeLogDirs: { directories: 1, topicReplicas: ['0:true', '1:true'] },
  });
});

test(`Java client ${kafkaVersion}: Admin listOffsets (earliest, latest, by timestamp, max timestamp) and deleteRecords`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('java-admin-offsets');
  const results = await java.results('adminOffsets', { topic }, { timeoutMs: 45_000 });
  const withoutTimestamps = (value: unknown) => {
    const { timestamp: _timestamp, ...rest } = value as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual(results['listOffsets earliest'], { offset: 0, timestamp: -1 });
  assert.deepEqual(results['listOffsets latest'], { offset: 10, timestamp: -1 });
  assert.deepEqual(withoutTimestamps(results['listOffsets forTimestamp']), {
    offset: 3,
    expectedTimestamp: true,
  });
  assert.deepEqual(withoutTimestamps(results['listOffsets maxTimestamp']), {
    offset: 9,
    expectedTimestamp: true,
  });
  assert.deepEqual(results['listOffsets earliestLocal'], { offset: 0, timestamp: -1 });
  assert.deepEqual(results['listOffsets unknown topic'], {
    error: 'UnknownTopicOrPartitionException',
  });
  assert.deepEqual(results.deleteRecords, {
    lowWatermark: 4,
    earliest: { offset: 4, timestamp: -1 },
  });
  assert.deepEqual(results['deleteRecords beyond the end'], { error: 'OffsetOutOfRangeException' });
  assert.deepEqual(results['deleteRecords to the end'], { lowWatermark: 10 });
});

for (const groupProtocol of ['classic', 'consumer']) {
  test(`Java client ${kafkaVersion}: Admin consumer-group calls on a ${groupProtocol} group (list, describe, remove members, offsets list/alter/delete, delete)`, {
    timeout: 60_000,
  }, async () => {
    const topic = uniqueName(`java-admin-groups-${groupProtocol}`);
    const group = uniqueName(`java-admin-group-${groupProtocol}`);
    const results = await java.results(
      'adminGroups',
      { topic, group, groupProtocol },
      { timeoutMs: 45_000 },
    );
    const type = groupProtocol === 'classic' ? 'Classic' : 'Consumer';
    const assignor = groupProtocol === 'classic' ? 'range' : 'uniform';
    assert.deepEqual(results, {
      'describeConsumerGroups active': {
        group,
        state: 'Stable',
        type,
        simple: false,
        assignor,
        coordinator: 1,
        members: [{ clientId: 'admin-groups-member', partitions: [0, 1] }],
      },
      listGroups: { type, protocol: 'consumer', state: 'Stable' },
      ...(groupProtocol === 'classic'
        ? { describeClassicGroups: { state: 'Stable', protocol: 'consumer', members: 1 } }
        : {}),
      'deleteConsumerGroups non-empty': { error: 'GroupNotEmptyException' },
      'alterConsumerGroupOffsets active': { error: 'UnknownMemberIdException' },
      'listGroups by state': { stable: true, empty: false },
      ...(groupProtocol === 'classic'
        ? {
            // LeaveGroup for the member the admin client found: the group empties at once.
            removeMembersFromConsumerGroup: {
              group,
              state: 'Empty',
              type,
              simple: false,
              assignor: '',
              coordinator: 1,
              members: [],
            },
          }
        : {}),
      'describeConsumerGroups empty': {
        group,
        state: 'Empty',
        type,
        simple: false,
        // A classic group forgets its protocol when it empties; a KIP-848 group keeps its assignor.
        assignor: groupProtocol === 'classic' ? '' : 'uniform',
        coordinator: 1,
        members: [],
      },
      listConsumerGroupOffsets: { '0': 5, '1': 5 },
      alterConsumerGroupOffsets: { '0': 2, '1': 3, metadata: 'moved' },
      deleteConsumerGroupOffsets: { '0': 2 },
      'listConsumerGroupOffsets for partitions': { '0': 2, '1': -1 },
      // DescribeGroups up to v5 (as Kafka answers v5): an unknown group is described as Dead.
      'describeConsumerGroups unknown': {
        group: `${group}-missing`,
        state: 'Dead',
        type: 'Classic',
        simple: true,
        assignor: '',
        coordinator: 1,
        members: [],
      },
      deleteConsumerGroups: { listed: false, offsets: {} },
      'deleteConsumerGroups unknown': { error: 'GroupIdNotFoundException' },
    });
  });
}

test(`Java client ${kafkaVersion}: Admin listTransactions, describeTransactions, describeProducers, abortTransaction, fenceProducers, listOffsets read_committed`, {
  timeout: 60_000,
}, async () => {
  const topic = uniqueName('java-admin-txn');
  const transactionalId = uniqueName('java-admin-txn-id');
  const results = await java.results(
    'adminTransactions',
    { topic, transactionalId },
    { timeoutMs: 45_000 },
  );
  assert.deepEqual(results, {
    listTransactions: { state: 'Ongoing', producerIdPositive: true },
    'listTransactions filtered by state': { listed: false },
    describeTransactions: {
      state: 'Ongoing',
      timeoutMs: 60000,
      coordinator: 1,
      started: true,
      partitions: [`${topic}-0`],
    },
    describeProducers: [{ lastSequence: 0, openTransaction: true, transactionStartOffset: 0 }],
    // The last stable offset stops before the open transaction's record.
    'listOffsets during the transaction': { read_uncommitted: 1, read_committed: 0 },
    // WriteTxnMarkers to the partition's leader: an abort marker for the producer DescribeProducers
    // found (no coordinator epoch described yet: the admin sends 0).
    abortTransaction: { producerEpoch: 0, coordinatorEpoch: 0 },
    'describeProducers after abortTransaction': { openTransaction: false, coordinatorEpoch: 0 },
    // The abort marker follows the record, and the last stable offset moves past it.
    'listOffsets after abortTransaction': { read_uncommitted: 2, read_committed: 2 },
    // A read_committed consumer skips the aborted record and reaches the end.
    'read_committed after abortTransaction': { end: 2, position: 2, values: [] },
    'describeTransactions unknown': { error: 'TransactionalIdNotFoundException' },
    fenceProducers: { commit: 'ProducerFencedException' },
    'describeTransactions after fencing': { state: 'Empty', partitions: [] },
    // As in Kafka, the coordinator did not learn of the admin's abort: fencing still aborts its
    // (Ongoing) transaction, a second abort marker at offset 2.
    'listOffsets after fencing': { read_uncommitted: 3, read_committed: 3 },
  });
});
