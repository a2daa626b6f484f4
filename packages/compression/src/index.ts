// Record batch codecs for @gregor/protocol, keyed by Kafka compression type id.

import type { CompressionCodecs } from '@gregor/protocol';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

export {
  createNativeCrc32c,
  installNativeCrc32c,
  nativeCrc32cThresholdBytes,
} from './crc32c-native.js';
export { CompressionError, OutputTooLargeError } from './errors.js';
export { gzipCodec } from './gzip.js';
export { lz4Codec, lz4FrameOutputBound } from './lz4.js';
export { isXerialFramed, snappyCodec, xerialFrame } from './snappy.js';
export { zstdCodec, zstdDecompressJs, zstdOutputBound, zstdStoredFrame } from './zstd.js';

export const defaultCompressionCodecs: CompressionCodecs = {
  1: gzipCodec,
  2: snappyCodec,
  3: lz4Codec,
  4: zstdCodec,
};
