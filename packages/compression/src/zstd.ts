// zstd (compression type 4, KIP-110): standard zstd frames (RFC 8878). Java (zstd-jni streaming)
// and @mongodb-js/zstd write frames without a content size, so a decoder cannot size its output
// from the header. Node 20's zlib has no zstd, so:
// - compression: @mongodb-js/zstd (native libzstd, prebuilt in npm packages), async only;
// - async decompression: the frame's blocks are walked first (headers only) for an output bound;
//   within the caller's bound, native libzstd decodes (a conforming decoder never regenerates more
//   than Block_Maximum_Size per block); past it, the plain-JS streaming decoder below decides;
// - sync decompression: fzstd (plain JS, streaming), stopped as soon as the output passes the bound;
// - sync compression (the log cleaner rewrites batches synchronously): a valid zstd frame of
//   stored (raw) blocks, ratio 1, readable by every zstd decoder. Use encodeRecordBatchAsync for
//   real compression.
// Where node:zlib has zstd (Node >= 22.15) it is used for sync work, bounded by maxOutputLength.

import * as zlib from 'node:zlib';
import type { CompressionCodec, DecompressOptions } from '@gregor/protocol';
import { Decompress } from 'fzstd';
import { CompressionError, OutputTooLargeError } from './errors.js';
import { loadNative } from './native.js';

const libzstd = () => loadNative<typeof import('@mongodb-js/zstd')>('@mongodb-js/zstd');

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

/** A zstd frame holding `data` in raw blocks (RFC 8878 3.1.1.2.2: Block_Type 0), no compression. */
export function zstdStoredFrame(data: Buffer): Buffer {
  const blockCount = Math.max(1, Math.ceil(data.length / blockSizeBytesMax));
  const fcsSize = data.length < 256 ? 1 : data.length < 65_792 ? 2 : 4;
  const headerSize = 5 + fcsSize;
  const frame = Buffer.allocUnsafe(headerSize + blockCount * 3 + data.length);
  frame.writeUInt32LE(frameMagic, 0);
  // Single_Segment (no window descriptor), FCS field of fcsSize bytes, no checksum, no dictionary.
  frame[4] = 0x20 | ((fcsSize === 1 ? 0 : fcsSize === 2 ? 1 : 2) << 6);
  if (fcsSize === 1) frame[5] = data.length;
  else if (fcsSize === 2) frame.writeUInt16LE(data.length - 256, 5);
  else frame.writeUInt32LE(data.length, 5);
  let position = headerSize;
  for (let block = 0; block < blockCount; block++) {
    const start = block * blockSizeBytesMax;
    const size = Math.min(blockSizeBytesMax, data.length - start);
    const last = block === blockCount - 1 ? 1 : 0;
    const header = (size << 3) | last;
    frame[position] = header & 0xff;
    frame[position + 1] = (header >> 8) & 0xff;
    frame[position + 2] = (header >> 16) & 0xff;
    data.copy(frame, position + 3, start, start + size);
    position += 3 + size;
  }
  return frame;
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
  return libzstd().decompress(data);
}

export const zstdCodec: CompressionCodec = {
  compress: zlibZstd.zstdCompressSync ?? zstdStoredFrame,
  decompress,
  compressAsync: (data) => libzstd().compress(data, compressionLevel),
  decompressAsync,
};
