import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2, partitionForKey, toPositive } from './murmur2.js';
import { defaultPartitioner, StickyPartitions } from './partitioner.js';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('murmur2', () => {
  it('matches the vectors of Kafka Utils#murmur2 and librdkafka rdmurmur2', () => {
    assert.equal(murmur2(utf8('kafka')) >>> 0, 0xd067cf64);
    assert.equal(murmur2(utf8('')) >>> 0, 0x106e08d9);
  });

  it('covers every tail length (0-3 bytes after the last word)', () => {
    // Values computed with Kafka 4.4's Utils.murmur2 (the e2e test checks many more keys).
    const expected: Array<[string, number]> = [
      ['a', -1563381124],
      ['ab', 316155434],
      ['abc', 479470107],
      ['abcd', -1323649548],
      ['abcde', 461995741],
    ];
    for (const [key, hash] of expected) assert.equal(murmur2(utf8(key)), hash, key);
  });

  it('toPositive clears the sign bit like Java (not Math.abs)', () => {
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(partitionForKey(utf8('kafka'), 1), 0);
  });
});

describe('defaultPartitioner', () => {
  it('hashes empty keys and leaves null keys to the sticky partitioner', () => {
    const base = { topic: 't', value: null, partitionCount: 7 };
    assert.equal(defaultPartitioner({ ...base, key: null }), undefined);
    assert.equal(defaultPartitioner({ ...base, key: utf8('') }), (0x106e08d9 & 0x7fffffff) % 7);
  });
});

describe('StickyPartitions', () => {
  it('stays on one partition for batch.size bytes, then moves to another', () => {
    const randoms = [0.5, 0.0, 0.99];
    const sticky = new StickyPartitions(100, () => randoms.shift() ?? 0);
    const first = sticky.next('t', 4, 60);
    assert.equal(first, 2);
    assert.equal(sticky.next('t', 4, 60), 2);
    const second = sticky.next('t', 4, 10);
    assert.notEqual(second, first);
    assert.equal(second, 3);
    assert.equal(sticky.next('one', 1, 1000), 0);
    assert.equal(sticky.next('one', 1, 1000), 0);
  });
});
