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

test("error table: retriable exactly where Kafka's exception is a RetriableException", () => {
  // Kafka's org.apache.kafka.common.errors: the exceptions extending RetriableException, directly
  // or through InvalidMetadataException (e.g. ElectionNotNeeded, KafkaStorage, Network).
  const retriable = [
    'CORRUPT_MESSAGE',
    'UNKNOWN_TOPIC_OR_PARTITION',
    'LEADER_NOT_AVAILABLE',
    'NOT_LEADER_OR_FOLLOWER',
    'REQUEST_TIMED_OUT',
    'REPLICA_NOT_AVAILABLE',
    'NETWORK_EXCEPTION',
    'COORDINATOR_LOAD_IN_PROGRESS',
    'COORDINATOR_NOT_AVAILABLE',
    'NOT_COORDINATOR',
    'NOT_ENOUGH_REPLICAS',
    'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    'NOT_CONTROLLER',
    'CONCURRENT_TRANSACTIONS',
    'KAFKA_STORAGE_ERROR',
    'FETCH_SESSION_ID_NOT_FOUND',
    'INVALID_FETCH_SESSION_EPOCH',
    'LISTENER_NOT_FOUND',
    'FENCED_LEADER_EPOCH',
    'UNKNOWN_LEADER_EPOCH',
    'OFFSET_NOT_AVAILABLE',
    'PREFERRED_LEADER_NOT_AVAILABLE',
    'ELIGIBLE_LEADERS_NOT_AVAILABLE',
    'ELECTION_NOT_NEEDED',
    'UNSTABLE_OFFSET_COMMIT',
    'THROTTLING_QUOTA_EXCEEDED',
    'UNKNOWN_TOPIC_ID',
    'INCONSISTENT_TOPIC_ID',
    'FETCH_SESSION_TOPIC_ID_ERROR',
    'SHARE_SESSION_NOT_FOUND',
    'INVALID_SHARE_SESSION_EPOCH',
    'SHARE_SESSION_LIMIT_REACHED',
  ];
  const flagged = errorTable.filter(([, , isRetriable]) => isRetriable).map(([, name]) => name);
  assert.deepEqual(flagged, retriable);
});
