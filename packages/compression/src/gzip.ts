// gzip (compression type 1): one RFC 1952 member, as java.util.zip.GZIPOutputStream writes.

import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import type { CompressionCodec } from '@gregor/protocol';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const gzipCodec: CompressionCodec = {
  compress: (data) => gzipSync(data),
  // maxOutputLength makes zlib stop (RangeError) instead of inflating a zip bomb.
  decompress: (data, options) => gunzipSync(data, { maxOutputLength: options.outputSizeBytesMax }),
  compressAsync: (data) => gzipAsync(data),
  decompressAsync: (data, options) =>
    gunzipAsync(data, { maxOutputLength: options.outputSizeBytesMax }),
};
