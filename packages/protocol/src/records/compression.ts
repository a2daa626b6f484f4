// The compression seam of record batches. @gregor/protocol has no dependencies, so the codecs
// themselves live in @gregor/compression (`defaultCompressionCodecs`) and are passed in.

import { RecordBatchError, recordErrorCode } from './errors.js';

/** Attribute bits 0-2 of a v2 batch (KIP-98; zstd from KIP-110). */
export const CompressionType = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];
export type CompressionName = keyof typeof CompressionType;

export const compressionNames: readonly CompressionName[] = [
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
];

export interface DecompressOptions {
  /** Decompression stops with an error past this many output bytes (zip-bomb guard). */
  outputSizeBytesMax: number;
}

/**
 * One codec, in the wire format Kafka uses for that type (gzip member, raw or xerial snappy, LZ4
 * frame, zstd frame). Sync methods exist where the library allows; the async ones always do.
 */
export interface CompressionCodec {
  compress?(data: Buffer): Buffer;
  decompress?(data: Buffer, options: DecompressOptions): Buffer;
  compressAsync(data: Buffer): Promise<Buffer>;
  decompressAsync(data: Buffer, options: DecompressOptions): Promise<Buffer>;
}

export type CompressionCodecs = {
  readonly [type in Exclude<CompressionType, 0>]?: CompressionCodec;
};

/** Default bound on a decompressed batch's records section. */
export const decompressedBatchSizeBytesMax = 128 * 1024 * 1024;

/** The codec for a batch's compression type; none installed is UNSUPPORTED_COMPRESSION_TYPE. */
export function codecForType(
  codecs: CompressionCodecs | undefined,
  compression: number,
): CompressionCodec {
  const codec = codecs?.[compression as Exclude<CompressionType, 0>];
  if (codec === undefined) {
    throw new RecordBatchError(
      'bad-compression',
      recordErrorCode.unsupportedCompressionType,
      `no codec for compression type ${compression}`,
    );
  }
  return codec;
}
