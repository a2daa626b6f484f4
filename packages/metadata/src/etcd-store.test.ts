import { after, before } from 'node:test';
import { EtcdMetadataStore } from './etcd-store.js';
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
