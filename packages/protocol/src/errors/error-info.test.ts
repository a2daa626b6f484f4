import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, errorTable } from '../generated/error-codes.js';
import { errorInfo } from './error-info.js';

test('error table: unique codes, names match ErrorCode, retriable flags for known cases', () => {
  const codes = new Set(errorTable.map(([code]) => code));
  assert.equal(codes.size, errorTable.length);
  for (const [code, name] of errorTable) {
    assert.equal((ErrorCode as Record<string, number>)[name], code);
  }
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(errorInfo(ErrorCode.NOT_LEADER_OR_FOLLOWER)?.retriable, true);
  assert.equal(errorInfo(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)?.retriable, true);
  assert.equal(errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED)?.retriable, false);
  assert.equal(errorInfo(ErrorCode.UNKNOWN_SERVER_ERROR)?.name, 'UNKNOWN_SERVER_ERROR');
  assert.equal(errorInfo(9999), undefined);
  for (let code = -1; code <= 133; code++) assert.ok(errorInfo(code), `code ${code} known`);
});
