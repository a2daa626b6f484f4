import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '@gregor/broker/testing/test-client';
import {
  ApiKey,
  type ConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponseDescribedGroup,
} from '@gregor/protocol';
import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  stringDeserializers,
} from '@platformatic/kafka';
import { BrokerProcess } from './harness/broker-process.js';
import { platformaticCreateTopic, platformaticProduce } from './harness/platformatic-client.js';
import {
  assertInOrderPerPartition,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  uniqueName,
} from './harness/records.js';
import { waitUntil, withDeadline } from './harness/wait.js';

/**
 * KIP-848 (the "consumer" group protocol: ConsumerGroupHeartbeat, ConsumerGroupDescribe) with a
 * client we did not write: @platformatic/kafka 1.x configured with `groupProtocol: 'consumer'`,
 * against the real broker process. Two members split six partitions and consume each record once;
 * one leaves and the other takes every partition; the broker restarts (SIGTERM, same data dir)
 * and a new member of the same group resumes from the committed offsets.
 */

const partitionCount = 6;
const firstCount = 240;
const secondCount = 120;
const thirdCount = 90;
const testTimeoutMs = 60_000;
const assignmentTimeoutMs = 15_000;
const consumeTimeoutMs = 15_000;
const heartbeatIntervalMs = 300;
const clientId = 'gregor-e2e-consumer-protocol';

interface Connect {
  bootstrap: string;
  clientId: string;
}

/** One group member: a Consumer with the consumer protocol, committing every record it reads. */
class GroupMember {
  readonly name: string;
  readonly received: PlacedRecord[] = [];
  readonly consumer: Consumer<string, string, string, string>;
  private stream: MessagesStream<string, string, string, string> | undefined;
  private failure: unknown;
  private closed = false;

  constructor(connection: Connect, options: { group: string; name: string }) {
    this.name = options.name;
    this.consumer = new Consumer({
      clientId: `${connection.clientId}-${options.name}`,
      bootstrapBrokers: [connection.bootstrap],
      timeout: 5_000,
      retries: 20,
      retryDelay: 250,
      groupId: options.group,
      groupProtocol: 'consumer',
      deserializers: stringDeserializers,
      maxWaitTime: 200,
    });
  }

  async start(topic: string): Promise<void> {
    const stream = await this.consumer.consume({
      topics: [topic],
      autocommit: false,
      mode: 'committed',
      fallbackMode: 'earliest',
    });
    this.stream = stream;
    stream.on('error', (error) => {
      this.failure ??= error;
    });
    (async () => {
      for await (const message of stream as AsyncIterable<
        Message<string, string, string, string>
      >) {
        this.received.push({
          partition: message.partition,
          offset: Number(message.offset),
          key: message.key ?? null,
          value: message.value ?? null,
        });
        await message.commit();
      }
    })().catch((error) => {
      if (!this.closed) this.failure ??= error;
    });
  }

  /** Partitions of `topic` the client believes it owns. */
  ownedPartitions(topic: string): number[] {
    const owned = this.consumer.assignments?.find((entry) => entry.topic === topic);
    return [...(owned?.partitions ?? [])].sort((a, b) => a - b);
  }

  get memberId(): string | null {
    return this.consumer.memberId;
  }

  checkHealthy(): void {
    if (this.failure !== undefined) {
      throw new Error(`${this.name} failed: ${String(this.failure)}`);
    }
  }

  /** Leaves the group (a heartbeat with member epoch -1) and closes the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stream = this.stream;
    if (stream) await new Promise<void>((resolve) => stream.close(() => resolve()));
    await new Promise<void>((resolve) => this.consumer.close(true, () => resolve()));
  }
}

/**
 * ConsumerGroupDescribe v0 through our protocol test client: @platformatic/kafka 1.35's own
 * parser reads `subscribed_topic_names` as one string instead of an array (fails "Out of bounds").
 */
async function describeConsumerGroup(
  broker: BrokerProcess,
  group: string,
): Promise<ConsumerGroupDescribeResponseDescribedGroup> {
  const client = await TestClient.connect({
    host: broker.host,
    port: broker.port,
    clientId: `${clientId}-describe`,
  });
  try {
    const response = await client.request<ConsumerGroupDescribeResponse>(
      ApiKey.ConsumerGroupDescribe,
      0,
      { groupIds: [group], includeAuthorizedOperations: false },
    );
    assert.equal(response.groups.length, 1, 'one group described');
    const [described] = response.groups;
    assert.equal(described.errorCode, 0, `describe error: ${described.errorMessage}`);
    return described;
  } finally {
    client.destroy();
  }
}

function partitionsOf(
  assignment: ConsumerGroupDescribeResponseDescribedGroup['members'][number]['assignment'],
  topic: string,
): number[] {
  return assignment.topicPartitions
    .filter((entry) => entry.topicName === topic)
    .flatMap((entry) => entry.partitions)
    .sort((a, b) => a - b);
}

/**
 * Waits until the group is stable with exactly `members` (by member id), every member at the
 * group epoch with its assignment equal to its target, and each client owning what the broker
 * says it owns. Returns the described group.
 */
async function waitForStableAssignment(
  broker: BrokerProcess,
  options: { group: string; topic: string; members: readonly GroupMember[] },
): Promise<ConsumerGroupDescribeResponseDescribedGroup> {
  let last: ConsumerGroupDescribeResponseDescribedGroup | undefined;
  try {
    return await waitUntil(
      async () => {
        for (const member of options.members) member.checkHealthy();
        const described = await describeConsumerGroup(broker, options.group);
        last = described;
        if (described.groupState !== 'Stable') return undefined;
        const wanted = new Set(options.members.map((member) => member.memberId));
        if (described.members.length !== wanted.size) return undefined;
        for (const describedMember of described.members) {
          if (!wanted.has(describedMember.memberId)) return undefined;
          if (describedMember.memberEpoch !== described.groupEpoch) return undefined;
          const owned = partitionsOf(describedMember.assignment, options.topic);
          const target = partitionsOf(describedMember.targetAssignment, options.topic);
          if (owned.join() !== target.join()) return undefined;
          const client = options.members.find(
            (member) => member.memberId === describedMember.memberId,
          );
          if (client?.ownedPartitions(options.topic).join() !== owned.join()) return undefined;
        }
        return described;
      },
      { timeoutMs: assignmentTimeoutMs, what: `group ${options.group} stable`, intervalMs: 200 },
    );
  } catch (error) {
    const clients = options.members.map(
      (member) =>
        `${member.name} ${member.memberId} owns [${member.ownedPartitions(options.topic)}]`,
    );
    throw new Error(
      `${(error as Error).message}\nlast describe: ${JSON.stringify(last)}\nclients: ${clients.join('; ')}`,
    );
  }
}

async function waitForRecords(
  members: readonly GroupMember[],
  options: { count: number; what: string },
): Promise<void> {
  const total = () => members.reduce((sum, member) => sum + member.received.length, 0);
  await waitUntil(
    () => {
      for (const member of members) member.checkHealthy();
      return total() >= options.count;
    },
    { timeoutMs: consumeTimeoutMs, what: `${options.what} (${options.count} records)` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; got ${total()}`);
  });
}

function groupDescribedAs(
  described: ConsumerGroupDescribeResponseDescribedGroup,
  topic: string,
): Map<string, number[]> {
  return new Map(
    described.members.map((member) => [member.memberId, partitionsOf(member.assignment, topic)]),
  );
}

async function withAdmin<T>(connection: Connect, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({
    clientId: connection.clientId,
    bootstrapBrokers: [connection.bootstrap],
  });
  try {
    return await use(admin);
  } finally {
    await admin.close();
  }
}

/** The group's committed offsets of `topic` (OffsetFetch through the client's Admin). */
function committedOffsets(
  connection: Connect,
  options: { group: string; topic: string },
): Promise<Map<number, number>> {
  return withAdmin(connection, async (admin) => {
    const [listed] = await admin.listConsumerGroupOffsets({ groups: [options.group] });
    const partitions = listed?.topics.find((entry) => entry.name === options.topic)?.partitions;
    return new Map(
      (partitions ?? []).map((entry) => [entry.partitionIndex, Number(entry.committedOffset)]),
    );
  });
}

/** The group's type as ListGroups (filtered on type "consumer") reports it. */
function listedGroupType(connection: Connect, group: string): Promise<string | undefined> {
  return withAdmin(connection, async (admin) => {
    const groups = await admin.listGroups({ types: ['consumer'] });
    return groups.get(group)?.groupType;
  });
}

test('KIP-848 consumer group protocol with @platformatic/kafka: split, take over, resume after a broker restart', {
  timeout: testTimeoutMs,
}, async () => {
  const broker = await BrokerProcess.start({
    label: 'broker(consumer-group-protocol)',
    extraArguments: [
      '--override',
      `group.consumer.heartbeat.interval.ms=${heartbeatIntervalMs}`,
      '--override',
      `group.consumer.min.heartbeat.interval.ms=${heartbeatIntervalMs}`,
    ],
  });
  const members: GroupMember[] = [];
  try {
    const connection = { bootstrap: broker.bootstrap, clientId };
    const topic = uniqueName('kip848-topic');
    const group = uniqueName('kip848-group');
    await platformaticCreateTopic(connection, { topic, partitions: partitionCount });

    // Two members join before anything is produced, so the records are read under one assignment.
    const first = new GroupMember(connection, { group, name: 'member-1' });
    const second = new GroupMember(connection, { group, name: 'member-2' });
    members.push(first, second);
    await first.start(topic);
    await second.start(topic);
    const split = await waitForStableAssignment(broker, { group, topic, members: [first, second] });
    const splitAssignment = groupDescribedAs(split, topic);
    const firstPartitions = splitAssignment.get(first.memberId ?? '') ?? [];
    const secondPartitions = splitAssignment.get(second.memberId ?? '') ?? [];
    assert.ok(firstPartitions.length > 0, `member-1 owns partitions (${firstPartitions})`);
    assert.ok(secondPartitions.length > 0, `member-2 owns partitions (${secondPartitions})`);
    assert.deepEqual(
      [...firstPartitions, ...secondPartitions].sort((a, b) => a - b),
      Array.from({ length: partitionCount }, (_, index) => index),
      'the two members own every partition, each once',
    );
    assert.equal(split.groupId, group);
    assert.ok(split.assignorName.length > 0, 'the describe names the assignor');
    for (const member of split.members) {
      assert.deepEqual(member.subscribedTopicNames, [topic], 'the subscription is described');
      assert.ok(member.clientId.startsWith(clientId), `client id described (${member.clientId})`);
    }
    assert.equal(await listedGroupType(connection, group), 'consumer', 'ListGroups type');

    const firstBatch = await platformaticProduce(connection, {
      topic,
      partitions: partitionCount,
      count: firstCount,
      prefix: 'first',
    });
    await waitForRecords([first, second], { count: firstCount, what: 'the first batch' });
    assertSameRecords(
      [...first.received, ...second.received],
      firstBatch,
      'first batch, two members',
    );
    for (const [member, owned] of [
      [first, firstPartitions],
      [second, secondPartitions],
    ] as const) {
      assertInOrderPerPartition(member.received, member.name);
      const read = [...new Set(member.received.map((record) => record.partition))].sort(
        (a, b) => a - b,
      );
      assert.deepEqual(read, owned, `${member.name} read exactly its assigned partitions`);
    }

    // member-2 leaves: member-1 takes every partition and reads only what came after the commits.
    await second.close();
    const takenOver = await waitForStableAssignment(broker, { group, topic, members: [first] });
    assert.deepEqual(
      groupDescribedAs(takenOver, topic).get(first.memberId ?? ''),
      Array.from({ length: partitionCount }, (_, index) => index),
      'member-1 owns all partitions after member-2 left',
    );
    assert.ok(takenOver.groupEpoch > split.groupEpoch, 'the group epoch moved on');
    const readBeforeSecond = first.received.length;
    const secondBatch = await platformaticProduce(connection, {
      topic,
      partitions: partitionCount,
      count: secondCount,
      prefix: 'second',
    });
    await waitForRecords([first], {
      count: readBeforeSecond + secondCount,
      what: 'the second batch',
    });
    assertSameRecords(
      first.received.slice(readBeforeSecond),
      secondBatch,
      'second batch, one member (no re-delivery of member-2 commits)',
    );
    await first.close();

    // Restart on the same data directory; a new member resumes from the committed offsets.
    await broker.kill('SIGTERM');
    await broker.restart();
    const committedAfterRestart = await committedOffsets(connection, { group, topic });
    assert.deepEqual(
      [...committedAfterRestart].sort(([a], [b]) => a - b),
      [...endOffsets([...firstBatch, ...secondBatch])].sort(([a], [b]) => a - b),
      'committed offsets survive the restart: the end of the first two batches',
    );
    const thirdBatch = await platformaticProduce(connection, {
      topic,
      partitions: partitionCount,
      count: thirdCount,
      prefix: 'third',
    });
    const third = new GroupMember(connection, { group, name: 'member-3' });
    members.push(third);
    await third.start(topic);
    const resumed = await waitForStableAssignment(broker, { group, topic, members: [third] });
    assert.deepEqual(
      groupDescribedAs(resumed, topic).get(third.memberId ?? ''),
      Array.from({ length: partitionCount }, (_, index) => index),
      'member-3 owns all partitions after the restart',
    );
    await waitForRecords([third], { count: thirdCount, what: 'the third batch after the restart' });
    assertSameRecords(
      third.received,
      thirdBatch,
      'after the restart: only the uncommitted records',
    );
    assert.equal(
      await listedGroupType(connection, group),
      'consumer',
      'ListGroups type after restart',
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).stack}\n--- broker output ---\n${broker.output().slice(-8000)}`,
    );
  } finally {
    for (const member of members) {
      await withDeadline(member.close(), {
        timeoutMs: 10_000,
        what: `${member.name} to close`,
      }).catch(() => {});
    }
    await broker.dispose();
  }
});
