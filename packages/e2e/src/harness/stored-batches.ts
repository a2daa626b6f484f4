import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { batchAttributes, iterateRecordBatches, readBatchHeader } from '@gregor/protocol';

/** Kafka's compression ids in a batch's attributes. */
export const compressionCodes = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof compressionCodes;

/**
 * The compression of every batch the broker stored for one partition, read from its segment
 * files: proof that a client really sent (and the broker kept) batches in the codec asked for,
 * which a content check alone cannot give (a client may silently fall back to none).
 */
export async function storedCompressionCodes(options: {
  dataDirectory: string;
  topic: string;
  partition: number;
}): Promise<number[]> {
  const folder = join(options.dataDirectory, `${options.topic}-${options.partition}`);
  const segments = (await readdir(folder)).filter((name) => name.endsWith('.log')).sort();
  const codes: number[] = [];
  for (const segment of segments) {
    const bytes = await readFile(join(folder, segment));
    for (const { batch } of iterateRecordBatches(bytes)) {
      codes.push(readBatchHeader(batch).attributes & batchAttributes.compressionMask);
    }
  }
  return codes;
}
