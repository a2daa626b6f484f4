import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolDecodeError } from './protocol-decode-error.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

function expectReason(read: () => unknown, reason: ProtocolDecodeError['reason']): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof ProtocolDecodeError, String(error));
    assert.equal(error.reason, reason);
    return true;
  });
}

test('unsigned varints: minimal encodings accepted, overlong and oversized rejected', () => {
  assert.equal(new Reader(hex('00')).readUnsignedVarint(), 0);
  assert.equal(new Reader(hex('7f')).readUnsignedVarint(), 127);
  assert.equal(new Reader(hex('8001')).readUnsignedVarint(), 128);
  assert.equal(new Reader(hex('ffffffff0f')).readUnsignedVarint(), 0xffffffff);
  expectReason(() => new Reader(hex('8000')).readUnsignedVarint(), 'invalid-value');
  expectReason(() => new Reader(hex('ffffffff10')).readUnsignedVarint(), 'invalid-value');
  expectReason(() => new Reader(hex('ffffffffff01')).readUnsignedVarint(), 'invalid-value');
  expectReason(() => new Reader(hex('80')).readUnsignedVarint(), 'truncated');
});

test('lengths: negative and oversized rejected before allocation, -1 only when nullable', () => {
  expectReason(() => new Reader(hex('ffff')).readString(), 'negative-length');
  assert.equal(new Reader(hex('ffff')).readNullableString(), null);
  expectReason(() => new Reader(hex('fffe')).readNullableString(), 'negative-length');
  expectReason(() => new Reader(hex('7fff 6161')).readString(), 'oversized-length');
  expectReason(() => new Reader(hex('7fffffff 00')).readBytes(), 'oversized-length');
  expectReason(() => new Reader(hex('80000000')).readNullableBytes(), 'negative-length');
  expectReason(() => new Reader(hex('00')).readCompactString(), 'negative-length');
  assert.equal(new Reader(hex('00')).readCompactNullableString(), null);
  // A compact array claiming 2^32 - 2 elements in a 6-byte frame.
  expectReason(
    () => new Reader(hex('ffffffff0f 00')).readCompactArray((reader) => reader.readInt8(), 1),
    'oversized-length',
  );
  // An int32 array claiming 2^31 - 1 int64 elements.
  expectReason(
    () => new Reader(hex('7fffffff 0000000000000000')).readArray((reader) => reader.readInt64(), 8),
    'oversized-length',
  );
});

test('bytes are views into the frame, not copies', () => {
  const frame = hex('00000003 010203');
  const bytes = new Reader(frame).readBytes();
  assert.equal(bytes.buffer, frame.buffer);
  assert.deepEqual(bytes, hex('010203'));
});

test('booleans, nullable struct markers and tag order are strict', () => {
  expectReason(() => new Reader(hex('02')).readBool(), 'invalid-value');
  expectReason(
    () => new Reader(hex('05')).readNullableStruct((reader) => reader.readInt8()),
    'invalid-value',
  );
  assert.equal(
    new Reader(hex('ff')).readNullableStruct((reader) => reader.readInt8()),
    null,
  );
  assert.equal(
    new Reader(hex('01 07')).readNullableStruct((reader) => reader.readInt8()),
    7,
  );
  const owner: { _unknownTaggedFields?: { tag: number; data: Buffer }[] } = {};
  expectReason(
    () => new Reader(hex('02 05 00 03 00')).readTaggedFields(owner, () => false),
    'invalid-value',
  );
  // A known tag whose declared size is larger than what its decoder consumes.
  expectReason(
    () =>
      new Reader(hex('01 00 02 07 08')).readTaggedFields(owner, (_tag, reader) => {
        reader.readInt8();
        return true;
      }),
    'trailing-bytes',
  );
  expectReason(
    () => new Reader(hex('01 00 05 07')).readTaggedFields(owner, () => false),
    'oversized-length',
  );
});

test('uuid: 16 bytes as 22 base64url characters', () => {
  const bytes = hex('000102030405060708090a0b0c0d0e0f');
  const uuid = new Reader(bytes).readUuid();
  assert.equal(uuid, 'AAECAwQFBgcICQoLDA0ODw');
  const writer = new Writer();
  writer.writeUuid(uuid);
  assert.deepEqual(writer.toBuffer(), bytes);
  assert.throws(() => new Writer().writeUuid('short'), TypeError);
});
