import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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
 */

const workerHeapMb = 256;
const workerStartTimeoutMs = 120_000;
const copyTimeoutMs = 60_000;

let broker: BrokerProcess;
let directory: string;
let workers: ConnectWorker[] = [];
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

async function outputLines(): Promise<string[]> {
  const text = await readFile(outputPath(), 'utf8').catch(() => '');
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

before(async () => {
  directory = await makeTemporaryDirectory('connect');
  broker = await BrokerProcess.start({ label: 'broker(connect)' });
  const groupId = uniqueName('connect-cluster');
  const ports = [await freeLoopbackPort(), await freeLoopbackPort()];
  workers = await Promise.all(
    ports.map((restPort, index) =>
      ConnectWorker.start({
        bootstrap: broker.bootstrap,
        groupId,
        storageTopicPrefix: groupId,
        restPort,
        directory,
        heapMb: workerHeapMb,
        label: `connect-worker-${index + 1}`,
        settings: {
          'offset.flush.interval.ms': '1000',
          // A departed worker's connectors and tasks wait this long before they are reassigned
          // (default 5 minutes).
          'scheduled.rebalance.max.delay.ms': '2000',
          'task.shutdown.graceful.timeout.ms': '5000',
        },
      }),
    ),
  );
  await Promise.all(
    workers.map((worker) => worker.waitUntilHealthy({ timeoutMs: workerStartTimeoutMs })),
  );
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
  const sourceStatus = await workers[0]!.connectorStatus('file-source');
  const stopping = workers.find(
    (worker) => worker.workerId === sourceStatus.body.tasks[0]?.worker_id,
  );
  assert.ok(stopping, `the source task runs on a worker: ${JSON.stringify(sourceStatus.body)}`);
  const remaining = workers.find((worker) => worker !== stopping)!;
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
