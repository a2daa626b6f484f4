/**
 * Seeded random simulation of KIP-848 clients against the coordinator: members join, heartbeat
 * (acknowledging revocations the way a consumer does), leave, stall and get fenced, while topics
 * grow. Invariants checked after every step:
 * - safety: no partition is owned by two clients at once (a client owns what its last response
 *   assigned it, until it learns otherwise);
 * - liveness: once the chaos stops and everyone heartbeats, every partition is owned and the
 *   assignment is balanced.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import type { HeartbeatTopicPartitions } from './consumer-protocol.js';
import { memoryCoordinator, seededRandom, staticTopics } from './test-support.js';

interface SimulatedClient {
  memberId: string;
  memberEpoch: number;
  owned: HeartbeatTopicPartitions[];
  active: boolean;
  lastHeartbeatMs: number;
}

function keys(owned: readonly HeartbeatTopicPartitions[]): string[] {
  return owned.flatMap((topic) =>
    topic.partitions.map((partition) => `${topic.topicId}:${partition}`),
  );
}

async function simulate(seed: number) {
  const random = seededRandom(seed);
  const topics = staticTopics([
    { name: 'a', partitionCount: 6 },
    { name: 'b', partitionCount: 3 },
  ]);
  let uuid = 0;
  const started = await memoryCoordinator({
    topics,
    config: { offsetsTopicPartitionCount: 2, consumerSessionTimeoutMs: 10_000 },
    randomUuid: () => `00000000-0000-4000-8000-${String(++uuid).padStart(12, '0')}`,
  });
  const clock = started.clock;
  let coordinator = started.coordinator;
  const describeGroup = () => {
    const [group] = coordinator.consumerGroupDescribe(['sim']);
    group.members.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
    return JSON.stringify(group);
  };
  let restarts = 0;
  const clients: SimulatedClient[] = [];

  const checkSafety = (step: number) => {
    const seen = new Map<string, string>();
    for (const client of clients) {
      if (!client.active) continue;
      for (const key of keys(client.owned)) {
        const other = seen.get(key);
        assert.equal(
          other,
          undefined,
          `seed ${seed} step ${step}: ${key} owned by ${other} and ${client.memberId}`,
        );
        seen.set(key, client.memberId);
      }
    }
  };

  const beat = async (client: SimulatedClient) => {
    client.lastHeartbeatMs = clock.wallMs();
    const result = await coordinator.consumerGroupHeartbeat({
      apiVersion: 1,
      groupId: 'sim',
      memberId: client.memberId,
      memberEpoch: client.memberEpoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: client.memberEpoch === 0 ? 20_000 : -1,
      subscribedTopicNames: client.memberEpoch === 0 ? ['a', 'b'] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: client.owned,
      clientId: 'sim',
      clientHost: '/sim',
    });
    if (result.errorCode !== ErrorCode.NONE) {
      // Fenced or unknown: the client gives up its partitions and rejoins.
      assert.ok(
        result.errorCode === ErrorCode.FENCED_MEMBER_EPOCH ||
          result.errorCode === ErrorCode.UNKNOWN_MEMBER_ID,
        `unexpected error ${result.errorCode}`,
      );
      client.owned = [];
      client.memberEpoch = 0;
      return;
    }
    client.memberId = result.memberId ?? client.memberId;
    client.memberEpoch = result.memberEpoch;
    // A consumer revokes at once what is missing and starts on what is new.
    if (result.assignment !== null) client.owned = result.assignment.topicPartitions;
  };

  const steps = 400;
  for (let step = 0; step < steps; step++) {
    const roll = random();
    const active = clients.filter((client) => client.active);
    if (roll < 0.08 || active.length === 0) {
      const client: SimulatedClient = {
        memberId: `m${step}`,
        memberEpoch: 0,
        owned: [],
        active: true,
        lastHeartbeatMs: clock.wallMs(),
      };
      clients.push(client);
      await beat(client);
    } else if (roll < 0.12) {
      const leaving = active[Math.floor(random() * active.length)];
      leaving.memberEpoch = -1;
      await beat(leaving);
      leaving.active = false;
      leaving.owned = [];
    } else if (roll < 0.15) {
      // A client stalls: its session or revocation times out; it loses its partitions (and is
      // no longer counted by the safety check once it stops: a fenced consumer stops fetching).
      const stalled = active[Math.floor(random() * active.length)];
      stalled.active = false;
      stalled.owned = [];
    } else if (roll < 0.16) {
      // The broker restarts: the group must come back exactly as it was.
      const before = describeGroup();
      coordinator = await started.restart(coordinator);
      restarts++;
      assert.equal(describeGroup(), before, `seed ${seed} step ${step}: state survives a restart`);
    } else if (roll < 0.18) {
      topics.add(random() < 0.5 ? 'a' : 'b', 6 + Math.floor(random() * 4));
    } else {
      await beat(active[Math.floor(random() * active.length)]);
    }
    clock.advance(Math.floor(random() * 1500));
    // Live clients heartbeat on their interval (well within the session timeout).
    for (const client of clients) {
      if (client.active && clock.wallMs() - client.lastHeartbeatMs >= 3000) await beat(client);
    }
    checkSafety(step);
  }
  // Calm: the survivors heartbeat until nothing changes.
  for (let round = 0; round < 30; round++) {
    for (const client of clients) if (client.active) await beat(client);
    clock.advance(1000);
    checkSafety(steps + round);
  }
  const survivors = clients.filter((client) => client.active);
  const owned = survivors.flatMap((client) => keys(client.owned));
  const total = topics.list().reduce((sum, topic) => sum + topic.partitionCount, 0);
  assert.equal(new Set(owned).size, total, `seed ${seed}: every partition is owned`);
  const sizes = survivors.map((client) => keys(client.owned).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `seed ${seed}: balanced ${sizes}`);
  const [described] = coordinator.consumerGroupDescribe(['sim']);
  assert.equal(described.groupState, 'Stable');
  const before = describeGroup();
  coordinator = await started.restart(coordinator);
  assert.equal(describeGroup(), before, `seed ${seed}: the settled group survives a restart`);
  assert.ok(restarts > 0, `seed ${seed}: the run restarted the coordinator`);
  await coordinator.stop();
}

describe('KIP-848 simulation', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`never gives a partition to two members (seed ${seed})`, async () => {
      await simulate(seed);
    });
  }
});
