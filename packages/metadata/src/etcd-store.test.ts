import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { EtcdMetadataStore, etcdOptionsFromUrl } from './etcd-store.js';
import { runConformance } from './testing/conformance.js';
import { EtcdServer } from './testing/etcd-server.js';

let server: EtcdServer;
let namespaces = 0;

before(async () => {
  server = await EtcdServer.start();
});
after(async () => {
  await server.stop();
});

runConformance({
  name: 'EtcdMetadataStore',
  async start() {
    // Each test gets its own namespace on the one etcd of this file.
    const namespace = `test-${namespaces++}/`;
    const admin = new EtcdMetadataStore({ endpoints: [server.endpoint], namespace });
    return {
      connect: async () => new EtcdMetadataStore({ endpoints: [server.endpoint], namespace }),
      expireLeaseOf: (key) => admin.revokeLeaseOf(key),
      sleep: (durationMs) => new Promise((resolve) => setTimeout(resolve, durationMs)),
      compact: (revision) => admin.compact(revision),
      ttlMs: 2000,
      dispose: () => admin.close(),
    };
  },
});

it('lists a prefix larger than gRPC’s 4 MiB receive limit page by page', async () => {
  const store = new EtcdMetadataStore({ endpoints: [server.endpoint], namespace: 'large/' });
  try {
    const fence = await store.campaign(1, { ttlMs: 2000 });
    const value = Buffer.alloc(2048, 7);
    const commits = 20;
    await Promise.all(
      Array.from({ length: commits }, (_, commit) =>
        store.commit(
          fence,
          Array.from({ length: 127 }, (__, index) => ({
            type: 'put' as const,
            key: `p/${String(commit * 127 + index).padStart(5, '0')}`,
            value,
          })),
        ),
      ),
    );
    const listed = await store.list('p/');
    assert.equal(listed.entries.length, commits * 127);
    assert.ok(
      listed.entries.every((entry, index) => entry.key === `p/${String(index).padStart(5, '0')}`),
    );
    // One response would be about 5.3 MB: grpc-js refuses it, hence the pages.
    await assert.rejects(
      store.list('p/', { pageSize: 1_000_000 }),
      /RESOURCE_EXHAUSTED|larger than max/,
    );
    await fence.resign();
  } finally {
    await store.close();
  }
});

it("reads the broker's --metadata etcd:// URL", () => {
  assert.deepEqual(etcdOptionsFromUrl('etcd://127.0.0.1:2379'), {
    endpoints: ['127.0.0.1:2379'],
    namespace: 'gregor/',
  });
  assert.deepEqual(etcdOptionsFromUrl('etcd://a:1,b.example:2379/prod/east'), {
    endpoints: ['a:1', 'b.example:2379'],
    namespace: 'prod/east/',
  });
  assert.throws(() => etcdOptionsFromUrl('http://a:1'), /not an etcd URL/);
  assert.throws(() => etcdOptionsFromUrl('etcd://a'), /expected host:port/);
});
