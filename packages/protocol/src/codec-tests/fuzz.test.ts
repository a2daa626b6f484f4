// Bounded fuzzing of the frame decoders: valid frames truncated at every split point, mutated
// frames and random frames. Properties: no exception escapes (only DecodeResult), every strict
// prefix of a valid frame is rejected, and whatever decodes re-encodes and decodes to itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type DecodeResult,
  decodeConsumerProtocolAssignmentBytes,
  decodeConsumerProtocolSubscriptionBytes,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeConsumerProtocolSubscriptionBytes,
  encodeRequestFrame,
  encodeResponseFrame,
} from '../frame.js';
import { apiDescriptors, type RequestHeader } from '../generated/index.js';
import { ProtocolDecodeError } from '../io/protocol-decode-error.js';
import { loadMessageModels, Random, ValueGenerator } from './schema-model.js';

/** Wall-clock budget for the mutation and random phases (the truncation phase is exhaustive). */
const fuzzBudgetMs = 8000;
const mutationsPerFrame = 40;

interface Sample {
  apiKey: number;
  version: number;
  kind: 'request' | 'response';
  frame: Buffer;
}

function decodeSample(
  sample: Sample,
  frame: Buffer,
): DecodeResult<{ header: unknown; body: unknown }> {
  if (sample.kind === 'request') return decodeRequestFrame(frame);
  return decodeResponseFrame(sample.apiKey, sample.version, frame);
}

function assertTyped(result: DecodeResult<unknown>, label: string): void {
  if (!result.ok) assert.ok(result.error instanceof ProtocolDecodeError, label);
}

function reencode(sample: Sample, value: { header: unknown; body: unknown }): Buffer {
  if (sample.kind === 'request') {
    return Buffer.concat(encodeRequestFrame(value.header as RequestHeader, value.body)).subarray(4);
  }
  const header = value.header as { correlationId: number; _unknownTaggedFields?: [] };
  const chunks = encodeResponseFrame(
    sample.apiKey,
    sample.version,
    header.correlationId,
    value.body,
    header._unknownTaggedFields,
  );
  return Buffer.concat(chunks).subarray(4);
}

function mutate(frame: Buffer, random: Random): Buffer {
  const copy = Buffer.from(frame);
  const position = random.integer(0, Math.max(0, copy.length - 1));
  switch (random.integer(0, 5)) {
    case 0:
      copy[position] ^= 1 << random.integer(0, 7);
      return copy;
    case 1:
      copy[position] = [0x00, 0xff, 0x7f, 0x80, 0x01][random.integer(0, 4)];
      return copy;
    case 2:
      return Buffer.concat([
        copy.subarray(0, position),
        random.bytes(random.integer(1, 4)),
        copy.subarray(position),
      ]);
    case 3:
      return Buffer.concat([
        copy.subarray(0, position),
        copy.subarray(position + random.integer(1, 4)),
      ]);
    case 4: {
      // Large length claims: overwrite 4 bytes with 0x7fffffff or 0xffffffff.
      const claim = random.chance(0.5) ? 0x7fffffff : 0xffffffff;
      if (position + 4 <= copy.length) copy.writeUInt32BE(claim, position);
      return copy;
    }
    default:
      return Buffer.concat([copy, random.bytes(random.integer(1, 3))]);
  }
}

test('fuzz: truncated, mutated and random frames yield typed results only', async (t) => {
  const { schema, messages } = await loadMessageModels();
  if (messages.length === 0) {
    t.skip('Kafka schema folder not available');
    return;
  }
  const random = new Random(20261121);
  const samples: Sample[] = [];
  for (const message of messages) {
    if (message.apiKey === undefined) continue;
    const kind = message.messageType === 'request' ? 'request' : 'response';
    const values = new ValueGenerator(schema, message, random);
    for (const version of message.versions) {
      const body = values.struct(message.root, version);
      const chunks =
        kind === 'request'
          ? encodeRequestFrame(
              {
                requestApiKey: message.apiKey,
                requestApiVersion: version,
                correlationId: 1,
                clientId: 'fuzz',
              },
              body,
            )
          : encodeResponseFrame(message.apiKey, version, 1, body);
      samples.push({
        apiKey: message.apiKey,
        version,
        kind,
        frame: Buffer.concat(chunks).subarray(4),
      });
    }
  }

  let truncations = 0;
  for (const sample of samples) {
    for (let length = 0; length < sample.frame.length; length++) {
      const result = decodeSample(sample, sample.frame.subarray(0, length));
      assert.ok(
        !result.ok,
        `prefix ${length} of ${sample.kind} ${sample.apiKey} v${sample.version}`,
      );
      assertTyped(result, 'truncated');
      truncations++;
    }
  }

  const deadline = Date.now() + fuzzBudgetMs;
  let mutations = 0;
  let mutationsDecoded = 0;
  for (let round = 0; round < mutationsPerFrame && Date.now() < deadline; round++) {
    for (const sample of samples) {
      const frame = mutate(sample.frame, random);
      const result = decodeSample(sample, frame);
      mutations++;
      assertTyped(result, 'mutated');
      if (!result.ok) continue;
      mutationsDecoded++;
      // Whatever decodes must re-encode to a frame that decodes to the same value.
      const again = decodeSample(sample, reencode(sample, result.value));
      assert.ok(
        again.ok,
        `re-decode of mutated ${sample.kind} ${sample.apiKey} v${sample.version}`,
      );
      assert.deepStrictEqual(again.value, result.value);
    }
  }

  let randomFrames = 0;
  const descriptors = apiDescriptors.filter((descriptor) => descriptor !== undefined);
  while (Date.now() < deadline && randomFrames < 150_000) {
    const descriptor = descriptors[random.integer(0, descriptors.length - 1)];
    const version = random.integer(descriptor.minVersion, descriptor.maxVersion);
    const frame = random.bytes(random.integer(0, 64));
    if (frame.length >= 4) {
      frame.writeInt16BE(descriptor.apiKey, 0);
      frame.writeInt16BE(version, 2);
    }
    assertTyped(decodeRequestFrame(frame), 'random request');
    assertTyped(decodeResponseFrame(descriptor.apiKey, version, frame), 'random response');
    randomFrames++;
  }
  // The first mutation round always runs (the budget starts after the exhaustive truncations).
  assert.ok(samples.length > 600, `${samples.length} sample frames`);
  assert.ok(mutations >= samples.length, `${mutations} mutations`);
  t.diagnostic(
    `${samples.length} frames, ${truncations} truncations, ${mutations} mutations ` +
      `(${mutationsDecoded} still decoded), ${randomFrames} random frames`,
  );
});

test('fuzz: consumer protocol bytes (JoinGroup metadata, SyncGroup assignments)', () => {
  const random = new Random(7);
  const valid = encodeConsumerProtocolSubscriptionBytes(3, {
    topics: ['orders', 'payments'],
    userData: Buffer.from('user'),
    ownedPartitions: [{ topic: 'orders', partitions: [0, 1, 2] }],
    generationId: 4,
    rackId: 'rack-a',
  });
  for (let length = 0; length < valid.length; length++) {
    assert.ok(
      !decodeConsumerProtocolSubscriptionBytes(valid.subarray(0, length)).ok,
      `prefix ${length}`,
    );
  }
  for (let round = 0; round < 5000; round++) {
    const frame = round % 2 === 0 ? mutate(valid, random) : random.bytes(random.integer(0, 48));
    assertTyped(decodeConsumerProtocolSubscriptionBytes(frame), 'subscription');
    assertTyped(decodeConsumerProtocolAssignmentBytes(frame), 'assignment');
  }
});
