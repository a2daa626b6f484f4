import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPartitionChange, type Election } from './partition-change.js';
import {
  LeaderRecoveryState,
  newPartitionRegistration,
  noLeader,
  type PartitionRegistration,
} from './partition-registration.js';

/** xorshift32: a seeded sequence, so a failing seed replays. */
function randomSource(seed: number) {
  let state = seed * 2654435761 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  return {
    int: (bound: number) => Math.floor(next() * bound),
    chance: (probability: number) => next() < probability,
  };
}

const seeds = 400;
const stepsPerSeed = 60;

test('partition change: invariants hold over random sequences of fencing, ISR changes and elections', () => {
  for (let seed = 1; seed <= seeds; seed++) {
    const random = randomSource(seed);
    const brokers = [1, 2, 3, 4, 5];
    const replicationFactor = 1 + random.int(4);
    const replicas = [...brokers].sort(() => random.int(3) - 1).slice(0, replicationFactor);
    const elrEnabled = random.chance(0.5);
    const minInsyncReplicas = 1 + random.int(replicationFactor);
    let partition: PartitionRegistration = newPartitionRegistration(replicas);
    let alive = new Set(brokers);
    for (let step = 0; step < stepsPerSeed; step++) {
      const context = `seed ${seed} step ${step}`;
      // The world changes: brokers die and come back.
      for (const broker of brokers) {
        if (random.chance(0.15)) {
          if (alive.has(broker)) alive.delete(broker);
          else alive.add(broker);
        }
      }
      alive = new Set(alive);
      const acceptable = (id: number) => alive.has(id);
      let targetIsr: number[];
      const kind = random.int(3);
      if (kind === 0) {
        targetIsr = partition.isr.filter(acceptable);
      } else if (kind === 1 && partition.leader !== noLeader) {
        // The leader's AlterPartition: add a live replica or drop a follower.
        const candidates = partition.replicas.filter(
          (id) => acceptable(id) && !partition.isr.includes(id),
        );
        targetIsr =
          candidates.length > 0 && random.chance(0.5)
            ? [...partition.isr, candidates[random.int(candidates.length)]!]
            : partition.isr.filter((id) => id === partition.leader || random.chance(0.7));
      } else {
        targetIsr = [...partition.isr];
      }
      const election: Election = (['online', 'preferred', 'unclean'] as const)[random.int(3)]!;
      const change = buildPartitionChange(partition, {
        isAcceptableLeader: acceptable,
        election,
        minInsyncReplicas,
        eligibleLeaderReplicasEnabled: elrEnabled,
        targetIsr,
      });
      if (change === undefined) continue;
      const before = partition;
      const after = change.partition;
      assert.ok(
        after.isr.every((id) => after.replicas.includes(id)),
        `${context}: ISR within replicas`,
      );
      assert.equal(new Set(after.isr).size, after.isr.length, `${context}: ISR without repeats`);
      assert.ok(
        after.leader === noLeader || after.isr.includes(after.leader),
        `${context}: leader in ISR`,
      );
      assert.ok(
        !after.elr.some((id) => after.isr.includes(id)),
        `${context}: ISR and ELR disjoint`,
      );
      assert.equal(
        after.partitionEpoch,
        before.partitionEpoch + 1,
        `${context}: partition epoch +1`,
      );
      const leaderChanged = after.leader !== before.leader;
      if (leaderChanged)
        assert.equal(after.leaderEpoch, before.leaderEpoch + 1, `${context}: leader epoch bump`);
      else assert.ok(after.leaderEpoch - before.leaderEpoch <= 1, `${context}: at most one bump`);
      if (!elrEnabled && before.isr.length > 0) {
        assert.ok(after.isr.length > 0, `${context}: without ELR the ISR is never emptied`);
      }
      if (leaderChanged && after.leader !== noLeader) {
        assert.ok(acceptable(after.leader), `${context}: only an acceptable broker is elected`);
        if (change.uncleanElection) {
          assert.deepEqual(after.isr, [after.leader], `${context}: unclean resets the ISR`);
          assert.equal(
            after.leaderRecoveryState,
            LeaderRecoveryState.recovering,
            `${context}: recovering`,
          );
        } else {
          const eligible = new Set([...before.isr, ...before.elr, ...targetIsr]);
          assert.ok(eligible.has(after.leader), `${context}: a clean leader was eligible`);
        }
      }
      if (change.uncleanElection && election !== 'unclean') {
        // Only the last known leader rule elects outside ISR and ELR without unclean election.
        assert.deepEqual(before.lastKnownElr, [after.leader], `${context}: last known leader`);
      }
      partition = after;
    }
  }
});
