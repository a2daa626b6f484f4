// Every message x every valid version: random value -> encode -> decode -> deepEqual -> re-encode
// -> identical bytes. Values follow the schema (defaults where a version lacks a field), with
// random unknown tagged fields in flexible structs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as generated from '../generated/index.js';
import { Reader } from '../io/reader.js';
import { Writer } from '../io/writer.js';
import { loadMessageModels, Random, ValueGenerator } from './schema-model.js';

type Decode = (reader: Reader, version: number) => unknown;
type Encode = (writer: Writer, version: number, value: unknown) => void;

const valuesPerVersion = 6;
const codecs = generated as unknown as Record<string, Decode | Encode>;

function encodeToBuffer(encode: Encode, version: number, value: unknown): Buffer {
  const writer = new Writer();
  encode(writer, version, value);
  return writer.toBuffer();
}

test('round trip: every message, every version', async (t) => {
  const { schema, messages } = await loadMessageModels();
  if (messages.length === 0) {
    t.skip('Kafka schema folder not available');
    return;
  }
  let cases = 0;
  for (const message of messages) {
    const decode = codecs[`decode${message.name}`] as Decode;
    const encode = codecs[`encode${message.name}`] as Encode;
    assert.equal(typeof decode, 'function', `decode${message.name} exported`);
    assert.equal(typeof encode, 'function', `encode${message.name} exported`);
    for (const version of message.versions) {
      const random = new Random(message.name.length * 7919 + version * 104729 + 1);
      const values = new ValueGenerator(schema, message, random);
      for (let iteration = 0; iteration < valuesPerVersion; iteration++) {
        const value = values.struct(message.root, version);
        const label = `${message.name} v${version} #${iteration}`;
        const bytes = encodeToBuffer(encode, version, value);
        const reader = new Reader(bytes);
        const decoded = decode(reader, version);
        assert.equal(reader.remaining, 0, `${label}: every byte consumed`);
        assert.deepStrictEqual(decoded, value, label);
        assert.ok(encodeToBuffer(encode, version, decoded).equals(bytes), `${label}: same bytes`);
        cases++;
      }
    }
  }
  assert.ok(cases > 1000, `ran ${cases} cases`);
  t.diagnostic(`${cases} encode-decode-encode cases`);
});

test('round trip: records given as a buffer list decode to one view of the frame', () => {
  const records = [Buffer.alloc(300, 1), Buffer.alloc(500, 2)];
  for (const version of [3, 9, 11]) {
    const request: generated.ProduceRequest = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'topic', partitionData: [{ index: 0, records }] }],
    };
    const writer = new Writer();
    generated.encodeProduceRequest(writer, version, request);
    const chunks = writer.finish();
    assert.ok(
      chunks.some((chunk) => chunk === records[0]),
      'large records are appended by reference',
    );
    const frame = Buffer.concat(chunks);
    const decoded = generated.decodeProduceRequest(new Reader(frame), version);
    const decodedRecords = decoded.topicData[0].partitionData[0].records as Buffer;
    assert.ok(decodedRecords.equals(Buffer.concat(records)));
    assert.equal(decodedRecords.buffer, frame.buffer, 'records are a subarray of the frame');
  }
});
