import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EtcdMetadataStore } from './etcd-store.js';
import { EtcdServer } from './testing/etcd-server.js';

interface Report {
  elected?: string;
  attempt?: number;
  startedAtMs?: number;
  committed?: boolean;
  reason?: string;
  knewLost?: boolean;
  error?: string;
}

it('a controller paused past its lease (SIGSTOP) and resumed is fenced on etcd, whatever it believes', async () => {
  const server = await EtcdServer.start();
  const namespace = 'pause/';
  const store = new EtcdMetadataStore({ endpoints: [server.endpoint], namespace });
  const script = fileURLToPath(new URL('./testing/paused-controller.js', import.meta.url));
  const child = spawn(process.execPath, [script, server.endpoint, namespace, '1', '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const reports: Report[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => reports.push(JSON.parse(line) as Report));
  const waitFor = async (what: string, condition: () => boolean): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!condition()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  try {
    await waitFor('the child to commit as controller', () =>
      reports.some((report) => report.committed === true),
    );
    const oldRevision = BigInt(reports.find((report) => report.elected)?.elected ?? '0');
    child.kill('SIGSTOP');
    // A 1 s TTL is granted as etcd's minimum (about 2 s); the election waits for its expiry.
    const fence = await store.campaign(2, { ttlMs: 1000 });
    assert.ok(fence.revision > oldRevision);
    const mine = await store.commit(fence, [
      { type: 'put', key: 'fence/owner', value: Buffer.from('2') },
    ]);
    assert.equal(mine.committed, true);
    const resumedAtMs = Date.now();
    child.kill('SIGCONT');
    // Attempts started before the pause may be answered after it; only later ones count.
    const afterPause = (): Report[] =>
      reports.filter((report) => (report.startedAtMs ?? 0) >= resumedAtMs);
    await waitFor('three attempts after the pause', () => afterPause().length >= 3);
    for (const report of afterPause()) {
      assert.equal(report.committed, false, JSON.stringify(report));
      assert.equal(report.reason, 'fenced');
    }
    const owner = await store.list('fence/');
    assert.deepEqual(
      owner.entries.map((entry) => entry.value.toString()),
      ['2'],
    );
    // What CLUSTER.md measured: on resume it still believed it led when it tried to write.
    const refused = afterPause();
    const believed = refused.filter((report) => report.knewLost === false).length;
    console.log(
      `attempts refused after the pause: ${refused.length}, made while still believing it led: ${believed}`,
    );
    await fence.resign();
  } finally {
    child.kill('SIGKILL');
    await store.close();
    await server.stop();
  }
});
