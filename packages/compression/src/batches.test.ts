// Whole record batches across implementations: kafka-python 2.0.2's builder -> our decoder and
// validator (fixtures), and our encoder -> kafka-python's reader (when Debian's python has it).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  batchAttributes,
  CompressionType,
  type DecodedRecord,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  decodeRecordBatches,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type RecordInput,
  validateRecordBatches,
} from '@gregor/protocol';
import { defaultCompressionCodecs } from './index.js';

interface FixtureRecord {
  offsetDelta: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}
interface FixtureBatch {
  compression: number;
  transactional: boolean;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

const fixtures = new URL('../fixtures/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtures), 'utf8')) as {
  batches: Record<string, FixtureBatch>;
  librdkafkaBatches: Record<string, { compression: number; idempotent: boolean }>;
  librdkafkaRecords: Omit<FixtureRecord, 'offsetDelta'>[];
  records: FixtureRecord[];
};
const fromHex = (value: string | null) => (value === null ? null : Buffer.from(value, 'hex'));
const expectedRecords: RecordInput[] = manifest.records.map((record) => ({
  key: fromHex(record.key),
  value: fromHex(record.value),
  timestamp: BigInt(record.timestamp),
  offsetDelta: record.offsetDelta,
  headers: record.headers.map((header) => ({ key: header.key, value: fromHex(header.value) })),
}));

function assertRecords(actual: DecodedRecord[], baseOffset: bigint): void {
  assert.equal(actual.length, expectedRecords.length);
  actual.forEach((record, index) => {
    const expected = expectedRecords[index];
    assert.equal(record.offset, baseOffset + BigInt(expected.offsetDelta ?? index));
    assert.equal(record.timestamp, expected.timestamp);
    assert.deepEqual(record.key, expected.key);
    assert.deepEqual(record.value, expected.value);
    assert.deepEqual(record.headers, expected.headers);
  });
}

describe('batches written by kafka-python 2.0.2', () => {
  for (const [file, expected] of Object.entries(manifest.batches)) {
    test(file, async () => {
      const batch = readFileSync(new URL(file, fixtures));
      const validation = validateRecordBatches(batch, { maxBatchSizeBytes: 1 << 20 });
      assert.ok(validation.ok, validation.ok ? '' : validation.message);
      assert.equal(validation.recordCount, expectedRecords.length);
      const decoded = decodeRecordBatch(batch, defaultCompressionCodecs);
      const { header } = decoded;
      assert.equal(header.attributes & batchAttributes.compressionMask, expected.compression);
      assert.equal(
        (header.attributes & batchAttributes.transactional) !== 0,
        expected.transactional,
      );
      assert.equal(header.producerId, BigInt(expected.producerId));
      assert.equal(header.producerEpoch, expected.producerEpoch);
      assert.equal(header.baseSequence, expected.baseSequence);
      assertRecords(decoded.records, header.baseOffset);
      assertRecords((await decodeRecordBatchAsync(batch, defaultCompressionCodecs)).records, 0n);
    });
  }
});

describe('batches written by librdkafka 2.0.2 (fetched raw from its mock cluster)', () => {
  for (const [file, expected] of Object.entries(manifest.librdkafkaBatches)) {
    test(file, () => {
      const buffer = readFileSync(new URL(file, fixtures));
      assert.ok(validateRecordBatches(buffer).ok);
      const batches = decodeRecordBatches(buffer, defaultCompressionCodecs);
      assert.ok(batches.length >= 1);
      const records = batches.flatMap((batch) => batch.records);
      for (const batch of batches) {
        assert.equal(
          batch.header.attributes & batchAttributes.compressionMask,
          expected.compression,
        );
        assert.equal(batch.header.producerId >= 0n, expected.idempotent);
      }
      records.forEach((record, index) => {
        const wanted = manifest.librdkafkaRecords[index];
        assert.equal(record.offset, BigInt(index));
        assert.equal(record.timestamp, BigInt(wanted.timestamp));
        assert.deepEqual(record.key, fromHex(wanted.key));
        assert.deepEqual(record.value, fromHex(wanted.value));
        assert.deepEqual(
          record.headers,
          wanted.headers.map((header) => ({ key: header.key, value: fromHex(header.value) })),
        );
      });
    });
  }
});

const compressions = [
  CompressionType.none,
  CompressionType.gzip,
  CompressionType.snappy,
  CompressionType.lz4,
  CompressionType.zstd,
];

function encodeSample(compression: CompressionType, baseOffset: bigint): Promise<Buffer> {
  return encodeRecordBatchAsync({
    records: expectedRecords,
    compression,
    codecs: defaultCompressionCodecs,
    baseOffset,
  });
}

describe('our batches, every compression type', () => {
  test('round trip through encodeRecordBatchAsync / decodeRecordBatch', async () => {
    for (const compression of compressions) {
      const batch = await encodeSample(compression, 7n);
      assert.ok(validateRecordBatches(batch).ok);
      const decoded = decodeRecordBatch(batch, defaultCompressionCodecs);
      assert.equal(decoded.header.attributes & batchAttributes.compressionMask, compression);
      assertRecords(decoded.records, 7n);
    }
  });

  test('every default codec encodes synchronously (the log cleaner needs it)', () => {
    for (const compression of compressions) {
      const batch = encodeRecordBatch({
        records: expectedRecords,
        compression,
        codecs: defaultCompressionCodecs,
      });
      assertRecords(decodeRecordBatch(batch, defaultCompressionCodecs).records, 0n);
    }
  });

  test('an async-only codec is refused by the sync encoder with a typed error', async () => {
    const asyncOnly = { ...defaultCompressionCodecs[CompressionType.zstd]!, compress: undefined };
    const options = {
      records: expectedRecords,
      compression: CompressionType.zstd,
      codecs: { [CompressionType.zstd]: asyncOnly },
    };
    assert.throws(() => encodeRecordBatch(options), /async-only/);
    assertRecords(
      decodeRecordBatch(await encodeRecordBatchAsync(options), options.codecs).records,
      0n,
    );
  });

  test('a zip bomb in a batch is a typed error, not an allocation', async () => {
    const records = [{ key: null, value: Buffer.alloc(4_000_000) }];
    for (const compression of compressions.slice(1)) {
      const batch = await encodeRecordBatchAsync({
        records,
        compression,
        codecs: defaultCompressionCodecs,
      });
      assert.ok(batch.length < 400_000, `compression ${compression}: ${batch.length} bytes`);
      assert.throws(
        () =>
          decodeRecordBatch(batch, defaultCompressionCodecs, {
            decompressedSizeBytesMax: 1_000_000,
          }),
        (error: Error & { errorCode?: number }) => error.errorCode === 2,
      );
    }
  });
});

const debianPython = '/usr/bin/python3';
const kafkaPythonReader = `
import sys, json
from kafka.record.default_records import DefaultRecordBatch
out = []
for line in sys.stdin:
    batch = DefaultRecordBatch(bytes.fromhex(line.strip()))
    assert batch.validate_crc(), 'crc'
    out.append({'compression': batch.compression_type, 'records': [
        {'offset': r.offset, 'timestamp': r.timestamp, 'key': None if r.key is None else bytes(r.key).hex(),
         'value': None if r.value is None else bytes(r.value).hex(),
         'headers': [[k, None if v is None else bytes(v).hex()] for k, v in r.headers]} for r in batch]})
print(json.dumps(out))
`;

function kafkaPythonAvailable(): boolean {
  if (!existsSync(debianPython)) return false;
  return spawnSync(debianPython, ['-c', 'import kafka, snappy, lz4, zstandard']).status === 0;
}

describe('kafka-python 2.0.2 reads our batches', {
  skip: !kafkaPythonAvailable() && 'no kafka-python',
}, () => {
  test('every compression type decodes with a valid CRC (zstd also from the sync encoder)', async () => {
    const lines: string[] = [];
    for (const compression of compressions) {
      const batch = await encodeSample(compression, 1000n);
      lines.push(batch.toString('hex'));
    }
    const syncZstd = encodeRecordBatch({
      records: expectedRecords,
      compression: CompressionType.zstd,
      codecs: defaultCompressionCodecs,
      baseOffset: 1000n,
    });
    lines.push(syncZstd.toString('hex'));
    const result = spawnSync(debianPython, ['-c', kafkaPythonReader], {
      input: `${lines.join('\n')}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const batches = JSON.parse(result.stdout) as {
      compression: number;
      records: {
        offset: number;
        timestamp: number;
        key: string | null;
        value: string | null;
        headers: [string, string | null][];
      }[];
    }[];
    assert.deepEqual(
      batches.map((batch) => batch.compression),
      [...compressions, CompressionType.zstd],
    );
    for (const batch of batches) {
      assert.equal(batch.records.length, manifest.records.length);
      batch.records.forEach((record, index) => {
        const expected = manifest.records[index];
        assert.equal(record.offset, 1000 + expected.offsetDelta);
        assert.equal(record.timestamp, expected.timestamp);
        assert.equal(record.key, expected.key);
        assert.equal(record.value, expected.value);
        assert.deepEqual(
          record.headers,
          expected.headers.map((header) => [header.key, header.value]),
        );
      });
    }
  });
});
