// Record batches across the JS clients we serve, in-process and offline: kafkajs 2.2.4 and
// @platformatic/kafka read the batches we write and we read theirs, per codec they ship.
// Skipped when the e2e package's client dependencies are not installed.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  validateRecordBatches,
} from '@gregor/protocol';
import { defaultCompressionCodecs } from './index.js';

const require = createRequire(import.meta.url);

function optionalRequire<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch {
    return undefined;
  }
}

const records: RecordInput[] = Array.from({ length: 30 }, (_, index) => ({
  key: index % 7 === 0 ? null : Buffer.from(`key-${index}`),
  value: Buffer.from(`{"n":${index},"text":"${'lorem ipsum '.repeat(index % 9)}"}`),
  headers: index % 3 === 0 ? [{ key: 'trace', value: Buffer.from(`t-${index}`) }] : [],
  timestamp: 1_700_000_000_000n + BigInt(index),
}));
const keyText = (key: Buffer | null | undefined) => (key ? key.toString() : null);

type KafkajsDecoder = new (buffer: Buffer) => unknown;
type KafkajsRecordBatchDecoder = (decoder: unknown) => Promise<{
  firstOffset: string;
  records: {
    key: Buffer | null;
    value: Buffer | null;
    offset: string;
    headers: Record<string, Buffer>;
  }[];
}>;
type KafkajsEncoder = { buffer: Buffer };
type KafkajsRecord = (fields: object) => unknown;
type KafkajsRecordBatch = { RecordBatch: (fields: object) => Promise<KafkajsEncoder> };
type KafkajsLong = { fromValue(value: number | string): unknown };

const kafkajs = {
  Decoder: optionalRequire<KafkajsDecoder>('kafkajs/src/protocol/decoder'),
  decodeBatch: optionalRequire<KafkajsRecordBatchDecoder>(
    'kafkajs/src/protocol/recordBatch/v0/decoder',
  ),
  Record: optionalRequire<KafkajsRecord>('kafkajs/src/protocol/recordBatch/record/v0'),
  batch: optionalRequire<KafkajsRecordBatch>('kafkajs/src/protocol/recordBatch/v0'),
  Long: optionalRequire<KafkajsLong>('kafkajs/src/utils/long'),
};
const kafkajsAvailable = Object.values(kafkajs).every((part) => part !== undefined);

describe('kafkajs 2.2.4', { skip: !kafkajsAvailable && 'kafkajs not installed' }, () => {
  for (const compression of [CompressionType.none, CompressionType.gzip]) {
    test(`reads our batches (compression ${compression})`, async () => {
      const ours = encodeRecordBatch({
        records,
        compression,
        codecs: defaultCompressionCodecs,
        baseOffset: 40n,
      });
      const decoded = await kafkajs.decodeBatch!(new kafkajs.Decoder!(ours));
      assert.equal(decoded.records.length, records.length);
      decoded.records.forEach((record, index) => {
        assert.equal(record.offset, String(40 + index));
        assert.equal(keyText(record.key), keyText(records[index].key));
        assert.deepEqual(record.value, records[index].value);
        const expectedHeaders = Object.fromEntries(
          (records[index].headers ?? []).map((header) => [header.key, header.value]),
        );
        assert.deepEqual(record.headers, expectedHeaders);
      });
    });

    test(`writes batches we read (compression ${compression})`, async () => {
      const kafkajsRecords = records.map((record, index) =>
        kafkajs.Record!({
          offsetDelta: index,
          timestampDelta: kafkajs.Long!.fromValue(index),
          key: record.key,
          value: record.value,
          headers: Object.fromEntries(
            (record.headers ?? []).map((header) => [header.key, header.value]),
          ),
        }),
      );
      const encoder = await kafkajs.batch!.RecordBatch({
        compression,
        records: kafkajsRecords,
        firstTimestamp: kafkajs.Long!.fromValue('1700000000000'),
        maxTimestamp: kafkajs.Long!.fromValue('1700000000029'),
        lastOffsetDelta: records.length - 1,
      });
      const theirs = encoder.buffer;
      assert.ok(validateRecordBatches(theirs).ok);
      const decoded = decodeRecordBatch(theirs, defaultCompressionCodecs);
      decoded.records.forEach((record, index) => {
        assert.equal(record.timestamp, records[index].timestamp);
        assert.deepEqual(record.key, records[index].key);
        assert.deepEqual(record.value, records[index].value);
        assert.deepEqual(record.headers, records[index].headers);
      });
    });
  }
});

interface PlatformaticRecordsBatch {
  firstOffset: bigint;
  records: {
    key: Buffer | null;
    value: Buffer | null;
    offsetDelta: number;
    headers: [Buffer, Buffer][];
  }[];
}
interface Platformatic {
  Reader: { from(buffer: Buffer): unknown };
  readRecordsBatch(reader: unknown): PlatformaticRecordsBatch;
  createRecordsBatch(messages: object[], options: object): { buffer: Buffer };
}

async function loadPlatformatic(): Promise<Platformatic | undefined> {
  try {
    return (await import(
      pathToFileURL(require.resolve('@platformatic/kafka')).href
    )) as Platformatic;
  } catch {
    return undefined;
  }
}
const platformatic = await loadPlatformatic();
const platformaticCodecs = [
  ['none', CompressionType.none],
  ['gzip', CompressionType.gzip],
  ['snappy', CompressionType.snappy],
  ['lz4', CompressionType.lz4],
] as const;

describe('@platformatic/kafka', { skip: platformatic === undefined && 'not installed' }, () => {
  for (const [name, compression] of platformaticCodecs) {
    test(`reads our batches (${name})`, () => {
      const ours = encodeRecordBatch({
        records,
        compression,
        codecs: defaultCompressionCodecs,
        baseOffset: 9n,
      });
      const decoded = platformatic!.readRecordsBatch(platformatic!.Reader.from(ours));
      assert.equal(decoded.firstOffset, 9n);
      assert.equal(decoded.records.length, records.length);
      decoded.records.forEach((record, index) => {
        assert.equal(record.offsetDelta, index);
        assert.equal(keyText(record.key), keyText(records[index].key));
        assert.deepEqual(record.value, records[index].value);
        assert.deepEqual(
          record.headers.map(([key, value]) => ({ key: key.toString(), value })),
          records[index].headers,
        );
      });
    });

    test(`writes batches we read (${name})`, () => {
      const messages = records.map((record) => ({
        topic: 'fixtures',
        key: record.key ?? undefined,
        value: record.value,
        timestamp: record.timestamp,
        headers: new Map(
          (record.headers ?? []).map((header) => [Buffer.from(header.key), header.value]),
        ),
      }));
      const theirs = platformatic!.createRecordsBatch(messages, {
        compression: name,
        producerId: -1n,
        producerEpoch: -1,
        partitionLeaderEpoch: -1,
      }).buffer;
      assert.ok(validateRecordBatches(theirs).ok);
      const decoded = decodeRecordBatch(theirs, defaultCompressionCodecs);
      decoded.records.forEach((record, index) => {
        assert.equal(record.timestamp, records[index].timestamp);
        assert.equal(keyText(record.key), keyText(records[index].key));
        assert.deepEqual(record.value, records[index].value);
        assert.deepEqual(record.headers, records[index].headers);
      });
    });
  }
});
