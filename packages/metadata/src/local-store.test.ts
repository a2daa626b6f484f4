import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { nodeFileSystem, SimulatedFileSystem } from '@gregor/storage';
import { LocalMetadataStore } from './local-store.js';
import { type MetadataClock, producerIdKey, type Revision } from './store.js';
import { runConformance } from './testing/conformance.js';
import { SimulatedClock } from './testing/simulated-clock.js';

const systemClock: MetadataClock = {
  monotonicMs: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

runConformance({
  name: 'LocalMetadataStore',
  async start() {
    const directory = await mkdtemp(join(tmpdir(), 'gregor-metadata-'));
    const store = await LocalMetadataStore.open({
      fileSystem: nodeFileSystem,
      directory,
      clock: systemClock,
    });
    return {
      connect: async () => store.client(),
      expireLeaseOf: async (key) => store.expireLeaseOf(key),
      sleep: (durationMs) => new Promise((resolve) => setTimeout(resolve, durationMs)),
      compact: async (revision) => store.compact(revision),
      ttlMs: 1000,
      dispose: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
});

it('restarts with its metadata; leases died with the process, revisions go on', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-metadata-'));
  try {
    const options = { fileSystem: nodeFileSystem, directory, clock: systemClock };
    const first = await LocalMetadataStore.open(options);
    const session = await first.registerBroker(0, Buffer.from('localhost:9092'), { ttlMs: 5000 });
    const fence = await first.campaign(0, { ttlMs: 5000 });
    const result = await first.commit(fence, [
      { type: 'put', key: 'topics/orders', value: Buffer.from('{"partitions":3}') },
    ]);
    assert.equal(result.committed, true);
    const block = await first.allocateProducerIds(1000);
    assert.equal(block.firstProducerId, 0n);
    await first.close();

    const second = await LocalMetadataStore.open(options);
    const topics = await second.list('topics/');
    assert.deepEqual(
      topics.entries.map((entry) => [entry.key, entry.value.toString()]),
      [['topics/orders', '{"partitions":3}']],
    );
    assert.deepEqual((await second.list('brokers/')).entries, [], 'the old registration is gone');
    assert.equal(await second.controller(), undefined, 'and so is the old controller');
    const again = await second.registerBroker(0, Buffer.from('localhost:9092'), { ttlMs: 5000 });
    assert.ok(again.brokerEpoch > session.brokerEpoch);
    const newFence = await second.campaign(0, { ttlMs: 5000 });
    assert.ok(newFence.revision > fence.revision);
    assert.equal((await second.allocateProducerIds(1000)).firstProducerId, 1000n);
    assert.equal((await second.list(producerIdKey)).entries[0].value.toString(), '2000');
    await second.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

it('keeps every acknowledged commit across power loss at any point, folding the log into snapshots', async () => {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const disk = new SimulatedFileSystem();
  const clock = new SimulatedClock();
  const acknowledged = new Map<string, string>();
  let lastRevision: Revision = 0n;
  let crashes = 0;
  const order = (value: string): number => {
    const [round, index] = value.split('.').map(Number);
    return round * 1000 + index;
  };
  for (let round = 0; round < 30; round++) {
    const store = await LocalMetadataStore.open({
      fileSystem: disk.view(),
      directory: '/metadata',
      clock,
      logBytesMax: 2000,
    });
    assert.ok(store.revision >= lastRevision, 'revisions never go back across restarts');
    const listed = await store.list('k/');
    const found = new Map(listed.entries.map((entry) => [entry.key, entry.value.toString()]));
    for (const [key, value] of acknowledged) {
      // A commit may be durable without having been acknowledged (the crash came in between).
      const now = found.get(key);
      assert.ok(
        now !== undefined && order(now) >= order(value),
        `round ${round}: ${key} = ${now}, acknowledged ${value}`,
      );
    }
    for (const [key, value] of found) acknowledged.set(key, value);
    lastRevision = listed.revision;
    const fence = await store.campaign(1, { ttlMs: 1000 });
    disk.scheduleCrash(1 + Math.floor(random() * 40), { random, tearProbability: 0.5 });
    try {
      for (let index = 0; index < 50; index++) {
        const key = `k/${Math.floor(random() * 20)}`;
        const value = `${round}.${index}`;
        const pending = store.commit(fence, [{ type: 'put', key, value: Buffer.from(value) }]);
        const result = await pending;
        assert.equal(result.committed, true);
        acknowledged.set(key, value);
        lastRevision = result.committed ? result.revision : lastRevision;
      }
      await store.close();
    } catch (error) {
      assert.match(String(error), /crashed|stale handle/);
      crashes++;
    }
    if (disk.crashPending) disk.crash({ random, tearProbability: 0.5 });
  }
  assert.ok(crashes >= 20, `${crashes} of 30 rounds crashed mid-run`);
  assert.notEqual(await disk.readFile('/metadata/metadata.snapshot'), null, 'the log was folded');
});
