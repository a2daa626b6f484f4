import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrokerProcess } from './harness/broker-process.js';
import { JsonLinesProcess, runPythonClient } from './harness/json-lines-process.js';
import type { KafkajsImplementation } from './harness/kafkajs-client.js';
import { ManagedProcess } from './harness/managed-process.js';
import { duplicatesAndMissing, uniqueName } from './harness/records.js';
import { sleep } from './harness/wait.js';

/**
 * The consume-transform-produce pipeline with kafkajs 2.2.4 transactions (a group consumer and
 * `transaction.sendOffsets`), the processor process SIGKILLed at random points: the output read
 * with read_committed (by librdkafka) holds every input record exactly once. Fewer kill rounds than
 * the librdkafka test: kafkajs only consumes through a group, and each restart waits for the killed
 * member's 6 s session to expire before the group rebalances.
 */

const processorPath = fileURLToPath(
  new URL('./transactions-kafkajs-processor.js', import.meta.url),
);
let broker: BrokerProcess;
const spawned: JsonLinesProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(txn-kafkajs)',
    extraArguments: [
      '--override',
      'transaction.state.log.num.partitions=4',
      '--override',
      'offsets.topic.num.partitions=4',
      '--override',
      'group.initial.rebalance.delay.ms=0',
    ],
  });
});
after(async () => {
  await Promise.all(spawned.map((client) => client.kill()));
  await broker?.dispose();
});

function spawnProcessor(parameters: object, label: string): JsonLinesProcess {
  const processor = new JsonLinesProcess(
    new ManagedProcess({
      label,
      command: process.execPath,
      arguments: [processorPath, JSON.stringify({ bootstrap: broker.bootstrap, ...parameters })],
    }),
  );
  spawned.push(processor);
  return processor;
}

async function python(command: string, parameters: object, script = 'txn_client.py') {
  return runPythonClient({
    script,
    command,
    parameters: { bootstrap: broker.bootstrap, ...parameters },
    timeoutMs: 120_000,
  });
}

const implementations: [KafkajsImplementation, string][] = [
  ['kafkajs', 'kafkajs'],
  ['facade', '@gregor/client/kafkajs'],
];

for (const [implementation, label] of implementations) {
  test(`${label} consume-transform-produce survives SIGKILLs of the processor: output exactly once`, async () => {
    const input = uniqueName('kjs-in');
    const output = uniqueName('kjs-out');
    for (const topic of [input, output]) {
      await python('create-topic', { topic, partitions: 2 }, 'confluent_client.py');
    }
    const recordCount = 3000;
    await python(
      'produce',
      { topic: input, count: recordCount, prefix: 'in' },
      'confluent_client.py',
    );
    const parameters = {
      input,
      output,
      group: uniqueName('kjs-group'),
      transactionalId: uniqueName('kjs'),
      implementation,
    };
    let seed = 4242;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    // The facade's rounds are fewer only to bound the suite's time; each exercises the same path.
    const kills = implementation === 'facade' ? 4 : 6;
    let committedBeforeKills = 0;
    for (let round = 0; round < kills; round++) {
      const processor = spawnProcessor(parameters, `${implementation}-processor-${round}`);
      // Kill once the processor is working (it first waits for the group to rebalance).
      await processor
        .waitForEvent('committed', { timeoutMs: 20_000 })
        .catch(() => processor.waitForEvent('initialised', { timeoutMs: 1 }));
      await sleep(Math.floor(random() * 1500));
      await processor.kill();
      committedBeforeKills += processor.eventsOf('committed').length;
    }
    const last = spawnProcessor(parameters, `${implementation}-processor-final`);
    const readAll = async (expect: number | undefined) => {
      const events = await python('read', {
        topic: output,
        partitions: [0, 1],
        isolation: 'read_committed',
        group: uniqueName('reader'),
        expect,
        idleMs: 3000,
        timeoutMs: 100_000,
      });
      const result = events.find((event) => event.event === 'records');
      assert.ok(result, JSON.stringify(events).slice(0, 2000));
      return (result.records as { value: string }[]).map((record) => record.value);
    };
    const firstPass = await readAll(recordCount);
    // Let the last processor finish whatever it still had in hand, then read everything.
    await sleep(2000);
    const outputValues = await readAll(undefined);
    await last.kill();
    assert.ok(firstPass.length >= recordCount, `output reached ${firstPass.length} records`);
    assert.deepEqual(
      duplicatesAndMissing(outputValues, { prefix: 'out-value-', count: recordCount }),
      { duplicates: [], missing: [] },
      `each input once in the output (${outputValues.length} records; ${committedBeforeKills} transactions committed before the last kill)`,
    );
    assert.equal(outputValues.length, recordCount);
    assert.ok(committedBeforeKills > 0, 'the killed processors made progress');
    process.stdout.write(
      `# ${label}: ${committedBeforeKills} transactions committed before the kills\n`,
    );
  });
}
