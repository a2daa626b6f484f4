import type { RecordsData, TaggedField } from './tagged-field.js';

/** First chunk size; later chunks double up to `chunkBytesMax`. */
const chunkBytesInitial = 1024;
const chunkBytesMax = 1024 * 1024;
/** External buffers at least this long are appended by reference instead of copied. */
const rawCopyBytesMax = 256;

export interface WriterOptions {
  /** Reserve an int32 at the start that `finish()` fills with the byte count after it. */
  sizePrefixed?: boolean;
}

/**
 * Appends encoded values to a growing chunk. Large external buffers (records, file data) are
 * appended by reference (`writeRaw`), so `finish()` returns a list of buffers suited to a
 * vectored socket write; nothing is concatenated.
 */
export class Writer {
  private readonly chunks: Buffer[] = [];
  private buffer: Buffer;
  private start = 0;
  private position = 0;
  private flushedBytes = 0;
  private nextChunkBytes = chunkBytesInitial;
  private readonly sizePrefixBuffer: Buffer | undefined;

  constructor(options: WriterOptions = {}) {
    this.buffer = Buffer.allocUnsafe(chunkBytesInitial);
    if (options.sizePrefixed === true) {
      this.sizePrefixBuffer = this.buffer;
      this.position = 4;
    }
  }

  /** Bytes written so far (including a reserved size prefix). */
  get byteLength(): number {
    return this.flushedBytes + this.position - this.start;
  }

  private flushSegment(): void {
    if (this.position > this.start) {
      this.chunks.push(this.buffer.subarray(this.start, this.position));
      this.flushedBytes += this.position - this.start;
    }
    this.start = this.position;
  }

  private ensure(byteCount: number): void {
    if (this.position + byteCount <= this.buffer.length) return;
    this.flushSegment();
    const size = Math.max(byteCount, this.nextChunkBytes);
    this.nextChunkBytes = Math.min(this.nextChunkBytes * 2, chunkBytesMax);
    this.buffer = Buffer.allocUnsafe(size);
    this.start = 0;
    this.position = 0;
  }

  /** The written bytes as a list of buffers (the size prefix filled in when reserved). */
  finish(): Buffer[] {
    this.flushSegment();
    if (this.sizePrefixBuffer !== undefined) {
      this.sizePrefixBuffer.writeInt32BE(this.flushedBytes - 4, 0);
    }
    return this.chunks;
  }

  /** The written bytes as one buffer: for tests and small messages, not for the data path. */
  toBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  writeInt8(value: number): void {
    this.ensure(1);
    this.buffer.writeInt8(value, this.position);
    this.position += 1;
  }

  writeInt16(value: number): void {
    this.ensure(2);
    this.buffer.writeInt16BE(value, this.position);
    this.position += 2;
  }

  writeInt32(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.position);
    this.position += 4;
  }

  writeInt64(value: bigint): void {
    this.ensure(8);
    this.buffer.writeBigInt64BE(value, this.position);
    this.position += 8;
  }

  writeUint16(value: number): void {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.position);
    this.position += 2;
  }

  writeUint32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32BE(value, this.position);
    this.position += 4;
  }

  writeFloat64(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleBE(value, this.position);
    this.position += 8;
  }

  writeBool(value: boolean): void {
    this.ensure(1);
    this.buffer[this.position] = value ? 1 : 0;
    this.position += 1;
  }

  writeUnsignedVarint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`unsigned varint out of range: ${value}`);
    }
    this.ensure(5);
    let remaining = value;
    while (remaining >= 0x80) {
      this.buffer[this.position++] = (remaining & 0x7f) | 0x80;
      remaining = Math.floor(remaining / 128);
    }
    this.buffer[this.position++] = remaining;
  }

  /** Appends bytes: small ones are copied into the chunk, large ones kept by reference. */
  writeRaw(data: Buffer): void {
    if (data.length <= rawCopyBytesMax) {
      this.ensure(data.length);
      data.copy(this.buffer, this.position);
      this.position += data.length;
      return;
    }
    this.flushSegment();
    this.chunks.push(data);
    this.flushedBytes += data.length;
  }

  private writeUtf8(value: string, byteLength: number): void {
    this.ensure(byteLength);
    this.buffer.write(value, this.position, byteLength, 'utf8');
    this.position += byteLength;
  }

  writeString(value: string): void {
    if (value === null || value === undefined) throw new TypeError('non-nullable string is null');
    const byteLength = Buffer.byteLength(value, 'utf8');
    if (byteLength > 0x7fff) throw new RangeError(`string of ${byteLength} bytes exceeds int16`);
    this.writeInt16(byteLength);
    this.writeUtf8(value, byteLength);
  }

  writeNullableString(value: string | null): void {
    if (value === null) this.writeInt16(-1);
    else this.writeString(value);
  }

  writeCompactString(value: string): void {
    if (value === null || value === undefined) throw new TypeError('non-nullable string is null');
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.writeUnsignedVarint(byteLength + 1);
    this.writeUtf8(value, byteLength);
  }

  writeCompactNullableString(value: string | null): void {
    if (value === null) this.writeUnsignedVarint(0);
    else this.writeCompactString(value);
  }

  writeBytes(value: Buffer): void {
    if (value === null || value === undefined) throw new TypeError('non-nullable bytes are null');
    this.writeInt32(value.length);
    this.writeRaw(value);
  }

  writeNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeInt32(-1);
    else this.writeBytes(value);
  }

  writeCompactBytes(value: Buffer): void {
    if (value === null || value === undefined) throw new TypeError('non-nullable bytes are null');
    this.writeUnsignedVarint(value.length + 1);
    this.writeRaw(value);
  }

  writeCompactNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeUnsignedVarint(0);
    else this.writeCompactBytes(value);
  }

  writeUuid(value: string): void {
    this.ensure(16);
    const written = this.buffer.write(value, this.position, 16, 'base64url');
    if (written !== 16 || value.length !== 22) throw new TypeError(`invalid uuid: ${value}`);
    this.position += 16;
  }

  writeRecords(value: RecordsData): void {
    if (value === null) {
      this.writeInt32(-1);
      return;
    }
    this.writeInt32(recordsByteLength(value));
    this.writeRecordsData(value);
  }

  writeCompactRecords(value: RecordsData): void {
    if (value === null) {
      this.writeUnsignedVarint(0);
      return;
    }
    this.writeUnsignedVarint(recordsByteLength(value) + 1);
    this.writeRecordsData(value);
  }

  private writeRecordsData(value: Buffer | readonly Buffer[]): void {
    if (Buffer.isBuffer(value)) this.writeRaw(value);
    else for (const part of value) this.writeRaw(part);
  }

  writeArray<T>(values: readonly T[], writeElement: (writer: Writer, value: T) => void): void {
    if (values === null || values === undefined) throw new TypeError('non-nullable array is null');
    this.writeInt32(values.length);
    for (const value of values) writeElement(this, value);
  }

  writeNullableArray<T>(
    values: readonly T[] | null,
    writeElement: (writer: Writer, value: T) => void,
  ): void {
    if (values === null) this.writeInt32(-1);
    else this.writeArray(values, writeElement);
  }

  writeCompactArray<T>(
    values: readonly T[],
    writeElement: (writer: Writer, value: T) => void,
  ): void {
    if (values === null || values === undefined) throw new TypeError('non-nullable array is null');
    this.writeUnsignedVarint(values.length + 1);
    for (const value of values) writeElement(this, value);
  }

  writeCompactNullableArray<T>(
    values: readonly T[] | null,
    writeElement: (writer: Writer, value: T) => void,
  ): void {
    if (values === null) this.writeUnsignedVarint(0);
    else this.writeCompactArray(values, writeElement);
  }

  /** A nullable struct: an int8 marker (-1 null, 1 present) then the struct. */
  writeNullableStruct<T>(value: T | null, writeStruct: (writer: Writer, value: T) => void): void {
    if (value === null) {
      this.writeInt8(-1);
      return;
    }
    this.writeInt8(1);
    writeStruct(this, value);
  }

  /**
   * Writes a tagged-field section: known fields (already encoded) merged with unknown ones,
   * sorted by tag as the spec requires (KIP-482).
   */
  writeTaggedFields(
    known: readonly TaggedField[] | undefined,
    unknown: readonly TaggedField[] | undefined,
  ): void {
    const knownCount = known === undefined ? 0 : known.length;
    const unknownCount = unknown === undefined ? 0 : unknown.length;
    if (knownCount + unknownCount === 0) {
      this.writeUnsignedVarint(0);
      return;
    }
    const fields = [...(known ?? []), ...(unknown ?? [])].sort(
      (left, right) => left.tag - right.tag,
    );
    this.writeUnsignedVarint(fields.length);
    for (const field of fields) {
      this.writeUnsignedVarint(field.tag);
      this.writeUnsignedVarint(field.data.length);
      this.writeRaw(field.data);
    }
  }

  /** Encodes one value into a standalone buffer (a tagged field's payload). */
  static encodeToBuffer(encode: (writer: Writer) => void): Buffer {
    const writer = new Writer();
    encode(writer);
    return writer.toBuffer();
  }
}

function recordsByteLength(value: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(value)) return value.length;
  let total = 0;
  for (const part of value) total += part.length;
  return total;
}
