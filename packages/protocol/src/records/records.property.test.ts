// Property and hostile-input tests of record batches, from a seeded generator (replayable: the
// seed is in every assertion message).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchOffsets, computeBatchCrc } from './batch-header.js';
import { decodeRecordBatch, decodeRecordBatches, iterateRecordBatches } from './decode.js';
import { type EncodeRecordBatchOptions, encodeRecordBatch, type RecordInput } from './encode.js';
import { RecordBatchError } from './errors.js';
import { validateRecordBatches } from './validate.js';

class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.state ^= this.state << 13;
    this.state ^= this.state >>> 17;
    this.state ^= this.state << 5;
    return (this.state >>> 0) / 0x100000000;
  }
  integer(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let index = 0; index < length; index++) buffer[index] = this.integer(256);
    return buffer;
  }
  nullableBytes(small = false): Buffer | null {
    const pick = this.integer(10);
    if (pick === 0) return null;
    if (pick === 1) return Buffer.alloc(0);
    return this.bytes(this.integer(pick > 8 && !small ? 3000 : 60));
  }
}

const headerKeys = ['a', 'trace-id', 'ключ', '鍵', '', 'x'.repeat(200)];

/** `small` keeps batches under a few KiB for the tests that are quadratic in the batch size. */
function randomBatchOptions(random: Random, small = false): EncodeRecordBatchOptions {
  const count = 1 + random.integer(random.integer(4) === 0 && !small ? 300 : 12);
  const baseTimestamp = BigInt(random.integer(2 ** 31)) * 1000n;
  const records: RecordInput[] = [];
  for (let index = 0; index < count; index++) {
    const headers = Array.from({ length: random.integer(4) }, () => ({
      key: headerKeys[random.integer(headerKeys.length)],
      value: random.nullableBytes(small),
    }));
    // Deltas from -2^40 to 2^40: negative deltas and varlongs past 32 bits.
    const spread = random.integer(3) === 0 ? 2 ** 40 : 5000;
    const timestamp = baseTimestamp + BigInt(Math.floor((random.next() - 0.5) * 2 * spread));
    records.push({
      key: random.nullableBytes(small),
      value: random.nullableBytes(small),
      headers,
      timestamp,
    });
  }
  const transactional = random.integer(3) === 0;
  return {
    records,
    baseOffset: BigInt(random.integer(2 ** 40)),
    producerId: transactional || random.integer(2) === 0 ? BigInt(random.integer(2 ** 40)) : -1n,
    producerEpoch: random.integer(2 ** 15),
    baseSequence: random.integer(2 ** 31),
    transactional,
    partitionLeaderEpoch: random.integer(1000),
    baseTimestamp,
  };
}

function expectOnlyBatchErrors(run: () => unknown, context: string): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof RecordBatchError, `${context}: ${(error as Error).stack}`);
  }
}

describe('record batch properties (seeded)', () => {
  test('decode(encode(batch)) returns the same records', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const random = new Random(seed);
      const options = randomBatchOptions(random);
      const batch = encodeRecordBatch(options);
      assert.ok(validateRecordBatches(batch).ok, `seed ${seed}`);
      const { header, records } = decodeRecordBatch(batch);
      assert.equal(header.baseOffset, options.baseOffset, `seed ${seed}`);
      assert.equal(header.producerId, options.producerId, `seed ${seed}`);
      assert.equal(records.length, options.records.length, `seed ${seed}`);
      records.forEach((record, index) => {
        const input = options.records[index];
        assert.equal(record.offset, (options.baseOffset ?? 0n) + BigInt(index), `seed ${seed}`);
        assert.equal(record.timestamp, input.timestamp, `seed ${seed}`);
        assert.deepEqual(record.key, input.key, `seed ${seed}`);
        assert.deepEqual(record.value, input.value, `seed ${seed}`);
        assert.deepEqual(record.headers, input.headers, `seed ${seed}`);
      });
    }
  });

  test('any flipped byte covered by the header checks or the CRC fails validation', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const batch = encodeRecordBatch(randomBatchOptions(new Random(seed), true));
      // baseOffset and partitionLeaderEpoch are stamped by the broker, outside the CRC.
      for (let position = batchOffsets.batchLength; position < batch.length; position++) {
        if (position >= batchOffsets.partitionLeaderEpoch && position < batchOffsets.magic)
          continue;
        const corrupt = Buffer.from(batch);
        corrupt[position] ^= 1 << (position % 8);
        const validation = validateRecordBatches(corrupt);
        assert.equal(validation.ok, false, `seed ${seed} position ${position}`);
      }
    }
  });

  test('truncation at every point is a typed error, and a partial tail is skipped when fetching', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const batch = encodeRecordBatch(randomBatchOptions(new Random(seed), true));
      for (let length = 0; length < batch.length; length++) {
        const prefix = batch.subarray(0, length);
        const validation = validateRecordBatches(prefix);
        assert.equal(validation.ok, false, `seed ${seed} length ${length}`);
        assert.throws(() => decodeRecordBatch(prefix), RecordBatchError);
        assert.equal(decodeRecordBatches(prefix).length, 0);
      }
    }
  });

  test('garbage records under a valid CRC never crash the decoder', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = new Random(seed);
      const batch = encodeRecordBatch(randomBatchOptions(random));
      const mutations = 1 + random.integer(4);
      for (let index = 0; index < mutations; index++) {
        const position = 57 + random.integer(batch.length - 57);
        batch[position] = random.integer(4) === 0 ? 0xff : random.integer(256);
      }
      batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), batchOffsets.crc);
      expectOnlyBatchErrors(() => decodeRecordBatch(batch), `seed ${seed}`);
      const validation = validateRecordBatches(batch, { origin: 'internal' });
      assert.equal(typeof validation.ok, 'boolean');
    }
  });

  test('random bytes never crash validation or iteration', () => {
    const random = new Random(7);
    for (let round = 0; round < 2000; round++) {
      const buffer = random.bytes(random.integer(200));
      if (buffer.length > 16 && random.integer(2) === 0) buffer[batchOffsets.magic] = 2;
      if (buffer.length > 12 && random.integer(2) === 0) {
        buffer.writeInt32BE(
          Math.max(0, buffer.length - 12 - random.integer(3)),
          batchOffsets.batchLength,
        );
      }
      const validation = validateRecordBatches(buffer);
      assert.equal(validation.ok, false, `round ${round}`);
      expectOnlyBatchErrors(() => [...iterateRecordBatches(buffer)], `round ${round}`);
      expectOnlyBatchErrors(
        () => decodeRecordBatch(buffer, {}, { verifyCrc: false }),
        `round ${round}`,
      );
    }
  });
});
