import { BrokerProcess } from '../harness/broker-process.js';
import { runPythonClient } from '../harness/json-lines-process.js';
import { uniqueName } from '../harness/records.js';

/**
 * `npm run bench -- txn`: transactional vs plain produce throughput through librdkafka
 * (confluent-kafka for Python, acks=all, idempotent), transactions committed every 100 ms and
 * every 1 s, against a broker process on this machine. Each run lasts `durationMs`; the
 * transactional runs pay one AddPartitionsToTxn, one EndTxn and one fsynced marker per partition
 * per commit. Prints one line per mode and a JSON summary.
 */

const durationMs = Number(process.env.GREGOR_BENCH_TXN_DURATION_MS ?? 8000);
const partitions = 3;

interface Mode {
  name: string;
  valueBytes: number;
  commitIntervalMs?: number;
  recordsPerTransaction?: number;
}

const modes: Mode[] = [
  { name: 'plain idempotent, 100 B', valueBytes: 100 },
  { name: 'transactions every 1 s, 100 B', valueBytes: 100, commitIntervalMs: 1000 },
  { name: 'transactions every 100 ms, 100 B', valueBytes: 100, commitIntervalMs: 100 },
  { name: 'plain idempotent, 1 KiB', valueBytes: 1024 },
  { name: 'transactions every 1 s, 1 KiB', valueBytes: 1024, commitIntervalMs: 1000 },
  { name: 'transactions every 100 ms, 1 KiB', valueBytes: 1024, commitIntervalMs: 100 },
  // The fixed cost of a transaction: one record each (AddPartitions, produce, EndTxn, markers).
  {
    name: 'one record per transaction, 100 B',
    valueBytes: 100,
    commitIntervalMs: 0,
    recordsPerTransaction: 1,
  },
];

async function main(): Promise<void> {
  const broker = await BrokerProcess.start({
    label: 'broker(bench-txn)',
    extraArguments: ['--override', 'transaction.state.log.num.partitions=4'],
  });
  const results: Record<string, unknown>[] = [];
  try {
    for (const mode of modes) {
      const topic = uniqueName('bench-txn');
      await runPythonClient({
        script: 'confluent_client.py',
        command: 'create-topic',
        parameters: { bootstrap: broker.bootstrap, topic, partitions },
        timeoutMs: 30_000,
      });
      const events = await runPythonClient({
        script: 'txn_client.py',
        command: 'bench-produce',
        parameters: {
          bootstrap: broker.bootstrap,
          topic,
          partitions,
          durationMs,
          valueBytes: mode.valueBytes,
          commitIntervalMs: mode.commitIntervalMs,
          recordsPerTransaction: mode.recordsPerTransaction,
          transactionalId: uniqueName('bench'),
        },
        timeoutMs: durationMs + 90_000,
      });
      const bench = events.find((event) => event.event === 'bench');
      if (bench === undefined)
        throw new Error(`no result for ${mode.name}: ${JSON.stringify(events)}`);
      const line = `${mode.name}: ${Math.round(Number(bench.recordsPerSecond)).toLocaleString('en-US')} records/s, ${Number(bench.megabytesPerSecond).toFixed(1)} MB/s, ${bench.transactions} transactions, commit_transaction ${Number(bench.commitMsAverage).toFixed(1)} ms on average (flush included)`;
      console.log(line);
      results.push({ mode: mode.name, ...bench });
    }
  } finally {
    await broker.dispose();
  }
  console.log(JSON.stringify({ durationMs, partitions, results }));
}

await main();
