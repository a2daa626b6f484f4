import { ProtocolDecodeError, type ProtocolDecodeErrorReason } from './protocol-decode-error.js';
import type { TaggedField } from './tagged-field.js';

/** Longest unsigned varint for a 32-bit value (5 bytes of 7 bits). */
const unsignedVarintBytesMax = 5;

/**
 * A hostile-input reader over one frame (a Buffer slice). Every length is checked against the
 * bytes left before anything is allocated; any violation throws a ProtocolDecodeError, which the
 * frame helpers catch at the top. Bytes are returned as `subarray` views, never copied.
 */
export class Reader {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(reason: ProtocolDecodeErrorReason, detail?: string): never {
    throw new ProtocolDecodeError(reason, this.offset, detail);
  }

  /** Throws unless every byte has been consumed (a frame must not carry trailing garbage). */
  expectEnd(): void {
    if (this.offset !== this.end)
      this.fail('trailing-bytes', `${this.end - this.offset} bytes left`);
  }

  private take(byteCount: number): number {
    const start = this.offset;
    if (byteCount > this.end - start) this.fail('truncated', `need ${byteCount} bytes`);
    this.offset = start + byteCount;
    return start;
  }

  readInt8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  readInt16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  readInt32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  readInt64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  readUint16(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }

  readUint32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  readFloat64(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }

  /** Only 0 and 1 are accepted so that decode -> encode reproduces the input exactly. */
  readBool(): boolean {
    const byte = this.buffer[this.take(1)];
    if (byte > 1) this.fail('invalid-value', `boolean byte ${byte}`);
    return byte === 1;
  }

  /** Unsigned LEB128 up to 32 bits; overlong (non-minimal or > 5 bytes) encodings are rejected. */
  readUnsignedVarint(): number {
    let value = 0;
    for (let index = 0; index < unsignedVarintBytesMax; index++) {
      const byte = this.buffer[this.take(1)];
      if (index === 4 && byte > 0x0f) this.fail('invalid-value', 'varint exceeds 32 bits');
      value += (byte & 0x7f) * 2 ** (7 * index);
      if ((byte & 0x80) === 0) {
        if (byte === 0 && index > 0) this.fail('invalid-value', 'overlong varint');
        return value;
      }
    }
    return this.fail('invalid-value', 'varint longer than 5 bytes');
  }

  /** Returns `byteCount` bytes as a view into the frame (no copy). */
  readRawBytes(byteCount: number): Buffer {
    const start = this.take(byteCount);
    return this.buffer.subarray(start, start + byteCount);
  }

  /** Validates a decoded length: -1 means null (when allowed), other negatives and lengths past
   * the end are rejected before anything is allocated. */
  private checkLength(length: number, nullable: boolean, elementBytesMin: number): number {
    if (length < 0) {
      if (length === -1 && nullable) return -1;
      this.fail('negative-length', `length ${length}`);
    }
    if (length * elementBytesMin > this.end - this.offset) {
      this.fail('oversized-length', `length ${length} with ${this.end - this.offset} bytes left`);
    }
    return length;
  }

  private readUtf8(length: number): string {
    const start = this.offset;
    this.offset = start + length;
    return this.buffer.toString('utf8', start, start + length);
  }

  readString(): string {
    return this.readUtf8(this.checkLength(this.readInt16(), false, 1));
  }

  readNullableString(): string | null {
    const length = this.checkLength(this.readInt16(), true, 1);
    return length === -1 ? null : this.readUtf8(length);
  }

  readCompactString(): string {
    return this.readUtf8(this.checkLength(this.readUnsignedVarint() - 1, false, 1));
  }

  readCompactNullableString(): string | null {
    const length = this.checkLength(this.readUnsignedVarint() - 1, true, 1);
    return length === -1 ? null : this.readUtf8(length);
  }

  readBytes(): Buffer {
    return this.readRawBytes(this.checkLength(this.readInt32(), false, 1));
  }

  readNullableBytes(): Buffer | null {
    const length = this.checkLength(this.readInt32(), true, 1);
    return length === -1 ? null : this.readRawBytes(length);
  }

  readCompactBytes(): Buffer {
    return this.readRawBytes(this.checkLength(this.readUnsignedVarint() - 1, false, 1));
  }

  readCompactNullableBytes(): Buffer | null {
    const length = this.checkLength(this.readUnsignedVarint() - 1, true, 1);
    return length === -1 ? null : this.readRawBytes(length);
  }

  /** A uuid in Kafka's base64url form (22 characters). */
  readUuid(): string {
    const start = this.take(16);
    return this.buffer.toString('base64url', start, start + 16);
  }

  readArray<T>(readElement: (reader: Reader) => T, elementBytesMin: number): T[] {
    return this.readElements(
      this.checkLength(this.readInt32(), false, elementBytesMin),
      readElement,
    );
  }

  readNullableArray<T>(readElement: (reader: Reader) => T, elementBytesMin: number): T[] | null {
    const count = this.checkLength(this.readInt32(), true, elementBytesMin);
    return count === -1 ? null : this.readElements(count, readElement);
  }

  readCompactArray<T>(readElement: (reader: Reader) => T, elementBytesMin: number): T[] {
    const count = this.checkLength(this.readUnsignedVarint() - 1, false, elementBytesMin);
    return this.readElements(count, readElement);
  }

  readCompactNullableArray<T>(
    readElement: (reader: Reader) => T,
    elementBytesMin: number,
  ): T[] | null {
    const count = this.checkLength(this.readUnsignedVarint() - 1, true, elementBytesMin);
    return count === -1 ? null : this.readElements(count, readElement);
  }

  private readElements<T>(count: number, readElement: (reader: Reader) => T): T[] {
    const elements: T[] = [];
    for (let index = 0; index < count; index++) elements.push(readElement(this));
    return elements;
  }

  /** Records as an opaque view into the frame; record batches are decoded elsewhere. */
  readRecords(): Buffer | null {
    return this.readNullableBytes();
  }

  readCompactRecords(): Buffer | null {
    return this.readCompactNullableBytes();
  }

  /** A nullable struct: an int8 marker (-1 null, 1 present) then the struct. */
  readNullableStruct<T>(readStruct: (reader: Reader) => T): T | null {
    const marker = this.readInt8();
    if (marker === -1) return null;
    if (marker !== 1) this.fail('invalid-value', `nullable struct marker ${marker}`);
    return readStruct(this);
  }

  /**
   * Reads a tagged-field section (KIP-482). `readKnown` decodes the tags this version knows from
   * a sub-reader bounded to the field's size and returns false for unknown tags, which are kept
   * as raw bytes in `owner._unknownTaggedFields`. Tags must be strictly ascending.
   */
  readTaggedFields(
    owner: { _unknownTaggedFields?: TaggedField[] },
    readKnown: (tag: number, reader: Reader) => boolean,
  ): void {
    const count = this.checkLength(this.readUnsignedVarint(), false, 2);
    let previousTag = -1;
    for (let index = 0; index < count; index++) {
      const tag = this.readUnsignedVarint();
      if (tag <= previousTag) this.fail('invalid-value', `tag ${tag} after tag ${previousTag}`);
      previousTag = tag;
      const size = this.checkLength(this.readUnsignedVarint(), false, 1);
      const start = this.offset;
      this.offset = start + size;
      const fieldReader = new Reader(this.buffer, start, start + size);
      if (readKnown(tag, fieldReader)) {
        fieldReader.expectEnd();
      } else {
        const data = this.buffer.subarray(start, start + size);
        if (owner._unknownTaggedFields === undefined) owner._unknownTaggedFields = [];
        owner._unknownTaggedFields.push({ tag, data });
      }
    }
  }
}
