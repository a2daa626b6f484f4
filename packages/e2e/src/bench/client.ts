import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '@gregor/client';
import { BrokerProcess } from '../harness/broker-process.js';
import { runToCompletion } from '../harness/managed-process.js';
import { repositoryRoot } from '../harness/paths.js';
import { ReferenceKafka } from '../harness/reference-kafka.js';
import { benchClientNames } from '../tools/client-bench/driver.js';
import type { WorkerResult, WorkerTask } from '../tools/client-bench/worker.js';

/**
 * `npm run bench -- client [--repeats N] [--clients a,b] [--rows a,b] [--brokers gregor,kafka]
 * [--quick] [--baseline DIR]` (`--with-kafka` = `--brokers gregor,kafka`; Apache Kafka 4.4
 * from `ReferenceKafka`):
 * @gregor/client against kafkajs, @platformatic/kafka, @confluentinc/kafka-javascript and
 * node-rdkafka on the same broker in one run, each cell in a child process of its own, clients in
 * alternating order per repeat; the median of the repeats and their spread. Beside them, "raw":
 * the broker's own ceiling with pipelined pre-encoded requests (no client library).
 * `--baseline DIR` adds the column `gregor-baseline`: @gregor/client from another compiled build
 * (a copy of an older `packages/client/dist`), for before/after figures under the same load.
 * Results: tables on stdout and .bench/client-results.json.
 */

const partitions = 4;
const workerPath = fileURLToPath(new URL('../tools/client-bench/worker.js', import.meta.url));

interface Options {
  repeats: number;
  clients: string[];
  rows: string[] | undefined;
  brokers: string[];
  quick: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    repeats: 3,
    clients: ['raw', ...benchClientNames],
    rows: undefined,
    brokers: ['gregor'],
    quick: false,
  };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--repeats') options.repeats = Number(argv[++index]);
    else if (argument === '--clients') options.clients = argv[++index].split(',');
    else if (argument === '--rows') options.rows = argv[++index].split(',');
    else if (argument === '--with-kafka') options.brokers = ['gregor', 'kafka'];
    else if (argument === '--brokers') options.brokers = argv[++index].split(',');
    else if (argument === '--quick') options.quick = true;
    else if (argument === '--baseline') {
      // Workers inherit the environment: the baseline driver loads the build from there.
      process.env.GREGOR_CLIENT_BASELINE = resolve(argv[++index]);
    } else throw new Error(`unknown argument ${argument}`);
  }
  const baseline = process.env.GREGOR_CLIENT_BASELINE !== undefined;
  if (baseline && !options.clients.includes('gregor-baseline'))
    options.clients.splice(options.clients.indexOf('gregor') + 1, 0, 'gregor-baseline');
  return options;
}

type RowKind = WorkerTask['kind'];

interface Row {
  id: string;
  label: string;
  kind: RowKind;
  unit: 'records/s' | 'ms' | 'MB';
  recordBytes: number;
  window: number;
  batchRecords: number;
  /** Whether "raw" (no client) has a figure here. */
  raw: boolean;
}

const rows: Row[] = [
  {
    id: 'produce-one-100',
    label: 'produce 100 B, one record per send, 1,000 sends in flight',
    kind: 'produce-one',
    unit: 'records/s',
    recordBytes: 100,
    window: 1000,
    batchRecords: 1,
    raw: true,
  },
  {
    id: 'produce-one-1k',
    label: 'produce 1 KiB, one record per send, 1,000 sends in flight',
    kind: 'produce-one',
    unit: 'records/s',
    recordBytes: 1024,
    window: 1000,
    batchRecords: 1,
    raw: true,
  },
  {
    id: 'produce-batch-100',
    label: 'produce 100 B, 100 records per call, 10 calls in flight',
    kind: 'produce-batch',
    unit: 'records/s',
    recordBytes: 100,
    window: 10,
    batchRecords: 100,
    raw: true,
  },
  {
    id: 'produce-batch-1k',
    label: 'produce 1 KiB, 100 records per call, 10 calls in flight',
    kind: 'produce-batch',
    unit: 'records/s',
    recordBytes: 1024,
    window: 10,
    batchRecords: 100,
    raw: true,
  },
  {
    id: 'consume-100',
    label: 'consume 100 B records (group, from the beginning)',
    kind: 'consume',
    unit: 'records/s',
    recordBytes: 100,
    window: 0,
    batchRecords: 0,
    raw: true,
  },
  {
    id: 'latency',
    label: 'end-to-end latency, 100 B at 1,000 records/s: p50',
    kind: 'latency',
    unit: 'ms',
    recordBytes: 100,
    window: 0,
    batchRecords: 0,
    raw: false,
  },
  {
    id: 'idle-memory',
    label: 'RSS per idle connected producer',
    kind: 'idle-memory',
    unit: 'MB',
    recordBytes: 100,
    window: 0,
    batchRecords: 0,
    raw: false,
  },
];

interface Sizes {
  warmupMs: number;
  measureMs: number;
  consumeRecords: number;
  latencyRatePerSecond: number;
  idleClients: number;
}

const fullSizes: Sizes = {
  warmupMs: 1_500,
  measureMs: 4_000,
  consumeRecords: 500_000,
  latencyRatePerSecond: 1_000,
  idleClients: 10,
};
const quickSizes: Sizes = {
  warmupMs: 200,
  measureMs: 500,
  consumeRecords: 5_000,
  latencyRatePerSecond: 200,
  idleClients: 2,
};

interface CellResult {
  broker: string;
  row: string;
  client: string;
  repeat: number;
  result?: WorkerResult;
  error?: string;
}

interface BrokerUnderTest {
  name: string;
  bootstrap: string;
  stop(): Promise<void>;
}

async function startBroker(name: string): Promise<BrokerUnderTest> {
  if (name === 'gregor') {
    const broker = await BrokerProcess.start({
      label: 'broker(bench-client)',
      extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
    });
    return { name, bootstrap: broker.bootstrap, stop: () => broker.dispose() };
  }
  const kafka = await ReferenceKafka.start({ jvmFlags: 'kafka', heapMb: 1024 });
  return { name, bootstrap: kafka.bootstrap, stop: () => kafka.stop() };
}

/** Builds the librdkafka-based clients when missing; the reason when they cannot be built. */
async function nativeClientsProblem(): Promise<string | undefined> {
  const result = await runToCompletion({
    command: 'bash',
    arguments: [join(repositoryRoot, 'scripts/setup-native-clients.sh')],
    timeoutMs: 1_800_000,
  });
  if (result.code === 0) return undefined;
  return `setup-native-clients.sh failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`;
}

async function runWorker(task: WorkerTask): Promise<WorkerResult> {
  const result = await runToCompletion({
    command: process.execPath,
    arguments: ['--expose-gc', workerPath, JSON.stringify(task)],
    timeoutMs: 180_000,
  });
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
  if (result.code !== 0 || line === undefined) {
    const reason = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(0, 3).join(' ');
    throw new Error(`exit ${result.code ?? result.signal}: ${reason.slice(0, 300)}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as WorkerResult;
}

async function fill(bootstrap: string, topic: string, count: number): Promise<void> {
  const producer = new Producer({ bootstrapServers: [bootstrap], lingerMs: 10 });
  const value = Buffer.alloc(100, 1);
  const pending: Promise<unknown>[] = [];
  for (let index = 0; index < count; index++) {
    pending.push(producer.send({ topic, value }));
    if (pending.length >= 10_000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await producer.close();
}

function taskFor(
  row: Row,
  client: string,
  bootstrap: string,
  topic: string,
  group: string,
  sizes: Sizes,
): WorkerTask {
  const name = client as (typeof benchClientNames)[number];
  switch (row.kind) {
    case 'produce-one':
    case 'produce-batch':
      return {
        kind: row.kind,
        client: client as (typeof benchClientNames)[number] | 'raw',
        bootstrap,
        topic,
        partitions,
        recordBytes: row.recordBytes,
        window: row.window,
        batchRecords: row.batchRecords,
        warmupMs: sizes.warmupMs,
        measureMs: sizes.measureMs,
      };
    case 'consume':
      return {
        kind: 'consume',
        client: client as (typeof benchClientNames)[number] | 'raw',
        bootstrap,
        topic,
        partitions,
        group,
        expectedRecords: sizes.consumeRecords,
        timeoutMs: 120_000,
      };
    case 'latency':
      return {
        kind: 'latency',
        client: name,
        bootstrap,
        topic,
        group,
        recordBytes: row.recordBytes,
        ratePerSecond: sizes.latencyRatePerSecond,
        warmupMs: sizes.warmupMs * 2,
        measureMs: sizes.measureMs,
        timeoutMs: 60_000,
      };
    case 'idle-memory':
      return { kind: 'idle-memory', client: name, bootstrap, topic, clients: sizes.idleClients };
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function format(value: number, unit: Row['unit']): string {
  if (unit === 'records/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'MB') return (value / 1e6).toFixed(1);
  return value.toFixed(1);
}

function summarise(row: Row, cells: CellResult[]): string {
  const values = cells.flatMap((cell) => (cell.result ? [cell.result.value] : []));
  if (values.length === 0) {
    const error = cells.find((cell) => cell.error)?.error;
    return error === undefined ? 'n/a' : 'failed';
  }
  const spread =
    values.length > 1
      ? ` (${format(Math.min(...values), row.unit)}–${format(Math.max(...values), row.unit)})`
      : '';
  let text = `${format(median(values), row.unit)}${spread}`;
  if (row.kind === 'latency') {
    const p99 = cells.flatMap((cell) => (cell.result?.p99 !== undefined ? [cell.result.p99] : []));
    text += ` / p99 ${format(median(p99), 'ms')}`;
  }
  return values.length < cells.length ? `${text} [${cells.length - values.length} failed]` : text;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const sizes = options.quick ? quickSizes : fullSizes;
  const selectedRows = rows.filter(
    (row) => options.rows === undefined || options.rows.includes(row.id),
  );
  const skipped = new Map<string, string>();
  if (options.clients.some((client) => client === 'confluent' || client === 'node-rdkafka')) {
    const problem = await nativeClientsProblem();
    if (problem !== undefined) {
      skipped.set('confluent', problem);
      skipped.set('node-rdkafka', problem);
    }
  }
  const clients = options.clients.filter((client) => !skipped.has(client));
  const results: CellResult[] = [];
  const brokers = options.brokers;
  const load: string[] = [];
  for (const brokerName of brokers) {
    const broker = await startBroker(brokerName);
    try {
      const admin = new Admin({ bootstrapServers: [broker.bootstrap] });
      const consumeTopic = 'bench-consume-100';
      if (selectedRows.some((row) => row.kind === 'consume')) {
        await admin.createTopics([{ name: consumeTopic, partitions, replicationFactor: 1 }]);
        await fill(broker.bootstrap, consumeTopic, sizes.consumeRecords);
      }
      for (const row of selectedRows) {
        for (let repeat = 0; repeat < options.repeats; repeat++) {
          const order = clients.filter((client) => client !== 'raw' || row.raw);
          if (repeat % 2 === 1) order.reverse();
          for (const client of order) {
            const cellName = `${row.id}-${client}-${repeat}`;
            const ownTopic = row.kind !== 'consume';
            const topic = ownTopic ? `bench-${cellName}` : consumeTopic;
            if (ownTopic)
              await admin.createTopics([{ name: topic, partitions, replicationFactor: 1 }]);
            const cell: CellResult = { broker: brokerName, row: row.id, client, repeat };
            try {
              cell.result = await runWorker(
                taskFor(row, client, broker.bootstrap, topic, `bench-group-${cellName}`, sizes),
              );
            } catch (error) {
              cell.error = error instanceof Error ? error.message : String(error);
            }
            if (ownTopic) await admin.deleteTopics([topic]).catch(() => undefined);
            results.push(cell);
            const shown = cell.result
              ? `${format(cell.result.value, row.unit)} ${row.unit}${cell.result.p99 !== undefined ? ` (p99 ${format(cell.result.p99, 'ms')})` : ''}${cell.result.detail ? ` — ${cell.result.detail}` : ''}`
              : `FAILED ${cell.error}`;
            console.log(`[${brokerName}] ${row.id} #${repeat + 1} ${client}: ${shown}`);
          }
        }
        load.push(`${row.id}: ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
      }
      admin.close();
    } finally {
      await broker.stop();
    }
  }
  const columns = options.clients;
  for (const brokerName of brokers) {
    console.log(
      `\n### ${brokerName === 'gregor' ? 'Gregor' : 'Apache Kafka 4.4'}, median of ${options.repeats} (min–max)\n`,
    );
    console.log(`| row | ${columns.join(' | ')} | @gregor/client ÷ kafkajs |`);
    console.log(`|---|${columns.map(() => '---:').join('|')}|---:|`);
    for (const row of selectedRows) {
      const cellsOf = (client: string) =>
        results.filter(
          (cell) => cell.broker === brokerName && cell.row === row.id && cell.client === client,
        );
      const texts = columns.map((client) =>
        skipped.has(client)
          ? 'not installed'
          : client === 'raw' && !row.raw
            ? '—'
            : summarise(row, cellsOf(client)),
      );
      const gregorValues = cellsOf('gregor').flatMap((cell) =>
        cell.result ? [cell.result.value] : [],
      );
      const kafkajsValues = cellsOf('kafkajs').flatMap((cell) =>
        cell.result ? [cell.result.value] : [],
      );
      const ratio =
        gregorValues.length > 0 && kafkajsValues.length > 0
          ? row.unit === 'records/s'
            ? median(gregorValues) / median(kafkajsValues)
            : median(kafkajsValues) / median(gregorValues)
          : Number.NaN;
      console.log(
        `| ${row.label} (${row.unit}) | ${texts.join(' | ')} | ${Number.isNaN(ratio) ? '' : `${ratio.toFixed(1)}×`} |`,
      );
    }
  }
  for (const [client, reason] of skipped) console.log(`${client}: ${reason}`);
  console.log(`load average (1 min) after each row: ${load.join(', ')}`);
  const failures = results.filter((cell) => cell.error !== undefined);
  for (const cell of failures)
    console.log(
      `failed: [${cell.broker}] ${cell.row} ${cell.client} #${cell.repeat + 1}: ${cell.error}`,
    );
  const directory = join(repositoryRoot, '.bench');
  await mkdir(directory, { recursive: true });
  await writeFile(
    join(directory, 'client-results.json'),
    `${JSON.stringify({ sizes, partitions, results, skipped: Object.fromEntries(skipped), load }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
