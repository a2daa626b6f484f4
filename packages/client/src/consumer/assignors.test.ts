import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AssignorMember,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
} from './assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import type { TopicPartition } from './list-offsets.js';

function member(
  memberId: string,
  topics: string[],
  owned: Array<[string, number]> = [],
  generationId = -1,
  groupInstanceId: string | null = null,
): AssignorMember {
  return {
    memberId,
    groupInstanceId,
    subscription: {
      topics,
      userData: null,
      ownedPartitions: owned.map(([topic, partition]) => ({ topic, partition })),
      generationId,
      rackId: null,
    },
  };
}

function names(result: Map<string, TopicPartition[]>): Record<string, string[]> {
  return Object.fromEntries(
    [...result].map(([memberId, partitions]) => [
      memberId,
      partitions.map(({ topic, partition }) => `${topic}-${partition}`),
    ]),
  );
}

describe('assignors', () => {
  it('range: consecutive ranges per topic, the first members get one more; static members first', () => {
    const counts = new Map([['t', 5]]);
    assert.deepEqual(
      names(rangeAssignor.assign([member('m2', ['t']), member('m1', ['t'])], counts)),
      {
        m2: ['t-3', 't-4'],
        m1: ['t-0', 't-1', 't-2'],
      },
    );
    const withStatic = rangeAssignor.assign(
      [member('a', ['t']), member('z', ['t'], [], -1, 'instance-1')],
      counts,
    );
    assert.deepEqual(names(withStatic).z, ['t-0', 't-1', 't-2']);
  });

  it('roundrobin: partitions of sorted topics dealt in turn to subscribed members', () => {
    const counts = new Map([
      ['b', 2],
      ['a', 3],
    ]);
    const result = roundRobinAssignor.assign(
      [member('m1', ['a', 'b']), member('m2', ['a']), member('m3', ['a', 'b'])],
      counts,
    );
    assert.deepEqual(names(result), {
      m1: ['a-0', 'b-0'],
      m2: ['a-1'],
      m3: ['a-2', 'b-1'],
    });
  });

  it('cooperative-sticky: owners keep their quota; moving partitions are withheld one round', () => {
    const counts = new Map([['t', 6]]);
    const everything = Array.from({ length: 6 }, (_, partition): [string, number] => [
      't',
      partition,
    ]);
    const first = cooperativeStickyAssignor.assign(
      [member('a', ['t'], everything, 3), member('b', ['t'])],
      counts,
    );
    assert.deepEqual(names(first), { a: ['t-0', 't-1', 't-2'], b: [] });
    const second = cooperativeStickyAssignor.assign(
      [
        member(
          'a',
          ['t'],
          [
            ['t', 0],
            ['t', 1],
            ['t', 2],
          ],
          4,
        ),
        member('b', ['t'], [], 4),
      ],
      counts,
    );
    assert.deepEqual(names(second), { a: ['t-0', 't-1', 't-2'], b: ['t-3', 't-4', 't-5'] });
  });

  it('sticky: a partition claimed twice goes to the higher generation', () => {
    const counts = new Map([['t', 4]]);
    const result = stickyAssignor.assign(
      [
        member(
          'a',
          ['t'],
          [
            ['t', 0],
            ['t', 1],
          ],
          5,
        ),
        member(
          'b',
          ['t'],
          [
            ['t', 1],
            ['t', 2],
          ],
          4,
        ),
        member('c', ['t'], [['t', 3]], 5),
      ],
      counts,
    );
    const assigned = names(result);
    assert.deepEqual(assigned.a, ['t-0', 't-1']);
    assert.deepEqual(assigned.b, ['t-2']);
    assert.deepEqual(assigned.c, ['t-3']);
  });

  it('sticky: balances unequal subscriptions without moving more than needed', () => {
    const counts = new Map([
      ['x', 4],
      ['y', 2],
    ]);
    const result = stickyAssignor.assign(
      [
        member(
          'a',
          ['x', 'y'],
          [
            ['x', 0],
            ['x', 1],
            ['x', 2],
            ['x', 3],
            ['y', 0],
            ['y', 1],
          ],
          2,
        ),
        member('b', ['x']),
        member('c', ['y']),
      ],
      counts,
    );
    const loads = [...result.values()].map((partitions) => partitions.length);
    assert.deepEqual(loads, [2, 2, 2]);
    assert.ok(result.get('b')!.every((partition) => partition.topic === 'x'));
    assert.ok(result.get('c')!.every((partition) => partition.topic === 'y'));
  });

  it("sticky (eager): previous assignment and generation round-trip through Java's user data", () => {
    const owned = [
      { topic: 't', partition: 2 },
      { topic: 't', partition: 3 },
    ];
    const userData = stickyAssignor.subscriptionUserData(owned, 7)!;
    const counts = new Map([['t', 4]]);
    const withUserData = (memberId: string, data: Buffer | null): AssignorMember => ({
      memberId,
      groupInstanceId: null,
      subscription: {
        topics: ['t'],
        userData: data,
        ownedPartitions: [],
        generationId: -1,
        rackId: null,
      },
    });
    const result = stickyAssignor.assign(
      [withUserData('a', null), withUserData('b', userData)],
      counts,
    );
    assert.deepEqual(names(result), { a: ['t-0', 't-1'], b: ['t-2', 't-3'] });
  });
});

describe('consumer protocol', () => {
  it('subscription v3 round-trips; newer versions decode as v3', () => {
    const subscription = {
      topics: ['b', 'a'],
      userData: Buffer.from([0, 0, 0, 9]),
      ownedPartitions: [
        { topic: 'a', partition: 1 },
        { topic: 'a', partition: 0 },
      ],
      generationId: 9,
      rackId: 'rack-1',
    };
    const bytes = encodeSubscription(subscription);
    assert.equal(bytes.readInt16BE(0), 3);
    assert.deepEqual(decodeSubscription(bytes), {
      ...subscription,
      topics: ['a', 'b'],
      ownedPartitions: [
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 1 },
      ],
    });
    const future = Buffer.concat([bytes, Buffer.from([1, 2, 3])]);
    future.writeInt16BE(5, 0);
    assert.equal(decodeSubscription(future).rackId, 'rack-1');
    const v0 = encodeSubscription(subscription, 0);
    assert.deepEqual(decodeSubscription(v0).ownedPartitions, []);
  });

  it('assignment round-trips; an empty buffer is an empty assignment', () => {
    const partitions = [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 3 },
    ];
    assert.deepEqual(decodeAssignment(encodeAssignment({ partitions, userData: null })), {
      partitions,
      userData: null,
    });
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), { partitions: [], userData: null });
  });
});
