import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Admin, Producer } from '@gregor/client';
import { BrokerProcess } from './harness/broker-process.js';
import { readToEnd } from './harness/gregor-client-transaction-scenarios.js';
import { JsonLinesProcess } from './harness/json-lines-process.js';
import { ManagedProcess } from './harness/managed-process.js';
import { uniqueName } from './harness/records.js';
import { sleep } from './harness/wait.js';

/**
 * Exactly-once with @gregor/client: a consume-transform-produce processor (tools/
 * gregor-client-processor.ts, one transaction per poll with its consumed offsets) is SIGKILLed
 * 20 times while it works through the input; each new instance fences the last one and goes on
 * from the committed offsets. The output read with read_committed holds every input record
 * exactly once, in input order per key.
 */

const processorPath = fileURLToPath(new URL('./tools/gregor-client-processor.js', import.meta.url));
let broker: BrokerProcess;
const spawned: JsonLinesProcess[] = [];

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(gregor-client-eos)',
    extraArguments: [
      '--override',
      'transaction.state.log.num.partitions=4',
      '--override',
      'offsets.topic.num.partitions=4',
    ],
  });
});
after(async () => {
  await Promise.all(spawned.map((processor) => processor.kill()));
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

test('gregor: exactly-once consume-transform-produce with @gregor/client under 20 SIGKILLs of the processor', {
  timeout: 180_000,
}, async () => {
  const options = { bootstrapServers: [broker.bootstrap], clientId: 'gregor-client-eos' };
  const partitions = 3;
  const input = uniqueName('eos-in');
  const output = uniqueName('eos-out');
  const admin = new Admin(options);
  await admin.createTopics(
    [input, output].map((name) => ({ name, partitions, replicationFactor: 1 })),
  );
  admin.close();
  const recordCount = 7200;
  const keyCount = 60;
  // Small input batches: a fetch returns whole batches, so they bound each transaction's size.
  const inputProducer = new Producer({ ...options, batchSizeBytes: 400 });
  await Promise.all(
    Array.from({ length: recordCount }, (_, index) =>
      inputProducer.send({ topic: input, key: `key-${index % keyCount}`, value: String(index) }),
    ),
  );
  await inputProducer.close();
  const parameters = {
    input,
    output,
    partitions,
    group: uniqueName('eos-group'),
    transactionalId: uniqueName('eos'),
    maxPartitionBytes: 400,
    pauseMs: 20,
  };
  let seed = 20_261_207;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const kills = 20;
  let committedBeforeKills = 0;
  let finishedEarly = 0;
  for (let round = 0; round < kills; round++) {
    const processor = spawnProcessor(parameters, `gregor-client-processor-${round}`);
    // Kill while it works: after its first commit, at a random point of the next transactions.
    await processor.waitForEvent('committed', { timeoutMs: 30_000 });
    await sleep(Math.floor(random() * 500));
    if (processor.eventsOf('done').length > 0) finishedEarly++;
    await processor.kill();
    committedBeforeKills += processor.eventsOf('committed').length;
  }
  const last = spawnProcessor(parameters, 'gregor-client-processor-final');
  await last.waitForEvent('done', { timeoutMs: 60_000 });
  assert.equal(finishedEarly, 0, 'every kill landed before the input was done');
  const records = await readToEnd(
    { bootstrap: broker.bootstrap, label: 'gregor' },
    output,
    partitions,
    'read_committed',
  );
  const valuesByKey = new Map<string, number[]>();
  for (const record of records) {
    const key = record.key?.toString() ?? '';
    const list = valuesByKey.get(key) ?? [];
    list.push(Number(record.value?.toString().replace(/^out-/, '')));
    valuesByKey.set(key, list);
  }
  assert.equal(records.length, recordCount, 'output count');
  for (let key = 0; key < keyCount; key++) {
    const expected = Array.from(
      { length: recordCount / keyCount },
      (_, index) => index * keyCount + key,
    );
    assert.deepEqual(
      valuesByKey.get(`key-${key}`),
      expected,
      `key-${key}: every input once, in order`,
    );
  }
  assert.ok(
    committedBeforeKills > kills,
    `the killed processors made progress (${committedBeforeKills} transactions)`,
  );
  process.stdout.write(
    `# gregor-client EOS: ${kills} SIGKILLs, ${committedBeforeKills} transactions committed by the killed processors, ${last.eventsOf('committed').length} by the last\n`,
  );
});
