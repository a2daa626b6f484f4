// CRC-32C (Castagnoli), the checksum of record batch magic v2 (KIP-98).
// Slicing-by-8 table implementation in plain JS (~0.7 GB/s), replaceable at start-up by a native
// one (@gregor/compression's installNativeCrc32c, ~6 GB/s with SSE4.2): the protocol package keeps
// zero dependencies. See DESIGN.md and BENCHMARKS.md for the numbers.

const polynomialReversed = 0x82f63b78;
const tables: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const result: Uint32Array[] = [];
  const base = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let crc = index;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ polynomialReversed : crc >>> 1;
    base[index] = crc >>> 0;
  }
  result.push(base);
  for (let slice = 1; slice < 8; slice++) {
    const previous = result[slice - 1];
    const table = new Uint32Array(256);
    for (let index = 0; index < 256; index++) {
      table[index] = ((previous[index] >>> 8) ^ base[previous[index] & 0xff]) >>> 0;
    }
    result.push(table);
  }
  return result;
}

/** A CRC-32C over `data[start, end)` continuing from `crc`, like `crc32c`. */
export type Crc32cFunction = (data: Uint8Array, start: number, end: number, crc: number) => number;

let implementation: Crc32cFunction = crc32cSoftware;

/**
 * Replaces the implementation behind `crc32c` process-wide (call once at start-up). The
 * candidate is checked against the software version on known inputs before it is accepted.
 */
export function setCrc32cImplementation(candidate: Crc32cFunction): void {
  const probe = new Uint8Array(300);
  for (let index = 0; index < probe.length; index++) probe[index] = (index * 31 + 7) & 0xff;
  for (const [start, end, crc] of [
    [0, 0, 0],
    [0, 9, 0],
    [3, 300, 0x12345678],
    [1, 77, 0xffffffff],
  ]) {
    if (candidate(probe, start, end, crc) !== crc32cSoftware(probe, start, end, crc)) {
      throw new Error('CRC-32C implementation disagrees with the reference');
    }
  }
  implementation = candidate;
}

/** Back to the built-in slicing-by-8 implementation. */
export function resetCrc32cImplementation(): void {
  implementation = crc32cSoftware;
}

/** CRC-32C of `data[start, end)`, continuing from `crc` (0 for a fresh checksum). */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  return implementation(data, start, end, crc);
}

/** The plain-JS slicing-by-8 CRC-32C, whatever implementation is installed. */
export function crc32cSoftware(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables;
  let value = ~crc >>> 0;
  let position = start;
  while (end - position >= 8) {
    const low =
      (value ^
        (data[position] |
          (data[position + 1] << 8) |
          (data[position + 2] << 16) |
          (data[position + 3] << 24))) >>>
      0;
    value =
      t7[low & 0xff] ^
      t6[(low >>> 8) & 0xff] ^
      t5[(low >>> 16) & 0xff] ^
      t4[low >>> 24] ^
      t3[data[position + 4]] ^
      t2[data[position + 5]] ^
      t1[data[position + 6]] ^
      t0[data[position + 7]];
    position += 8;
  }
  while (position < end) {
    value = t0[(value ^ data[position]) & 0xff] ^ (value >>> 8);
    position++;
  }
  return ~value >>> 0;
}
