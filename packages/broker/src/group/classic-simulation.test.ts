/**
 * Seeded random simulation of classic (eager) consumers against the coordinator: members join
 * (through MEMBER_ID_REQUIRED), sync, heartbeat, rejoin when told, leave, or stall and get expired.
 * Invariants after every step:
 * - safety: members that completed SyncGroup in the same generation own disjoint partitions, and a
 *   member's generation never goes backwards;
 * - liveness: once the chaos stops, every live member is in the same generation, every partition
 *   is owned exactly once, and the group is Stable with exactly those members.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { memoryCoordinator, seededRandom, settle, staticTopics } from './test-support.js';

const partitionCount = 7;

type ClientState = 'unjoined' | 'joined' | 'stable';

interface SimulatedClient {
  name: string;
  memberId: string;
  state: ClientState;
  generationId: number;
  isLeader: boolean;
  members: string[];
  owned: number[];
  busy: boolean;
  active: boolean;
  lastRequestMs: number;
  highestGeneration: number;
}

/** The leader's assignment: partitions round-robin over the sorted member ids. */
function assign(members: readonly string[]): { memberId: string; assignment: Buffer }[] {
  const sorted = [...members].sort();
  return sorted.map((memberId, index) => {
    const partitions: number[] = [];
    for (let partition = index; partition < partitionCount; partition += sorted.length) {
      partitions.push(partition);
    }
    return { memberId, assignment: Buffer.from(JSON.stringify(partitions)) };
  });
}

async function simulate(seed: number) {
  const random = seededRandom(seed);
  let uuid = 0;
  const started = await memoryCoordinator({
    topics: staticTopics([{ name: 't', partitionCount }]),
    config: { offsetsTopicPartitionCount: 2, initialRebalanceDelayMs: 500 },
    randomUuid: () => `u${++uuid}`,
  });
  const clock = started.clock;
  let coordinator = started.coordinator;
  let restarts = 0;
  /** A coordinator that stopped answers parked requests so: the client just retries. */
  const retriable = (errorCode: number) =>
    errorCode === ErrorCode.NOT_COORDINATOR || errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const clients: SimulatedClient[] = [];
  const unexpected: string[] = [];

  const rejoin = (client: SimulatedClient, forgetId: boolean) => {
    client.state = 'unjoined';
    client.owned = []; // eager protocol: everything is revoked before rejoining
    if (forgetId) client.memberId = '';
  };

  const step = (client: SimulatedClient) => {
    if (client.busy || !client.active) return;
    client.busy = true;
    client.lastRequestMs = clock.wallMs();
    const done = () => {
      client.busy = false;
    };
    if (client.state === 'unjoined') {
      coordinator
        .joinGroup('sim', {
          apiVersion: 5,
          memberId: client.memberId,
          groupInstanceId: null,
          clientId: client.name,
          clientHost: '/sim',
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 15_000,
          protocolType: 'consumer',
          protocols: [{ name: 'rr', metadata: Buffer.alloc(0) }],
        })
        .then((result) => {
          done();
          if (!client.active) return;
          if (result.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
            client.memberId = result.memberId;
          } else if (result.errorCode === ErrorCode.NONE) {
            client.memberId = result.memberId;
            client.state = 'joined';
            client.generationId = result.generationId;
            client.isLeader = result.leader === result.memberId;
            client.members = result.members.map((member) => member.memberId);
          } else if (result.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
            rejoin(client, true);
          } else if (
            result.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS &&
            !retriable(result.errorCode)
          ) {
            unexpected.push(`join ${result.errorCode}`);
          }
        });
    } else if (client.state === 'joined') {
      coordinator
        .syncGroup('sim', {
          memberId: client.memberId,
          groupInstanceId: null,
          generationId: client.generationId,
          protocolType: 'consumer',
          protocolName: 'rr',
          assignments: client.isLeader ? assign(client.members) : [],
        })
        .then((result) => {
          done();
          if (!client.active) return;
          if (result.errorCode === ErrorCode.NONE) {
            client.state = 'stable';
            client.owned = JSON.parse(result.assignment.toString() || '[]');
            assert.ok(client.generationId >= client.highestGeneration, 'generation went back');
            client.highestGeneration = client.generationId;
          } else if (result.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
            rejoin(client, true);
          } else if (
            result.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
            result.errorCode === ErrorCode.ILLEGAL_GENERATION
          ) {
            rejoin(client, false);
          } else if (!retriable(result.errorCode)) {
            unexpected.push(`sync ${result.errorCode}`);
          }
        });
    } else {
      const errorCode = coordinator.heartbeat('sim', {
        memberId: client.memberId,
        groupInstanceId: null,
        generationId: client.generationId,
      });
      done();
      if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID) rejoin(client, true);
      else if (
        errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
        errorCode === ErrorCode.ILLEGAL_GENERATION
      ) {
        rejoin(client, false);
      } else if (errorCode !== ErrorCode.NONE) unexpected.push(`heartbeat ${errorCode}`);
    }
  };

  const checkSafety = (at: string) => {
    const owners = new Map<string, string>();
    for (const client of clients) {
      if (!client.active || client.state !== 'stable') continue;
      for (const partition of client.owned) {
        const key = `${client.generationId}:${partition}`;
        const other = owners.get(key);
        assert.equal(
          other,
          undefined,
          `seed ${seed} ${at}: ${key} owned by ${other} and ${client.name}`,
        );
        owners.set(key, client.name);
      }
    }
    assert.deepEqual(unexpected, [], `seed ${seed} ${at}`);
  };

  const newClient = (name: string): SimulatedClient => ({
    name,
    memberId: '',
    state: 'unjoined',
    generationId: -1,
    isLeader: false,
    members: [],
    owned: [],
    busy: false,
    active: true,
    lastRequestMs: clock.wallMs(),
    highestGeneration: -1,
  });

  for (let index = 0; index < 300; index++) {
    const roll = random();
    const active = clients.filter((client) => client.active);
    if (roll < 0.05 || active.length === 0) {
      const client = newClient(`c${index}`);
      clients.push(client);
      step(client);
    } else if (roll < 0.07) {
      const leaving = active[Math.floor(random() * active.length)];
      leaving.active = false;
      if (leaving.memberId !== '') {
        coordinator.leaveGroup('sim', [{ memberId: leaving.memberId, groupInstanceId: null }]);
      }
    } else if (roll < 0.09) {
      active[Math.floor(random() * active.length)].active = false; // stalls: its session expires
    } else if (roll < 0.1) {
      // The broker restarts: stable groups come back with their members and generation.
      coordinator = await started.restart(coordinator);
      restarts++;
    } else {
      step(active[Math.floor(random() * active.length)]);
    }
    await settle(3);
    clock.advance(Math.floor(random() * 1200));
    for (const client of clients) {
      if (client.active && clock.wallMs() - client.lastRequestMs >= 3000) step(client);
    }
    await settle(3);
    checkSafety(`step ${index}`);
  }
  // Calm: every live client keeps stepping until the group settles.
  for (let round = 0; round < 80; round++) {
    for (const client of clients) step(client);
    await settle(3);
    clock.advance(500);
    await settle(3);
    checkSafety(`calm ${round}`);
  }
  const live = clients.filter((client) => client.active);
  const generations = new Set(live.map((client) => client.generationId));
  assert.equal(generations.size, 1, `seed ${seed}: one generation, got ${[...generations]}`);
  assert.ok(
    live.every((client) => client.state === 'stable'),
    `seed ${seed}: all stable`,
  );
  const owned = live.flatMap((client) => client.owned).sort((a, b) => a - b);
  assert.deepEqual(
    owned,
    Array.from({ length: partitionCount }, (_, index) => index),
  );
  const [described] = coordinator.describeGroups(['sim']);
  assert.equal(described.groupState, 'Stable');
  assert.deepEqual(
    described.members.map((member) => member.memberId).sort(),
    live.map((client) => client.memberId).sort(),
  );
  assert.ok(restarts > 0, `seed ${seed}: the run restarted the coordinator`);
  await coordinator.stop();
}

describe('classic protocol simulation', () => {
  for (const seed of [11, 12, 13, 14]) {
    it(`keeps generations consistent and converges (seed ${seed})`, async () => {
      await simulate(seed);
    });
  }
});
