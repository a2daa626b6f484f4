// Kafka's checkpoint text formats, byte for byte (a Kafka tool or a downgrade reads these files).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOffsetCheckpoint, serializeOffsetCheckpoint } from './checkpoint-file.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';

describe('checkpoint files', () => {
  it('writes and reads offset checkpoints; topic names may contain dashes', () => {
    const entries = new Map([
      ['orders-0', 42n],
      ['my-topic-12', 7n],
    ]);
    const bytes = serializeOffsetCheckpoint(entries);
    assert.equal(bytes.toString(), '0\n2\norders 0 42\nmy-topic 12 7\n');
    assert.deepEqual(parseOffsetCheckpoint(bytes), entries);
  });

  it('treats a malformed offset checkpoint as empty (full recovery)', () => {
    for (const text of [
      '1\n1\norders 0 42\n',
      '0\n2\norders 0 42\n',
      '0\n1\norders zero 42\n',
      '',
    ]) {
      assert.equal(parseOffsetCheckpoint(Buffer.from(text)).size, 0, JSON.stringify(text));
    }
    assert.equal(parseOffsetCheckpoint(null).size, 0);
  });

  it('writes and reads the leader-epoch checkpoint in the same envelope', () => {
    const cache = new LeaderEpochCache();
    cache.assign(1, 0n);
    cache.assign(3, 10n);
    const bytes = cache.serialize();
    assert.equal(bytes.toString(), '0\n2\n1 0\n3 10\n');
    assert.deepEqual(LeaderEpochCache.parse(bytes)?.list(), cache.list());
    assert.equal(LeaderEpochCache.parse(Buffer.from('0\n3\n1 0\n3 10\n')), null);
    assert.deepEqual(LeaderEpochCache.parse(Buffer.from('0\n0\n'))?.list(), []);
  });
});
