import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import kafkajs, { type Kafka } from 'kafkajs';
import { BrokerProcess } from './harness/broker-process.js';
import { startMirrorMaker } from './harness/kafka-connect.js';
import {
  kafkaTool,
  outputLines as kafkaToolOutputLines,
  runKafkaTool,
} from './harness/kafka-tools.js';
import {
  kafkajsCommittedOffsets,
  kafkajsConsumeGroup,
  kafkajsProduce,
  newKafkajs,
} from './harness/kafkajs-client.js';
import type { ManagedProcess } from './harness/managed-process.js';
import { assertSameRecords, endOffsets, type PlacedRecord, uniqueName } from './harness/records.js';
import { makeTemporaryDirectory, removeDirectory } from './harness/temporary-directory.js';
import { waitUntil } from './harness/wait.js';

/**
 * MirrorMaker 2 (connect-mirror 4.3.1 on the Connect 4.4.0 runtime, dedicated mode) mirroring one
 * Gregor broker process ("primary") into another ("backup"), with checkpoints and
 * `sync.group.offsets.enabled`: the disaster-recovery fail-over of a consumer group.
 *
 * MirrorMaker copies the topic to `primary.<topic>` on the backup (DefaultReplicationPolicy). A
 * group consumes the first part on the primary and commits; MirrorMaker checkpoints it and commits
 * the translated offsets on the backup; more records arrive and are mirrored; the same group then
 * resumes on the backup and must read exactly the records it had not read on the primary.
 *
 * Exact translation needs the offset sync of the group's last record: `offset.lag.max=0` makes
 * MirrorMaker emit one for every record (default 100: it may translate to an earlier offset, and
 * the group reads some records twice), and the group is synced before the second part arrives,
 * because MirrorMaker's sync store thins out the syncs behind newer ones (seen here: a partition
 * translated to 1 instead of 50 once syncs of the second part had been read first; checkpoints
 * never move back, so it stays there).
 *
 * Then the source topic changes: its configurations (copied at creation and by the periodic
 * sync, IncrementalAlterConfigs on the backup) and its partition count (CreatePartitions), and
 * the records of the added partition are mirrored too. Last, a group with the KIP-848 protocol
 * (Kafka's console consumer) fails over the same way: MirrorMaker creates it on the backup with
 * offsets only, and the consumer joins it there with the consumer protocol.
 */

const { ConfigResourceTypes } = kafkajs;
const partitions = 3;
const firstPartCount = 150;
const secondPartCount = 150;
const mirrorTimeoutMs = 120_000;

let primary: BrokerProcess;
let backup: BrokerProcess;
let directory: string;
let mirrorMaker: ManagedProcess | undefined;
const topic = uniqueName('orders');
const mirroredTopic = `primary.${topic}`;
const group = uniqueName('orders-app');
/** Topic configurations MirrorMaker copies to the mirrored topic (its default config filter keeps them). */
/** Every record produced by the first test, for the second one's look at the whole mirrored topic. */
const producedOnPrimary: PlacedRecord[] = [];
const createdTopicConfigs = { 'retention.ms': '12345678', 'max.message.bytes': '200000' };

async function endOffsetsOf(kafka: Kafka, name: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(name);
    return new Map(offsets.map((entry) => [entry.partition, Number(entry.high)]));
  } finally {
    await admin.disconnect();
  }
}

function sameOffsets(actual: ReadonlyMap<number, number>, expected: ReadonlyMap<number, number>) {
  return (
    actual.size === expected.size &&
    [...expected].every(([partition, offset]) => actual.get(partition) === offset)
  );
}

/** The topic's configurations set on the topic itself (not defaults), the two this test sets. */
async function topicConfigs(kafka: Kafka, name: string): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name, configNames: Object.keys(createdTopicConfigs) },
      ],
    });
    return Object.fromEntries(
      (described.resources[0]?.configEntries ?? []).map((entry) => [
        entry.configName,
        entry.configValue,
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

function describeOffsets(offsets: ReadonlyMap<number, number>): string {
  return JSON.stringify(Object.fromEntries(offsets));
}

/** Waits until the backup's mirrored topic ends at `ends` (MirrorMaker copied every record). */
async function waitForMirroredEnds(
  backupKafka: Kafka,
  ends: ReadonlyMap<number, number>,
): Promise<void> {
  let mirroredEnds = new Map<number, number>();
  await waitUntil(
    async () => {
      mirroredEnds = await endOffsetsOf(backupKafka, mirroredTopic);
      return sameOffsets(mirroredEnds, ends);
    },
    {
      timeoutMs: mirrorTimeoutMs,
      intervalMs: 500,
      what: () =>
        `${mirroredTopic} on the backup to reach ${describeOffsets(ends)} (has ${describeOffsets(mirroredEnds)})\n--- MirrorMaker ---\n${mirrorMaker?.output()}`,
    },
  );
}

/**
 * Waits until MirrorMaker has checkpointed `group` and committed its translated offsets on the
 * backup's mirrored topic: exactly `committedOnPrimary` (the mirrored partitions hold the same
 * records at the same offsets).
 */
async function waitForSyncedGroupOffsets(
  backupKafka: Kafka,
  group: string,
  committedOnPrimary: ReadonlyMap<number, number>,
): Promise<void> {
  let committedOnBackup = new Map<number, number>();
  await waitUntil(
    async () => {
      committedOnBackup = await kafkajsCommittedOffsets(backupKafka, {
        topic: mirroredTopic,
        group,
      });
      return sameOffsets(committedOnBackup, committedOnPrimary);
    },
    {
      timeoutMs: mirrorTimeoutMs,
      intervalMs: 500,
      what: () =>
        `group ${group} on the backup to commit ${describeOffsets(committedOnPrimary)} (has ${describeOffsets(committedOnBackup)})\n--- MirrorMaker ---\n${mirrorMaker?.output()}`,
    },
  );
}

before(async () => {
  directory = await makeTemporaryDirectory('mirror-maker');
  [primary, backup] = await Promise.all([
    BrokerProcess.start({ label: 'broker(mm2-primary)' }),
    BrokerProcess.start({ label: 'broker(mm2-backup)' }),
  ]);
  const admin = newKafkajs({ bootstrap: primary.bootstrap, clientId: 'mm2-setup' }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: Object.entries(createdTopicConfigs).map(([name, value]) => ({
            name,
            value,
          })),
        },
      ],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  mirrorMaker = await startMirrorMaker({
    clusters: { primary: primary.bootstrap, backup: backup.bootstrap },
    directory,
    targetClusters: ['backup'],
    settings: {
      'primary->backup.enabled': 'true',
      'primary->backup.topics': topic,
      'backup->primary.enabled': 'false',
      // One broker per cluster.
      'replication.factor': '1',
      'checkpoints.topic.replication.factor': '1',
      'heartbeats.topic.replication.factor': '1',
      'offset-syncs.topic.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      'config.storage.replication.factor': '1',
      // Seconds instead of minutes.
      'refresh.topics.interval.seconds': '1',
      'refresh.groups.interval.seconds': '1',
      'sync.topic.configs.interval.seconds': '1',
      'emit.checkpoints.interval.seconds': '1',
      'emit.heartbeats.interval.seconds': '1',
      'sync.group.offsets.enabled': 'true',
      'sync.group.offsets.interval.seconds': '1',
      'offset.lag.max': '0',
      'sync.topic.acls.enabled': 'false',
      // The Connect worker of a flow takes its settings from the target cluster's prefix. Its
      // offset flush (default 60 s) is also when MirrorMaker sends the offset sync it held back
      // for the last record mirrored, so the translation is exact only after it.
      'backup.offset.flush.interval.ms': '1000',
      // Every plugin in Kafka's jars has a ServiceLoader manifest: no class-path scan (5 s here).
      'backup.plugin.discovery': 'service_load',
    },
    heapMb: 320,
  });
});

after(async () => {
  await mirrorMaker?.stop({ signal: 'SIGKILL' });
  await Promise.all([primary?.dispose(), backup?.dispose()]);
  if (directory) await removeDirectory(directory);
});

test('MirrorMaker 2 (connect-mirror 4.3.1): mirrors a topic exactly and syncs a consumer group offsets, so the group resumes on the backup cluster where it stopped on the primary', {
  timeout: 300_000,
}, async (context) => {
  const primaryKafka = newKafkajs({ bootstrap: primary.bootstrap, clientId: 'mm2-primary' });
  const backupKafka = newKafkajs({ bootstrap: backup.bootstrap, clientId: 'mm2-backup' });
  const firstPart = await kafkajsProduce(primaryKafka, {
    topic,
    partitions,
    count: firstPartCount,
    prefix: 'first',
  });

  // The first part reaches the backup: same partitions, offsets, keys and values.
  const firstPartEnds = endOffsets(firstPart);
  await waitForMirroredEnds(backupKafka, firstPartEnds);

  // The application reads the first part on the primary, commits, and goes away.
  const readOnPrimary = await kafkajsConsumeGroup(primaryKafka, {
    topic,
    group,
    expected: firstPartCount,
    timeoutMs: 60_000,
  });
  assertSameRecords(readOnPrimary, firstPart, 'read on the primary');
  const committedOnPrimary = await kafkajsCommittedOffsets(primaryKafka, { topic, group });
  assert.deepEqual(committedOnPrimary, firstPartEnds, 'committed on the primary');

  // MirrorMaker checkpoints the group and commits the translated offsets on the backup: exactly
  // the primary's (the mirrored partitions hold the same records at the same offsets).
  const syncStartedMs = performance.now();
  await waitForSyncedGroupOffsets(backupKafka, group, committedOnPrimary);
  const syncMs = Math.round(performance.now() - syncStartedMs);
  context.diagnostic(
    `group offsets on the backup equal the primary's ${syncMs} ms after the commit`,
  );

  // More records arrive and are mirrored before the fail-over.
  const secondPart = await kafkajsProduce(primaryKafka, {
    topic,
    partitions,
    count: secondPartCount,
    prefix: 'second',
  });
  const allEnds = endOffsets([...firstPart, ...secondPart]);
  await waitForMirroredEnds(backupKafka, allEnds);

  // Fail-over: the same group resumes on the backup and reads exactly the second part (at the
  // same partitions and offsets as on the primary), nothing of the first part again.
  const readOnBackup = await kafkajsConsumeGroup(backupKafka, {
    topic: mirroredTopic,
    group,
    expected: secondPartCount,
    timeoutMs: 60_000,
  });
  assertSameRecords(
    readOnBackup,
    secondPart,
    `read on the backup (offsets synced in ${syncMs} ms)`,
  );
  producedOnPrimary.push(...firstPart, ...secondPart);
  const readTogether: PlacedRecord[] = [...readOnPrimary, ...readOnBackup];
  assertSameRecords(readTogether, [...firstPart, ...secondPart], 'read on both clusters together');
});

test('MirrorMaker 2 (connect-mirror 4.3.1) follows the source topic: its configurations at creation and when changed, partitions added (and their records)', {
  timeout: 180_000,
}, async () => {
  const primaryKafka = newKafkajs({ bootstrap: primary.bootstrap, clientId: 'mm2-primary' });
  const backupKafka = newKafkajs({ bootstrap: backup.bootstrap, clientId: 'mm2-backup' });
  assert.deepEqual(await topicConfigs(backupKafka, mirroredTopic), createdTopicConfigs);

  const changedConfigs = { 'retention.ms': '7654321', 'max.message.bytes': '300000' };
  const primaryAdmin = primaryKafka.admin();
  await primaryAdmin.connect();
  try {
    await primaryAdmin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: Object.entries(changedConfigs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
    await primaryAdmin.createPartitions({
      topicPartitions: [{ topic, count: partitions + 1 }],
    });
  } finally {
    await primaryAdmin.disconnect();
  }
  let mirroredConfigs: Record<string, string> = {};
  await waitUntil(
    async () => {
      mirroredConfigs = await topicConfigs(backupKafka, mirroredTopic);
      return isDeepStrictEqual(mirroredConfigs, changedConfigs);
    },
    {
      timeoutMs: mirrorTimeoutMs,
      intervalMs: 500,
      what: () =>
        `${mirroredTopic}'s configs ${JSON.stringify(mirroredConfigs)} to become ${JSON.stringify(changedConfigs)}`,
    },
  );

  // Records to every partition, the new one included, reach the backup.
  const thirdPart = await kafkajsProduce(primaryKafka, {
    topic,
    partitions: partitions + 1,
    count: 40,
    prefix: 'third',
  });
  const sourceEnds = await endOffsetsOf(primaryKafka, topic);
  assert.equal(sourceEnds.get(partitions), 10, 'the added partition holds its records');
  await waitForMirroredEnds(backupKafka, sourceEnds);

  // The mirrored topic as a whole: every record of the primary, same partition, offset, key and
  // value, each once.
  const mirrored = await kafkajsConsumeGroup(backupKafka, {
    topic: mirroredTopic,
    group: uniqueName('mirror-check'),
    expected: producedOnPrimary.length + thirdPart.length,
    timeoutMs: 60_000,
  });
  assertSameRecords(
    mirrored,
    [...producedOnPrimary, ...thirdPart],
    `${mirroredTopic} on the backup`,
  );
  producedOnPrimary.push(...thirdPart);
});

/** Kafka's console consumer in group `group` with the KIP-848 protocol: `count` records, then exit. */
async function consoleConsume(options: {
  bootstrap: string;
  topic: string;
  group: string;
  count: number;
}): Promise<PlacedRecord[]> {
  const { stdout } = await runKafkaTool({
    main: kafkaTool.consoleConsumer,
    arguments: [
      ...['--bootstrap-server', options.bootstrap, '--topic', options.topic],
      ...['--group', options.group, '--command-property', 'group.protocol=consumer'],
      ...['--from-beginning', '--max-messages', String(options.count), '--timeout-ms', '60000'],
      ...[
        '--formatter-property',
        'print.partition=true',
        '--formatter-property',
        'print.offset=true',
      ],
      ...['--formatter-property', 'print.key=true'],
    ],
    timeoutMs: 120_000,
  });
  return kafkaToolOutputLines(stdout).map((line) => {
    const fields = /^Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t(.*)$/.exec(line);
    assert.ok(fields, `a record line from the console consumer: ${line}`);
    return {
      partition: Number(fields[1]),
      offset: Number(fields[2]),
      key: fields[3]!,
      value: fields[4]!,
    };
  });
}

test('MirrorMaker 2 (connect-mirror 4.3.1): a KIP-848 group (group.protocol=consumer, Kafka 4.4 console consumer) fails over the same way', {
  timeout: 240_000,
}, async (context) => {
  const primaryKafka = newKafkajs({ bootstrap: primary.bootstrap, clientId: 'mm2-primary' });
  const backupKafka = newKafkajs({ bootstrap: backup.bootstrap, clientId: 'mm2-backup' });
  const consumerGroup = uniqueName('orders-app-848');
  const readOnPrimary = await consoleConsume({
    bootstrap: primary.bootstrap,
    topic,
    group: consumerGroup,
    count: producedOnPrimary.length,
  });
  assertSameRecords(readOnPrimary, producedOnPrimary, 'read on the primary');
  const committedOnPrimary = await kafkajsCommittedOffsets(primaryKafka, {
    topic,
    group: consumerGroup,
  });
  assert.deepEqual(committedOnPrimary, endOffsets(producedOnPrimary), 'committed on the primary');

  const syncStartedMs = performance.now();
  await waitForSyncedGroupOffsets(backupKafka, consumerGroup, committedOnPrimary);
  context.diagnostic(
    `group offsets on the backup equal the primary's ${Math.round(performance.now() - syncStartedMs)} ms after the commit`,
  );

  const lastPart = await kafkajsProduce(primaryKafka, {
    topic,
    partitions: partitions + 1,
    count: 40,
    prefix: 'last',
  });
  const allEnds = endOffsets([...producedOnPrimary, ...lastPart]);
  await waitForMirroredEnds(backupKafka, allEnds);
  // The group joins the backup with the consumer protocol (MirrorMaker created it there with
  // offsets only) and reads exactly what it had not read on the primary.
  const readOnBackup = await consoleConsume({
    bootstrap: backup.bootstrap,
    topic: mirroredTopic,
    group: consumerGroup,
    count: lastPart.length,
  });
  assertSameRecords(readOnBackup, lastPart, 'read on the backup');
});
