// `npm run bench -- crc`: CRC-32C throughput, plain JS slicing-by-8 vs @node-rs/crc32 (native,
// SSE4.2) vs the installed wrapper, with Node's built-in zlib.crc32 (CRC-32, another polynomial:
// a speed reference only) and a plain Buffer.copy of the same bytes.

import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { crc32c, crc32cSoftware, resetCrc32cImplementation } from '@gregor/protocol';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { installNativeCrc32c } from '../crc32c-native.js';
import { measure } from '../measure.js';

const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

for (const sizeBytes of [64, 256, 1024, 16 * 1024, 1024 * 1024]) {
  const data = randomBytes(sizeBytes);
  const target = Buffer.allocUnsafe(sizeBytes);
  process.stdout.write(`-- ${sizeBytes} bytes\n`);
  measure('Buffer.copy (memory copy reference)', sizeBytes, () => data.copy(target));
  measure('crc32c plain JS slicing-by-8', sizeBytes, () => crc32cSoftware(data, 0, sizeBytes, 0));
  measure('crc32c @node-rs/crc32 (native)', sizeBytes, () => nativeCrc32c(data));
  resetCrc32cImplementation();
  installNativeCrc32c();
  measure('crc32c installed (native above threshold)', sizeBytes, () => crc32c(data, 0, sizeBytes));
  resetCrc32cImplementation();
  if (zlibCrc32 !== undefined)
    measure('zlib.crc32 (CRC-32, built-in)', sizeBytes, () => zlibCrc32(data));
}
