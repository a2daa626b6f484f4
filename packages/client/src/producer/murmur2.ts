// The Java client's murmur2 (org.apache.kafka.common.utils.Utils#murmur2): 32-bit arithmetic
// with wrap-around, done with Math.imul and unsigned shifts, no BigInt. Keyed records land on
// `toPositive(murmur2(key)) % partitionCount`, the same partition as the Java producer and
// librdkafka's `murmur2_random` partitioner choose.

const seed = 0x9747b28c;
const multiplier = 0x5bd1e995;

/** murmur2 of `data` as a signed 32-bit integer (what Java's `int` holds). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let hash = seed ^ length;
  const wordsEnd = length & ~3;
  for (let index = 0; index < wordsEnd; index += 4) {
    let word =
      data[index] | (data[index + 1] << 8) | (data[index + 2] << 16) | (data[index + 3] << 24);
    word = Math.imul(word, multiplier);
    word ^= word >>> 24;
    word = Math.imul(word, multiplier);
    hash = Math.imul(hash, multiplier);
    hash ^= word;
  }
  // The tail bytes are mixed in from the highest down (Java's fall-through switch).
  const tailLength = length & 3;
  if (tailLength === 3) hash ^= data[wordsEnd + 2] << 16;
  if (tailLength >= 2) hash ^= data[wordsEnd + 1] << 8;
  if (tailLength >= 1) {
    hash ^= data[wordsEnd];
    hash = Math.imul(hash, multiplier);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, multiplier);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** Java's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition the Java client's built-in partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}
