import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordBatchError, recordErrorCode } from './errors.js';
import {
  RecordCursor,
  varintSizeBytes,
  varlongSizeBytes,
  writeVarint,
  writeVarlong,
} from './varint.js';

function cursorOver(hex: string): RecordCursor {
  const buffer = Buffer.from(hex, 'hex');
  return new RecordCursor(buffer, 0, buffer.length);
}

function expectError(read: () => unknown, errorCode: number): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof RecordBatchError, String(error));
    assert.equal(error.errorCode, errorCode);
    return true;
  });
}

test('zig-zag varints and varlongs round-trip, sizes match what is written', () => {
  const ints = [0, -1, 1, 63, -64, 64, 2147483647, -2147483648];
  const longs = [0n, -1n, 1n, 9223372036854775807n, -9223372036854775808n, 1234567890123n];
  const buffer = Buffer.alloc(ints.length * 5 + longs.length * 10);
  let position = 0;
  for (const value of ints) {
    const next = writeVarint(buffer, position, value);
    assert.equal(next - position, varintSizeBytes(value));
    position = next;
  }
  for (const value of longs) {
    const next = writeVarlong(buffer, position, value);
    assert.equal(next - position, varlongSizeBytes(value));
    position = next;
  }
  const cursor = new RecordCursor(buffer, 0, position);
  for (const value of ints) assert.equal(cursor.varint(), value);
  for (const value of longs) assert.equal(cursor.varlong(), value);
  assert.equal(cursor.remainingBytes, 0);
  // Kafka's record encoding of -1 and 300 (zig-zag 1 and 600).
  assert.deepEqual(buffer.subarray(0, 2), Buffer.from('0001', 'hex'));
  assert.equal(cursorOver('d804').varint(), 300);
});

test('varints past their width are INVALID_RECORD, truncated ones CORRUPT_MESSAGE', () => {
  expectError(() => cursorOver('ffffffffff01').varint(), recordErrorCode.invalidRecord);
  expectError(() => cursorOver('ffffffffffffffffffff01').varlong(), recordErrorCode.invalidRecord);
  expectError(() => cursorOver('8080').varint(), recordErrorCode.corruptMessage);
  expectError(() => cursorOver('8080').varlong(), recordErrorCode.corruptMessage);
  expectError(() => cursorOver('03').bytes(2), recordErrorCode.corruptMessage);
});
