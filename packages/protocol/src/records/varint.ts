// Zigzag varints of the record format (KIP-98, protobuf encoding). A tiny cursor of its own, so
// that record decoding reports Kafka error codes (INVALID_RECORD / CORRUPT_MESSAGE) directly.

import { RecordBatchError, recordErrorCode } from './errors.js';

const varintBytesMax = 5;
const varlongBytesMax = 10;

/** Bytes a zigzag varint of the int32 `value` takes. */
export function varintSizeBytes(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (zigzag >= 0x80) {
    zigzag >>>= 7;
    size++;
  }
  return size;
}

/** Writes a zigzag varint of the int32 `value` at `position`; returns the position after it. */
export function writeVarint(buffer: Buffer, position: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let cursor = position;
  while (zigzag >= 0x80) {
    buffer[cursor++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  buffer[cursor++] = zigzag;
  return cursor;
}

function zigzagLong(value: bigint): bigint {
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}

/** Bytes a zigzag varlong of the int64 `value` takes. */
export function varlongSizeBytes(value: bigint): number {
  if (value >= -0x40000000n && value < 0x40000000n) return varintSizeBytes(Number(value));
  let zigzag = zigzagLong(value);
  let size = 1;
  while (zigzag >= 0x80n) {
    zigzag >>= 7n;
    size++;
  }
  return size;
}

/** Writes a zigzag varlong of the int64 `value` at `position`; returns the position after it. */
export function writeVarlong(buffer: Buffer, position: number, value: bigint): number {
  if (value >= -0x40000000n && value < 0x40000000n) {
    return writeVarint(buffer, position, Number(value));
  }
  let zigzag = zigzagLong(value);
  let cursor = position;
  while (zigzag >= 0x80n) {
    buffer[cursor++] = Number(zigzag & 0x7fn) | 0x80;
    zigzag >>= 7n;
  }
  buffer[cursor++] = Number(zigzag);
  return cursor;
}

/** A bounds-checked cursor over `buffer[position, end)`; every read checks the bytes left. */
export class RecordCursor {
  position: number;

  constructor(
    readonly buffer: Buffer,
    position: number,
    public end: number,
  ) {
    this.position = position;
  }

  get remainingBytes(): number {
    return this.end - this.position;
  }

  fail(message: string): never {
    throw new RecordBatchError('truncated', recordErrorCode.corruptMessage, message, this.position);
  }

  int8(): number {
    if (this.position >= this.end) this.fail('record truncated reading int8');
    return this.buffer.readInt8(this.position++);
  }

  int16(): number {
    if (this.end - this.position < 2) this.fail('record truncated reading int16');
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    if (this.end - this.position < 4) this.fail('record truncated reading int32');
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (let index = 0; index < varintBytesMax; index++) {
      if (this.position >= this.end) this.fail('record truncated inside a varint');
      const byte = this.buffer[this.position++];
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
      shift += 7;
    }
    throw new RecordBatchError(
      'bad-length',
      recordErrorCode.invalidRecord,
      'varint longer than 5 bytes',
      this.position,
    );
  }

  /**
   * A varlong as a number when it fits 28 bits (every timestamp delta of a batch written within
   * three days), else as a bigint: the common case allocates nothing.
   */
  smallVarlong(): number | bigint {
    const start = this.position;
    let low = 0;
    for (let index = 0; index < 4; index++) {
      if (this.position >= this.end) this.fail('record truncated inside a varlong');
      const byte = this.buffer[this.position++];
      low += (byte & 0x7f) * 2 ** (7 * index);
      if ((byte & 0x80) === 0) return low % 2 === 0 ? low / 2 : -(low + 1) / 2;
    }
    this.position = start;
    return this.varlong();
  }

  varlong(): bigint {
    // Fast path: values that fit a varint are the common case (timestamp deltas).
    let low = 0;
    for (let index = 0; index < 4; index++) {
      if (this.position >= this.end) this.fail('record truncated inside a varlong');
      const byte = this.buffer[this.position++];
      low += (byte & 0x7f) * 2 ** (7 * index);
      if ((byte & 0x80) === 0) {
        return BigInt(low % 2 === 0 ? low / 2 : -(low + 1) / 2);
      }
    }
    let result = BigInt(low);
    for (let index = 4; index < varlongBytesMax; index++) {
      if (this.position >= this.end) this.fail('record truncated inside a varlong');
      const byte = this.buffer[this.position++];
      result |= BigInt(byte & 0x7f) << BigInt(7 * index);
      if ((byte & 0x80) === 0) {
        result = BigInt.asUintN(64, result);
        return BigInt.asIntN(64, (result >> 1n) ^ -(result & 1n));
      }
    }
    throw new RecordBatchError(
      'bad-length',
      recordErrorCode.invalidRecord,
      'varlong longer than 10 bytes',
      this.position,
    );
  }

  /** `length` bytes as a subarray (no copy); the length was checked against the bytes left. */
  bytes(length: number): Buffer {
    if (length > this.end - this.position) this.fail('record truncated inside a byte field');
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }
}
