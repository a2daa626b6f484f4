import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { runExactlyOnce } from './harness/gregor-client-exactly-once.js';

/**
 * Exactly-once with @gregor/client: a consume-transform-produce processor (tools/
 * gregor-client-processor.ts, a static member of a classic group, one transaction per poll with
 * its consumed offsets and group metadata) is SIGKILLed 20 times while it works through the
 * input; each new instance fences the last one (transactional id and group instance id) and goes
 * on from the committed offsets. The output read with read_committed holds every input record
 * exactly once, in input order per key. (`npm run bench -- gregor-client-exactly-once` runs more
 * kills against Gregor and Apache Kafka 4.4.)
 */

let broker: BrokerProcess;

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(gregor-client-eos)',
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
  await broker?.dispose();
});

test('gregor: exactly-once consume-transform-produce with @gregor/client under 20 SIGKILLs of the processor', {
  timeout: 180_000,
}, async () => {
  const kills = 20;
  const result = await runExactlyOnce({
    bootstrap: broker.bootstrap,
    label: 'gregor',
    kills,
    recordCount: 4800,
    seed: 20_261_207,
    membership: 'group',
  });
  assert.equal(result.finishedEarly, 0, 'every kill landed before the input was done');
  assert.equal(result.outputCount, 4800, 'output count');
  for (const [key, expected] of result.expectedByKey) {
    assert.deepEqual(result.valuesByKey.get(key), expected, `${key}: every input once, in order`);
  }
  assert.ok(
    result.committedBeforeKills > kills,
    `the killed processors made progress (${result.committedBeforeKills} transactions)`,
  );
  // The offsets went in with real group metadata (KIP-447), not generation -1.
  assert.ok(result.lastGenerationId >= 1, `generation ${result.lastGenerationId}`);
  assert.notEqual(result.lastMemberId, '');
  process.stdout.write(
    `# gregor-client EOS: ${kills} SIGKILLs, ${result.committedBeforeKills} transactions committed by the killed processors, ${result.committedByLast} by the last (generation ${result.lastGenerationId}), ${result.elapsedMs} ms\n`,
  );
});
