import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosedError } from '../errors.js';
import { Cluster } from './cluster.js';

test('a closed cluster refuses connections with a non-retriable ClosedError', async () => {
  // Retry loops (InitProducerId, coordinator lookups) stop on it instead of spinning until their
  // deadline after the producer or consumer closed.
  const cluster = new Cluster({ bootstrapServers: ['127.0.0.1:9'] });
  cluster.close();
  await assert.rejects(cluster.anyConnection(), (error: unknown) => {
    assert.ok(error instanceof ClosedError);
    assert.equal(error.retriable, false);
    return true;
  });
});
