import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SimulatedMetadataStore } from './simulated-store.js';
import { brokerKey } from './store.js';
import { runConformance } from './testing/conformance.js';
import { SimulatedClock } from './testing/simulated-clock.js';

runConformance({
  name: 'SimulatedMetadataStore',
  async start() {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    let nodes = 0;
    return {
      connect: async () => store.connect(`node-${nodes++}`),
      expireLeaseOf: async (key) => store.expireLeaseOf(key),
      sleep: (durationMs) => clock.advance(durationMs),
      compact: async (revision) => store.compact(revision),
      ttlMs: 2000,
      dispose: () => store.close(),
    };
  },
});

it('a paused node keeps believing it leads until its keepalive is answered; its commit is fenced', async () => {
  const clock = new SimulatedClock();
  const store = new SimulatedMetadataStore(clock);
  const paused = store.connect('a');
  const successor = store.connect('b');
  const old = await paused.campaign(1, { ttlMs: 2000 });
  const session = await paused.registerBroker(1, Buffer.from('a'), { ttlMs: 2000 });
  store.pauseKeepalives('a', true);
  const next = successor.campaign(2, { ttlMs: 2000 });
  await clock.advance(2500);
  const current = await next;
  assert.equal(current.controllerId, 2);
  assert.equal(old.lost.aborted, false, 'paused: it has not heard');
  assert.equal(session.lost.aborted, false);
  assert.deepEqual((await successor.list('brokers/')).entries, [], 'its registration expired');
  assert.deepEqual(await paused.commit(old, [{ type: 'put', key: 'x', value: Buffer.from('1') }]), {
    committed: false,
    reason: 'fenced',
  });
  store.pauseKeepalives('a', false);
  await clock.advance(700);
  assert.equal(old.lost.aborted, true);
  assert.equal(session.lost.aborted, true);
  await store.close();
});

it('delays watch events per node in order and fails commits on demand', async () => {
  const clock = new SimulatedClock();
  const store = new SimulatedMetadataStore(clock);
  const slow = store.connect('slow');
  store.delayWatchEvents('slow', 300);
  const fence = await store.campaign(1, { ttlMs: 2000 });
  const seen: string[] = [];
  slow.watch(
    't/',
    store.revision,
    (events) => {
      for (const event of events) seen.push(`${event.key}@${clock.monotonicMs()}`);
    },
    () => assert.fail('no reset'),
  );
  await store.commit(fence, [{ type: 'put', key: 't/1', value: Buffer.from('1') }]);
  await clock.advance(100);
  assert.deepEqual(seen, []);
  await clock.advance(300);
  assert.deepEqual(seen, ['t/1@300']);
  store.failNextCommit('default', { applied: false });
  await assert.rejects(
    store.commit(fence, [{ type: 'put', key: 't/2', value: Buffer.from('2') }]),
    /simulated commit failure/,
  );
  store.failNextCommit('default', { applied: true });
  await assert.rejects(
    store.commit(fence, [{ type: 'put', key: 't/3', value: Buffer.from('3') }]),
    /after applying/,
  );
  const listed = await store.list('t/');
  assert.deepEqual(
    listed.entries.map((entry) => entry.key),
    ['t/1', 't/3'],
  );
  assert.equal((await store.list('brokers/')).entries.length, 0);
  assert.equal(brokerKey(1), 'brokers/1');
  await store.close();
});
