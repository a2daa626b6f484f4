// Consumer-group scenarios of @gregor/client, run against Gregor and Apache Kafka 4.4 alike:
// members joining and leaving under load (cooperative-sticky, KIP-848), eviction of a member that
// stops polling, a group shared with Java's consumer, and a static member's restart. Ownership is
// recorded from the rebalance listeners on one logical clock (every member lives in this process),
// so "no partition owned by two members at once" is checked exactly.

import assert from 'node:assert/strict';
import {
  type ClusterOptions,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  Producer,
  type TopicPartition,
} from '@gregor/client';
import { createTopic } from './gregor-client-scenarios.js';
import type { JavaClients } from './java-clients.js';
import { uniqueName } from './records.js';
import { sleep, waitUntil, withDeadline } from './wait.js';

export interface GroupScenarioContext {
  bootstrap: string;
  label: string;
}

function clusterOptions(context: GroupScenarioContext): ClusterOptions {
  return {
    bootstrapServers: [context.bootstrap],
    clientId: `gregor-client-groups-${context.label}`,
    requestTimeoutMs: 15_000,
    retryBackoffMs: 50,
  };
}

interface OwnershipEvent {
  sequence: number;
  member: string;
  kind: 'assigned' | 'revoked' | 'lost';
  partitions: number[];
}

/** Every listener call of every member, in the order they happened. */
class OwnershipLedger {
  readonly events: OwnershipEvent[] = [];
  /** Assignments of a partition some other member still owned: [partition, new owner, owner]. */
  readonly overlaps: Array<[number, string, string]> = [];
  private owned = new Map<string, Set<number>>();

  record(
    member: string,
    kind: OwnershipEvent['kind'],
    partitions: readonly TopicPartition[],
  ): void {
    const numbers = partitions.map((partition) => partition.partition).sort((a, b) => a - b);
    this.events.push({ sequence: this.events.length, member, kind, partitions: numbers });
    const set = this.owned.get(member) ?? new Set<number>();
    for (const partition of numbers) {
      if (kind === 'assigned') {
        for (const [other, otherSet] of this.owned) {
          if (otherSet.has(partition)) this.overlaps.push([partition, member, other]);
        }
        set.add(partition);
      } else {
        set.delete(partition);
      }
    }
    this.owned.set(member, set);
  }

  /** Whether `member` owned `partition` at ledger position `sequence`. */
  owns(member: string, partition: number, sequence: number): boolean {
    return this.intervals(partition).some(
      (interval) =>
        interval.member === member && interval.start < sequence && sequence <= interval.end,
    );
  }

  ownedBy(member: string): number[] {
    return [...(this.owned.get(member) ?? [])].sort((a, b) => a - b);
  }

  /** Ownership intervals of one partition in order: [member, start sequence, end sequence]. */
  intervals(partition: number): Array<{ member: string; start: number; end: number }> {
    const open = new Map<string, number>();
    const result: Array<{ member: string; start: number; end: number }> = [];
    for (const event of this.events) {
      if (!event.partitions.includes(partition)) continue;
      if (event.kind === 'assigned') {
        open.set(event.member, event.sequence);
      } else if (open.has(event.member)) {
        result.push({ member: event.member, start: open.get(event.member)!, end: event.sequence });
        open.delete(event.member);
      }
    }
    for (const [member, start] of open) result.push({ member, start, end: Infinity });
    return result.sort((left, right) => left.start - right.start);
  }
}

/** A group member reading with the async iterator until stopped, reporting to the ledger. */
class TrackedMember {
  readonly consumer: Consumer;
  readonly records: ConsumerRecord[] = [];
  /** The ledger's length when each record arrived. */
  readonly receivedAt: number[] = [];
  private loop: Promise<void> = Promise.resolve();
  private stuckUntil: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly ledger: OwnershipLedger,
    options: ConsumerOptions,
    topic: string,
  ) {
    this.consumer = new Consumer(options);
    this.consumer.subscribe([topic], {
      onPartitionsAssigned: (partitions) => ledger.record(name, 'assigned', partitions),
      onPartitionsRevoked: (partitions) => ledger.record(name, 'revoked', partitions),
      onPartitionsLost: (partitions) => ledger.record(name, 'lost', partitions),
    });
  }

  start(): this {
    this.loop = (async () => {
      for await (const record of this.consumer) {
        this.records.push(record);
        this.receivedAt.push(this.ledger.events.length);
        if (this.stuckUntil !== null) {
          await this.stuckUntil;
          this.stuckUntil = null;
        }
      }
    })();
    return this;
  }

  /** The next record handed out blocks the loop (no polling) for `durationMs`. */
  getStuck(durationMs: number): void {
    this.stuckUntil = sleep(durationMs);
  }

  async stop(): Promise<void> {
    await this.consumer.close();
    await withDeadline(this.loop, { timeoutMs: 10_000, what: `${this.name}'s loop to end` });
  }
}

function groupOptions(
  context: GroupScenarioContext,
  groupId: string,
  protocol: 'classic' | 'consumer',
): ConsumerOptions {
  return {
    ...clusterOptions(context),
    groupId,
    groupProtocol: protocol,
    partitionAssignors: ['cooperative-sticky'],
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 300,
    maxPollIntervalMs: 10_000,
    autoCommitIntervalMs: 200,
    autoOffsetReset: 'earliest',
    maxWaitMs: 100,
  };
}

async function committedOffsets(
  context: GroupScenarioContext,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<Array<bigint | null>> {
  const reader = new Consumer({ ...clusterOptions(context), groupId });
  try {
    const committed = await reader.committed(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
    );
    return committed.map((entry) => entry.offset);
  } finally {
    await reader.close();
  }
}

/** Every record a member took came from a partition it owned at that moment. */
function assertRecordsWhileOwned(members: readonly TrackedMember[]): void {
  for (const member of members) {
    member.records.forEach((record, index) => {
      assert.ok(
        member.ledger.owns(member.name, record.partition, member.receivedAt[index]),
        `${member.name} took ${record.partition}:${record.offset} without owning it`,
      );
    });
  }
}

/** Each partition's next owner starts right after the last record its previous owner took. */
function assertContinuousHandovers(
  ledger: OwnershipLedger,
  members: readonly TrackedMember[],
  partitions: number,
  endOffsets: readonly bigint[],
): void {
  assert.deepEqual(ledger.overlaps, [], 'partitions assigned while another member owned them');
  assertRecordsWhileOwned(members);
  for (let partition = 0; partition < partitions; partition++) {
    const seen = new Map<bigint, number>();
    for (const member of members) {
      for (const record of member.records) {
        if (record.partition !== partition) continue;
        seen.set(record.offset, (seen.get(record.offset) ?? 0) + 1);
      }
    }
    for (let offset = 0n; offset < endOffsets[partition]; offset++) {
      assert.ok(seen.has(offset), `partition ${partition} offset ${offset} was consumed`);
    }
    const intervals = ledger.intervals(partition);
    for (let index = 1; index < intervals.length; index++) {
      assert.ok(
        intervals[index - 1].end <= intervals[index].start,
        `partition ${partition}: ${intervals[index - 1].member} and ${intervals[index].member} overlap`,
      );
    }
    // Re-delivery only of uncommitted records: a graceful handover commits, so none at all here.
    const duplicated = [...seen].filter(([, count]) => count > 1).map(([offset]) => offset);
    assert.deepEqual(
      duplicated,
      [],
      `partition ${partition} records delivered twice: ${JSON.stringify(
        members.map((member) => [
          member.name,
          member.records
            .map((record, index) => [record, member.receivedAt[index]] as const)
            .filter(
              ([record]) => record.partition === partition && duplicated.includes(record.offset),
            )
            .map(([record, at]) => `${record.offset}@${at}`),
        ]),
      )} ${JSON.stringify(ledger.intervals(partition))} ${JSON.stringify(ledger.events.filter((event) => event.partitions.includes(partition) || event.kind === 'lost'))}`,
    );
  }
}

async function membersJoiningAndLeaving(
  context: GroupScenarioContext,
  protocol: 'classic' | 'consumer',
): Promise<void> {
  const partitions = 10;
  const topic = await createTopic(context, `churn-${protocol}`, partitions);
  const groupId = uniqueName(`churn-${protocol}-${context.label}`);
  const ledger = new OwnershipLedger();
  const members: TrackedMember[] = [];
  const producer = new Producer({ ...clusterOptions(context), lingerMs: 5 });
  const join = (name: string) => {
    const member = new TrackedMember(name, ledger, groupOptions(context, groupId, protocol), topic);
    members.push(member.start());
    return member;
  };
  const stopped = new Set<TrackedMember>();
  let produced = 0;
  let producing = true;
  const load = (async () => {
    while (producing) {
      const sends = Array.from({ length: 20 }, () => {
        const index = produced++;
        return producer.send({ topic, key: `key-${index}`, value: `value-${index}` });
      });
      await Promise.all(sends);
      await sleep(20);
    }
  })();
  try {
    const first = join('member-1');
    join('member-2');
    await sleep(1_000);
    join('member-3');
    join('member-4');
    await sleep(1_500);
    join('member-5');
    await sleep(1_500);
    for (const leaving of [first, members[2]]) {
      await leaving.stop();
      stopped.add(leaving);
    }
    await sleep(1_500);
    producing = false;
    await load;
    const remaining = members.filter((member) => !stopped.has(member));
    const endOffsets = (
      await remaining[0].consumer.offsetsFor(
        Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
        'latest',
      )
    ).map((entry) => entry.offset);
    assert.equal(
      endOffsets.reduce((sum, offset) => sum + offset, 0n),
      BigInt(produced),
    );
    await waitUntil(
      () =>
        members.reduce((sum, member) => sum + member.records.length, 0) >= produced &&
        remaining.every((member) => ledger.ownedBy(member.name).length > 0),
      {
        timeoutMs: 30_000,
        what: () =>
          `${produced} records consumed (${members.map((member) => `${member.name}: ${member.records.length} ${ledger.ownedBy(member.name)}`).join(', ')})`,
      },
    );
    // Balanced: three members share ten partitions 4/3/3, together all of them.
    const shares = remaining.map((member) => ledger.ownedBy(member.name));
    assert.deepEqual(shares.map((share) => share.length).sort(), [3, 3, 4], JSON.stringify(shares));
    assert.deepEqual(
      shares.flat().sort((a, b) => a - b),
      Array.from({ length: partitions }, (_, index) => index),
    );
    for (const member of remaining) await member.stop();
    assertContinuousHandovers(ledger, members, partitions, endOffsets);
    assert.deepEqual(await committedOffsets(context, groupId, topic, partitions), endOffsets);
  } finally {
    producing = false;
    await load.catch(() => undefined);
    await producer.close();
    for (const member of members) await member.consumer.close();
  }
}

async function stuckMemberIsEvicted(
  context: GroupScenarioContext,
  protocol: 'classic' | 'consumer',
): Promise<void> {
  const partitions = 4;
  const topic = await createTopic(context, `stuck-${protocol}`, partitions);
  const groupId = uniqueName(`stuck-${protocol}-${context.label}`);
  const ledger = new OwnershipLedger();
  // KIP-848 members here ask for the broker's `range` assignor (the churn scenario uses the default).
  const options = {
    ...groupOptions(context, groupId, protocol),
    maxPollIntervalMs: 2_000,
    groupRemoteAssignor: protocol === 'consumer' ? 'range' : null,
  };
  const stuck = new TrackedMember('stuck', ledger, options, topic).start();
  const healthy = new TrackedMember('healthy', ledger, options, topic).start();
  const producer = new Producer(clusterOptions(context));
  try {
    await waitUntil(
      () => ledger.ownedBy('stuck').length === 2 && ledger.ownedBy('healthy').length === 2,
      { timeoutMs: 20_000, what: () => `a 2/2 split: ${JSON.stringify(ledger.events)}` },
    );
    const stuckPartitions = ledger.ownedBy('stuck');
    stuck.getStuck(6_000);
    for (let partition = 0; partition < partitions; partition++) {
      await producer.send({ topic, partition, value: `to-${partition}` });
    }
    // The stuck member leaves after 2 s without a poll; the healthy one takes every partition.
    await waitUntil(() => ledger.ownedBy('healthy').length === partitions, {
      timeoutMs: 15_000,
      what: () => `the healthy member to own everything: ${JSON.stringify(ledger.events)}`,
    });
    const healthyValues = new Set(healthy.records.map((record) => record.value?.toString()));
    await waitUntil(
      () => {
        for (const record of healthy.records) healthyValues.add(record.value?.toString());
        return stuckPartitions.every((partition) => healthyValues.has(`to-${partition}`));
      },
      { timeoutMs: 10_000, what: "the healthy member to read the stuck member's partitions" },
    );
    // When the stuck member polls again, its partitions are reported lost (nothing committed).
    await waitUntil(
      () => ledger.events.some((event) => event.member === 'stuck' && event.kind === 'lost'),
      {
        timeoutMs: 15_000,
        what: () => `the stuck member's lost partitions: ${JSON.stringify(ledger.events)}`,
      },
    );
    const lost = ledger.events.find((event) => event.member === 'stuck' && event.kind === 'lost')!;
    assert.deepEqual(lost.partitions, stuckPartitions);
    // Java's semantics: the stuck member hears of the loss when it polls again; the overlap in
    // the ledger is only that report arriving late, and it took no record of them meanwhile.
    for (const [partition, member, owner] of ledger.overlaps) {
      assert.deepEqual([member, owner], ['healthy', 'stuck']);
      assert.ok(stuckPartitions.includes(partition));
    }
    assertRecordsWhileOwned([stuck, healthy]);
  } finally {
    await producer.close();
    await stuck.stop().catch(() => undefined);
    await healthy.stop().catch(() => undefined);
  }
}

async function staticMemberRestart(
  context: GroupScenarioContext,
  protocol: 'classic' | 'consumer',
): Promise<void> {
  const partitions = 4;
  const topic = await createTopic(context, `static-${protocol}`, partitions);
  const groupId = uniqueName(`static-${protocol}-${context.label}`);
  const ledger = new OwnershipLedger();
  const options = (instance: string) => ({
    ...groupOptions(context, groupId, protocol),
    groupInstanceId: instance,
    sessionTimeoutMs: 10_000,
  });
  const first = new TrackedMember('a', ledger, options('instance-a'), topic).start();
  const second = new TrackedMember('b', ledger, options('instance-b'), topic).start();
  let restarted: TrackedMember | undefined;
  try {
    await waitUntil(() => ledger.ownedBy('a').length === 2 && ledger.ownedBy('b').length === 2, {
      timeoutMs: 20_000,
      what: () => `a 2/2 split: ${JSON.stringify(ledger.events)}`,
    });
    await sleep(500);
    const before = { a: ledger.ownedBy('a'), b: second.consumer.groupMetadata() };
    const eventsBefore = ledger.events.filter((event) => event.member === 'b').length;
    await first.stop();
    restarted = new TrackedMember('a-again', ledger, options('instance-a'), topic).start();
    await waitUntil(() => ledger.ownedBy('a-again').length > 0, {
      timeoutMs: 10_000,
      what: () => `the restarted member's assignment: ${JSON.stringify(ledger.events)}`,
    });
    assert.deepEqual(ledger.ownedBy('a-again'), before.a);
    await sleep(1_000);
    // The other member saw no rebalance: no listener call, same generation or epoch.
    assert.equal(ledger.events.filter((event) => event.member === 'b').length, eventsBefore);
    assert.equal(second.consumer.groupMetadata().generationId, before.b.generationId);
    assert.equal(second.consumer.groupMetadata().memberId, before.b.memberId);
    assert.deepEqual(ledger.overlaps, []);
  } finally {
    await restarted?.stop().catch(() => undefined);
    await first.stop().catch(() => undefined);
    await second.stop().catch(() => undefined);
  }
}

/**
 * A group with this client and Java's consumer: classic with cooperative-sticky on both sides
 * (whichever joined first leads), classic with the eager sticky assignor, then KIP-848. They split the partitions, each reads only its
 * own, and when Java's consumer leaves this client takes everything over from Java's commits.
 */
async function sharedWithJava(context: GroupScenarioContext, java: JavaClients): Promise<void> {
  const partitions = 6;
  const perPartition = 10;
  const rounds = [
    { protocol: 'classic', javaFirst: true, assignor: 'cooperative-sticky' },
    { protocol: 'classic', javaFirst: false, assignor: 'cooperative-sticky' },
    { protocol: 'classic', javaFirst: true, assignor: 'sticky' },
    { protocol: 'consumer', javaFirst: false, assignor: 'cooperative-sticky' },
  ] as const;
  const javaAssignors = {
    'cooperative-sticky': 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor',
    sticky: 'org.apache.kafka.clients.consumer.StickyAssignor',
  };
  for (const { protocol, javaFirst, assignor } of rounds) {
    const topic = await createTopic(
      context,
      `java-shared-${protocol}-${assignor}-${javaFirst}`,
      partitions,
    );
    const groupId = uniqueName(`java-shared-${context.label}`);
    const ledger = new OwnershipLedger();
    const settings: Record<string, string> =
      protocol === 'classic'
        ? {
            'group.id': groupId,
            'group.protocol': 'classic',
            'partition.assignment.strategy': javaAssignors[assignor],
            'heartbeat.interval.ms': '300',
            'session.timeout.ms': '6000',
          }
        : { 'group.id': groupId, 'group.protocol': 'consumer' };
    let javaRun: Promise<Awaited<ReturnType<JavaClients['run']>>> | undefined;
    const startJava = () => {
      javaRun = java.run(
        'consumeGroup',
        { topic, expected: (partitions / 2) * perPartition, settings, timeoutMs: 40_000 },
        { timeoutMs: 60_000 },
      );
    };
    if (javaFirst) {
      startJava();
      await sleep(1_500);
    }
    const ours = new TrackedMember(
      'ours',
      ledger,
      { ...groupOptions(context, groupId, protocol), partitionAssignors: [assignor] },
      topic,
    );
    ours.start();
    if (!javaFirst) {
      await waitUntil(() => ledger.ownedBy('ours').length === partitions, {
        timeoutMs: 15_000,
        what: 'our member to own every partition',
      });
      startJava();
    }
    try {
      await waitUntil(() => ledger.ownedBy('ours').length === partitions / 2, {
        timeoutMs: 20_000,
        what: () =>
          `a 3/3 split with Java (${protocol} ${assignor}, javaFirst ${javaFirst}): ${JSON.stringify(ledger.events)}`,
      });
      const ourShare = ledger.ownedBy('ours');
      await sleep(300);
      const producer = new Producer(clusterOptions(context));
      try {
        for (let partition = 0; partition < partitions; partition++) {
          await Promise.all(
            Array.from({ length: perPartition }, (_, index) =>
              producer.send({ topic, partition, key: `k${index}`, value: `${partition}-${index}` }),
            ),
          );
        }
      } finally {
        await producer.close();
      }
      const javaEvents = await javaRun!;
      const javaRecords = javaEvents.filter((event) => event.event === 'record');
      const javaPartitions = [
        ...new Set(javaRecords.map((event) => Number(event.partition))),
      ].sort();
      assert.deepEqual(
        javaPartitions,
        Array.from({ length: partitions }, (_, index) => index).filter(
          (partition) => !ourShare.includes(partition),
        ),
      );
      assert.equal(javaRecords.length, (partitions / 2) * perPartition);
      await waitUntil(() => ours.records.length >= (partitions / 2) * perPartition, {
        timeoutMs: 15_000,
        what: 'our half of the records',
      });
      // Java closed: its partitions come to us, from Java's commits (nothing read twice).
      await waitUntil(() => ledger.ownedBy('ours').length === partitions, {
        timeoutMs: 15_000,
        what: "Java's partitions moving to our member",
      });
      await sleep(500);
      assert.deepEqual(
        [...new Set(ours.records.map((record) => record.partition))].sort(),
        ourShare,
      );
      assert.equal(ours.records.length, (partitions / 2) * perPartition);
      await ours.stop();
      assert.deepEqual(
        await committedOffsets(context, groupId, topic, partitions),
        Array.from({ length: partitions }, () => BigInt(perPartition)),
      );
    } finally {
      await ours.stop().catch(() => undefined);
      await javaRun?.catch(() => undefined);
    }
  }
}

/**
 * Pattern subscriptions pick up a topic created later; eager `range` members revoke everything
 * before each join; the batch API (`run`) stops at its signal; a paused partition is not fetched
 * until resumed.
 */
async function patternSubscription(
  context: GroupScenarioContext,
  protocol: 'classic' | 'consumer',
): Promise<void> {
  const prefix = uniqueName(`pattern-${protocol}`).replace(/[^a-zA-Z0-9-]/g, '-');
  const first = await createTopic(context, `${prefix}-first`, 2);
  const groupId = uniqueName(`pattern-${protocol}-${context.label}`);
  const events: string[] = [];
  const batches: ConsumerRecord[][] = [];
  const consumer = new Consumer({
    ...groupOptions(context, groupId, protocol),
    partitionAssignors: ['range'],
    metadataMaxAgeMs: 500,
  });
  const producer = new Producer(clusterOptions(context));
  const controller = new AbortController();
  const describe = (partitions: readonly TopicPartition[]) =>
    partitions
      .map(
        (partition) => `${partition.topic === first ? 'first' : 'second'}-${partition.partition}`,
      )
      .sort()
      .join(',');
  consumer.subscribe(new RegExp(`${prefix}-(first|second)-.*`), {
    onPartitionsAssigned: (partitions) => {
      events.push(`assigned ${describe(partitions)}`);
    },
    onPartitionsRevoked: (partitions) => {
      events.push(`revoked ${describe(partitions)}`);
    },
  });
  const running = consumer.run(
    (records) => {
      batches.push(records);
    },
    { signal: controller.signal },
  );
  const consumed = () => batches.flat().map((record) => record.value?.toString());
  try {
    await waitUntil(() => consumer.assignment().length === 2, {
      timeoutMs: 15_000,
      what: () => `the first topic's partitions: ${events}`,
    });
    const second = await createTopic(context, `${prefix}-second`, 1);
    // Kafka re-resolves KIP-848 regexes at most every 10 s (its minimum refresh interval).
    await waitUntil(() => consumer.assignment().length === 3, {
      timeoutMs: 30_000,
      what: () => `the second topic picked up by the pattern: ${events}`,
    });
    if (protocol === 'classic') {
      // Eager: everything is revoked before the join that adds the new topic.
      assert.deepEqual(events, [
        'assigned first-0,first-1',
        'revoked first-0,first-1',
        'assigned first-0,first-1,second-0',
      ]);
    } else {
      assert.deepEqual(events, ['assigned first-0,first-1', 'assigned second-0']);
    }
    consumer.pause([{ topic: first, partition: 0 }]);
    await sleep(300);
    await producer.send({ topic: first, partition: 0, value: 'paused' });
    await producer.send({ topic: first, partition: 1, value: 'flowing' });
    await producer.send({ topic: second, partition: 0, value: 'new topic' });
    await waitUntil(() => consumed().includes('flowing') && consumed().includes('new topic'), {
      timeoutMs: 10_000,
      what: () => `records of unpaused partitions: ${consumed()}`,
    });
    await sleep(500);
    assert.ok(!consumed().includes('paused'), 'nothing fetched from a paused partition');
    assert.deepEqual(consumer.pausedPartitions(), [{ topic: first, partition: 0 }]);
    consumer.resume([{ topic: first, partition: 0 }]);
    await waitUntil(() => consumed().includes('paused'), {
      timeoutMs: 10_000,
      what: 'the resumed partition',
    });
    assert.deepEqual(consumed().sort(), ['flowing', 'new topic', 'paused']);
    controller.abort();
    await withDeadline(running, { timeoutMs: 5_000, what: 'run() to stop at its signal' });
    // poll takes an AbortSignal: aborted before, or while it waits for records.
    await assert.rejects(consumer.poll({ signal: AbortSignal.abort() }), { name: 'AbortError' });
    const waiting = new AbortController();
    const polling = consumer.poll({ signal: waiting.signal });
    waiting.abort();
    await assert.rejects(polling, { name: 'AbortError' });
    assert.equal(consumer.groupMetadata().groupId, groupId);
    assert.ok(consumer.groupMetadata().generationId > 0);
  } finally {
    controller.abort();
    await running.catch(() => undefined);
    await consumer.close();
    await producer.close();
  }
}

/**
 * The broker dies (SIGKILL) and restarts under a classic and a KIP-848 group consuming one topic
 * while a producer keeps sending: every member finds the coordinator again, and each group ends
 * with every record consumed and committed (re-delivery of uncommitted records allowed).
 */
export async function groupsThroughBrokerRestart(
  context: GroupScenarioContext,
  restart: () => Promise<void>,
): Promise<void> {
  const partitions = 4;
  const topic = await createTopic(context, 'restart', partitions);
  const groups = (['classic', 'consumer'] as const).map((protocol) => ({
    protocol,
    groupId: uniqueName(`restart-${protocol}-${context.label}`),
    ledger: new OwnershipLedger(),
    members: [] as TrackedMember[],
  }));
  for (const group of groups) {
    for (const name of ['one', 'two']) {
      const options = {
        ...groupOptions(context, group.groupId, group.protocol),
        requestTimeoutMs: 5_000,
        connectionTimeoutMs: 2_000,
      };
      group.members.push(new TrackedMember(name, group.ledger, options, topic).start());
    }
  }
  const producer = new Producer({
    ...clusterOptions(context),
    requestTimeoutMs: 5_000,
    connectionTimeoutMs: 2_000,
    deliveryTimeoutMs: 60_000,
  });
  try {
    const sends: Promise<unknown>[] = [];
    for (let index = 0; index < 1_000; index++) {
      sends.push(producer.send({ topic, key: `key-${index}`, value: `value-${index}` }));
      if (index % 50 === 49) await sleep(20);
      if (index === 500) await restart();
    }
    await withDeadline(Promise.all(sends), { timeoutMs: 60_000, what: 'every send acknowledged' });
    const endOffsets = (
      await groups[0].members[0].consumer.offsetsFor(
        Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
        'latest',
      )
    ).map((entry) => entry.offset);
    assert.equal(
      endOffsets.reduce((sum, offset) => sum + offset, 0n),
      1_000n,
    );
    for (const group of groups) {
      await waitUntil(
        () => {
          const seen = new Set(
            group.members.flatMap((member) =>
              member.records.map((record) => `${record.partition}:${record.offset}`),
            ),
          );
          return seen.size === 1_000;
        },
        { timeoutMs: 40_000, what: `${group.protocol}: every record consumed` },
      );
      for (const member of group.members) await member.stop();
      assert.deepEqual(
        await committedOffsets(context, group.groupId, topic, partitions),
        endOffsets,
        group.protocol,
      );
    }
  } finally {
    await producer.close().catch(() => undefined);
    for (const group of groups) {
      for (const member of group.members) await member.stop().catch(() => undefined);
    }
  }
}

export const groupScenarios: Record<
  string,
  (context: GroupScenarioContext, java: () => Promise<JavaClients>) => Promise<void>
> = {
  '5 members join and leave under load (classic, cooperative-sticky): nothing lost, no overlap, balanced':
    (context) => membersJoiningAndLeaving(context, 'classic'),
  '5 members join and leave under load (KIP-848): nothing lost, no overlap, balanced': (context) =>
    membersJoiningAndLeaving(context, 'consumer'),
  'a member stuck past maxPollIntervalMs leaves; its partitions move (classic)': (context) =>
    stuckMemberIsEvicted(context, 'classic'),
  'a member stuck past maxPollIntervalMs leaves; its partitions move (KIP-848)': (context) =>
    stuckMemberIsEvicted(context, 'consumer'),
  'a static member restarted within the session timeout keeps its partitions, no rebalance (classic)':
    (context) => staticMemberRestart(context, 'classic'),
  'a static member restarted within the session timeout keeps its partitions, no rebalance (KIP-848)':
    (context) => staticMemberRestart(context, 'consumer'),
  'a pattern subscription takes a topic created later; eager range revokes all; run() and pause/resume (classic)':
    (context) => patternSubscription(context, 'classic'),
  'a pattern subscription takes a topic created later; run() and pause/resume (KIP-848)': (
    context,
  ) => patternSubscription(context, 'consumer'),
  "groups shared with Java's consumer (classic cooperative-sticky either side leading, sticky; KIP-848): split, exclusive reads, takeover from Java's commits":
    async (context, java) => sharedWithJava(context, await java()),
};
