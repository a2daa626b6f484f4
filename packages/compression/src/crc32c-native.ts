// Installs @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions) behind @gregor/protocol's crc32c.
// Below `nativeCrc32cThresholdBytes` the N-API call costs more than it saves, so short ranges
// stay in JS (see BENCHMARKS.md).

import { type Crc32cFunction, crc32cSoftware, setCrc32cImplementation } from '@gregor/protocol';
import { loadNative } from './native.js';

export const nativeCrc32cThresholdBytes = 128;

/** protocol's `crc32c` signature over @node-rs/crc32; throws if the module cannot load. */
export function createNativeCrc32c(): Crc32cFunction {
  const native = loadNative<typeof import('@node-rs/crc32')>('@node-rs/crc32').crc32c;
  return (data, start, end, crc) => {
    if (end - start < nativeCrc32cThresholdBytes) return crc32cSoftware(data, start, end, crc);
    const range = start === 0 && end === data.length ? data : data.subarray(start, end);
    return native(range, crc);
  };
}

/** Call once at start-up (the broker does); returns false when the native module is unusable. */
export function installNativeCrc32c(): boolean {
  try {
    setCrc32cImplementation(createNativeCrc32c());
    return true;
  } catch {
    return false;
  }
}
