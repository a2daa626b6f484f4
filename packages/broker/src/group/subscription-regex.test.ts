import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileRegex,
  subscriptionRegexLengthMax,
  unsafeRegexReason,
} from './subscription-regex.js';

describe('subscription regex safety', () => {
  it('accepts the patterns subscriptions use and matches whole names', () => {
    for (const pattern of [
      'orders-.*',
      '(orders|payments)-.*',
      'topic-[0-9]+',
      'a{2,3}',
      '[(+*]x',
      'a\\+b*',
    ]) {
      assert.equal(unsafeRegexReason(pattern), null, pattern);
    }
    assert.equal(compileRegex('orders-.*')?.test('orders-eu'), true);
    assert.equal(compileRegex('orders')?.test('orders-eu'), false, 'a full match, like Kafka');
  });

  it('refuses what RE2 lacks and what backtracks exponentially', () => {
    for (const pattern of [
      '(a+)+',
      '(a|aa)*',
      '((ab)*c)+',
      '(x*)*y',
      '.*.*.*.*x',
      '(a)\\1',
      '(?=a)a',
      '(?<!a)b',
    ]) {
      assert.notEqual(unsafeRegexReason(pattern), null, pattern);
      assert.equal(compileRegex(pattern), null, pattern);
    }
    assert.notEqual(unsafeRegexReason('a'.repeat(subscriptionRegexLengthMax + 1)), null);
    assert.equal(compileRegex('('), null, 'invalid syntax');
  });
});
