import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

test('size-prefixed writer fills the int32 size after many chunk growths', () => {
  const writer = new Writer({ sizePrefixed: true });
  for (let index = 0; index < 10_000; index++) writer.writeInt32(index);
  const frame = Buffer.concat(writer.finish());
  assert.equal(frame.length, 4 + 40_000);
  assert.equal(frame.readInt32BE(0), 40_000);
  const reader = new Reader(frame, 4);
  for (let index = 0; index < 10_000; index++) assert.equal(reader.readInt32(), index);
  reader.expectEnd();
});

test('large raw buffers are appended by reference, small ones copied', () => {
  const large = Buffer.alloc(4096, 7);
  const small = Buffer.from([1, 2, 3]);
  const writer = new Writer();
  writer.writeInt16(1);
  writer.writeRaw(large);
  writer.writeRaw(small);
  writer.writeInt16(2);
  assert.equal(writer.byteLength, 2 + 4096 + 3 + 2);
  const chunks = writer.finish();
  assert.equal(chunks.length, 3);
  assert.equal(chunks[1], large);
  assert.deepEqual(Buffer.concat(chunks).subarray(4098), Buffer.from([1, 2, 3, 0, 2]));
});

test('unsigned varint writer uses minimal encodings and rejects out-of-range values', () => {
  const writer = new Writer();
  for (const value of [0, 127, 128, 16383, 16384, 0xffffffff]) writer.writeUnsignedVarint(value);
  assert.deepEqual(writer.toBuffer(), Buffer.from('007f8001ff7f808001ffffffff0f', 'hex'));
  assert.throws(() => new Writer().writeUnsignedVarint(-1), RangeError);
  assert.throws(() => new Writer().writeUnsignedVarint(2 ** 32), RangeError);
});

test('strings: utf-8 byte lengths, int16 limit, null refused where not nullable', () => {
  const writer = new Writer();
  writer.writeString('é€');
  writer.writeCompactNullableString(null);
  writer.writeCompactString('😀');
  const reader = new Reader(writer.toBuffer());
  assert.equal(reader.readString(), 'é€');
  assert.equal(reader.readCompactNullableString(), null);
  assert.equal(reader.readCompactString(), '😀');
  reader.expectEnd();
  assert.throws(() => new Writer().writeString('x'.repeat(40_000)), RangeError);
  assert.throws(() => new Writer().writeString(null as unknown as string), TypeError);
});
