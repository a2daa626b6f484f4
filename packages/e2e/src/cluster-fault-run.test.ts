/**
 * The fault kit on Apache Kafka 4.4's three KRaft nodes and on three Gregor brokers on etcd: an
 * idempotent acks=all kafkajs producer keeps sending (RF 3, min.insync.replicas=2) while the
 * partition leader and the controller are SIGKILLed, SIGSTOPped past their lease and SIGTERMed,
 * and the history checker finds every acknowledged record exactly once at the offset it was
 * acknowledged at. The long runs (24 faults, 20 leader kills) are `npm run bench -- cluster-faults`
 * and `cluster-failover`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FaultStep, runFaults } from './harness/fault-run.js';
import { describeHistory, noProblems } from './harness/history-checker.js';

async function faultRunHoldsEveryAcknowledgedRecord(
  target: 'kafka' | 'gregor',
  faults: FaultStep[],
): Promise<void> {
  const result = await runFaults({ target, faults });
  const { summary } = result;
  assert.deepEqual(result.readerErrors, []);
  assert.deepEqual(summary.counts, noProblems, describeHistory(summary));
  assert.equal(result.faults.length, faults.length);
  // Every fault was survived: some send was acknowledged after each one.
  for (const fault of result.faults) {
    assert.notEqual(fault.failoverMs, undefined, JSON.stringify(fault));
  }
  // Every position read holds an acknowledged send or one whose outcome the producer never learnt.
  assert.equal(
    summary.readPositions,
    summary.acked + summary.unknownWritten + summary.failedWritten,
  );
}

describe('fault run on three Apache Kafka nodes', { timeout: 240_000 }, () => {
  it('no acknowledged record lost, duplicated or moved across SIGKILL, SIGSTOP and SIGTERM', () =>
    faultRunHoldsEveryAcknowledgedRecord('kafka', [
      { kind: 'SIGKILL', target: 'leader' },
      { kind: 'SIGSTOP', target: 'controller' },
      { kind: 'SIGTERM', target: 'leader' },
    ]));
});

describe('fault run on three Gregor brokers on etcd', { timeout: 300_000 }, () => {
  it('no acknowledged record lost, duplicated or moved across leader and controller faults', () =>
    faultRunHoldsEveryAcknowledgedRecord('gregor', [
      { kind: 'SIGKILL', target: 'leader' },
      { kind: 'SIGSTOP', target: 'leader' },
      { kind: 'SIGTERM', target: 'leader' },
      { kind: 'SIGKILL', target: 'controller' },
      { kind: 'SIGSTOP', target: 'controller' },
      { kind: 'SIGTERM', target: 'controller' },
    ]));
});
