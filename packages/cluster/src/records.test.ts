import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaderRecoveryState } from './partition-registration.js';
import {
  decodeBrokerRegistration,
  decodeBrokerState,
  decodePartitionRecord,
  decodeTopicRecord,
  encodeBrokerRegistration,
  encodeBrokerState,
  encodePartitionRecord,
  encodeTopicRecord,
  parseKey,
  partitionKey,
  RecordFormatError,
} from './records.js';

test('records: every value round-trips through its versioned JSON', () => {
  const registration = {
    brokerId: 7,
    incarnationId: 'f0e1',
    rack: 'eu-1a',
    listeners: [{ name: 'PLAINTEXT', host: 'h', port: 9092, securityProtocol: 'PLAINTEXT' }],
    previousBrokerEpoch: 12345678901234n,
  };
  assert.deepEqual(
    decodeBrokerRegistration('k', encodeBrokerRegistration(registration)),
    registration,
  );
  const state = { brokerEpoch: 99n, inControlledShutdown: true };
  assert.deepEqual(decodeBrokerState('k', encodeBrokerState(state)), state);
  const topic = {
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    partitionCount: 3,
    configs: { 'cleanup.policy': 'compact' },
  };
  assert.deepEqual(decodeTopicRecord('k', encodeTopicRecord(topic)), topic);
  const partition = {
    replicas: [1, 2, 3],
    isr: [1, 2],
    elr: [3],
    lastKnownElr: [],
    removingReplicas: [],
    addingReplicas: [],
    leader: 1,
    leaderEpoch: 4,
    partitionEpoch: 9,
    leaderRecoveryState: LeaderRecoveryState.recovered,
  };
  assert.deepEqual(decodePartitionRecord('k', encodePartitionRecord(partition)), partition);
  assert.equal(JSON.parse(encodeBrokerState(state).toString()).v, 1);
});

test('records: unknown versions and malformed values are refused with the key named', () => {
  assert.throws(
    () =>
      decodeBrokerState(
        'broker-states/1',
        Buffer.from('{"v":2,"brokerEpoch":"1","inControlledShutdown":false}'),
      ),
    (error: unknown) =>
      error instanceof RecordFormatError &&
      /broker-states\/1: unknown format version 2/.test(error.message),
  );
  assert.throws(() => decodeBrokerState('k', Buffer.from('not json')), /not JSON/);
  assert.throws(
    () =>
      decodeBrokerState('k', Buffer.from('{"v":1,"brokerEpoch":1,"inControlledShutdown":false}')),
    /brokerEpoch must be a decimal string/,
  );
});

test('records: keys name what they hold; anything else is ignored', () => {
  assert.deepEqual(parseKey('brokers/3'), { kind: 'broker', brokerId: 3 });
  assert.deepEqual(parseKey('broker-states/0'), { kind: 'broker-state', brokerId: 0 });
  assert.deepEqual(parseKey('topics/a.b_c-d'), { kind: 'topic', name: 'a.b_c-d' });
  assert.deepEqual(parseKey(partitionKey('AAAAAAAAAAAAAAAAAAAAAQ', 12)), {
    kind: 'partition',
    topicId: 'AAAAAAAAAAAAAAAAAAAAAQ',
    partition: 12,
  });
  assert.deepEqual(parseKey('configs/cluster'), { kind: 'cluster-config' });
  assert.deepEqual(parseKey('configs/brokers/2'), { kind: 'broker-config', brokerId: 2 });
  assert.deepEqual(parseKey('controller'), { kind: 'controller' });
  for (const other of [
    'brokers/x',
    'brokers/01',
    'partitions/abc',
    'partitions/abc/-1',
    'producer-ids/next',
    'topics/',
  ]) {
    assert.deepEqual(parseKey(other), { kind: 'other' }, other);
  }
});
