import assert from 'node:assert/strict';
import {
  assertContiguousOffsets,
  assertInOrderPerPartition,
  assertSameRecords,
  endOffsets,
  type PlacedRecord,
  uniqueName,
} from './records.js';

/**
 * The produce → consume in a group → commit → resume scenario, run the same way for every client
 * so the clients are compared on the same assertions. The adapter drives one client library.
 */
export interface RoundTripClient {
  createTopic(options: { topic: string; partitions: number }): Promise<void>;
  /** acks=all; returns every acknowledged record with its partition and offset. */
  produce(options: {
    topic: string;
    partitions: number;
    count: number;
    prefix: string;
  }): Promise<PlacedRecord[]>;
  /** Joins `group`, consumes until `expected` records, committing as it goes, then leaves. */
  consumeGroup(options: {
    topic: string;
    group: string;
    expected: number;
  }): Promise<PlacedRecord[]>;
  committedOffsets(options: {
    topic: string;
    group: string;
    partitions: number;
  }): Promise<Map<number, number>>;
}

export async function runRoundTripScenario(
  client: RoundTripClient,
  options: { name: string; partitions: number; firstCount: number; secondCount: number },
): Promise<void> {
  const topic = uniqueName(`${options.name}-topic`);
  const group = uniqueName(`${options.name}-group`);
  const { partitions } = options;
  await client.createTopic({ topic, partitions });

  const first = await client.produce({
    topic,
    partitions,
    count: options.firstCount,
    prefix: 'first',
  });
  assert.equal(first.length, options.firstCount, 'every record of the first batch acknowledged');
  assertContiguousOffsets(first, { from: 0, what: 'first batch offsets' });

  const consumedFirst = await client.consumeGroup({ topic, group, expected: options.firstCount });
  assertInOrderPerPartition(consumedFirst, 'first consumption');
  assertSameRecords(consumedFirst, first, 'first consumption');

  const committedAfterFirst = await client.committedOffsets({ topic, group, partitions });
  assert.deepEqual(
    [...committedAfterFirst].filter(([, offset]) => offset >= 0).sort(([a], [b]) => a - b),
    [...endOffsets(first)].sort(([a], [b]) => a - b),
    'committed offsets = end of the first batch',
  );

  const second = await client.produce({
    topic,
    partitions,
    count: options.secondCount,
    prefix: 'second',
  });
  const firstEnds = endOffsets(first);
  for (const record of second) {
    assert.ok(
      record.offset >= (firstEnds.get(record.partition) ?? 0),
      'second batch after the first',
    );
  }
  const consumedSecond = await client.consumeGroup({ topic, group, expected: options.secondCount });
  assertSameRecords(consumedSecond, second, 'the group resumed from its committed offsets');

  const committedAfterSecond = await client.committedOffsets({ topic, group, partitions });
  assert.deepEqual(
    [...committedAfterSecond].filter(([, offset]) => offset >= 0).sort(([a], [b]) => a - b),
    [...endOffsets([...first, ...second])].sort(([a], [b]) => a - b),
    'committed offsets = end of the second batch',
  );
}
