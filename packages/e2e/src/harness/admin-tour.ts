import assert from 'node:assert/strict';
import type { ClientEvent } from './json-lines-process.js';
import { endOffsets, type PlacedRecord } from './records.js';

/**
 * What every client's `admin-tour` command must report the same way (each script normalises its
 * client's answers): run on `topic` (3 partitions, `acknowledged` records, a group that committed
 * all of them and left) and a fresh `newTopic` created with 2 partitions and grown to 4, with
 * retention.ms altered to 3600000 and records before offset 5 of partition 0 deleted. Calls only
 * some clients have (group listing shapes, group deletion) stay in the tests.
 */
export function assertCommonAdminTour(
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
