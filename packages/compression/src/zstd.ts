// zstd (compression type 4, KIP-110): standard zstd frames. Java (zstd-jni streaming) writes frames
// without a content size, so a decoder must stream. Node 20's zlib has no zstd:
// - compression: @mongodb-js/zstd (native libzstd, prebuilt in npm packages), async only;
// - decompression: fzstd (plain JS, streaming), sync, stopped as soon as the output passes the bound.
// Where node:zlib has zstd (Node >= 22.15) it is used for both, sync and bounded.

import * as zlib from 'node:zlib';
import type { CompressionCodec, DecompressOptions } from '@gregor/protocol';
import { compress as nativeCompress } from '@mongodb-js/zstd';
import { Decompress } from 'fzstd';
import { CompressionError, OutputTooLargeError } from './errors.js';

type SyncZlibZstd = {
  zstdCompressSync?: (data: Buffer) => Buffer;
  zstdDecompressSync?: (data: Buffer, options: { maxOutputLength: number }) => Buffer;
};
const zlibZstd = zlib as unknown as SyncZlibZstd;

/** Bounded streaming decode in plain JS. */
export function zstdDecompressJs(data: Buffer, options: DecompressOptions): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > options.outputSizeBytesMax)
      throw new OutputTooLargeError(total, options.outputSizeBytesMax);
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

export const zstdCodec: CompressionCodec = {
  ...(zlibZstd.zstdCompressSync === undefined ? {} : { compress: zlibZstd.zstdCompressSync }),
  decompress,
  compressAsync: (data) => nativeCompress(data, compressionLevel),
  decompressAsync: async (data, options) => decompress(data, options),
};
