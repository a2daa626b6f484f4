import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { PlacementError, placeReplicas, rackAlternatedBrokerList } from './placement.js';

const brokersOf = (racks: Record<number, string | null>) =>
  Object.entries(racks).map(([id, rack]) => ({ id: Number(id), rack }));

/** Kafka's AdminRackAwareTest mapping, also in AdminUtils' documentation. */
const kafkaExampleRacks = {
  0: 'rack1',
  1: 'rack3',
  2: 'rack3',
  3: 'rack2',
  4: 'rack2',
  5: 'rack1',
};

describe('placement: rack unaware (Kafka AdminUtilsTest)', () => {
  test('5 brokers, 10 partitions, RF 3 from index 0: the shift grows after each round', () => {
    const brokers = [0, 1, 2, 3, 4].map((id) => ({ id }));
    const placed = placeReplicas({
      brokers,
      partitionCount: 10,
      replicationFactor: 3,
      fixedStartIndex: 0,
    });
    assert.deepEqual(placed, [
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
      [1, 3, 4],
      [2, 4, 0],
      [3, 0, 1],
      [4, 1, 2],
    ]);
  });

  test('brokers are taken in id order whatever order they are given in', () => {
    const placed = placeReplicas({
      brokers: [{ id: 4 }, { id: 0 }, { id: 2 }, { id: 1 }, { id: 3 }],
      partitionCount: 2,
      replicationFactor: 3,
      fixedStartIndex: 0,
    });
    assert.deepEqual(placed, [
      [0, 1, 2],
      [1, 2, 3],
    ]);
  });

  test('a random start draws the start index, then the shift, from the injected source', () => {
    const draws: number[] = [];
    const values = [2, 1];
    const placed = placeReplicas({
      brokers: [0, 1, 2, 3].map((id) => ({ id })),
      partitionCount: 5,
      replicationFactor: 2,
      randomInt: (bound) => {
        draws.push(bound);
        return values.shift()!;
      },
    });
    assert.deepEqual(draws, [4, 4]);
    // start 2, shift 1: first = (p + 2) % 4, follower 1 + (1 % 3) = 2 places on; p4 shifts to 2.
    assert.deepEqual(placed, [
      [2, 0],
      [3, 1],
      [0, 2],
      [1, 3],
      [2, 1],
    ]);
  });

  test('startPartitionId continues the leaders, not the shift (as Kafka for CreatePartitions)', () => {
    const placed = placeReplicas({
      brokers: [0, 1, 2, 3, 4].map((id) => ({ id })),
      partitionCount: 5,
      replicationFactor: 3,
      fixedStartIndex: 0,
      startPartitionId: 6,
    });
    // The shift starts again from the fixed value and grows at partition 10, the next round.
    assert.deepEqual(placed, [
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
    ]);
  });

  test('RF 1 puts one replica per partition, spread evenly', () => {
    const placed = placeReplicas({
      brokers: [0, 1, 2].map((id) => ({ id })),
      partitionCount: 6,
      replicationFactor: 1,
      fixedStartIndex: 1,
    });
    assert.deepEqual(placed, [[1], [2], [0], [1], [2], [0]]);
  });
});

describe('placement: rack aware (Kafka AdminRackAwareTest)', () => {
  test('the rack-alternated list of the documented example', () => {
    const racks = new Map(
      Object.entries(kafkaExampleRacks).map(([id, rack]) => [Number(id), rack]),
    );
    assert.deepEqual(rackAlternatedBrokerList(racks), [0, 3, 1, 5, 4, 2]);
    racks.delete(5);
    assert.deepEqual(rackAlternatedBrokerList(racks), [0, 3, 1, 4, 2]);
    const nine = new Map<number, string>();
    for (let id = 0; id < 9; id++) nine.set(id, `rack${Math.floor(id / 3) + 1}`);
    assert.deepEqual(rackAlternatedBrokerList(nine), [0, 3, 6, 1, 4, 7, 2, 5, 8]);
  });

  test('the documented example: p0 -> 0,3,1 ... p6 -> 0,4,2', () => {
    const placed = placeReplicas({
      brokers: brokersOf(kafkaExampleRacks),
      partitionCount: 7,
      replicationFactor: 3,
      fixedStartIndex: 0,
      startPartitionId: 0,
    });
    assert.deepEqual(placed, [
      [0, 3, 1],
      [3, 1, 5],
      [1, 5, 4],
      [5, 4, 2],
      [4, 2, 0],
      [2, 0, 3],
      [0, 4, 2],
    ]);
  });

  test('RF = racks: every partition covers every rack, leaders and replicas spread evenly', () => {
    const racks = { 0: 'rack1', 1: 'rack2', 2: 'rack2', 3: 'rack3', 4: 'rack3', 5: 'rack1' };
    for (let start = 0; start < 6; start++) {
      const placed = placeReplicas({
        brokers: brokersOf(racks),
        partitionCount: 12,
        replicationFactor: 3,
        fixedStartIndex: start,
      });
      checkDistribution(placed, racks, { everyRackPerPartition: true });
    }
  });

  test('RF < racks: no rack holds two replicas of one partition', () => {
    const racks = { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'a', 5: 'b', 6: 'c', 7: 'd' };
    for (let seed = 0; seed < 20; seed++) {
      const placed = placeReplicas({
        brokers: brokersOf(racks),
        partitionCount: 16,
        replicationFactor: 3,
        randomInt: seededRandomInt(seed),
      });
      for (const replicas of placed) {
        const used = replicas.map((id) => racks[id as keyof typeof racks]);
        assert.equal(new Set(used).size, replicas.length, `seed ${seed}: ${replicas}`);
        assert.equal(new Set(replicas).size, replicas.length);
      }
    }
  });

  test('RF > racks: every rack is covered and no broker holds two replicas', () => {
    const racks = { 0: 'a', 1: 'a', 2: 'a', 3: 'b', 4: 'b' };
    const placed = placeReplicas({
      brokers: brokersOf(racks),
      partitionCount: 10,
      replicationFactor: 4,
      fixedStartIndex: 0,
    });
    for (const replicas of placed) {
      assert.equal(new Set(replicas).size, 4);
      const used = new Set(replicas.map((id) => racks[id as keyof typeof racks]));
      assert.deepEqual([...used].sort(), ['a', 'b']);
    }
  });

  test('one broker per rack is the round robin of the alternated list', () => {
    const placed = placeReplicas({
      brokers: brokersOf({ 0: 'r0', 1: 'r1', 2: 'r2' }),
      partitionCount: 3,
      replicationFactor: 3,
      fixedStartIndex: 0,
    });
    assert.deepEqual(placed, [
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });
});

describe('placement: errors', () => {
  const expectError = (run: () => unknown, errorCode: number, message: RegExp) => {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof PlacementError);
      assert.equal(error.errorCode, errorCode);
      assert.match(error.message, message);
      return true;
    });
  };

  test('replication factor larger than the brokers', () => {
    expectError(
      () =>
        placeReplicas({ brokers: [{ id: 0 }, { id: 1 }], partitionCount: 1, replicationFactor: 3 }),
      ErrorCode.INVALID_REPLICATION_FACTOR,
      /Replication factor: 3 larger than available brokers: 2\./,
    );
  });

  test('zero partitions or zero replicas', () => {
    expectError(
      () => placeReplicas({ brokers: [{ id: 0 }], partitionCount: 0, replicationFactor: 1 }),
      ErrorCode.INVALID_PARTITIONS,
      /larger than 0/,
    );
    expectError(
      () => placeReplicas({ brokers: [{ id: 0 }], partitionCount: 1, replicationFactor: 0 }),
      ErrorCode.INVALID_REPLICATION_FACTOR,
      /larger than 0/,
    );
  });

  test('partial rack information', () => {
    expectError(
      () =>
        placeReplicas({
          brokers: brokersOf({ 0: 'r1', 1: null, 2: 'r2' }),
          partitionCount: 1,
          replicationFactor: 2,
        }),
      ErrorCode.INVALID_REQUEST,
      /Not all brokers have rack information/,
    );
  });
});

function checkDistribution(
  placed: number[][],
  racks: Record<number, string>,
  options: { everyRackPerPartition: boolean },
): void {
  const rackNames = new Set(Object.values(racks));
  const leaderCounts = new Map<number, number>();
  const replicaCounts = new Map<number, number>();
  for (const replicas of placed) {
    leaderCounts.set(replicas[0]!, (leaderCounts.get(replicas[0]!) ?? 0) + 1);
    for (const id of replicas) replicaCounts.set(id, (replicaCounts.get(id) ?? 0) + 1);
    if (options.everyRackPerPartition) {
      assert.deepEqual(new Set(replicas.map((id) => racks[id])), rackNames);
    }
  }
  const brokerCount = Object.keys(racks).length;
  const expectedLeaders = placed.length / brokerCount;
  const expectedReplicas = (placed.length * placed[0]!.length) / brokerCount;
  for (const id of Object.keys(racks).map(Number)) {
    assert.equal(leaderCounts.get(id), expectedLeaders, `leaders on ${id}`);
    assert.equal(replicaCounts.get(id), expectedReplicas, `replicas on ${id}`);
  }
}

function seededRandomInt(seed: number): (bound: number) => number {
  let state = (seed * 2654435761 + 1) >>> 0;
  return (bound) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % bound;
  };
}
