/**
 * The fault kit on Apache Kafka 4.4's three KRaft nodes and on three Gregor brokers on etcd: two
 * idempotent acks=all producers, kafkajs (one send at a time) and librdkafka (confluent-kafka,
 * many sends in flight), keep sending (RF 3, min.insync.replicas=2) while the
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
  const producers = ['kafkajs', 'librdkafka'] as const;
  const result = await runFaults({ target, faults, producers });
  const { summary } = result;
  assert.deepEqual(result.readerErrors, []);
  assert.deepEqual(summary.counts, noProblems, describeHistory(summary));
  assert.equal(result.faults.length, faults.length);
  assert.deepEqual(
    result.producers.map((tally) => [tally.name, tally.errors]),
    producers.map((name) => [name, []]),
  );
  // Every fault was survived by both producers: each had a send acknowledged after each fault.
  for (const fault of result.faults) {
    for (const producer of producers) {
      assert.notEqual(fault.failoverMsByProducer[producer], undefined, JSON.stringify(fault));
    }
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
