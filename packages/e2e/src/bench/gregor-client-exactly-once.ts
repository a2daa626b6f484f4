import { BrokerProcess } from '../harness/broker-process.js';
import { type ExactlyOnceResult, runExactlyOnce } from '../harness/gregor-client-exactly-once.js';
import { ReferenceKafka } from '../harness/reference-kafka.js';

/**
 * `npm run bench -- gregor-client-exactly-once`: the exactly-once run of the test with more
 * SIGKILLs (GREGOR_EOS_KILLS, default 40) against Gregor and against Apache Kafka 4.4 (KRaft,
 * transaction version 2), one after the other. Prints, per broker, whether every input is in the
 * output exactly once and in order per key, and what the killed processors got done.
 */

const kills = Number(process.env.GREGOR_EOS_KILLS ?? 40);
const recordCount = 12_000;

function summary(label: string, result: ExactlyOnceResult): string {
  let wrongKeys = 0;
  for (const [key, expected] of result.expectedByKey) {
    const actual = result.valuesByKey.get(key) ?? [];
    if (
      actual.length !== expected.length ||
      actual.some((value, index) => value !== expected[index])
    )
      wrongKeys++;
  }
  const verdict =
    wrongKeys === 0 && result.outputCount === recordCount && result.finishedEarly === 0
      ? 'exactly once, in order per key'
      : `FAILED: ${wrongKeys} keys differ, ${result.outputCount}/${recordCount} records, ${result.finishedEarly} kills after the end`;
  return `${label}: ${kills} SIGKILLs, ${recordCount} records: ${verdict}; ${result.committedBeforeKills} transactions by the killed processors, ${result.committedByLast} by the last (generation ${result.lastGenerationId}); ${(result.elapsedMs / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const broker = await BrokerProcess.start({
    label: 'broker(bench-eos)',
    extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
  });
  try {
    const result = await runExactlyOnce({
      bootstrap: broker.bootstrap,
      label: 'gregor',
      kills,
      recordCount,
      seed: 7,
      membership: 'group',
    });
    lines.push(summary('gregor', result));
    console.log(lines.at(-1));
  } finally {
    await broker.dispose();
  }
  const kafka = await ReferenceKafka.start({ heapMb: 512 });
  try {
    const result = await runExactlyOnce({
      bootstrap: kafka.bootstrap,
      label: 'kafka',
      kills,
      recordCount,
      seed: 7,
      membership: 'group',
    });
    lines.push(summary('kafka 4.4', result));
    console.log(lines.at(-1));
  } finally {
    await kafka.stop();
  }
}

await main();
