// Installs @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions) behind @gregor/protocol's crc32c.
// Below `nativeCrc32cThresholdBytes` the N-API call costs more than it saves, so short ranges
// stay in JS (see BENCHMARKS.md).

import { crc32cSoftware, setCrc32cImplementation } from '@gregor/protocol';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

export const nativeCrc32cThresholdBytes = 128;

export function crc32cNative(data: Uint8Array, start: number, end: number, crc: number): number {
  if (end - start < nativeCrc32cThresholdBytes) return crc32cSoftware(data, start, end, crc);
  const range = start === 0 && end === data.length ? data : data.subarray(start, end);
  return nativeCrc32c(range, crc);
}

/** Call once at start-up (the broker does); returns false when the native module is unusable. */
export function installNativeCrc32c(): boolean {
  try {
    setCrc32cImplementation(crc32cNative);
    return true;
  } catch {
    return false;
  }
}
