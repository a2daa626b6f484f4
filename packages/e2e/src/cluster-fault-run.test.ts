/**
 * The fault kit proven on Apache Kafka 4.4's three KRaft nodes: an idempotent acks=all kafkajs
 * producer keeps sending (RF 3, min.insync.replicas=2) while the partition leader is SIGKILLed,
 * the controller SIGSTOPped and the leader SIGTERMed, and the history checker finds every
 * acknowledged record exactly once at the offset it was acknowledged at. Gregor's run of the same
 * kit is `npm run bench -- cluster-faults` until its replication is on main.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFaults } from './harness/fault-run.js';
import { describeHistory, noProblems } from './harness/history-checker.js';

describe('fault run on three Apache Kafka nodes', { timeout: 240_000 }, () => {
  it('no acknowledged record lost, duplicated or moved across SIGKILL, SIGSTOP and SIGTERM', async () => {
    const result = await runFaults({
      target: 'kafka',
      faults: [
        { kind: 'SIGKILL', target: 'leader' },
        { kind: 'SIGSTOP', target: 'controller' },
        { kind: 'SIGTERM', target: 'leader' },
      ],
    });
    const { summary } = result;
    assert.deepEqual(result.readerErrors, []);
    assert.deepEqual(summary.counts, noProblems, describeHistory(summary));
    assert.equal(result.faults.length, 3);
    // Every fault was survived: some send was acknowledged after each one.
    for (const fault of result.faults) {
      assert.notEqual(fault.failoverMs, undefined, JSON.stringify(fault));
    }
    // Every position read holds an acknowledged send or one whose outcome the producer never learnt.
    assert.equal(
      summary.readPositions,
      summary.acked + summary.unknownWritten + summary.failedWritten,
    );
  });
});
