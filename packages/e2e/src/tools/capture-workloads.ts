import { runPythonClient, spawnPythonClient } from '../harness/json-lines-process.js';
import {
  kafkajsCommittedOffsets,
  kafkajsConsumeGroup,
  kafkajsCreateTopic,
  kafkajsProduce,
  newKafkajs,
} from '../harness/kafkajs-client.js';
import { runKcat } from '../harness/kcat.js';
import { ManagedProcess } from '../harness/managed-process.js';
import { kcatPath } from '../harness/paths.js';
import {
  platformaticCommittedOffsets,
  platformaticConsumeGroup,
  platformaticCreateTopic,
  platformaticProduce,
} from '../harness/platformatic-client.js';

/**
 * What each third-party client does through the recording proxy when capturing golden fixtures:
 * the everyday path of a Kafka application (metadata, create topic, produce, fetch, a consumer
 * group with join/sync/heartbeat/commit, offset queries). The names are fixed so the golden test
 * can check them in the decoded frames.
 */

export const captureClientNames = [
  'kcat',
  'confluent-kafka-python',
  'kafka-python',
  'kafkajs',
  'platformatic-kafka',
] as const;
export type CaptureClientName = (typeof captureClientNames)[number];

export interface CaptureNames {
  clientId: string;
  topic: string;
  group: string;
}

export function captureNamesFor(client: CaptureClientName): CaptureNames {
  return {
    clientId: `gregor-golden-${client}`,
    topic: `gregor-golden-${client}`,
    group: `gregor-golden-group-${client}`,
  };
}

export const captureRecordCount = 12;
export const capturePartitionCount = 3;

export interface CaptureWorkload {
  /** Group ids the client library uses by itself (kafka-python's version probe sends one). */
  internalGroups: string[];
  /** Third-party client versions, recorded in the fixture manifest. */
  describe(): string;
  /** Whether the topic must exist before the workload (the client cannot create one). */
  needsTopic: boolean;
  /** The full everyday path, against a working broker. */
  run(bootstrap: string, names: CaptureNames): Promise<void>;
  /** Just the first contact (ApiVersions), against a listener that records and closes. */
  firstContact(bootstrap: string, names: CaptureNames): Promise<void>;
}

const pythonConfluent = 'confluent_client.py';
const pythonKafka = 'kafka_python_client.py';

async function ignoringFailure(body: () => Promise<unknown>): Promise<void> {
  try {
    await body();
  } catch {
    // first-contact runs are expected to fail: the listener closes every connection
  }
}

async function runForAWhile(
  command: string,
  parameters: string[],
  durationMs: number,
): Promise<void> {
  const child = new ManagedProcess({ label: command, command, arguments: parameters });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  // SIGTERM lets the consumer leave its group cleanly (LeaveGroup, final commit).
  await child.stop({ signal: 'SIGTERM', timeoutMs: 10_000 });
}

const kcatWorkload: CaptureWorkload = {
  internalGroups: [],
  describe: () => 'kcat 1.7.1 (Debian bookworm), librdkafka 2.0.2',
  needsTopic: true,
  async run(bootstrap, names) {
    const clientId = ['-X', `client.id=${names.clientId}`];
    await runKcat({
      bootstrap,
      arguments: [...clientId, '-L', '-t', names.topic],
      timeoutMs: 20_000,
    });
    const lines = Array.from({ length: captureRecordCount }, (_, i) => `key-${i}:value-${i}`);
    await runKcat({
      bootstrap,
      arguments: [...clientId, '-P', '-t', names.topic, '-K:', '-X', 'acks=all'],
      input: `${lines.join('\n')}\n`,
      timeoutMs: 20_000,
    });
    await runKcat({
      bootstrap,
      arguments: [...clientId, '-C', '-t', names.topic, '-o', 'beginning', '-e', '-K:'],
      timeoutMs: 20_000,
    });
    await runKcat({
      bootstrap,
      arguments: [...clientId, '-Q', '-t', `${names.topic}:0:-1`],
      timeoutMs: 20_000,
    });
    // The balanced consumer runs until killed; a few seconds cover join, sync, fetch, heartbeat, commit.
    await runForAWhile(
      kcatPath,
      [
        '-b',
        bootstrap,
        ...clientId,
        '-X',
        'auto.commit.interval.ms=500',
        '-X',
        'auto.offset.reset=earliest',
        '-G',
        names.group,
        names.topic,
      ],
      8_000,
    );
  },
  async firstContact(bootstrap, names) {
    await ignoringFailure(() =>
      runKcat({
        bootstrap,
        arguments: ['-X', `client.id=${names.clientId}`, '-L', '-m', '2'],
        timeoutMs: 10_000,
      }),
    );
  },
};

const confluentWorkload: CaptureWorkload = {
  internalGroups: [],
  describe: () =>
    'confluent-kafka-python 1.7.0 (Debian bookworm python3-confluent-kafka), librdkafka 2.0.2',
  needsTopic: false,
  async run(bootstrap, names) {
    const common = { bootstrap, topic: names.topic, clientId: names.clientId };
    await runPythonClient({
      script: pythonConfluent,
      command: 'create-topic',
      parameters: { ...common, partitions: capturePartitionCount },
      timeoutMs: 30_000,
    });
    await runPythonClient({
      script: pythonConfluent,
      command: 'produce',
      parameters: { ...common, count: captureRecordCount, acks: 'all' },
      timeoutMs: 30_000,
    });
    const member = spawnPythonClient({
      script: pythonConfluent,
      command: 'member',
      parameters: { ...common, group: names.group },
      label: 'confluent member',
    });
    try {
      await member.waitFor(
        (events) => events.filter((e) => e.event === 'committed').length >= 1 || undefined,
        {
          timeoutMs: 30_000,
          what: 'a commit',
        },
      );
      await member.finish({ timeoutMs: 20_000 });
    } finally {
      await member.kill();
    }
    await runPythonClient({
      script: pythonConfluent,
      command: 'committed',
      parameters: { ...common, group: names.group, partitions: [0, 1, 2] },
      timeoutMs: 30_000,
    });
    await runPythonClient({
      script: pythonConfluent,
      command: 'offsets-for-times',
      parameters: { ...common, queries: [{ partition: 0, timestamp: 0 }] },
      timeoutMs: 30_000,
    });
  },
  async firstContact(bootstrap, names) {
    await ignoringFailure(() =>
      runPythonClient({
        script: pythonConfluent,
        command: 'create-topic',
        parameters: { bootstrap, topic: names.topic, clientId: names.clientId, partitions: 1 },
        timeoutMs: 4_000,
      }),
    );
  },
};

const kafkaPythonWorkload: CaptureWorkload = {
  internalGroups: ['kafka-python-default-group'],
  describe: () => 'kafka-python 2.0.2 (Debian bookworm python3-kafka)',
  needsTopic: false,
  async run(bootstrap, names) {
    const common = { bootstrap, topic: names.topic, clientId: names.clientId };
    await runPythonClient({
      script: pythonKafka,
      command: 'create-topic',
      parameters: { ...common, partitions: capturePartitionCount },
      timeoutMs: 30_000,
    });
    await runPythonClient({
      script: pythonKafka,
      command: 'produce',
      parameters: { ...common, count: captureRecordCount },
      timeoutMs: 30_000,
    });
    await runPythonClient({
      script: pythonKafka,
      command: 'consume-group',
      parameters: { ...common, group: names.group, expected: captureRecordCount, timeoutS: 30 },
      timeoutMs: 45_000,
    });
  },
  async firstContact(bootstrap, names) {
    await ignoringFailure(() =>
      runPythonClient({
        script: pythonKafka,
        command: 'produce',
        parameters: { bootstrap, topic: names.topic, clientId: names.clientId, count: 1 },
        timeoutMs: 6_000,
      }),
    );
  },
};

const kafkajsWorkload: CaptureWorkload = {
  internalGroups: [],
  describe: () => 'kafkajs 2.2.4',
  needsTopic: false,
  async run(bootstrap, names) {
    const kafka = newKafkajs({ bootstrap, clientId: names.clientId });
    await kafkajsCreateTopic(kafka, { topic: names.topic, partitions: capturePartitionCount });
    await kafkajsProduce(kafka, {
      topic: names.topic,
      partitions: capturePartitionCount,
      count: captureRecordCount,
      prefix: 'golden',
    });
    await kafkajsConsumeGroup(kafka, {
      topic: names.topic,
      group: names.group,
      expected: captureRecordCount,
      timeoutMs: 30_000,
    });
    await kafkajsCommittedOffsets(kafka, { topic: names.topic, group: names.group });
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicOffsetsByTimestamp(names.topic, 0);
    await admin.disconnect();
  },
  async firstContact(bootstrap, names) {
    const kafka = newKafkajs({ bootstrap, clientId: names.clientId });
    const admin = kafka.admin({ retry: { retries: 0 } });
    await ignoringFailure(() => admin.connect());
    await ignoringFailure(() => admin.disconnect());
  },
};

const platformaticWorkload: CaptureWorkload = {
  internalGroups: [],
  describe: () => '@platformatic/kafka 1.35.0',
  needsTopic: false,
  async run(bootstrap, names) {
    const connection = { bootstrap, clientId: names.clientId };
    await platformaticCreateTopic(connection, {
      topic: names.topic,
      partitions: capturePartitionCount,
    });
    await platformaticProduce(connection, {
      topic: names.topic,
      partitions: capturePartitionCount,
      count: captureRecordCount,
      prefix: 'golden',
    });
    await platformaticConsumeGroup(connection, {
      topic: names.topic,
      group: names.group,
      expected: captureRecordCount,
      timeoutMs: 30_000,
    });
    await platformaticCommittedOffsets(connection, {
      topic: names.topic,
      group: names.group,
      partitions: capturePartitionCount,
    });
  },
  async firstContact(bootstrap, names) {
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({
      clientId: names.clientId,
      bootstrapBrokers: [bootstrap],
      retries: 0,
    });
    await ignoringFailure(() => admin.metadata({ topics: [names.topic] }));
    await ignoringFailure(() => admin.close());
  },
};

export const captureWorkloads: Record<CaptureClientName, CaptureWorkload> = {
  kcat: kcatWorkload,
  'confluent-kafka-python': confluentWorkload,
  'kafka-python': kafkaPythonWorkload,
  kafkajs: kafkajsWorkload,
  'platformatic-kafka': platformaticWorkload,
};
