import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestClient } from '@gregor/broker/testing/test-client';
import {
  ApiKey,
  type DescribeConfigsResponse,
  type DescribeTransactionsResponse,
  type DescribeTransactionsResponseTransactionState,
  type ListOffsetsResponse,
  type ListTransactionsResponse,
} from '@gregor/protocol';
import type { Kafka } from 'kafkajs';
import { BrokerProcess } from './harness/broker-process.js';
import { assertKafkaJars, startJava } from './harness/java.js';
import { kafkajsCreateTopic, newKafkajs } from './harness/kafkajs-client.js';
import type { ManagedProcess } from './harness/managed-process.js';
import { uniqueName } from './harness/records.js';
import { makeTemporaryDirectory, removeDirectory } from './harness/temporary-directory.js';
import { sleep, withDeadline } from './harness/wait.js';

/**
 * Kafka Streams 4.4.0 (java/src/StreamsApp.java) under exactly_once_v2 against the broker
 * process: a KStream–KTable join, a tumbling-window sum per key and, behind a repartition topic,
 * a tumbling-window count per joined attribute. Two instances share the work; one or the other
 * is SIGKILLed at random moments while input flows in, restarted each time (on its state dir, or
 * on a wiped one every third time), and the broker is SIGKILLed and restarted once in between;
 * then the app is left to finish. A read_committed consumer (java/src/CommittedReader.java) must
 * then see, per output key, exactly the sequence of updates the input determines: every final
 * value right, and exactly one committed update per input record that reaches the output — none
 * duplicated by an aborted-then-retried transaction, none missing.
 */

const partitionCount = 4;
const userCount = 24;
/** Users from this index on have no profile: the inner join drops their events. */
const usersWithProfile = 20;
const regions = ['north', 'south', 'east', 'west', 'centre'];
/** Input pacing while the app is being killed: a steady stream, so every kill hits a busy app. */
const eventsPerChunk = 60;
const chunkIntervalMs = 100;
/** A bound on the input (500 s of pacing): the kill phase takes 1.5 to 4 minutes. */
const eventCountMax = 300_000;
const eventSpacingMs = 7;
const windowSizeMs = 10_000;
const killsMin = 10;
/** Usually 7 to 10 of the 10 kills land inside a transaction; fewer means the app was idle. */
const killsMidTransactionMin = 4;
/** Two instances share the tasks: each kill moves tasks, fences zombies, rebalances. */
const instanceNames = ['a', 'b'];
/** Before this app kill, the broker is SIGKILLed and restarted once. */
const brokerKillAt = 5;
const heapMb = 192;

interface InputEvent {
  user: string;
  partition: number;
  amount: number;
  timestampMs: number;
}

function userName(index: number): string {
  return `user-${String(index).padStart(2, '0')}`;
}

function regionOf(userIndex: number): string {
  return regions[(userIndex * 3) % regions.length];
}

/** The deterministic input: user, amount and timestamp of event i are functions of i. */
function inputEvent(index: number, baseTimestampMs: number): InputEvent {
  const userIndex = (index * 7 + Math.floor(index / 97)) % userCount;
  return {
    user: userName(userIndex),
    // Co-partitioned with the profiles: a user's events and profile share a partition number.
    partition: userIndex % partitionCount,
    amount: ((index * 7919) % 100) + 1,
    timestampMs: baseTimestampMs + index * eventSpacingMs,
  };
}

function windowStart(timestampMs: number): number {
  return timestampMs - (timestampMs % windowSizeMs);
}

function appendTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The exact sequence of updates per output key. A user's events share one partition, so their
 * order is the input order; region counts from several upstream tasks interleave in any order,
 * but a count's successive updates are still 1, 2, 3, ...
 */
function expectedOutputs(
  events: readonly InputEvent[],
): Record<OutputTopic, Map<string, string[]>> {
  const enriched = new Map<string, string[]>();
  const userSums = new Map<string, string[]>();
  const regionCounts = new Map<string, string[]>();
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const event of events) {
    const windowKey = `${event.user}@${windowStart(event.timestampMs)}`;
    const sum = (sums.get(windowKey) ?? 0) + event.amount;
    sums.set(windowKey, sum);
    appendTo(userSums, windowKey, String(sum));
    const userIndex = Number(event.user.slice('user-'.length));
    if (userIndex >= usersWithProfile) continue;
    const region = regionOf(userIndex);
    appendTo(enriched, event.user, `${region}:${event.amount}`);
    const regionKey = `${region}@${windowStart(event.timestampMs)}`;
    const count = (counts.get(regionKey) ?? 0) + 1;
    counts.set(regionKey, count);
    appendTo(regionCounts, regionKey, String(count));
  }
  return { enriched, 'user-sums': userSums, 'region-counts': regionCounts };
}

const outputTopics = ['enriched', 'user-sums', 'region-counts'] as const;
type OutputTopic = (typeof outputTopics)[number];

interface OutputRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
}

let broker: BrokerProcess;
let kafka: Kafka;

before(async () => {
  await assertKafkaJars();
  broker = await BrokerProcess.start({
    label: 'broker(streams)',
    extraArguments: [
      '--override',
      'group.initial.rebalance.delay.ms=0',
      '--override',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=500',
      '--override',
      'transaction.state.log.num.partitions=4',
      '--override',
      'offsets.topic.num.partitions=4',
    ],
  });
  kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'streams-input' });
});

after(async () => {
  await broker?.dispose();
});

async function createTopicsWithProfiles(prefix: string, baseTimestampMs: number): Promise<void> {
  for (const topic of ['events', 'profiles', ...outputTopics]) {
    await kafkajsCreateTopic(kafka, { topic: `${prefix}${topic}`, partitions: partitionCount });
  }
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  try {
    // Profiles are older than every event, so the join sees each user's profile first.
    await producer.send({
      topic: `${prefix}profiles`,
      acks: -1,
      messages: Array.from({ length: usersWithProfile }, (_, userIndex) => ({
        key: userName(userIndex),
        value: regionOf(userIndex),
        partition: userIndex % partitionCount,
        timestamp: String(baseTimestampMs - 60_000),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Produces events 0, 1, 2, ... in chunks at a steady pace until `stop()`, then resolves with all
 * it produced (acks=all, idempotent, one send at a time: the input order is the index order).
 */
function produceEventsUntilStopped(prefix: string, baseTimestampMs: number) {
  let stopRequested = false;
  const produced = (async () => {
    // The broker is SIGKILLed and restarted once while this producer sends: its retries must
    // outlast a restart on a loaded machine (kafkajs' default budget is about 5 s).
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      retry: { retries: 60, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    await producer.connect();
    const events: InputEvent[] = [];
    try {
      while (!stopRequested && events.length < eventCountMax) {
        const tickMs = Date.now();
        const chunk = Array.from({ length: eventsPerChunk }, (_, offset) =>
          inputEvent(events.length + offset, baseTimestampMs),
        );
        await producer.send({
          topic: `${prefix}events`,
          acks: -1,
          messages: chunk.map((event) => ({
            key: event.user,
            value: String(event.amount),
            partition: event.partition,
            timestamp: String(event.timestampMs),
          })),
        });
        events.push(...chunk);
        await sleep(Math.max(0, tickMs + chunkIntervalMs - Date.now()));
      }
    } finally {
      await producer.disconnect();
    }
    return events;
  })();
  // A failed send surfaces at stop(), as the test's failure, not as an unhandled rejection.
  produced.catch(() => {});
  return {
    stop(): Promise<InputEvent[]> {
      stopRequested = true;
      return produced;
    },
  };
}

/** One instance of the app: its own state dir and static membership, restarted after each kill. */
class StreamsInstance {
  app: ManagedProcess | undefined;
  /** The process id in this run's transactional ids. */
  processId = '';
  startedMs = 0;

  constructor(
    readonly name: string,
    readonly stateDirectory: string,
    private readonly options: { applicationId: string; prefix: string },
  ) {}

  /** Starts the app and waits until it runs (assigned, restored). */
  async start(): Promise<void> {
    this.startedMs = Date.now();
    const app = startJava({
      main: 'StreamsApp.java',
      label: `StreamsApp ${this.name}`,
      heapMb,
      arguments: [
        broker.bootstrap,
        this.options.applicationId,
        this.stateDirectory,
        this.options.prefix,
        this.name,
      ],
    });
    this.app = app;
    this.processId = await app.waitForLine((line) => /^process (\S+)$/.exec(line)?.[1], {
      timeoutMs: 120_000,
      what: `Streams app ${this.name} to reach RUNNING`,
    });
  }

  async kill(): Promise<void> {
    const app = this.app;
    if (!app) return;
    app.signal('SIGKILL');
    await withDeadline(app.exited, { timeoutMs: 10_000, what: 'the killed app to exit' });
  }

  /** A clean stop (Streams commits and closes): SIGTERM, SIGKILL after 30 s. */
  async stop(): Promise<void> {
    await this.app?.stop({ signal: 'SIGTERM', timeoutMs: 30_000 });
  }
}

/**
 * The transaction a SIGKILLed instance left open, if any: an Ongoing transaction of one of its
 * transactional ids that began after it started (an older one was left by its previous run).
 */
async function transactionLeftOpen(
  instance: StreamsInstance,
  applicationId: string,
): Promise<DescribeTransactionsResponseTransactionState | undefined> {
  const client = await TestClient.connect({ port: broker.port });
  try {
    const listed = await client.request<ListTransactionsResponse>(ApiKey.ListTransactions, 0, {
      stateFilters: ['Ongoing'],
      producerIdFilters: [],
    });
    assert.equal(listed.errorCode, 0);
    const transactionalIds = listed.transactionStates
      .map((state) => state.transactionalId)
      .filter((transactionalId) =>
        transactionalId.startsWith(`${applicationId}-${instance.processId}-`),
      );
    if (transactionalIds.length === 0) return undefined;
    const described = await client.request<DescribeTransactionsResponse>(
      ApiKey.DescribeTransactions,
      0,
      { transactionalIds },
    );
    return described.transactionStates.find(
      (state) =>
        state.errorCode === 0 &&
        state.transactionState === 'Ongoing' &&
        Number(state.transactionStartTimeMs) >= instance.startedMs,
    );
  } finally {
    await client.close();
  }
}

const topicResourceType = 2;
const earliestTimestamp = -2n;
const latestTimestamp = -1n;

/** Each partition's offset for `timestamp` (earliest or latest), in partition order. */
async function partitionOffsets(topic: string, timestamp: bigint): Promise<number[]> {
  const client = await TestClient.connect({ port: broker.port });
  try {
    const response = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, 7, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitionCount }, (_, partitionIndex) => ({
            partitionIndex,
            currentLeaderEpoch: -1,
            timestamp,
          })),
        },
      ],
    });
    return response.topics[0].partitions
      .sort((left, right) => left.partitionIndex - right.partitionIndex)
      .map((partition) => {
        assert.equal(partition.errorCode, 0, `ListOffsets ${topic}-${partition.partitionIndex}`);
        return Number(partition.offset);
      });
  } finally {
    await client.close();
  }
}

/** The named configurations of a topic as DescribeConfigs reports them. */
async function topicConfigs(
  topic: string,
  names: string[],
): Promise<Record<string, string | null>> {
  const client = await TestClient.connect({ port: broker.port });
  try {
    const response = await client.request<DescribeConfigsResponse>(ApiKey.DescribeConfigs, 4, {
      resources: [
        { resourceType: topicResourceType, resourceName: topic, configurationKeys: names },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const [result] = response.results;
    assert.equal(result.errorCode, 0, `DescribeConfigs ${topic}: ${result.errorMessage}`);
    return Object.fromEntries(result.configs.map((config) => [config.name, config.value]));
  } finally {
    await client.close();
  }
}

test('Kafka Streams 4.4 exactly_once_v2: windowed aggregations and a stream-table join stay exact through SIGKILLs of the app and the broker', async () => {
  const prefix = `${uniqueName('streams')}-`;
  const applicationId = `${prefix}app`;
  const baseTimestampMs = windowStart(Date.now() - 3_600_000);
  await createTopicsWithProfiles(prefix, baseTimestampMs);
  const input = produceEventsUntilStopped(prefix, baseTimestampMs);

  const instances = await Promise.all(
    instanceNames.map(
      async (name) =>
        new StreamsInstance(name, await makeTemporaryDirectory(`streams-state-${name}`), {
          applicationId,
          prefix,
        }),
    ),
  );
  let reader: ManagedProcess | undefined;
  const killLog: string[] = [];
  const killPhaseStartMs = Date.now();
  try {
    // A restarted instance comes up while the other one is killed next: restarts overlap kills.
    const started = new Map(instances.map((instance) => [instance, instance.start()]));
    let killsMidTransaction = 0;
    for (let kill = 1; kill <= killsMin; kill++) {
      const victim = instances[kill % instances.length];
      await started.get(victim);
      if (kill === brokerKillAt) {
        // Once the broker itself: coordinator state, producer state and open transactions
        // recovered from its logs while both instances keep running.
        await broker.kill('SIGKILL');
        await broker.restart();
        killLog.push(`broker SIGKILLed and restarted (ready in ${broker.lastReadyMs} ms)`);
      }
      await sleep(200 + Math.floor(Math.random() * 2_500));
      await victim.kill();
      const open = await transactionLeftOpen(victim, applicationId);
      if (open) killsMidTransaction++;
      const partitionsInTransaction = (open?.topics ?? []).reduce(
        (total, topic) => total + topic.partitions.length,
        0,
      );
      killLog.push(
        `${kill}: ${victim.name} killed ${Date.now() - victim.startedMs} ms after its start, ${open ? `transaction open on ${partitionsInTransaction} partitions` : 'no transaction open'}`,
      );
      if (kill % 3 === 0) {
        // A wiped state dir: the next run restores every store from its changelog and starts
        // with a new process id, so new transactional ids (the old one times out).
        await removeDirectory(victim.stateDirectory);
      }
      const restart = victim.start();
      // Awaited before the next kill of this instance (or after the loop); never unhandled.
      restart.catch(() => {});
      started.set(victim, restart);
    }
    await Promise.all(started.values());
    const killPhaseMs = Date.now() - killPhaseStartMs;
    const events = await input.stop();
    const expected = expectedOutputs(events);

    const expectedCount = Object.fromEntries(
      outputTopics.map((topic) => [
        topic,
        [...expected[topic].values()].reduce((total, updates) => total + updates.length, 0),
      ]),
    ) as Record<OutputTopic, number>;
    const seen: Record<string, number> = {};
    const records: OutputRecord[] = [];
    const readerProcess = startJava({
      main: 'CommittedReader.java',
      label: 'CommittedReader',
      heapMb: 128,
      arguments: [broker.bootstrap, outputTopics.map((topic) => `${prefix}${topic}`).join(',')],
    });
    reader = readerProcess;
    const ended = readerProcess.waitForLine(
      (line) => (line === '{"end":true}' ? true : undefined),
      {
        timeoutMs: 300_000,
        what: 'the reader to reach the end offsets',
      },
    );
    readerProcess.onLine((line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{"topic"')) return;
      const record = JSON.parse(line) as OutputRecord;
      record.topic = record.topic.slice(prefix.length);
      records.push(record);
      seen[record.topic] = (seen[record.topic] ?? 0) + 1;
    });
    const allSeen = () => outputTopics.every((topic) => (seen[topic] ?? 0) >= expectedCount[topic]);
    const deadlineMs = Date.now() + 180_000;
    while (!allSeen() && Date.now() < deadlineMs) await sleep(250);
    // A clean stop commits and closes; what the reader reads up to the end offsets after it is
    // everything the app ever committed.
    await Promise.all(instances.map((instance) => instance.stop()));
    readerProcess.writeLine('end');
    await ended;

    const diagnostics = `kills:\n${killLog.join('\n')}\nseen ${JSON.stringify(seen)} expected ${JSON.stringify(expectedCount)}`;
    for (const topic of outputTopics) {
      const actual = new Map<string, string[]>();
      const partitionOfKey = new Map<string, number>();
      for (const record of records.filter((candidate) => candidate.topic === topic)) {
        appendTo(actual, record.key, record.value);
        const partition = partitionOfKey.get(record.key);
        assert.ok(
          partition === undefined || partition === record.partition,
          `${topic}: key in two partitions`,
        );
        partitionOfKey.set(record.key, record.partition);
      }
      assert.equal(
        seen[topic] ?? 0,
        expectedCount[topic],
        `${topic}: committed updates\n${diagnostics}`,
      );
      assert.deepEqual(
        [...actual.keys()].sort(),
        [...expected[topic].keys()].sort(),
        `${topic}: keys\n${diagnostics}`,
      );
      for (const [key, updates] of expected[topic]) {
        assert.deepEqual(actual.get(key), updates, `${topic} ${key}: updates\n${diagnostics}`);
      }
    }
    // The internal topics Streams created through CreateTopics, with the configurations it asked
    // for, and the repartition topic purged (DeleteRecords) up to what the app committed.
    const configNames = ['cleanup.policy', 'retention.ms', 'message.timestamp.type'];
    assert.deepEqual(await topicConfigs(`${applicationId}-by-region-repartition`, configNames), {
      'cleanup.policy': 'delete',
      'retention.ms': '-1',
      'message.timestamp.type': 'CreateTime',
    });
    assert.equal(
      (await topicConfigs(`${applicationId}-profiles-store-changelog`, configNames))[
        'cleanup.policy'
      ],
      'compact',
    );
    for (const store of ['user-sums-store', 'region-counts-store']) {
      assert.equal(
        (await topicConfigs(`${applicationId}-${store}-changelog`, configNames))['cleanup.policy'],
        'compact,delete',
      );
    }
    const repartitionTopic = `${applicationId}-by-region-repartition`;
    const repartitionEnds = await partitionOffsets(repartitionTopic, latestTimestamp);
    const repartitionStarts = await partitionOffsets(repartitionTopic, earliestTimestamp);
    assert.ok(
      repartitionEnds.some((end) => end > 0) &&
        repartitionEnds.every((end, partition) => end === 0 || repartitionStarts[partition] > 0),
      `repartition topic purged: starts ${repartitionStarts}, ends ${repartitionEnds}`,
    );

    console.log(
      `kafka-streams: ${events.length} events, ${killsMin} kills in ${killPhaseMs} ms, ${killsMidTransaction} with a transaction open; repartition topic starts ${repartitionStarts} ends ${repartitionEnds}; ${diagnostics}`,
    );
    // The kills must have hit a working app: most of them leave a transaction open, which the
    // next instance (or the timeout) aborts and Streams retries.
    assert.ok(
      killsMidTransaction >= killsMidTransactionMin,
      `only ${killsMidTransaction} of ${killsMin} kills hit an open transaction\n${diagnostics}`,
    );
  } finally {
    await input.stop();
    await Promise.all(instances.map((instance) => instance.kill()));
    await reader?.stop({ signal: 'SIGKILL' });
    for (const instance of instances) await removeDirectory(instance.stateDirectory);
  }
});
