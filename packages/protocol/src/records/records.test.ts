import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchAttributes, batchOffsets, computeBatchCrc } from './batch-header.js';
import { decodeControlRecord, encodeControlBatch } from './control.js';
import { decodeRecordBatch, decodeRecordBatches, iterateRecordBatches } from './decode.js';
import { encodeRecordBatch, type RecordInput } from './encode.js';
import { RecordBatchError, recordErrorCode } from './errors.js';
import { assignOffsets, checkBatchFraming, validateRecordBatches } from './validate.js';
import { validateRecords } from './validate-records.js';

const sampleRecords: RecordInput[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_000n },
  {
    key: null,
    value: Buffer.from('second'),
    timestamp: 1_700_000_000_500n,
    headers: [
      { key: 'trace', value: Buffer.from('abc') },
      { key: 'é', value: null },
    ],
  },
  { key: Buffer.alloc(0), value: null, timestamp: 1_699_999_999_000n },
];

describe('encodeRecordBatch / decodeRecordBatch', () => {
  test('round trip keeps keys, values, headers, timestamps and offsets', () => {
    const batch = encodeRecordBatch({ records: sampleRecords, baseOffset: 100n });
    const decoded = decodeRecordBatch(batch);
    assert.equal(decoded.header.magic, 2);
    assert.equal(decoded.header.recordsCount, 3);
    assert.equal(decoded.header.lastOffsetDelta, 2);
    assert.equal(decoded.header.baseTimestamp, 1_700_000_000_000n);
    assert.equal(decoded.header.maxTimestamp, 1_700_000_000_500n);
    assert.equal(decoded.header.producerId, -1n);
    assert.deepEqual(
      decoded.records.map((record) => record.offset),
      [100n, 101n, 102n],
    );
    assert.deepEqual(decoded.records[1].headers, sampleRecords[1].headers);
    assert.equal(decoded.records[0].key?.toString(), 'k1');
    assert.equal(decoded.records[1].key, null);
    assert.equal(decoded.records[2].value, null);
    assert.equal(decoded.records[2].key?.length, 0);
    assert.equal(decoded.records[2].timestamp, 1_699_999_999_000n);
  });

  test('known bytes: a one-record batch matches the layout Kafka writes', () => {
    const batch = encodeRecordBatch({
      records: [{ key: null, value: Buffer.from('a'), timestamp: 0n }],
    });
    // Record: length 7, attributes 0, tsDelta 0, offsetDelta 0, key -1 (0x01), value 1 (0x02) 'a', headers 0.
    assert.deepEqual([...batch.subarray(61)], [14, 0, 0, 0, 1, 2, 0x61, 0]);
    assert.equal(batch.readInt32BE(batchOffsets.batchLength), batch.length - 12);
    assert.equal(batch.readUInt32BE(batchOffsets.crc), computeBatchCrc(batch, 0, batch.length));
  });

  test('attributes: transactional, log-append, producer fields', () => {
    const batch = encodeRecordBatch({
      records: sampleRecords,
      producerId: 42n,
      producerEpoch: 3,
      baseSequence: 7,
      transactional: true,
      timestampType: 'log-append',
      maxTimestamp: 5n,
    });
    const { header, records } = decodeRecordBatch(batch);
    assert.equal(header.attributes & batchAttributes.transactional, batchAttributes.transactional);
    assert.equal(header.producerId, 42n);
    assert.equal(header.producerEpoch, 3);
    assert.equal(header.baseSequence, 7);
    for (const record of records) assert.equal(record.timestamp, 5n);
  });

  test('decodeRecordBatches skips a partial trailing batch', () => {
    const first = encodeRecordBatch({ records: sampleRecords });
    const second = encodeRecordBatch({ records: sampleRecords, baseOffset: 3n });
    const joined = Buffer.concat([first, second.subarray(0, second.length - 5)]);
    assert.equal(decodeRecordBatches(joined).length, 1);
    assert.equal([...iterateRecordBatches(Buffer.concat([first, second]))].length, 2);
  });
});

describe('validateRecordBatches / assignOffsets', () => {
  test('accepts producer batches and assigns consecutive offsets', () => {
    const buffer = Buffer.concat([
      encodeRecordBatch({ records: sampleRecords }),
      encodeRecordBatch({ records: sampleRecords.slice(0, 1) }),
    ]);
    const validation = validateRecordBatches(buffer, {});
    assert.ok(validation.ok);
    assert.equal(validation.batches.length, 2);
    assert.equal(validation.recordCount, 4);
    assert.equal(validation.offsetCount, 4);
    assert.equal(validation.maxTimestamp, 1_700_000_000_500n);
    const last = assignOffsets(buffer, validation, 1000n, { leaderEpoch: 7 });
    assert.equal(last, 1003n);
    const batches = decodeRecordBatches(buffer);
    assert.deepEqual(
      batches.flatMap((batch) => batch.records.map((record) => record.offset)),
      [1000n, 1001n, 1002n, 1003n],
    );
    assert.equal(batches[1].header.partitionLeaderEpoch, 7);
    assert.ok(validateRecordBatches(buffer, { origin: 'internal' }).ok);
  });

  test('LogAppendTime rewrites attributes, maxTimestamp and the CRC', () => {
    const buffer = encodeRecordBatch({ records: sampleRecords });
    const validation = validateRecordBatches(buffer);
    assert.ok(validation.ok);
    assignOffsets(buffer, validation, 0n, { leaderEpoch: 0, logAppendTimeMs: 9_999n });
    assert.equal(validation.maxTimestamp, 9_999n);
    const { header, records } = decodeRecordBatch(buffer);
    assert.ok(header.attributes & batchAttributes.timestampTypeLogAppendTime);
    assert.deepEqual(
      records.map((record) => record.timestamp),
      [9_999n, 9_999n, 9_999n],
    );
  });

  test('checkBatchFraming with an end past the buffer checks a head read in chunks', () => {
    const batch = encodeRecordBatch({ records: sampleRecords });
    const head = batch.subarray(0, 61);
    assert.equal(checkBatchFraming(head, 0, batch.length), batch.length);
    assert.throws(
      () => checkBatchFraming(head, 0, batch.length - 1),
      (error: unknown) => error instanceof RecordBatchError && error.reason === 'truncated',
    );
    assert.throws(
      () => checkBatchFraming(batch.subarray(0, 16), 0, batch.length),
      (error: unknown) => error instanceof RecordBatchError && error.reason === 'truncated',
    );
  });

  test('a flipped byte is a CRC error', () => {
    const buffer = encodeRecordBatch({ records: sampleRecords });
    buffer[buffer.length - 3] ^= 0x10;
    const validation = validateRecordBatches(buffer);
    assert.equal(validation.ok, false);
    assert.equal(!validation.ok && validation.reason, 'crc-mismatch');
    assert.equal(!validation.ok && validation.errorCode, recordErrorCode.corruptMessage);
  });

  test('truncation, bad magic, oversize, control from a client, lying counts', () => {
    const good = encodeRecordBatch({ records: sampleRecords });
    const expectFailure = (buffer: Buffer, reason: string, errorCode: number, options = {}) => {
      const validation = validateRecordBatches(buffer, options);
      assert.equal(validation.ok, false, reason);
      if (!validation.ok) {
        assert.equal(validation.reason, reason);
        assert.equal(validation.errorCode, errorCode);
      }
    };
    expectFailure(good.subarray(0, good.length - 1), 'truncated', recordErrorCode.corruptMessage);
    expectFailure(good.subarray(0, 10), 'truncated', recordErrorCode.corruptMessage);
    expectFailure(Buffer.alloc(0), 'truncated', recordErrorCode.invalidRecord);
    const legacy = Buffer.from(good);
    legacy[batchOffsets.magic] = 1;
    expectFailure(legacy, 'bad-magic', recordErrorCode.invalidRecord);
    const futureMagic = Buffer.from(good);
    futureMagic[batchOffsets.magic] = 3;
    expectFailure(futureMagic, 'bad-magic', recordErrorCode.corruptMessage);
    expectFailure(good, 'too-large', recordErrorCode.messageTooLarge, { maxBatchSizeBytes: 20 });
    const control = encodeControlBatch({
      type: 'commit',
      producerId: 1n,
      producerEpoch: 0,
      coordinatorEpoch: 5,
      timestamp: 0n,
    });
    expectFailure(control, 'control-from-client', recordErrorCode.invalidRecord);
    assert.ok(validateRecordBatches(control, { origin: 'internal' }).ok);
    const lying = Buffer.from(good);
    lying.writeInt32BE(1000, batchOffsets.recordsCount);
    lying.writeUInt32BE(computeBatchCrc(lying, 0, lying.length), batchOffsets.crc);
    expectFailure(lying, 'bad-count', recordErrorCode.corruptMessage);
    const shortLength = Buffer.from(good);
    shortLength.writeInt32BE(10, batchOffsets.batchLength);
    expectFailure(shortLength, 'bad-length', recordErrorCode.corruptMessage);
    const mismatch = Buffer.from(good);
    mismatch.writeInt32BE(5, batchOffsets.lastOffsetDelta);
    mismatch.writeUInt32BE(computeBatchCrc(mismatch, 0, mismatch.length), batchOffsets.crc);
    expectFailure(mismatch, 'bad-offset-delta', recordErrorCode.invalidRecord);
  });

  test('a lying recordsCount that fits the bytes fails at decode', () => {
    const good = encodeRecordBatch({ records: sampleRecords });
    const lying = Buffer.from(good);
    lying.writeInt32BE(4, batchOffsets.recordsCount);
    lying.writeUInt32BE(computeBatchCrc(lying, 0, lying.length), batchOffsets.crc);
    assert.throws(() => decodeRecordBatch(lying), RecordBatchError);
    const fewer = Buffer.from(good);
    fewer.writeInt32BE(2, batchOffsets.recordsCount);
    fewer.writeUInt32BE(computeBatchCrc(fewer, 0, fewer.length), batchOffsets.crc);
    assert.throws(
      () => decodeRecordBatch(fewer),
      (error: unknown) => error instanceof RecordBatchError && error.reason === 'trailing-bytes',
    );
  });
});

describe('hostile records under a valid CRC', () => {
  // One record, key 'k', value 'v', no headers: after the 61-byte header come its length (8,
  // zig-zag 0x10), attributes, timestamp delta, offset delta, key length (1, zig-zag 0x02), 'k',
  // value length, 'v', header count.
  const recordStart = 61;
  const cases: [string, number, number][] = [
    ['record length -1', recordStart, 0x01],
    ['record length past the batch', recordStart, 0x7e],
    ['record length under the minimum', recordStart, 0x0a],
    ['key length -2', recordStart + 4, 0x03],
    ['value length -3', recordStart + 6, 0x05],
    ['header count -1', recordStart + 8, 0x01],
  ];
  for (const [label, position, byte] of cases) {
    test(`${label}: INVALID_RECORD, never an allocation or a crash`, () => {
      const batch = encodeRecordBatch({
        records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 5n }],
      });
      assert.equal(batch.length, recordStart + 9);
      assert.equal(batch[recordStart], 0x10);
      batch[position] = byte;
      batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), batchOffsets.crc);
      assert.ok(validateRecordBatches(batch).ok, 'the header checks alone cannot see it');
      assert.throws(
        () => decodeRecordBatch(batch),
        (error: unknown) =>
          error instanceof RecordBatchError && error.errorCode === recordErrorCode.invalidRecord,
      );
    });
  }
});

describe('control batches', () => {
  test('commit and abort markers round trip', () => {
    for (const type of ['commit', 'abort'] as const) {
      const batch = encodeControlBatch({
        type,
        producerId: 77n,
        producerEpoch: 2,
        coordinatorEpoch: 9,
        timestamp: 123n,
        baseOffset: 50n,
      });
      const { header, records } = decodeRecordBatch(batch);
      assert.ok(header.attributes & batchAttributes.control);
      assert.ok(header.attributes & batchAttributes.transactional);
      assert.equal(header.producerId, 77n);
      assert.equal(records.length, 1);
      assert.equal(records[0].offset, 50n);
      const marker = decodeControlRecord(records[0].key, records[0].value);
      assert.deepEqual(marker, { type, typeId: type === 'commit' ? 1 : 0, coordinatorEpoch: 9 });
    }
  });

  test('short or negative-version control keys are typed errors', () => {
    assert.throws(() => decodeControlRecord(null, null), RecordBatchError);
    assert.throws(() => decodeControlRecord(Buffer.from([0, 0, 0]), null), RecordBatchError);
    assert.throws(
      () => decodeControlRecord(Buffer.from([0xff, 0xff, 0, 1]), null),
      RecordBatchError,
    );
    assert.throws(
      () => decodeControlRecord(Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0])),
      RecordBatchError,
    );
    assert.equal(decodeControlRecord(Buffer.from([0, 0, 0, 2]), null).type, 'leader-change');
  });
});

describe('validateRecords (record-level checks)', () => {
  test('accepts good batches, refuses null keys when keys are required', () => {
    const buffer = Buffer.concat([
      encodeRecordBatch({ records: sampleRecords.slice(0, 1) }),
      encodeRecordBatch({ records: sampleRecords }),
    ]);
    const validation = validateRecordBatches(buffer);
    assert.ok(validation.ok);
    assert.deepEqual(validateRecords(buffer, validation), { ok: true });
    const keyed = validateRecords(buffer, validation, { requireKeys: true });
    assert.equal(keyed.ok, false);
    assert.equal(!keyed.ok && keyed.reason, 'missing-key');
    assert.equal(!keyed.ok && keyed.errorCode, recordErrorCode.invalidRecord);
    assert.equal(!keyed.ok && keyed.position, validation.batches[1].position);
  });

  test('a count that lies under a valid CRC, and gaps in offset deltas, are INVALID_RECORD', () => {
    const lying = encodeRecordBatch({ records: sampleRecords });
    lying.writeInt32BE(4, batchOffsets.recordsCount);
    lying.writeInt32BE(3, batchOffsets.lastOffsetDelta);
    lying.writeUInt32BE(computeBatchCrc(lying, 0, lying.length), batchOffsets.crc);
    const lyingValidation = validateRecordBatches(lying);
    assert.ok(lyingValidation.ok);
    const lyingResult = validateRecords(lying, lyingValidation);
    assert.equal(!lyingResult.ok && lyingResult.errorCode, recordErrorCode.invalidRecord);
    const gaps = encodeRecordBatch({
      records: sampleRecords.map((record, index) => ({ ...record, offsetDelta: index * 2 })),
      lastOffsetDelta: 2,
    });
    const gapsValidation = validateRecordBatches(gaps);
    assert.ok(gapsValidation.ok);
    const gapsResult = validateRecords(gaps, gapsValidation);
    assert.equal(!gapsResult.ok && gapsResult.reason, 'bad-offset-delta');
  });
});
