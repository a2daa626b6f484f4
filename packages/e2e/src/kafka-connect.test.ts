import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { BrokerProcess } from './harness/broker-process.js';
import { ConnectWorker } from './harness/kafka-connect.js';
import { kafkajsConsumeGroup, newKafkajs } from './harness/kafkajs-client.js';
import { uniqueName } from './harness/records.js';
import { freeLoopbackPort } from './harness/reference-kafka.js';
import { makeTemporaryDirectory, removeDirectory } from './harness/temporary-directory.js';
import { waitUntil } from './harness/wait.js';

/**
 * Kafka Connect 4.4.0 in distributed mode (two `ConnectDistributed` workers in one group, REST on
 * loopback) with the FileStreamSource and FileStreamSink connectors of connect-file 4.3.1,
 * against a Gregor broker process that holds the workers' config, offset and status topics
 * (25 and 5 partitions, Connect's defaults) and the data topic, created by Connect itself
 * (CreateTopics with `topic.creation.default.*`).
 *
 * A file is copied into a one-partition topic and back out into another file: the output must
 * equal the input line for line, including lines appended while the connectors run and lines
 * appended after the worker running the source task was stopped (its tasks move to the other
 * worker and resume from the offsets it committed, so nothing is lost or written twice).
 *
 * A second cluster runs with `exactly.once.source.support=enabled` (KIP-618: transactional source
 * tasks, a transactional leader writing the config topic, zombie fencing): its source worker is
 * SIGKILLed in the middle of a stream of appended lines, and the topic must still hold each line
 * exactly once.
 */

const workerHeapMb = 256;
const workerStartTimeoutMs = 120_000;
const copyTimeoutMs = 60_000;

let broker: BrokerProcess;
let directory: string;
/** Every worker started, stopped at the end; the first two are the first cluster's. */
const workers: ConnectWorker[] = [];
const topic = uniqueName('connect-lines');
const inputPath = () => join(directory, 'input.txt');
const outputPath = () => join(directory, 'output.txt');

/**
 * Lines with spaces, punctuation and a tab, so a copy must be exact. ASCII only: FileStreamSource
 * (connect-file 4.3.1) records its position as a count of characters but resumes by skipping
 * that many bytes, so after a task restart it would resume early in a file with multi-byte
 * UTF-8 (seen here: a line fragment and 36 lines written twice).
 */
function numberedLines(from: number, count: number, label: string): string[] {
  return Array.from(
    { length: count },
    (_, index) => `${label} ${from + index}: "quoted", comma, tab\tend {json: [1]}`,
  );
}

async function outputLines(path = outputPath()): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
}

/** Waits until the output file has as many lines as `expected`, then requires them equal. */
async function assertOutputBecomes(expected: readonly string[], what: string): Promise<void> {
  let copied: string[] = [];
  await waitUntil(
    async () => {
      copied = await outputLines();
      return copied.length >= expected.length;
    },
    {
      timeoutMs: copyTimeoutMs,
      what: () => `${what}: ${expected.length} lines in the sink's file (has ${copied.length})`,
      intervalMs: 200,
    },
  );
  assert.deepEqual(await outputLines(), expected, `${what}: the sink's file equals the input`);
}

async function runningEverywhere(
  worker: ConnectWorker,
  connector: string,
  allowedWorkers: readonly string[],
): Promise<boolean> {
  const { status, body } = await worker.connectorStatus(connector);
  return (
    status === 200 &&
    body.connector.state === 'RUNNING' &&
    allowedWorkers.includes(body.connector.worker_id) &&
    body.tasks.length === 1 &&
    body.tasks.every((task) => task.state === 'RUNNING' && allowedWorkers.includes(task.worker_id))
  );
}

/** Two workers of one Connect cluster (same group id and storage topics), healthy. */
async function startCluster(options: {
  name: string;
  settings?: Readonly<Record<string, string>>;
}): Promise<ConnectWorker[]> {
  const groupId = uniqueName(options.name);
  const ports = [await freeLoopbackPort()];
  // Two free ports, not the same one handed out twice.
  while (ports.length < 2) {
    const port = await freeLoopbackPort();
    if (!ports.includes(port)) ports.push(port);
  }
  const cluster = await Promise.all(
    ports.map((restPort, index) =>
      ConnectWorker.start({
        bootstrap: broker.bootstrap,
        groupId,
        storageTopicPrefix: groupId,
        restPort,
        directory,
        heapMb: workerHeapMb,
        label: `${options.name}-worker-${index + 1}`,
        settings: {
          'offset.flush.interval.ms': '1000',
          // A departed worker's connectors and tasks wait this long before they are reassigned
          // (default 5 minutes).
          'scheduled.rebalance.max.delay.ms': '2000',
          'task.shutdown.graceful.timeout.ms': '5000',
          ...options.settings,
        },
      }),
    ),
  );
  workers.push(...cluster);
  await Promise.all(
    cluster.map((worker) => worker.waitUntilHealthy({ timeoutMs: workerStartTimeoutMs })),
  );
  return cluster;
}

before(async () => {
  directory = await makeTemporaryDirectory('connect');
  broker = await BrokerProcess.start({ label: 'broker(connect)' });
  await startCluster({ name: 'connect' });
});

after(async () => {
  await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  await broker?.dispose();
  if (directory) await removeDirectory(directory);
});

test('Kafka Connect 4.4.0, two distributed workers: FileStreamSource → topic → FileStreamSink copies a file exactly, lines appended while running too; REST shows both connectors and tasks RUNNING', {
  timeout: 180_000,
}, async () => {
  const firstLines = numberedLines(0, 200, 'first');
  await writeFile(inputPath(), `${firstLines.join('\n')}\n`);
  const [firstWorker, secondWorker] = workers as [ConnectWorker, ConnectWorker];
  await firstWorker.createConnector('file-source', {
    'connector.class': 'FileStreamSource',
    'tasks.max': '1',
    file: inputPath(),
    topic,
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
  });
  // Through the other worker: a follower forwards the request to the leader.
  await secondWorker.createConnector('file-sink', {
    'connector.class': 'FileStreamSink',
    'tasks.max': '1',
    file: outputPath(),
    topics: topic,
  });
  await assertOutputBecomes(firstLines, 'initial file');

  const appendedLines = numberedLines(200, 100, 'appended');
  await appendFile(inputPath(), `${appendedLines.join('\n')}\n`);
  await assertOutputBecomes([...firstLines, ...appendedLines], 'after appending');

  const workerIds = workers.map((worker) => worker.workerId);
  for (const connector of ['file-source', 'file-sink']) {
    await waitUntil(() => runningEverywhere(secondWorker, connector, workerIds), {
      timeoutMs: 10_000,
      what: `${connector} and its task RUNNING on one of ${workerIds.join(', ')}`,
    });
  }
  const listed = await firstWorker.rest<string[]>('GET', '/connectors');
  assert.deepEqual([...listed.body].sort(), ['file-sink', 'file-source']);

  // The topic between them holds each line once, in file order, from offset 0.
  const records = await kafkajsConsumeGroup(
    newKafkajs({ bootstrap: broker.bootstrap, clientId: 'connect-check' }),
    { topic, group: uniqueName('connect-check'), expected: 300, timeoutMs: 30_000 },
  );
  assert.deepEqual(
    records.map((record) => [record.partition, record.offset, record.value]),
    [...firstLines, ...appendedLines].map((line, index) => [0, index, line]),
  );
});

test('Kafka Connect 4.4.0: after the worker running the source task stops (SIGTERM), both tasks run on the other worker and lines appended since arrive exactly once', {
  timeout: 180_000,
}, async (context) => {
  const copiedBefore = await outputLines();
  assert.equal(copiedBefore.length, 300, 'the first test copied 300 lines');
  const cluster = workers.slice(0, 2);
  const sourceStatus = await cluster[0]!.connectorStatus('file-source');
  const stopping = cluster.find(
    (worker) => worker.workerId === sourceStatus.body.tasks[0]?.worker_id,
  );
  assert.ok(stopping, `the source task runs on a worker: ${JSON.stringify(sourceStatus.body)}`);
  const remaining = cluster.find((worker) => worker !== stopping)!;
  const stoppedAtMs = performance.now();
  const exit = await stopping.stop('SIGTERM');
  // The JVM ran its shutdown hooks (Connect's graceful stop) and exited 128 + SIGTERM.
  assert.deepEqual(exit, { code: 143, signal: null }, 'the worker stopped gracefully');

  const afterStopLines = numberedLines(300, 100, 'after-stop');
  await appendFile(inputPath(), `${afterStopLines.join('\n')}\n`);
  for (const connector of ['file-source', 'file-sink']) {
    await waitUntil(() => runningEverywhere(remaining, connector, [remaining.workerId]), {
      timeoutMs: copyTimeoutMs,
      what: `${connector} and its task RUNNING on ${remaining.workerId}`,
      intervalMs: 250,
    });
  }
  context.diagnostic(
    `both tasks RUNNING on ${remaining.workerId} ${Math.round(performance.now() - stoppedAtMs)} ms after SIGTERM to ${stopping.workerId}`,
  );
  await assertOutputBecomes([...copiedBefore, ...afterStopLines], 'after the stop');
});

test('Kafka Connect 4.4.0 offsets API (KIP-875): GET shows the source file position and the sink consumer offset; with the sink stopped, DELETE resets its group offsets and on resume it copies the whole topic again', {
  timeout: 120_000,
}, async () => {
  const survivor = workers.slice(0, 2).find((worker) => !worker.hasExited);
  assert.ok(survivor, 'one worker of the first cluster still runs');
  const lineCount = 400;
  const inputText = await readFile(inputPath(), 'utf8');
  assert.equal(inputText.split('\n').length - 1, lineCount);

  type Offsets = {
    offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> }[];
  };
  // Offsets are committed every offset.flush.interval.ms (1 s) after the last record.
  let sourceOffsets: Offsets | undefined;
  let sinkOffsets: Offsets | undefined;
  const expectedSource = [
    { partition: { filename: inputPath() }, offset: { position: Buffer.byteLength(inputText) } },
  ];
  const expectedSink = [
    { partition: { kafka_topic: topic, kafka_partition: 0 }, offset: { kafka_offset: lineCount } },
  ];
  await waitUntil(
    async () => {
      sourceOffsets = (await survivor.rest<Offsets>('GET', '/connectors/file-source/offsets')).body;
      sinkOffsets = (await survivor.rest<Offsets>('GET', '/connectors/file-sink/offsets')).body;
      return (
        isDeepStrictEqual(sourceOffsets.offsets, expectedSource) &&
        isDeepStrictEqual(sinkOffsets.offsets, expectedSink)
      );
    },
    {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: () =>
        `connector offsets ${JSON.stringify(expectedSource)} and ${JSON.stringify(expectedSink)} (have ${JSON.stringify(sourceOffsets)} and ${JSON.stringify(sinkOffsets)})`,
    },
  );

  // Offsets can be changed only while the connector is STOPPED.
  assert.equal((await survivor.rest('PUT', '/connectors/file-sink/stop')).status, 204);
  await waitUntil(
    async () => (await survivor.connectorStatus('file-sink')).body.connector.state === 'STOPPED',
    { timeoutMs: 30_000, intervalMs: 250, what: 'file-sink STOPPED' },
  );
  const reset = await survivor.rest<{ message: string }>('DELETE', '/connectors/file-sink/offsets');
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  const afterReset = await survivor.rest<Offsets>('GET', '/connectors/file-sink/offsets');
  assert.deepEqual(afterReset.body.offsets, [], 'no committed offset left for the sink');

  await writeFile(outputPath(), '');
  assert.equal((await survivor.rest('PUT', '/connectors/file-sink/resume')).status, 202);
  const allLines = inputText.replace(/\n$/, '').split('\n');
  await assertOutputBecomes(allLines, 'after the sink offsets were reset');
});

test('Kafka Connect 4.4.0 with exactly.once.source.support: the worker running the source task is SIGKILLed while lines are appended; the topic (read_committed) holds every line exactly once, in file order, and the sink file every line', {
  timeout: 240_000,
}, async (context) => {
  const cluster = await startCluster({
    name: 'connect-eos',
    settings: {
      'exactly.once.source.support': 'enabled',
      // A killed worker is noticed after its session times out (Connect's default 10 s).
      'session.timeout.ms': '6000',
      'heartbeat.interval.ms': '1000',
    },
  });
  const eosTopic = uniqueName('connect-eos-lines');
  const input = join(directory, 'eos-input.txt');
  const output = join(directory, 'eos-output.txt');
  const firstLines = numberedLines(0, 100, 'eos-first');
  await writeFile(input, `${firstLines.join('\n')}\n`);
  // KIP-618: each poll's records and the file position are written in one transaction.
  await cluster[0]!.createConnector('eos-file-source', {
    'connector.class': 'FileStreamSource',
    'tasks.max': '1',
    file: input,
    topic: eosTopic,
    'exactly.once.support': 'required',
    'transaction.boundary': 'poll',
    'topic.creation.default.partitions': '1',
    'topic.creation.default.replication.factor': '1',
  });
  await cluster[1]!.createConnector('eos-file-sink', {
    'connector.class': 'FileStreamSink',
    'tasks.max': '1',
    file: output,
    topics: eosTopic,
    'consumer.override.isolation.level': 'read_committed',
  });
  await waitUntil(async () => (await outputLines(output)).length >= firstLines.length, {
    timeoutMs: copyTimeoutMs,
    intervalMs: 200,
    what: `the first ${firstLines.length} lines in ${output}`,
  });

  // Lines keep arriving, 10 every 20 ms, while the worker running the source task is killed.
  const sourceStatus = await cluster[0]!.connectorStatus('eos-file-source');
  const killed = cluster.find(
    (worker) => worker.workerId === sourceStatus.body.tasks[0]?.worker_id,
  );
  assert.ok(killed, `the source task runs on a worker: ${JSON.stringify(sourceStatus.body)}`);
  const survivor = cluster.find((worker) => worker !== killed)!;
  const appendedLines = numberedLines(100, 400, 'eos-appended');
  let appendedCount = 0;
  const appending = (async () => {
    for (let index = 0; index < appendedLines.length; index += 10) {
      await appendFile(input, `${appendedLines.slice(index, index + 10).join('\n')}\n`);
      appendedCount = index + 10;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const killedAtMs = performance.now();
  await killed.stop('SIGKILL');
  const appendedAtKill = appendedCount;
  await appending;
  for (const connector of ['eos-file-source', 'eos-file-sink']) {
    await waitUntil(() => runningEverywhere(survivor, connector, [survivor.workerId]), {
      timeoutMs: copyTimeoutMs,
      what: `${connector} and its task RUNNING on ${survivor.workerId}`,
      intervalMs: 250,
    });
  }
  context.diagnostic(
    `${appendedAtKill} of ${appendedLines.length} lines appended when ${killed.workerId} was killed; both tasks RUNNING on ${survivor.workerId} ${Math.round(performance.now() - killedAtMs)} ms after`,
  );

  const allLines = [...firstLines, ...appendedLines];
  const records = await kafkajsConsumeGroup(
    newKafkajs({ bootstrap: broker.bootstrap, clientId: 'connect-eos-check' }),
    {
      topic: eosTopic,
      group: uniqueName('connect-eos-check'),
      expected: allLines.length,
      timeoutMs: copyTimeoutMs,
    },
  );
  assert.deepEqual(
    records.map((record) => record.value),
    allLines,
    'the topic holds each line once, in file order (committed transactions only)',
  );
  // The sink is at-least-once: a sink task killed with the worker re-delivers from its last
  // committed offset, so its file may repeat lines, never lose or reorder them.
  let copied: string[] = [];
  await waitUntil(
    async () => {
      copied = await outputLines(output);
      return new Set(copied).size >= allLines.length;
    },
    {
      timeoutMs: copyTimeoutMs,
      intervalMs: 200,
      what: () => `${allLines.length} distinct lines in ${output} (has ${new Set(copied).size})`,
    },
  );
  assert.deepEqual(
    [...new Set(copied)],
    allLines,
    "the sink's file holds every line, in file order",
  );
  context.diagnostic(`the sink's file repeats ${copied.length - allLines.length} lines`);
});
