import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { startJava } from './harness/java.js';
import { kafkaTool, outputLines, runKafkaTool, tableRows } from './harness/kafka-tools.js';
import type { ManagedProcess } from './harness/managed-process.js';
import { assertContiguousOffsets, uniqueName } from './harness/records.js';
import { makeTemporaryDirectory, removeDirectory } from './harness/temporary-directory.js';

/**
 * Apache Kafka 4.4.0's command-line tools (their main classes from the Maven jars, as the
 * `bin/kafka-*.sh` scripts run them) against the broker process, each output checked.
 * kafka-producer-perf-test and kafka-consumer-perf-test are covered by kafka-performance-tools.test.ts;
 * here the producer perf tool runs transactions for kafka-transactions to find.
 */

const kafkaVersion = '4.4.0';
let broker: BrokerProcess;
let scratch: string;
const started: ManagedProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(kafka-tools)',
    extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
  });
  scratch = await makeTemporaryDirectory('kafka-tools');
});
after(async () => {
  await Promise.all(started.map((process) => process.stop({ signal: 'SIGKILL' })));
  await broker?.dispose();
  if (scratch) await removeDirectory(scratch);
});

function tool(
  main: string,
  parameters: readonly string[],
  options: { input?: string; expectFailure?: boolean } = {},
) {
  return runKafkaTool({
    main,
    arguments: ['--bootstrap-server', broker.bootstrap, ...parameters],
    ...options,
  });
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const { stdout } = await tool(kafkaTool.topics, [
    '--create',
    '--topic',
    topic,
    '--partitions',
    String(partitions),
  ]);
  assert.match(stdout, new RegExp(`Created topic ${topic}\\.`));
}

/** GetOffsetShell's `topic:partition:offset` lines as partition → offset. */
async function offsetsAt(topic: string, time: string): Promise<Map<number, number>> {
  const { stdout } = await tool(kafkaTool.getOffsets, ['--topic', topic, '--time', time]);
  return new Map(
    outputLines(stdout).map((line) => {
      const [name, partition, offset] = line.split(':');
      assert.equal(name, topic, line);
      return [Number(partition), Number(offset)];
    }),
  );
}

/** Produces `lines` (`key|value`) with the console producer. */
async function consoleProduce(topic: string, lines: readonly string[]): Promise<void> {
  await tool(
    kafkaTool.consoleProducer,
    [
      '--topic',
      topic,
      '--reader-property',
      'parse.key=true',
      '--reader-property',
      'key.separator=|',
      '--command-property',
      'acks=all',
    ],
    { input: `${lines.join('\n')}\n` },
  );
}

interface ConsoleRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Consumes `count` records from the beginning with the console consumer (in `group` if given). */
async function consoleConsume(
  topic: string,
  count: number,
  options: { group?: string } = {},
): Promise<ConsoleRecord[]> {
  const { stdout } = await tool(kafkaTool.consoleConsumer, [
    '--topic',
    topic,
    '--from-beginning',
    '--max-messages',
    String(count),
    '--timeout-ms',
    '30000',
    ...(options.group ? ['--group', options.group] : []),
    ...['print.partition=true', 'print.offset=true', 'print.key=true', 'key.separator=|'].flatMap(
      (property) => ['--formatter-property', property],
    ),
  ]);
  return outputLines(stdout)
    .filter((line) => line.startsWith('Partition:'))
    .map((line) => {
      const match = /^Partition:(\d+)\|Offset:(\d+)\|([^|]*)\|(.*)$/.exec(line);
      assert.ok(match, `console consumer line ${line}`);
      return {
        partition: Number(match[1]),
        offset: Number(match[2]),
        key: match[3],
        value: match[4],
      };
    });
}

/** kafka-producer-perf-test: `count` records of `recordSizeBytes` as fast as it can. */
function producerPerformance(
  run: { topic: string; count: number; recordSizeBytes: number },
  properties: readonly string[],
  extraArguments: readonly string[] = [],
) {
  return runKafkaTool({
    main: kafkaTool.producerPerformance,
    arguments: [
      ...['--topic', run.topic, '--num-records', String(run.count)],
      ...['--record-size', String(run.recordSizeBytes), '--throughput', '-1'],
      ...extraArguments,
      // One flag, several producer properties (the option takes one or more values).
      ...['--command-property', `bootstrap.servers=${broker.bootstrap}`, ...properties],
    ],
  });
}

test(`kafka-topics ${kafkaVersion} (TopicCommand): create, describe, list, alter partitions, delete`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-topics');
  const created = await tool(kafkaTool.topics, [
    '--create',
    '--topic',
    topic,
    '--partitions',
    '3',
    '--replication-factor',
    '1',
    '--config',
    'retention.ms=3600000',
  ]);
  assert.equal(created.stdout.trim(), `Created topic ${topic}.`);
  const again = await tool(kafkaTool.topics, ['--create', '--topic', topic, '--partitions', '1'], {
    expectFailure: true,
  });
  assert.match(
    again.stdout + again.stderr,
    new RegExp(`TopicExistsException: Topic '${topic}' already exists\\.`),
  );

  const describe = async () => {
    const { stdout } = await tool(kafkaTool.topics, ['--describe', '--topic', topic]);
    return outputLines(stdout);
  };
  // TopicCommand describes through DescribeTopicPartitions, which the broker serves: its ELR
  // lists are empty (printed as nothing), where Metadata, which carries none, printed N/A.
  const partitionLine = (partition: number) =>
    `\tTopic: ${topic}\tPartition: ${partition}\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr:`;
  const described = await describe();
  assert.match(
    described[0],
    new RegExp(
      `^Topic: ${topic}\\tTopicId: \\S{22}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: retention.ms=3600000$`,
    ),
  );
  assert.deepEqual(described.slice(1), [0, 1, 2].map(partitionLine));

  const listed = outputLines((await tool(kafkaTool.topics, ['--list'])).stdout);
  assert.ok(listed.includes(topic), `--list names ${topic}: ${listed.join(', ')}`);
  const listedExternal = outputLines(
    (await tool(kafkaTool.topics, ['--list', '--exclude-internal'])).stdout,
  );
  assert.ok(!listedExternal.some((name) => name.startsWith('__')), '--exclude-internal');

  await tool(kafkaTool.topics, ['--alter', '--topic', topic, '--partitions', '5']);
  const altered = await describe();
  assert.match(altered[0], /\tPartitionCount: 5\t/);
  assert.deepEqual(altered.slice(1), [0, 1, 2, 3, 4].map(partitionLine));
  const shrink = await tool(kafkaTool.topics, ['--alter', '--topic', topic, '--partitions', '2'], {
    expectFailure: true,
  });
  assert.match(shrink.stdout + shrink.stderr, /InvalidPartitionsException/);

  await tool(kafkaTool.topics, ['--delete', '--topic', topic]);
  const afterDelete = outputLines((await tool(kafkaTool.topics, ['--list'])).stdout);
  assert.ok(!afterDelete.includes(topic), `${topic} deleted`);
  const missing = await tool(kafkaTool.topics, ['--describe', '--topic', topic], {
    expectFailure: true,
  });
  assert.match(missing.stdout + missing.stderr, new RegExp(`Topic '${topic}' does not exist`));
});

test(`kafka-console-producer and kafka-console-consumer ${kafkaVersion}: keyed lines round trip exactly`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-console');
  await createTopic(topic, 3);
  const lines = Array.from(
    { length: 150 },
    (_, index) => `key-${index % 11}|value ${index}: with spaces, a colon and ünïcödé`,
  );
  await consoleProduce(topic, lines);
  const consumed = await consoleConsume(topic, lines.length);
  assert.equal(consumed.length, lines.length, 'every line comes back once');
  assert.deepEqual(
    consumed.map((record) => `${record.key}|${record.value}`).sort(),
    [...lines].sort(),
    'exact keys and values',
  );
  assertContiguousOffsets(
    consumed.map((record) => ({ ...record, key: record.key, value: record.value })),
    { from: 0, what: 'console consumer offsets' },
  );
  const partitionOfKey = new Map<string, number>();
  for (const record of consumed) {
    const known = partitionOfKey.get(record.key) ?? record.partition;
    assert.equal(record.partition, known, `key ${record.key} stays on one partition`);
    partitionOfKey.set(record.key, record.partition);
  }
  for (const partition of [0, 1, 2]) {
    const order = consumed
      .filter((record) => record.partition === partition)
      .sort((left, right) => left.offset - right.offset)
      .map((record) => Number(/^value (\d+):/.exec(record.value)?.[1]));
    assert.deepEqual(
      order,
      [...order].sort((left, right) => left - right),
      `partition ${partition} in input order`,
    );
  }
});

test(`kafka-consumer-groups ${kafkaVersion}: --list, --describe with lag, --reset-offsets (earliest, offset), --delete`, {
  timeout: 180_000,
}, async () => {
  const topic = uniqueName('tool-groups');
  const group = uniqueName('tool-group');
  await createTopic(topic, 3);
  await consoleProduce(
    topic,
    Array.from({ length: 60 }, (_, index) => `key-${index}|value-${index}`),
  );
  const ends = await offsetsAt(topic, '-1');
  assert.equal(
    [...ends.values()].reduce((sum, end) => sum + end, 0),
    60,
  );
  await consoleConsume(topic, 60, { group });

  const groups = outputLines((await tool(kafkaTool.consumerGroups, ['--list'])).stdout);
  assert.ok(groups.includes(group), `--list names ${group}`);

  const describe = async () => {
    const { stdout } = await tool(kafkaTool.consumerGroups, ['--describe', '--group', group]);
    return tableRows(stdout, { firstColumn: 'GROUP' })
      .map((row) => ({
        partition: Number(row.PARTITION),
        current: row['CURRENT-OFFSET'],
        end: row['LOG-END-OFFSET'],
        lag: row.LAG,
        consumer: row['CONSUMER-ID'],
      }))
      .sort((left, right) => left.partition - right.partition);
  };
  const expectedRows = (current: (partition: number) => number, consumer = '-') =>
    [0, 1, 2].map((partition) => {
      const end = ends.get(partition) ?? 0;
      return {
        partition,
        current: String(current(partition)),
        end: String(end),
        lag: String(end - current(partition)),
        consumer,
      };
    });
  assert.deepEqual(
    await describe(),
    expectedRows((partition) => ends.get(partition) ?? 0),
    'after consuming everything: lag 0',
  );

  const reset = async (target: string[], scope: string[], mode: '--execute' | '--dry-run') => {
    const { stdout } = await tool(kafkaTool.consumerGroups, [
      '--reset-offsets',
      '--group',
      group,
      ...scope,
      ...target,
      mode,
    ]);
    return tableRows(stdout, { firstColumn: 'GROUP' })
      .map((row) => `${row.PARTITION}:${row['NEW-OFFSET']}`)
      .sort();
  };
  assert.deepEqual(await reset(['--to-earliest'], ['--topic', topic], '--dry-run'), [
    '0:0',
    '1:0',
    '2:0',
  ]);
  assert.deepEqual(
    await describe(),
    expectedRows((partition) => ends.get(partition) ?? 0),
    'a dry run changes nothing',
  );
  assert.deepEqual(await reset(['--to-earliest'], ['--topic', topic], '--execute'), [
    '0:0',
    '1:0',
    '2:0',
  ]);
  assert.deepEqual(
    await describe(),
    expectedRows(() => 0),
    'after --to-earliest: lag = end',
  );
  assert.deepEqual(await reset(['--to-offset', '5'], ['--topic', `${topic}:1`], '--execute'), [
    '1:5',
  ]);
  assert.deepEqual(
    await describe(),
    expectedRows((partition) => (partition === 1 ? 5 : 0)),
    'after --to-offset 5 on partition 1',
  );

  // An active member: the group cannot be deleted or reset, and --describe names the member.
  const member = startJava({
    main: kafkaTool.consoleConsumer,
    arguments: ['--bootstrap-server', broker.bootstrap, '--topic', topic, '--group', group],
    heapMb: 128,
    label: 'console-consumer(member)',
  });
  started.push(member);
  const remaining = 60 - 5;
  let printed = 0;
  await member.waitForLine(
    (_line, stream) => (stream === 'stdout' && ++printed >= remaining ? true : undefined),
    { timeoutMs: 60_000, what: `${remaining} records from the member` },
  );
  const active = await describe();
  assert.ok(
    active.every((row) => row.consumer.startsWith('console-consumer-')),
    `every partition owned by the member: ${JSON.stringify(active)}`,
  );
  const busy = await tool(kafkaTool.consumerGroups, ['--delete', '--group', group], {
    expectFailure: false,
  });
  assert.match(busy.stdout + busy.stderr, /The group is not empty/);
  await member.stop({ signal: 'SIGTERM', timeoutMs: 20_000 });

  const deleted = await tool(kafkaTool.consumerGroups, ['--delete', '--group', group]);
  assert.match(
    deleted.stdout,
    new RegExp(`Deletion of requested consumer groups \\('${group}'\\) was successful`),
  );
  // The tool reports an unknown group and still exits 0.
  const gone = await tool(kafkaTool.consumerGroups, ['--describe', '--group', group]);
  assert.match(gone.stdout, new RegExp(`Error: Consumer group '${group}' does not exist\\.`));
});

test(`kafka-consumer-groups ${kafkaVersion}: a KIP-848 member (group.protocol=consumer) in --describe --members --verbose and --state`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-groups-848');
  const group = uniqueName('tool-group-848');
  await createTopic(topic, 2);
  await consoleProduce(
    topic,
    Array.from({ length: 10 }, (_, index) => `key-${index}|value-${index}`),
  );
  const member = startJava({
    main: kafkaTool.consoleConsumer,
    arguments: [
      ...['--bootstrap-server', broker.bootstrap, '--topic', topic, '--group', group],
      ...['--from-beginning', '--consumer-property', 'group.protocol=consumer'],
    ],
    heapMb: 128,
    label: 'console-consumer(848)',
  });
  started.push(member);
  let printed = 0;
  await member.waitForLine(
    (_line, stream) => (stream === 'stdout' && ++printed >= 10 ? true : undefined),
    { timeoutMs: 60_000, what: 'the 10 records from the KIP-848 member' },
  );
  const members = tableRows(
    (
      await tool(kafkaTool.consumerGroups, [
        '--describe',
        '--group',
        group,
        '--members',
        '--verbose',
      ])
    ).stdout,
    { firstColumn: 'GROUP' },
  );
  assert.equal(members.length, 1, JSON.stringify(members));
  const [row] = members;
  assert.match(row['CONSUMER-ID'], /^[\w-]{22}$/, 'a KIP-848 member id (a base64 UUID)');
  assert.deepEqual(
    {
      host: row.HOST,
      clientId: row['CLIENT-ID'],
      partitions: row['#PARTITIONS'],
      assignment: row['CURRENT-ASSIGNMENT'],
      target: row['TARGET-ASSIGNMENT'],
      epochsEqual: row['CURRENT-EPOCH'] === row['TARGET-EPOCH'],
    },
    {
      host: '/127.0.0.1',
      clientId: 'console-consumer',
      partitions: '2',
      assignment: `${topic}:0,1`,
      target: `${topic}:0,1`,
      epochsEqual: true,
    },
  );
  const state = await tool(kafkaTool.consumerGroups, ['--describe', '--group', group, '--state']);
  assert.match(
    state.stdout,
    new RegExp(`^${group}\\s+\\S+\\s+\\(1\\)\\s+uniform\\s+Stable\\s+1$`, 'm'),
  );
  await member.stop({ signal: 'SIGTERM', timeoutMs: 20_000 });
});

test(`kafka-configs ${kafkaVersion} (ConfigCommand): describe and alter topic and broker configs`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-configs');
  await createTopic(topic, 1);
  const configs = (parameters: string[]) =>
    tool(kafkaTool.configs, parameters).then(({ stdout }) => outputLines(stdout));
  const topicEntity = ['--entity-type', 'topics', '--entity-name', topic];
  assert.deepEqual(
    await configs([
      ...topicEntity,
      '--alter',
      '--add-config',
      'retention.ms=1000,cleanup.policy=[compact,delete]',
    ]),
    [`Completed updating config for topic ${topic}.`],
  );
  assert.deepEqual(await configs([...topicEntity, '--describe']), [
    `Dynamic configs for topic ${topic} are:`,
    '  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}',
    '  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}',
  ]);
  await configs([...topicEntity, '--alter', '--delete-config', 'retention.ms']);
  const all = await configs([...topicEntity, '--describe', '--all']);
  assert.ok(
    all.includes(
      '  retention.ms=604800000 sensitive=false synonyms={DEFAULT_CONFIG:log.retention.hours=168}',
    ),
    all.join('\n'),
  );
  assert.ok(
    all.includes(
      '  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}',
    ),
  );

  const brokerEntity = ['--entity-type', 'brokers', '--entity-name', '1'];
  assert.deepEqual(
    await configs([...brokerEntity, '--alter', '--add-config', 'log.retention.ms=86400000']),
    ['Completed updating config for broker 1.'],
  );
  assert.deepEqual(await configs([...brokerEntity, '--describe']), [
    'Dynamic configs for broker 1 are:',
    '  log.retention.ms=86400000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=86400000, DEFAULT_CONFIG:log.retention.hours=168}',
  ]);
  // The topic without a retention override follows the broker's new default.
  const followed = await configs([...topicEntity, '--describe', '--all']);
  assert.ok(
    followed.includes(
      '  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=86400000, DEFAULT_CONFIG:log.retention.hours=168}',
    ),
    followed.join('\n'),
  );
  const defaults = ['--entity-type', 'brokers', '--entity-default'];
  assert.deepEqual(
    await configs([...defaults, '--alter', '--add-config', 'log.segment.bytes=104857600']),
    ['Completed updating default config for brokers in the cluster.'],
  );
  assert.deepEqual(await configs([...defaults, '--describe']), [
    'Default configs for brokers in the cluster are:',
    '  log.segment.bytes=104857600 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=104857600}',
  ]);
  const readOnly = await tool(
    kafkaTool.configs,
    [...brokerEntity, '--alter', '--add-config', 'num.partitions=4'],
    {
      expectFailure: true,
    },
  );
  assert.match(
    readOnly.stdout + readOnly.stderr,
    /InvalidRequestException: .*num\.partitions.*read-only/,
  );
  await configs([...brokerEntity, '--alter', '--delete-config', 'log.retention.ms']);
  await configs([...defaults, '--alter', '--delete-config', 'log.segment.bytes']);
  assert.deepEqual(await configs([...brokerEntity, '--describe']), [
    'Dynamic configs for broker 1 are:',
  ]);
  assert.deepEqual(await configs([...defaults, '--describe']), [
    'Default configs for brokers in the cluster are:',
  ]);
});

test(`kafka-get-offsets and kafka-delete-records ${kafkaVersion}: end and earliest offsets before and after a deletion`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-offsets');
  await createTopic(topic, 2);
  await consoleProduce(
    topic,
    Array.from({ length: 80 }, (_, index) => `key-${index}|value-${index}`),
  );
  const ends = await offsetsAt(topic, '-1');
  assert.deepEqual([...ends.keys()].sort(), [0, 1]);
  assert.equal(
    (ends.get(0) ?? 0) + (ends.get(1) ?? 0),
    80,
    'end offsets add up to the records sent',
  );
  assert.deepEqual(
    await offsetsAt(topic, '-2'),
    new Map([
      [0, 0],
      [1, 0],
    ]),
  );

  const deleteAt = Math.min(10, ends.get(0) ?? 0);
  const file = join(scratch, `${topic}-delete.json`);
  await writeFile(
    file,
    JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, offset: deleteAt }] }),
  );
  const { stdout } = await tool(kafkaTool.deleteRecords, ['--offset-json-file', file]);
  assert.match(stdout, new RegExp(`partition: ${topic}-0\\tlow_watermark: ${deleteAt}`));
  assert.deepEqual(
    await offsetsAt(topic, '-2'),
    new Map([
      [0, deleteAt],
      [1, 0],
    ]),
    'earliest moved on partition 0 only',
  );
  assert.deepEqual(await offsetsAt(topic, '-1'), ends, 'end offsets unchanged');
});

test(`kafka-transactions ${kafkaVersion} (TransactionsCommand): list, describe, describe-producers, find-hanging after a transactional perf run`, {
  timeout: 120_000,
}, async () => {
  const topic = uniqueName('tool-txn');
  const transactionalId = uniqueName('tool-txn-id');
  await createTopic(topic, 1);
  const produced = await producerPerformance(
    { topic, count: 1000, recordSizeBytes: 50 },
    [],
    ['--transactional-id', transactionalId, '--transaction-duration-ms', '100'],
  );
  assert.match(produced.stdout, /^1000 records sent,/m);

  const listed = tableRows((await tool(kafkaTool.transactions, ['list'])).stdout, {
    firstColumn: 'TransactionalId',
    tabs: true,
  }).find((row) => row.TransactionalId === transactionalId);
  assert.ok(listed, `list names ${transactionalId}`);
  assert.deepEqual(
    { coordinator: listed.Coordinator, state: listed.TransactionState },
    { coordinator: '1', state: 'CompleteCommit' },
  );
  const [described] = tableRows(
    (await tool(kafkaTool.transactions, ['describe', '--transactional-id', transactionalId]))
      .stdout,
    { firstColumn: 'CoordinatorId', tabs: true },
  );
  assert.deepEqual(
    {
      coordinator: described.CoordinatorId,
      transactionalId: described.TransactionalId,
      producerId: described.ProducerId,
      state: described.TransactionState,
      timeoutMs: described.TransactionTimeoutMs,
      partitions: described.TopicPartitions,
    },
    {
      coordinator: '1',
      transactionalId,
      producerId: listed.ProducerId,
      state: 'CompleteCommit',
      timeoutMs: '60000',
      partitions: '',
    },
  );
  const [producer] = tableRows(
    (
      await tool(kafkaTool.transactions, [
        'describe-producers',
        '--topic',
        topic,
        '--partition',
        '0',
      ])
    ).stdout,
    { firstColumn: 'ProducerId', tabs: true },
  );
  assert.deepEqual(
    { producerId: producer.ProducerId, open: producer.CurrentTransactionStartOffset },
    { producerId: listed.ProducerId, open: 'None' },
  );
  const unknown = await tool(
    kafkaTool.transactions,
    ['describe', '--transactional-id', `${transactionalId}-missing`],
    {
      expectFailure: true,
    },
  );
  assert.match(unknown.stdout + unknown.stderr, /failed because the ID could not be found/);
  // find-hanging looks through DescribeProducers, ListTransactions and DescribeTransactions.
  const hanging = await tool(kafkaTool.transactions, ['find-hanging', '--broker-id', '1']);
  assert.deepEqual(
    tableRows(hanging.stdout, { firstColumn: 'Topic', tabs: true }),
    [],
    'none hanging',
  );
});
