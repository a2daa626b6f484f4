import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EtcdMetadataStore } from './etcd-store.js';
import type { Fence, MetadataStore, Revision } from './store.js';
import { EtcdServer } from './testing/etcd-server.js';

/** Commits a new key; a retry after an ambiguous failure finds it created (conflict) and is done. */
async function createKey(store: MetadataStore, fence: Fence, key: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const result = await store.commit(fence, [
        { type: 'put', key, value: Buffer.from(key), expectedModRevision: 0n },
      ]);
      assert.ok(result.committed || result.reason === 'conflict', JSON.stringify(result.committed));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

it('a watch, a lease and a fence survive an etcd restart (SIGKILL): every event once, in order', async () => {
  const server = await EtcdServer.start();
  const writer = new EtcdMetadataStore({ endpoints: [server.endpoint], namespace: 'restart/' });
  const reader = new EtcdMetadataStore({ endpoints: [server.endpoint], namespace: 'restart/' });
  try {
    const fence = await writer.campaign(1, { ttlMs: 5000 });
    const session = await writer.registerBroker(1, Buffer.from('b1'), { ttlMs: 5000 });
    const start = (await reader.list('r/')).revision;
    const seen: [string, Revision][] = [];
    const watch = reader.watch(
      'r/',
      start,
      (events) => {
        for (const event of events) seen.push([event.key, event.modRevision]);
      },
      () => assert.fail('no compaction expected'),
    );
    const keys = Array.from({ length: 20 }, (_, index) => `r/${String(index).padStart(2, '0')}`);
    for (const key of keys.slice(0, 10)) await createKey(writer, fence, key);
    await server.restart();
    for (const key of keys.slice(10)) await createKey(writer, fence, key);
    const deadline = Date.now() + 15_000;
    while (seen.length < keys.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(
      seen.map(([key]) => key),
      keys,
    );
    for (let index = 1; index < seen.length; index++) {
      assert.ok(seen[index][1] > seen[index - 1][1], 'revisions increase');
    }
    assert.equal(session.lost.aborted, false, 'the lease outlived the restart');
    assert.equal(fence.lost.aborted, false);
    assert.deepEqual(
      (await reader.list('brokers/')).entries.map((entry) => entry.createRevision),
      [session.brokerEpoch],
    );
    watch.close();
    await session.close();
    await fence.resign();
  } finally {
    await writer.close();
    await reader.close();
    await server.stop();
  }
});
