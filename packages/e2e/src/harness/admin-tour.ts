import assert from 'node:assert/strict';
import type { ClientEvent } from './json-lines-process.js';
import { endOffsets, type PlacedRecord, uniqueName } from './records.js';

export interface AdminTourClient {
  createTopic(options: { topic: string; partitions: number }): Promise<void>;
  produce(options: { topic: string; count: number; prefix: string }): Promise<PlacedRecord[]>;
  /** Consumes `expected` records in `group`, commits them, leaves. */
  consumeGroup(options: { topic: string; group: string; expected: number }): Promise<unknown>;
  /** Runs the client's `admin-tour` command with these parameters; returns its events. */
  runTour(parameters: object): Promise<ClientEvent[]>;
}

/**
 * Sets up what a tour needs (a 3-partition topic with 60 records, a group that committed them
 * and left), runs the client's tour and checks what every tour reports the same way; returns the
 * events and names for the client-specific checks.
 */
export async function runAdminTour(
  client: AdminTourClient,
  options: { name: string; broker: { host: string; port: number } },
): Promise<{
  events: ClientEvent[];
  topic: string;
  newTopic: string;
  group: string;
  acknowledged: PlacedRecord[];
}> {
  const topic = uniqueName(`${options.name}-admin`);
  const newTopic = uniqueName(`${options.name}-admin-new`);
  const group = uniqueName(`${options.name}-admin-group`);
  await client.createTopic({ topic, partitions: 3 });
  const acknowledged = await client.produce({ topic, count: 60, prefix: 'admin' });
  await client.consumeGroup({ topic, group, expected: 60 });
  const events = await client.runTour({
    topic,
    newTopic,
    group,
    partitions: [0, 1, 2],
    deleteBefore: 5,
  });
  assertCommonAdminTour(events, { broker: options.broker, topic, newTopic, acknowledged });
  return { events, topic, newTopic, group, acknowledged };
}

/**
 * What every client's `admin-tour` command must report the same way (each script normalises its
 * client's answers): run on `topic` (3 partitions, `acknowledged` records, a group that committed
 * all of them and left) and a fresh `newTopic` created with 2 partitions and grown to 4, with
 * retention.ms altered to 3600000 and records before offset 5 of partition 0 deleted. Calls only
 * some clients have (group listing shapes, group deletion) stay in the tests.
 */
function assertCommonAdminTour(
  events: readonly ClientEvent[],
  expected: {
    broker: { host: string; port: number };
    topic: string;
    newTopic: string;
    acknowledged: readonly PlacedRecord[];
  },
): void {
  const of = (name: string) => events.filter((event) => event.event === name);
  const cluster = of('cluster')[0];
  assert.deepEqual(cluster?.nodes, [{ id: 1, ...expected.broker }]);
  assert.equal(cluster?.controller, 1);
  assert.match(String(cluster?.clusterId), /^[A-Za-z0-9_-]{22}$/);
  const partitionInfo = (id: number) => ({ id, leader: 1, replicas: [1], isr: [1] });
  assert.deepEqual(
    of('topic').map(({ name, partitions }) => ({ name, partitions })),
    [
      { name: expected.topic, partitions: [0, 1, 2].map(partitionInfo) },
      { name: expected.newTopic, partitions: [0, 1, 2, 3].map(partitionInfo) },
    ],
    'created with 2 partitions, grown to 4',
  );
  assert.deepEqual(
    of('configs').map(({ step, retentionMs }) => ({ step, retentionMs })),
    [
      { step: 'before', retentionMs: '604800000' },
      { step: 'after', retentionMs: '3600000' },
    ],
  );
  assert.deepEqual(of('deleted-records')[0]?.lowWatermarks, [5]);
  assert.deepEqual(
    of('group-offsets')[0]?.offsets,
    Object.fromEntries(
      [...endOffsets(expected.acknowledged)].map(([partition, end]) => [String(partition), end]),
    ),
    'the group committed the end of every partition',
  );
  assert.equal(of('topic-deleted')[0]?.listed, false);
}
