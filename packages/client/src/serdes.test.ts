import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deserializeRecord, SerializationError, serdes } from './serdes.js';

const context = { topic: 't', headers: [] };

describe('serdes', () => {
  it('write numbers big-endian at fixed width, as Java serializers do', () => {
    assert.deepEqual(serdes.int32.serialize(1, context), Buffer.from([0, 0, 0, 1]));
    assert.deepEqual(serdes.int16.serialize(-2, context), Buffer.from([0xff, 0xfe]));
    assert.deepEqual(
      serdes.int64.serialize(-1n, context),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    );
    // Java's DoubleSerializer: Double.doubleToLongBits, big-endian.
    assert.deepEqual(
      serdes.float64.serialize(1.5, context),
      Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
    );
    assert.deepEqual(serdes.float32.serialize(1.5, context), Buffer.from([0x3f, 0xc0, 0, 0]));
    for (const [serde, value] of [
      [serdes.int16, -300],
      [serdes.int32, 2_000_000_000],
      [serdes.float64, Math.PI],
    ] as const) {
      assert.equal(serde.deserialize(serde.serialize(value, context), context), value);
    }
    assert.equal(
      serdes.int64.deserialize(serdes.int64.serialize(2n ** 62n, context), context),
      2n ** 62n,
    );
  });

  it('keep null as null and reject bytes of the wrong width', () => {
    for (const serde of [serdes.string, serdes.bytes, serdes.json(), serdes.int32, serdes.int64]) {
      assert.equal(serde.serialize(null, context), null);
      assert.equal(serde.deserialize(null, context), null);
    }
    assert.throws(() => serdes.int32.deserialize(Buffer.alloc(3), context), SerializationError);
    assert.throws(() => serdes.json().deserialize(Buffer.from('{'), context), SerializationError);
  });

  it('round-trip text and JSON', () => {
    const order = { id: 7, items: ['ключ', '鍵'], total: 12.5 };
    const json = serdes.json<typeof order>();
    assert.deepEqual(json.deserialize(json.serialize(order, context), context), order);
    assert.equal(
      serdes.string.deserialize(serdes.string.serialize('é🔑', context), context),
      'é🔑',
    );
    const record = {
      topic: 't',
      key: serdes.int64.serialize(42n, context),
      value: json.serialize(order, context),
      headers: [],
    };
    assert.deepEqual(deserializeRecord(record, serdes.int64, json), { key: 42n, value: order });
  });
});
