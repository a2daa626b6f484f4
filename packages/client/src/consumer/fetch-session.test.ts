import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { FetchSession, type SessionPartition } from './fetch-session.js';

function partition(index: number, fetchOffset: bigint): SessionPartition {
  return { topic: 't', topicId: 'id', partition: index, fetchOffset, maxBytes: 100 };
}

describe('FetchSession (KIP-227)', () => {
  it('full fetch creates the session, then only changes and forgotten partitions are sent', () => {
    const session = new FetchSession(true);
    const first = session.build([partition(0, 0n), partition(1, 0n), partition(2, 5n)]);
    assert.deepEqual([first.sessionId, first.sessionEpoch, first.partitions.length], [0, 0, 3]);
    assert.equal(session.onResponse(ErrorCode.NONE, 77), true);
    const second = session.build([partition(0, 10n), partition(1, 0n)]);
    assert.deepEqual([second.sessionId, second.sessionEpoch], [77, 1]);
    assert.deepEqual(
      second.partitions.map((entry) => [entry.partition, entry.fetchOffset]),
      [[0, 10n]],
    );
    assert.deepEqual(
      second.forgotten.map((entry) => entry.partition),
      [2],
    );
    session.onResponse(ErrorCode.NONE, 77);
    const third = session.build([partition(0, 10n), partition(1, 0n), partition(2, 5n)]);
    assert.deepEqual(
      [third.sessionEpoch, third.partitions.map((entry) => entry.partition), third.forgotten],
      [2, [2], []],
    );
  });

  it('a lost session or a failed request goes back to a full fetch', () => {
    const session = new FetchSession(true);
    session.build([partition(0, 0n)]);
    session.onResponse(ErrorCode.NONE, 5);
    session.build([partition(0, 1n)]);
    assert.equal(session.onResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0), false);
    const full = session.build([partition(0, 1n), partition(1, 0n)]);
    assert.deepEqual([full.sessionId, full.sessionEpoch, full.partitions.length], [0, 0, 2]);
    session.onResponse(ErrorCode.NONE, 6);
    session.build([partition(0, 2n)]);
    session.reset();
    assert.equal(session.build([partition(0, 2n)]).sessionEpoch, 0);
  });

  it('a broker that declines sessions (id 0) keeps getting full fetches; disabled means epoch -1', () => {
    const session = new FetchSession(true);
    session.build([partition(0, 0n)]);
    session.onResponse(ErrorCode.NONE, 0);
    assert.deepEqual([session.build([partition(0, 0n)]).sessionEpoch, session.id], [0, 0]);
    const disabled = new FetchSession(false);
    assert.equal(disabled.build([partition(0, 0n)]).sessionEpoch, -1);
  });
});
