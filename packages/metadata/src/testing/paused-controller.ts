/**
 * A controller in its own process, for the SIGSTOP fencing test: campaigns on etcd, prints
 * `{"elected":revision}`, then every 20 ms tries a fenced commit of `fence/owner` and prints each
 * result with whether it knew it had lost its lease at that moment. Paused (SIGSTOP) past its
 * TTL and resumed, its overdue timer fires before any keepalive reply: the fence must refuse it.
 * Usage: node paused-controller.js ENDPOINT NAMESPACE CANDIDATE_ID TTL_MS
 */
import { EtcdMetadataStore } from '../etcd-store.js';

const [endpoint, namespace, candidate, ttl] = process.argv.slice(2);
const store = new EtcdMetadataStore({ endpoints: [endpoint], namespace });
const fence = await store.campaign(Number(candidate), { ttlMs: Number(ttl) });
process.stdout.write(`${JSON.stringify({ elected: fence.revision.toString() })}\n`);
let attempt = 0;
setInterval(() => {
  const knewLost = fence.lost.aborted;
  const startedAtMs = Date.now();
  const sequence = attempt++;
  store
    .commit(fence, [
      { type: 'put', key: 'fence/owner', value: Buffer.from(`${candidate}.${sequence}`) },
    ])
    .then((result) => {
      const line = {
        attempt: sequence,
        startedAtMs,
        committed: result.committed,
        reason: result.committed ? undefined : result.reason,
        knewLost,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    })
    .catch((error: unknown) => {
      process.stdout.write(`${JSON.stringify({ attempt: sequence, error: String(error) })}\n`);
    });
}, 20);
