import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeConsumerProtocolAssignmentBytes,
  decodeConsumerProtocolSubscriptionBytes,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeConsumerProtocolAssignmentBytes,
  encodeConsumerProtocolSubscriptionBytes,
  encodeRequestFrame,
  encodeResponseFrame,
  peekRequestHeader,
} from './frame.js';
import { ApiKey, apiDescriptors, getApiDescriptor } from './generated/index.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

function withoutSize(chunks: Buffer[]): Buffer {
  return Buffer.concat(chunks).subarray(4);
}

test('peekRequestHeader reads key, version and correlation id; null when short', () => {
  assert.deepEqual(peekRequestHeader(hex('0001 000c 00000063 ffff')), {
    apiKey: 1,
    apiVersion: 12,
    correlationId: 99,
  });
  assert.equal(peekRequestHeader(hex('0001 000c 000000')), null);
});

test('unknown api keys, unsupported versions, short and trailing frames are typed errors', () => {
  const unknownApi = decodeRequestFrame(hex('7000 0000 00000001 ffff'));
  assert.ok(!unknownApi.ok && unknownApi.error.reason === 'unknown-api');
  const badVersion = decodeRequestFrame(hex('0012 0063 00000001 ffff'));
  assert.ok(!badVersion.ok && badVersion.error.reason === 'unsupported-version');
  const short = decodeRequestFrame(hex('0012'));
  assert.ok(!short.ok && short.error.reason === 'truncated');
  const frame = withoutSize(
    encodeRequestFrame(
      { requestApiKey: ApiKey.ApiVersions, requestApiVersion: 0, correlationId: 3, clientId: 'c' },
      {},
    ),
  );
  assert.ok(decodeRequestFrame(frame).ok);
  const trailing = decodeRequestFrame(Buffer.concat([frame, hex('00')]));
  assert.ok(!trailing.ok && trailing.error.reason === 'trailing-bytes');
});

test("librdkafka's all-topics Metadata v12 (4-byte count placeholder) decodes as Kafka reads it", () => {
  // Captured from confluent-kafka 2.16.2 (librdkafka 2.16.0) AdminClient.list_topics(): header v2
  // with client id "rdkafka", then 00 000000 (null topics + the unshrunk placeholder), 01 00 00.
  const frame = hex('0003 000c 00000003 0007 72646b61666b61 00 00000000 010000');
  const decoded = decodeRequestFrame(frame);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
  assert.deepEqual(decoded.value.body, {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  // Below v9 (non-flexible) and for other APIs trailing bytes still close the connection.
  const metadataV8 = decodeRequestFrame(
    hex('0003 0008 00000003 0007 72646b61666b61 ffffffff 000000 00'),
  );
  assert.ok(!metadataV8.ok && metadataV8.error.reason === 'trailing-bytes');
});

test('ControlledShutdown v0 uses request header v0 (no client id)', () => {
  const descriptor = getApiDescriptor(ApiKey.ControlledShutdown);
  assert.ok(descriptor !== undefined);
  assert.equal(descriptor.requestHeaderVersion(0), 0);
  assert.equal(descriptor.requestHeaderVersion(1), 1);
  const decoded = decodeRequestFrame(hex('0007 0000 00000005 00000009'));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
  assert.deepEqual(decoded.value.body, { brokerId: 9, brokerEpoch: -1n });
});

test('header versions follow flexible versions; ApiVersions responses always use v0', () => {
  for (const descriptor of apiDescriptors) {
    if (descriptor === undefined) continue;
    for (let version = descriptor.minVersion; version <= descriptor.maxVersion; version++) {
      const flexible: boolean = version >= descriptor.flexibleMinVersion;
      const expectedRequest: number = flexible
        ? 2
        : descriptor.apiKey === 7 && version === 0
          ? 0
          : 1;
      assert.equal(descriptor.requestHeaderVersion(version), expectedRequest);
      const expectedResponse: number = flexible && descriptor.apiKey !== ApiKey.ApiVersions ? 1 : 0;
      assert.equal(descriptor.responseHeaderVersion(version), expectedResponse);
    }
  }
});

test('a frame claiming a 2 GiB array fails fast with a typed error', () => {
  // Metadata v1 request: topics array count 0x7fffffff in a 16-byte frame.
  const started = process.hrtime.bigint();
  const result = decodeRequestFrame(hex('0003 0001 00000001 ffff 7fffffff'));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(!result.ok && result.error.reason === 'oversized-length');
  assert.ok(elapsedMs < 100, `took ${elapsedMs} ms`);
  // Compact (flexible) version: Metadata v9 with an unsigned varint count of 2^32 - 2.
  const compact = decodeRequestFrame(hex('0003 0009 00000001 ffff 00 ffffffff0f'));
  assert.ok(!compact.ok && compact.error.reason === 'oversized-length');
  // Fetch v4 response: records claiming 2 GiB.
  const fetch = decodeResponseFrame(
    ApiKey.Fetch,
    4,
    hex(
      '00000001 00000000 00000001 0001 74 00000001 00000000 0000 0000000000000000 0000000000000000 00000000 7fffffff',
    ),
  );
  assert.ok(
    !fetch.ok && fetch.error.reason === 'oversized-length',
    fetch.ok ? '' : fetch.error.message,
  );
});

test('response frames carry header tagged fields in flexible versions', () => {
  const frame = encodeResponseFrame(ApiKey.Metadata, 12, 11, { brokers: [], topics: [] }, [
    { tag: 0, data: hex('ab') },
  ]);
  const decoded = decodeResponseFrame(ApiKey.Metadata, 12, withoutSize(frame));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value.header, {
    correlationId: 11,
    _unknownTaggedFields: [{ tag: 0, data: hex('ab') }],
  });
});

test('consumer protocol bytes: int16 version prefix, newer versions read as the newest known', () => {
  // Subscription v0: version 0 | topics ["t"] | user data null
  const v0 = hex('0000 00000001 0001 74 ffffffff');
  const decoded = decodeConsumerProtocolSubscriptionBytes(v0);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.version, 0);
  assert.deepEqual(decoded.value.value.topics, ['t']);
  assert.deepEqual(encodeConsumerProtocolSubscriptionBytes(0, decoded.value.value), v0);
  // A hypothetical v4 with an extra trailing field decodes as v3.
  const v3 = encodeConsumerProtocolSubscriptionBytes(3, {
    topics: ['a'],
    userData: null,
    ownedPartitions: [{ topic: 'a', partitions: [0, 1] }],
    generationId: 5,
    rackId: 'r1',
  });
  const v4 = Buffer.concat([hex('0004'), v3.subarray(2), hex('cafe')]);
  const newer = decodeConsumerProtocolSubscriptionBytes(v4);
  assert.ok(newer.ok);
  assert.equal(newer.value.version, 4);
  assert.equal(newer.value.value.rackId, 'r1');
  const trailing = decodeConsumerProtocolSubscriptionBytes(Buffer.concat([v0, hex('00')]));
  assert.ok(!trailing.ok && trailing.error.reason === 'trailing-bytes');
  const assignment = encodeConsumerProtocolAssignmentBytes(1, {
    assignedPartitions: [{ topic: 'a', partitions: [2] }],
    userData: null,
  });
  const decodedAssignment = decodeConsumerProtocolAssignmentBytes(assignment);
  assert.ok(decodedAssignment.ok);
  assert.deepEqual(decodedAssignment.value.value.assignedPartitions, [
    { topic: 'a', partitions: [2] },
  ]);
});
