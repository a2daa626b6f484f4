// Sparse in-memory indexes of one segment, persisted as .index / .timeindex (Kafka's layouts):
//   .index      relativeOffset int32 | position int32            (8 bytes per entry)
//   .timeindex  timestamp int64      | relativeOffset int32      (12 bytes per entry)
// Node has no mmap, so each index lives in a growable Buffer and is written to its file when the
// segment is rolled or the log is closed (DESIGN.md "On disk", "Invariants").

const offsetEntryBytes = 8;
const timeEntryBytes = 12;

/** Shared by every index with no entries yet: an idle partition's segment allocates nothing. */
const noEntries = Buffer.alloc(0);
/** Entries a growing index makes room for at first. */
const initialEntryCapacity = 64;

class EntryBuffer {
  buffer: Buffer;
  count = 0;

  constructor(
    private readonly entryBytes: number,
    initial?: Buffer,
  ) {
    this.buffer = noEntries;
    if (initial && initial.length > 0) {
      this.buffer = Buffer.alloc(initial.length);
      initial.copy(this.buffer);
      this.count = Math.floor(initial.length / entryBytes);
    }
  }

  reserve(): number {
    const at = this.count * this.entryBytes;
    if (at + this.entryBytes > this.buffer.length) {
      const grown = Buffer.alloc(
        Math.max(this.buffer.length * 2, initialEntryCapacity * this.entryBytes),
      );
      this.buffer.copy(grown);
      this.buffer = grown;
    }
    this.count++;
    return at;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.count * this.entryBytes);
  }

  get sizeBytes(): number {
    return this.count * this.entryBytes;
  }
}

export interface OffsetPosition {
  offset: bigint;
  position: number;
}

export class OffsetIndex {
  private readonly entries: EntryBuffer;

  constructor(
    readonly baseOffset: bigint,
    initial?: Buffer,
  ) {
    this.entries = new EntryBuffer(offsetEntryBytes, initial);
  }

  /** Null when the bytes are not a valid index of this segment (then it is rebuilt). */
  static load(baseOffset: bigint, data: Buffer, segmentSizeBytes: number): OffsetIndex | null {
    if (data.length % offsetEntryBytes !== 0) return null;
    let previousRelative = -1;
    let previousPosition = -1;
    for (let at = 0; at < data.length; at += offsetEntryBytes) {
      const relative = data.readInt32BE(at);
      const position = data.readInt32BE(at + 4);
      if (
        relative <= previousRelative ||
        position <= previousPosition ||
        position >= segmentSizeBytes
      )
        return null;
      previousRelative = relative;
      previousPosition = position;
    }
    return new OffsetIndex(baseOffset, data);
  }

  get entryCount(): number {
    return this.entries.count;
  }

  get sizeBytes(): number {
    return this.entries.sizeBytes;
  }

  append(offset: bigint, position: number): void {
    const at = this.entries.reserve();
    this.entries.buffer.writeInt32BE(Number(offset - this.baseOffset), at);
    this.entries.buffer.writeInt32BE(position, at + 4);
  }

  last(): OffsetPosition | null {
    if (this.entries.count === 0) return null;
    return this.entryAt(this.entries.count - 1);
  }

  private entryAt(index: number): OffsetPosition {
    const at = index * offsetEntryBytes;
    return {
      offset: this.baseOffset + BigInt(this.entries.buffer.readInt32BE(at)),
      position: this.entries.buffer.readInt32BE(at + 4),
    };
  }

  /** The last entry whose offset is at or below `offset`; position 0 when there is none. */
  floor(offset: bigint): OffsetPosition {
    if (offset < this.baseOffset) return { offset: this.baseOffset, position: 0 };
    // Entries hold int32 relative offsets: compare as numbers, no BigInt per probe.
    const relativeBig = offset - this.baseOffset;
    const relative = relativeBig > 0x7fff_ffffn ? 0x7fff_ffff : Number(relativeBig);
    let low = 0;
    let high = this.entries.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.entries.buffer.readInt32BE(middle * offsetEntryBytes) <= relative) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(found);
  }

  /** Drops entries at or past `position` (truncation). */
  truncateToPosition(position: number): void {
    while (this.entries.count > 0 && this.entryAt(this.entries.count - 1).position >= position)
      this.entries.count--;
  }

  bytes(): Buffer {
    return this.entries.bytes();
  }
}

export interface TimestampOffsetEntry {
  timestamp: bigint;
  offset: bigint;
}

export class TimeIndex {
  private readonly entries: EntryBuffer;

  constructor(
    readonly baseOffset: bigint,
    initial?: Buffer,
  ) {
    this.entries = new EntryBuffer(timeEntryBytes, initial);
  }

  static load(baseOffset: bigint, data: Buffer): TimeIndex | null {
    if (data.length % timeEntryBytes !== 0) return null;
    let previousTimestamp: bigint | null = null;
    let previousRelative = -1;
    for (let at = 0; at < data.length; at += timeEntryBytes) {
      const timestamp = data.readBigInt64BE(at);
      const relative = data.readInt32BE(at + 8);
      if (relative < previousRelative) return null;
      if (previousTimestamp !== null && timestamp <= previousTimestamp) return null;
      previousTimestamp = timestamp;
      previousRelative = relative;
    }
    return new TimeIndex(baseOffset, data);
  }

  get entryCount(): number {
    return this.entries.count;
  }

  /** Only strictly increasing timestamps are indexed (Kafka's rule). */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    const last = this.last();
    if (last && timestamp <= last.timestamp) return;
    const at = this.entries.reserve();
    this.entries.buffer.writeBigInt64BE(timestamp, at);
    this.entries.buffer.writeInt32BE(Number(offset - this.baseOffset), at + 8);
  }

  last(): TimestampOffsetEntry | null {
    if (this.entries.count === 0) return null;
    return this.entryAt(this.entries.count - 1);
  }

  private entryAt(index: number): TimestampOffsetEntry {
    const at = index * timeEntryBytes;
    return {
      timestamp: this.entries.buffer.readBigInt64BE(at),
      offset: this.baseOffset + BigInt(this.entries.buffer.readInt32BE(at + 8)),
    };
  }

  /** The offset to start scanning from for the first record at or after `timestamp`. */
  floorOffset(timestamp: bigint): bigint {
    let low = 0;
    let high = this.entries.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.entries.buffer.readBigInt64BE(middle * timeEntryBytes) < timestamp) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found < 0 ? this.baseOffset : this.entryAt(found).offset;
  }

  truncateToOffset(offset: bigint): void {
    while (this.entries.count > 0 && this.entryAt(this.entries.count - 1).offset >= offset)
      this.entries.count--;
  }

  bytes(): Buffer {
    return this.entries.bytes();
  }
}
