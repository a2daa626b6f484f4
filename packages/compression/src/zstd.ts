// zstd (compression type 4, KIP-110): standard zstd frames (RFC 8878). Java (zstd-jni streaming)
// and @mongodb-js/zstd write frames without a content size, so a decoder cannot size its output
// from the header. Node 20's zlib has no zstd, so:
// - compression: @mongodb-js/zstd (native libzstd, prebuilt in npm packages), async only;
// - async decompression: the frame's blocks are walked first (headers only) for an output bound;
//   within the caller's bound, native libzstd decodes (a conforming decoder never regenerates more
//   than Block_Maximum_Size per block); past it, the plain-JS streaming decoder below decides;
// - sync decompression: fzstd (plain JS, streaming), stopped as soon as the output passes the bound.
// Where node:zlib has zstd (Node >= 22.15) it is used for sync work, bounded by maxOutputLength.

import * as zlib from 'node:zlib';
import type { CompressionCodec, DecompressOptions } from '@gregor/protocol';
import { compress as nativeCompress, decompress as nativeDecompress } from '@mongodb-js/zstd';
import { Decompress } from 'fzstd';
import { CompressionError, OutputTooLargeError } from './errors.js';

type SyncZlibZstd = {
  zstdCompressSync?: (data: Buffer) => Buffer;
  zstdDecompressSync?: (data: Buffer, options: { maxOutputLength: number }) => Buffer;
};
const zlibZstd = zlib as unknown as SyncZlibZstd;

const frameMagic = 0xfd2fb528;
const skippableMagicMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;
const blockSizeBytesMax = 128 * 1024;
const fcsFieldSizes = [0, 2, 4, 8];
const dictionaryIdSizes = [0, 1, 2, 4];

function fail(message: string): never {
  throw new CompressionError(`zstd frame: ${message}`);
}

/** Walks one frame's header and blocks from `position`; returns [end position, output bound]. */
function walkFrame(data: Buffer, start: number): [number, number] {
  const descriptor = data[start + 4];
  if (descriptor === undefined) fail('truncated frame header');
  if (descriptor & 0x08) fail('reserved bit set');
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsFlag = descriptor >> 6;
  const fcsSize = fcsFlag === 0 && singleSegment ? 1 : fcsFieldSizes[fcsFlag];
  let position =
    start + 5 + (singleSegment ? 0 : 1) + dictionaryIdSizes[descriptor & 0x03] + fcsSize;
  let bound = 0;
  for (;;) {
    if (data.length - position < 3) fail('truncated block header');
    const header = data[position] | (data[position + 1] << 8) | (data[position + 2] << 16);
    position += 3;
    const blockType = (header >> 1) & 0x03;
    const blockSize = header >>> 3;
    if (blockType === 3) fail('reserved block type');
    if (blockSize > blockSizeBytesMax) fail(`block size ${blockSize} over the maximum`);
    const stored = blockType === 1 ? 1 : blockSize;
    if (stored > data.length - position) fail('truncated block');
    bound += blockType === 2 ? blockSizeBytesMax : blockSize;
    position += stored;
    if (header & 1) break;
  }
  position += descriptor & 0x04 ? 4 : 0;
  if (position > data.length) fail('truncated checksum');
  return [position, bound];
}

/** Upper bound of the decompressed size of `data` (frames and skippable frames), headers only. */
export function zstdOutputBound(data: Buffer): number {
  let position = 0;
  let bound = 0;
  if (data.length === 0) fail('empty input');
  while (position < data.length) {
    if (data.length - position < 8) fail('truncated magic number');
    const magic = data.readUInt32LE(position);
    if ((magic & skippableMagicMask) >>> 0 === skippableMagic) {
      position += 8 + data.readUInt32LE(position + 4);
      if (position > data.length) fail('truncated skippable frame');
      continue;
    }
    if (magic !== frameMagic) fail('bad magic number');
    const [end, frameBound] = walkFrame(data, position);
    position = end;
    bound += frameBound;
  }
  return bound;
}

/** Bounded streaming decode in plain JS. */
export function zstdDecompressJs(data: Buffer, options: DecompressOptions): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > options.outputSizeBytesMax) {
      throw new OutputTooLargeError(total, options.outputSizeBytesMax);
    }
    // fzstd may reuse its window for the next chunk: keep a copy.
    chunks.push(Buffer.from(chunk));
  });
  try {
    stream.push(data, true);
  } catch (error) {
    if (error instanceof CompressionError) throw error;
    throw new CompressionError(`zstd: ${(error as Error).message}`);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

const compressionLevel = 3;

function decompress(data: Buffer, options: DecompressOptions): Buffer {
  if (zlibZstd.zstdDecompressSync !== undefined) {
    return zlibZstd.zstdDecompressSync(data, { maxOutputLength: options.outputSizeBytesMax });
  }
  return zstdDecompressJs(data, options);
}

async function decompressAsync(data: Buffer, options: DecompressOptions): Promise<Buffer> {
  if (zstdOutputBound(data) > options.outputSizeBytesMax) return decompress(data, options);
  return nativeDecompress(data);
}

export const zstdCodec: CompressionCodec = {
  ...(zlibZstd.zstdCompressSync === undefined ? {} : { compress: zlibZstd.zstdCompressSync }),
  decompress,
  compressAsync: (data) => nativeCompress(data, compressionLevel),
  decompressAsync,
};
