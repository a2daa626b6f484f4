/**
 * Placement of a group in `__consumer_offsets`. Kafka computes `abs(groupId.hashCode()) % partitions`
 * with Java's String.hashCode over UTF-16 code units, so a group lands on the same partition here as
 * on a Kafka broker (tools that read `__consumer_offsets` directly depend on that).
 */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) {
    hash = (Math.imul(hash, 31) + text.charCodeAt(index)) | 0;
  }
  return hash;
}

/** Kafka's Utils.abs: maps Integer.MIN_VALUE to 0 instead of overflowing. */
function javaAbs(value: number): number {
  return value === -2147483648 ? 0 : Math.abs(value);
}

export function offsetsPartitionFor(groupId: string, partitionCount: number): number {
  return javaAbs(javaStringHashCode(groupId)) % partitionCount;
}
