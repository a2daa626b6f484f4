// lz4 (compression type 3): the LZ4 frame format (lz4_Frame_format.md), as Kafka's
// KafkaLZ4BlockOutputStream and librdkafka write it for magic v2 batches. Java reads only
// frames with independent blocks, which is what lz4-napi (lz4_flex) writes.
//
// The native decoder has no output bound, so the frame is walked first (headers only): each
// block's output is at most min(max block size, 255 * compressed size + 64) bytes, and the sum
// must fit the caller's bound before anything is decompressed.

import type { CompressionCodec, DecompressOptions } from '@gregor/protocol';
import { CompressionError, OutputTooLargeError } from './errors.js';
import { loadNative } from './native.js';

const lz4 = () => loadNative<typeof import('lz4-napi')>('lz4-napi');

const frameMagic = 0x184d2204;
const blockSizesBytes: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
const uncompressedBlockFlag = 0x80000000;
const lz4ExpansionMax = 255;

function fail(message: string): never {
  throw new CompressionError(`lz4 frame: ${message}`);
}

/** Upper bound of the frame's decompressed size, from its headers alone. */
export function lz4FrameOutputBound(data: Buffer): number {
  if (data.length < 7) fail('shorter than a frame header');
  if (data.readUInt32LE(0) !== frameMagic) fail('bad magic number');
  const flags = data[4];
  if (flags >> 6 !== 1) fail(`unsupported version ${flags >> 6}`);
  const blockChecksum = (flags & 0x10) !== 0;
  const contentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  const dictionaryId = (flags & 0x01) !== 0;
  const blockSizeBytes = blockSizesBytes[(data[5] >> 4) & 0x07];
  if (blockSizeBytes === undefined) fail('bad block maximum size');
  let position = 6 + (contentSize ? 8 : 0) + (dictionaryId ? 4 : 0) + 1;
  let bound = 0;
  for (;;) {
    if (data.length - position < 4) fail('truncated before a block size');
    const word = data.readUInt32LE(position);
    position += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockSizeBytes || size > data.length - position)
      fail(`block size ${size} out of range`);
    const uncompressed = (word & uncompressedBlockFlag) !== 0;
    bound += uncompressed ? size : Math.min(blockSizeBytes, size * lz4ExpansionMax + 64);
    position += size + (blockChecksum ? 4 : 0);
  }
  position += contentChecksum ? 4 : 0;
  if (position > data.length) fail('truncated content checksum');
  if (position !== data.length) fail(`${data.length - position} bytes after the frame`);
  return bound;
}

function checkBound(data: Buffer, options: DecompressOptions): void {
  const bound = lz4FrameOutputBound(data);
  if (bound > options.outputSizeBytesMax)
    throw new OutputTooLargeError(bound, options.outputSizeBytesMax);
}

export const lz4Codec: CompressionCodec = {
  compress: (data) => lz4().compressFrameSync(data),
  decompress: (data, options) => {
    checkBound(data, options);
    return lz4().decompressFrameSync(data);
  },
  compressAsync: (data) => lz4().compressFrame(data),
  decompressAsync: async (data, options) => {
    checkBound(data, options);
    return lz4().decompressFrame(data);
  },
};
