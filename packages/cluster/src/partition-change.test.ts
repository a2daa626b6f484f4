import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPartitionChange, type PartitionChangeOptions } from './partition-change.js';
import {
  LeaderRecoveryState,
  newPartitionRegistration,
  noLeader,
  type PartitionRegistration,
} from './partition-registration.js';

/** Kafka's PartitionChangeBuilderTest "FOO": replicas 2,1,3, all in sync, 1 leading. */
const foo: PartitionRegistration = {
  ...newPartitionRegistration([2, 1, 3]),
  leader: 1,
  leaderEpoch: 100,
  partitionEpoch: 200,
};

const alive =
  (...ids: number[]) =>
  (id: number) =>
    ids.includes(id);

function change(partition: PartitionRegistration, options: Partial<PartitionChangeOptions>) {
  return buildPartitionChange(partition, {
    isAcceptableLeader: alive(1, 2, 3, 4),
    minInsyncReplicas: 1,
    eligibleLeaderReplicasEnabled: false,
    ...options,
  });
}

describe('partition change: ISR changes and epochs', () => {
  test('nothing to change gives no record', () => {
    assert.equal(change(foo, {}), undefined);
    assert.equal(change(foo, { targetIsr: [2, 1, 3] }), undefined);
  });

  test('an ISR shrink bumps only the partition epoch (metadata version >= 3.6)', () => {
    const result = change(foo, { targetIsr: [2, 1] })!;
    assert.deepEqual(result.record, { isr: [2, 1] });
    assert.equal(result.partition.leader, 1);
    assert.equal(result.partition.leaderEpoch, 100);
    assert.equal(result.partition.partitionEpoch, 201);
    assert.equal(result.uncleanElection, false);
  });

  test('an ISR expansion bumps only the partition epoch', () => {
    const shrunk = { ...foo, isr: [1] };
    const result = change(shrunk, { targetIsr: [1, 3] })!;
    assert.deepEqual(result.record, { isr: [1, 3] });
    assert.equal(result.partition.leaderEpoch, 100);
    assert.equal(result.partition.partitionEpoch, 201);
  });

  test('a replica leaving the assignment bumps the leader epoch with the same leader', () => {
    const result = change(foo, { targetReplicas: [2, 1], targetIsr: [2, 1] })!;
    assert.deepEqual(result.record, { leader: 1, isr: [2, 1], replicas: [2, 1] });
    assert.equal(result.partition.leaderEpoch, 101);
    assert.equal(result.partition.partitionEpoch, 201);
  });

  test('a replica added to the assignment does not bump the leader epoch', () => {
    const result = change(foo, { targetReplicas: [2, 1, 3, 4] })!;
    assert.deepEqual(result.record, { replicas: [2, 1, 3, 4] });
    assert.equal(result.partition.leaderEpoch, 100);
  });

  test('the leader recovery state moves back to RECOVERED on its own', () => {
    const recovering = { ...foo, isr: [1], leaderRecoveryState: LeaderRecoveryState.recovering };
    const result = change(recovering, {
      targetIsr: [1, 2],
      targetLeaderRecoveryState: LeaderRecoveryState.recovered,
    })!;
    assert.deepEqual(result.record, { isr: [1, 2], leaderRecoveryState: 0 });
  });
});

describe('partition change: elections', () => {
  test('the leader fenced: the first in-sync replica in assignment order leads', () => {
    const result = change(foo, { isAcceptableLeader: alive(2, 3), targetIsr: [2, 3] })!;
    assert.deepEqual(result.record, { leader: 2, isr: [2, 3] });
    assert.equal(result.partition.leaderEpoch, 101);
    assert.equal(result.partition.partitionEpoch, 201);
  });

  test('assignment order, not ISR order, decides', () => {
    const partition = { ...foo, isr: [3, 2, 1] };
    const result = change(partition, { isAcceptableLeader: alive(2, 3), targetIsr: [3, 2] })!;
    assert.equal(result.partition.leader, 2);
  });

  test('an acceptable leader stays even when an earlier replica could lead', () => {
    assert.equal(change(foo, { targetIsr: [1, 3] })!.partition.leader, 1);
  });

  test('the last ISR member fenced, ELR off: leaderless, the ISR is never emptied', () => {
    const partition = { ...foo, isr: [1] };
    const result = change(partition, { isAcceptableLeader: alive(2, 3), targetIsr: [] })!;
    assert.deepEqual(result.record, { leader: noLeader });
    assert.deepEqual(result.partition.isr, [1]);
    assert.equal(result.partition.leaderEpoch, 101);
  });

  test('the fenced broker returns: it leads again from the ISR it never left', () => {
    const offline = { ...foo, isr: [1], leader: noLeader, leaderEpoch: 101, partitionEpoch: 201 };
    const result = change(offline, { isAcceptableLeader: alive(1, 2, 3) })!;
    assert.deepEqual(result.record, { leader: 1 });
    assert.equal(result.partition.leaderEpoch, 102);
  });

  test('unclean election: the first acceptable replica, ISR reset to it, RECOVERING', () => {
    const partition = { ...foo, isr: [1] };
    const result = change(partition, {
      isAcceptableLeader: alive(3),
      targetIsr: [],
      election: 'unclean',
    })!;
    assert.deepEqual(result.record, { leader: 3, isr: [3], leaderRecoveryState: 1 });
    assert.equal(result.uncleanElection, true);
    assert.equal(result.partition.leaderEpoch, 101);
  });

  test('unclean election prefers a clean leader when there is one', () => {
    const result = change(foo, {
      isAcceptableLeader: alive(3),
      targetIsr: [3],
      election: 'unclean',
    })!;
    assert.deepEqual(result.record, { leader: 3, isr: [3] });
    assert.equal(result.uncleanElection, false);
  });

  test('unclean election with no acceptable replica leaves the partition leaderless', () => {
    const partition = { ...foo, isr: [1] };
    const result = change(partition, {
      isAcceptableLeader: alive(),
      targetIsr: [],
      election: 'unclean',
    })!;
    assert.deepEqual(result.record, { leader: noLeader });
  });

  test('preferred election moves leadership to replicas[0] when it is in sync', () => {
    const result = change(foo, { election: 'preferred' })!;
    assert.deepEqual(result.record, { leader: 2 });
    assert.equal(result.partition.leaderEpoch, 101);
  });

  test('preferred election: replicas[0] out of sync keeps the current leader (no change)', () => {
    assert.equal(change({ ...foo, isr: [1, 3] }, { election: 'preferred' }), undefined);
  });

  test('preferred election: replicas[0] fenced and the leader gone, the next in sync leads', () => {
    const partition = { ...foo, leader: noLeader };
    const result = change(partition, { election: 'preferred', isAcceptableLeader: alive(3) })!;
    assert.deepEqual(result.record, { leader: 3 });
  });

  test('controlled shutdown: leadership moves away and the broker leaves the ISR', () => {
    const result = change(foo, { isAcceptableLeader: alive(2, 3), targetIsr: [2, 3] })!;
    assert.equal(result.partition.leader, 2);
    assert.deepEqual(result.partition.isr, [2, 3]);
  });

  test('a follower leaving the ISR by controlled shutdown keeps the leader and its epoch', () => {
    const result = change(foo, { isAcceptableLeader: alive(1, 2), targetIsr: [2, 1] })!;
    assert.deepEqual(result.record, { isr: [2, 1] });
    assert.equal(result.partition.leaderEpoch, 100);
  });
});

describe('partition change: eligible leader replicas (KIP-966)', () => {
  const elrOptions = { eligibleLeaderReplicasEnabled: true, minInsyncReplicas: 2 };
  const start: PartitionRegistration = { ...newPartitionRegistration([1, 2, 3]), leaderEpoch: 5 };

  test('at or above min.insync the ELR stays empty', () => {
    const result = change(start, { ...elrOptions, targetIsr: [1, 2] })!;
    assert.deepEqual(result.record, { isr: [1, 2] });
  });

  test('below min.insync, replicas leaving the ISR become eligible', () => {
    const result = change({ ...start, isr: [1, 2] }, { ...elrOptions, targetIsr: [1] })!;
    assert.deepEqual(result.record, { isr: [1], elr: [2] });
  });

  test('the whole ISR fenced: empty ISR, ELR keeps both, last known leader recorded', () => {
    const partition = { ...start, isr: [1], elr: [2] };
    const result = change(partition, {
      ...elrOptions,
      isAcceptableLeader: alive(3),
      targetIsr: [],
    })!;
    assert.deepEqual(result.record, { leader: noLeader, isr: [], elr: [1, 2], lastKnownElr: [1] });
    assert.equal(result.partition.leaderEpoch, 6);
  });

  test('an eligible replica comes back: it leads and becomes the ISR', () => {
    const partition: PartitionRegistration = {
      ...start,
      isr: [],
      elr: [1, 2],
      lastKnownElr: [1],
      leader: noLeader,
    };
    const result = change(partition, { ...elrOptions, isAcceptableLeader: alive(2, 3) })!;
    assert.deepEqual(result.record, { leader: 2, isr: [2], elr: [1], lastKnownElr: [] });
    assert.equal(result.uncleanElection, false);
  });

  test('a replica restarted after an unclean shutdown leaves the ELR', () => {
    const partition: PartitionRegistration = { ...start, isr: [], elr: [1, 2], leader: noLeader };
    const result = change(partition, {
      ...elrOptions,
      isAcceptableLeader: alive(3),
      uncleanShutdownReplicas: [2],
    })!;
    assert.deepEqual(result.record, { elr: [1], lastKnownElr: [2] });
  });

  test('ISR and ELR empty: the last known leader is elected when it is acceptable', () => {
    const partition: PartitionRegistration = {
      ...start,
      isr: [],
      elr: [],
      lastKnownElr: [1],
      leader: noLeader,
    };
    const result = change(partition, { ...elrOptions, isAcceptableLeader: alive(1, 3) })!;
    assert.deepEqual(result.record, {
      leader: 1,
      isr: [1],
      leaderRecoveryState: 1,
      lastKnownElr: [],
    });
    assert.equal(result.uncleanElection, true);
    assert.equal(change(partition, { ...elrOptions, isAcceptableLeader: alive(3) }), undefined);
  });

  test('the ISR back at min.insync clears both ELR lists', () => {
    const partition = { ...start, isr: [1], elr: [2], lastKnownElr: [3] };
    const result = change(partition, { ...elrOptions, targetIsr: [1, 2] })!;
    assert.deepEqual(result.record, { isr: [1, 2], elr: [], lastKnownElr: [] });
  });

  test('an unclean election clears the ELR', () => {
    const partition = { ...start, isr: [1], elr: [2], leader: 1 };
    const result = change(partition, {
      ...elrOptions,
      isAcceptableLeader: alive(3),
      targetIsr: [],
      election: 'unclean',
    })!;
    assert.equal(result.partition.leader, 3);
    assert.deepEqual(result.partition.isr, [3]);
    assert.deepEqual(result.partition.elr, []);
  });
});

describe('partition change: reassignment completion (KIP-455)', () => {
  test('all target replicas in sync: removing replicas leave, leadership moves', () => {
    const partition: PartitionRegistration = {
      ...newPartitionRegistration([1, 2, 3, 4], [1, 2, 3]),
      removingReplicas: [1],
      addingReplicas: [4],
    };
    const result = change(partition, { targetIsr: [1, 2, 3, 4] })!;
    assert.deepEqual(result.record, {
      leader: 2,
      isr: [2, 3, 4],
      replicas: [2, 3, 4],
      removingReplicas: [],
      addingReplicas: [],
    });
    assert.equal(result.partition.leaderEpoch, 1);
  });

  test('an adding replica not yet in sync keeps the reassignment going', () => {
    const partition: PartitionRegistration = {
      ...newPartitionRegistration([1, 2, 3, 4], [1, 2, 3]),
      removingReplicas: [1],
      addingReplicas: [4],
    };
    assert.equal(change(partition, { targetIsr: [1, 2, 3] }), undefined);
  });
});
