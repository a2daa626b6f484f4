// snappy (compression type 2). Two layouts exist in Kafka traffic:
// - xerial framing, written by the Java client (snappy-java's SnappyOutputStream):
//   magic 0x82 'SNAPPY' 0x00, int32 version, int32 compatible version, then blocks of
//   [int32 big-endian compressed length][raw snappy block];
// - raw snappy, written by librdkafka, sarama and @platformatic/kafka.
// We decode both and ENCODE RAW: snappy-java, librdkafka, sarama, kafka-python and kafkajs-snappy
// all fall back to raw when the xerial magic is absent, while @platformatic/kafka's decoder only
// reads raw (see DESIGN.md for the evidence).

import type { CompressionCodec, DecompressOptions } from '@gregor/protocol';
import { CompressionError, OutputTooLargeError } from './errors.js';
import { loadNative } from './native.js';

const snappy = () => loadNative<typeof import('snappy')>('snappy');

const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const xerialHeaderSizeBytes = 16;
const blockLengthSizeBytes = 4;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= xerialHeaderSizeBytes && data.subarray(0, 8).equals(xerialMagic);
}

/** The uncompressed length a raw snappy block declares in its varint preamble. */
function rawSnappyLength(block: Buffer): number {
  let result = 0;
  for (let index = 0; index < 5 && index < block.length; index++) {
    const byte = block[index];
    result += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return result;
  }
  throw new CompressionError('snappy block preamble is truncated or too long');
}

/** Splits a xerial stream into its raw blocks, checking every length before use. */
function xerialBlocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let position = xerialHeaderSizeBytes;
  while (position < data.length) {
    if (data.length - position < blockLengthSizeBytes) {
      throw new CompressionError('xerial snappy block length truncated');
    }
    const length = data.readInt32BE(position);
    position += blockLengthSizeBytes;
    if (length < 0 || length > data.length - position) {
      throw new CompressionError(`xerial snappy block length ${length} out of range`);
    }
    blocks.push(data.subarray(position, position + length));
    position += length;
  }
  return blocks;
}

function blocksOf(data: Buffer, options: DecompressOptions): Buffer[] {
  const blocks = isXerialFramed(data) ? xerialBlocks(data) : [data];
  let total = 0;
  for (const block of blocks) total += rawSnappyLength(block);
  if (total > options.outputSizeBytesMax) {
    throw new OutputTooLargeError(total, options.outputSizeBytesMax);
  }
  return blocks;
}

function join(parts: Buffer[]): Buffer {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Wraps raw snappy blocks in xerial framing (what the Java client writes); for tests and tools. */
export function xerialFrame(blocks: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(xerialHeaderSizeBytes);
  xerialMagic.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (const block of blocks) {
    const length = Buffer.alloc(blockLengthSizeBytes);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

export const snappyCodec: CompressionCodec = {
  compress: (data) => snappy().compressSync(data),
  decompress: (data, options) =>
    join(blocksOf(data, options).map((block) => snappy().uncompressSync(block) as Buffer)),
  compressAsync: (data) => snappy().compress(data),
  decompressAsync: async (data, options) => {
    const blocks = blocksOf(data, options);
    const parts = await Promise.all(blocks.map((block) => snappy().uncompress(block)));
    return join(parts as Buffer[]);
  },
};
