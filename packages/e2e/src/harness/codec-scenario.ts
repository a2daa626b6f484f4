import assert from 'node:assert/strict';
import {
  assertContiguousOffsets,
  assertSameRecords,
  type PlacedRecord,
  uniqueName,
} from './records.js';
import {
  type CompressionName,
  compressionCodes,
  storedCompressionCodes,
} from './stored-batches.js';

/**
 * Each codec in turn: the client produces compressed batches to a topic of its own, reads them
 * back, and the records must be exactly the acknowledged ones; the segment files must hold only
 * batches of that codec (the broker keeps producer batches as sent).
 */
export interface CodecClient {
  createTopic(options: { topic: string; partitions: number }): Promise<void>;
  /** acks=all, `compression` as the client names it; returns the acknowledged records. */
  produce(options: {
    topic: string;
    count: number;
    prefix: string;
    compression: CompressionName;
  }): Promise<PlacedRecord[]>;
  /** Reads the partitions from offset 0 without a group until `expected` records arrived. */
  readAll(options: {
    topic: string;
    partitions: number[];
    expected: number;
  }): Promise<PlacedRecord[]>;
}

export const everyCodec: readonly CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];

export async function runCodecScenario(
  client: CodecClient,
  options: {
    name: string;
    dataDirectory: string;
    count: number;
    codecs?: readonly CompressionName[];
  },
): Promise<void> {
  for (const compression of options.codecs ?? everyCodec) {
    const topic = uniqueName(`${options.name}-${compression}`);
    await client.createTopic({ topic, partitions: 1 });
    const acknowledged = await client.produce({
      topic,
      count: options.count,
      prefix: compression,
      compression,
    });
    assert.equal(acknowledged.length, options.count, `${compression}: every record acknowledged`);
    assertContiguousOffsets(acknowledged, { from: 0, what: `${compression} offsets` });
    const read = await client.readAll({ topic, partitions: [0], expected: options.count });
    assertSameRecords(read, acknowledged, `${compression}: read back`);
    const codes = await storedCompressionCodes({
      dataDirectory: options.dataDirectory,
      topic,
      partition: 0,
    });
    assert.ok(codes.length > 0, `${compression}: batches stored`);
    assert.deepEqual(
      [...new Set(codes)],
      [compressionCodes[compression]],
      `${compression}: every stored batch carries codec ${compressionCodes[compression]}`,
    );
  }
}
