/**
 * Helpers for the coordinator's tests: a manual clock whose timers fire only when the test
 * advances time, and a topic view over a fixed list of topics.
 */

import { ManualClock } from '@gregor/protocol/testing/manual-clock';
import { MemoryLogManager } from '@gregor/storage';
import type { Clock } from '../clock.js';
import { createJsonLogger } from '../logging/logger.js';
import { replicaManagerOver } from '../testing/replicas.js';
import type { TopicInfo } from '../topics/types.js';
import type { ConsumerGroupHeartbeatInput } from './consumer-protocol.js';
import { GroupCoordinator, type OffsetCommitInput } from './coordinator.js';
import { offsetsTopicStorage } from './offsets-storage.js';
import type { GroupCoordinatorConfig, TopicMetadataView } from './types.js';

export { ManualClock };

export function staticTopics(
  topics: readonly { name: string; partitionCount: number; topicId?: string; internal?: boolean }[],
): TopicMetadataView & { add(name: string, partitionCount: number): TopicInfo } {
  const byName = new Map<string, TopicInfo>();
  const add = (name: string, partitionCount: number, topicId?: string, internal = false) => {
    const info: TopicInfo = {
      name,
      topicId: topicId ?? Buffer.from(name.padEnd(16, '_').slice(0, 16)).toString('base64url'),
      partitionCount,
      internal,
      configs: {},
      createdAtMs: 0,
    };
    byName.set(name, info);
    return info;
  };
  for (const topic of topics) add(topic.name, topic.partitionCount, topic.topicId, topic.internal);
  return {
    get: (name) => byName.get(name),
    getById: (topicId) => [...byName.values()].find((info) => info.topicId === topicId),
    list: () => [...byName.values()],
    add: (name, partitionCount) => add(name, partitionCount),
  };
}

/** A ConsumerProtocolSubscription v0 (what a classic Java/kafkajs consumer sends in JoinGroup). */
export function subscriptionMetadata(topics: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0])];
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics.length);
  parts.push(count);
  for (const topic of topics) {
    const length = Buffer.alloc(2);
    length.writeInt16BE(Buffer.byteLength(topic));
    parts.push(length, Buffer.from(topic));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

/** Lets promise callbacks (resolved joins, finished appends) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let index = 0; index < rounds; index++)
    await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks a promise so a test can assert whether it has resolved yet. */
export function track<T>(promise: Promise<T>): { done: () => boolean; value: () => T } {
  let resolved = false;
  let result: T;
  promise.then((value) => {
    resolved = true;
    result = value;
  });
  return {
    done: () => resolved,
    value: () => {
      if (!resolved) throw new Error('promise has not resolved');
      return result;
    },
  };
}

/**
 * Awaits `promise` while moving the manual clock forward in `stepMs` steps (real I/O such as an
 * fsync may have to finish before the timer the promise waits for is even scheduled).
 */
export async function driveClock<T>(
  promise: Promise<T>,
  clock: ManualClock,
  options: { stepMs: number; stepsMax: number },
): Promise<T> {
  const tracked = track(promise);
  for (let step = 0; step < options.stepsMax && !tracked.done(); step++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    clock.advance(options.stepMs);
  }
  return promise;
}

/** A deterministic random source for the simulations (storage's test helper, mulberry32). */
export { seededRandom } from '@gregor/storage/testing/batches';

/** A started coordinator over an in-memory `__consumer_offsets`, silent, on a manual clock. */
export async function memoryCoordinator(options: {
  topics: TopicMetadataView;
  config?: Partial<GroupCoordinatorConfig>;
  randomUuid?: () => string;
}) {
  const clock = new ManualClock();
  const logs = await MemoryLogManager.open({ clock });
  const build = () =>
    new GroupCoordinator({
      clock,
      logger: createJsonLogger({ level: 'off' }),
      storage: offsetsTopicStorage({ replicas: replicaManagerOver(logs, clock) }),
      topics: options.topics,
      config: options.config,
      randomUuid: options.randomUuid,
    });
  const coordinator = build();
  await coordinator.start();
  /** Stops the coordinator and starts a new one over the same logs (a broker restart). */
  const restart = async (previous: GroupCoordinator): Promise<GroupCoordinator> => {
    await previous.stop();
    const next = build();
    await next.start();
    return next;
  };
  return { clock, logs, coordinator, restart };
}

/** One committed offset for `offsetCommit`. */
export interface CommittedOffsetSpec {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch?: number;
  metadata?: string | null;
}

/**
 * An OffsetCommit of `offsets` (grouped by topic in the order given); by default a standalone
 * commit (generation -1, no member) at OffsetCommit v8.
 */
export function offsetCommit(
  groupId: string,
  offsets: readonly CommittedOffsetSpec[],
  member: { generationIdOrMemberEpoch?: number; memberId?: string; apiVersion?: number } = {},
): OffsetCommitInput {
  const topics: OffsetCommitInput['topics'] = [];
  for (const spec of offsets) {
    let topic = topics.find((entry) => entry.name === spec.topic);
    if (topic === undefined) {
      topic = { name: spec.topic, partitions: [] };
      topics.push(topic);
    }
    topic.partitions.push({
      partitionIndex: spec.partition,
      committedOffset: spec.offset,
      committedLeaderEpoch: spec.leaderEpoch ?? -1,
      commitTimestampMs: -1n,
      committedMetadata: spec.metadata ?? null,
    });
  }
  return {
    apiVersion: member.apiVersion ?? 8,
    groupId,
    generationIdOrMemberEpoch: member.generationIdOrMemberEpoch ?? -1,
    memberId: member.memberId ?? '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics,
  };
}

/** A classic-protocol Heartbeat from a dynamic member (no group instance id); returns its error code. */
export function dynamicHeartbeat(
  coordinator: GroupCoordinator,
  groupId: string,
  member: { memberId: string; generationId: number },
): number {
  return coordinator.heartbeat(groupId, {
    memberId: member.memberId,
    groupInstanceId: null,
    generationId: member.generationId,
  });
}

/**
 * A KIP-848 ConsumerGroupHeartbeat input subscribing to `orders`: epoch 0 joins with a full
 * subscription, any other epoch sends only what changed (nothing).
 */
export function consumerHeartbeatInput(
  group: { groupId: string; instanceId: string | null },
  memberId: string,
  memberEpoch: number,
): ConsumerGroupHeartbeatInput {
  return {
    apiVersion: 1,
    groupId: group.groupId,
    memberId,
    memberEpoch,
    instanceId: group.instanceId,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ['orders'] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: memberEpoch === 0 ? [] : null,
    clientId: 'c',
    clientHost: '/h',
  };
}
