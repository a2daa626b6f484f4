// Byte layouts derived by hand from the protocol spec (header versions, compact encodings,
// tagged fields), checked against the generated encoders and decoders.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
} from '../frame.js';
import {
  ApiKey,
  type ApiVersionsResponse,
  decodeApiVersionsResponse,
  encodeApiVersionsResponse,
  type MetadataResponse,
} from '../generated/index.js';
import { Reader } from '../io/reader.js';
import { Writer } from '../io/writer.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

test('ApiVersions v3 request: header v2 with a non-compact client id, compact body strings', () => {
  const frame = Buffer.concat(
    encodeRequestFrame(
      {
        requestApiKey: ApiKey.ApiVersions,
        requestApiVersion: 3,
        correlationId: 42,
        clientId: 'cli',
      },
      { clientSoftwareName: 'kcat', clientSoftwareVersion: '1.7' },
    ),
  );
  // size 24 | key 18 | version 3 | correlation 42 | client id int16 "cli" | no header tags |
  // compact "kcat" (length+1 = 5) | compact "1.7" | no body tags
  const expected = hex('00000018 0012 0003 0000002a 0003 636c69 00 05 6b636174 04 312e37 00');
  assert.deepEqual(frame, expected);
  const decoded = decodeRequestFrame(frame.subarray(4));
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value.header, {
    requestApiKey: 18,
    requestApiVersion: 3,
    correlationId: 42,
    clientId: 'cli',
  });
  assert.deepEqual(decoded.value.body, {
    clientSoftwareName: 'kcat',
    clientSoftwareVersion: '1.7',
  });
});

test('Metadata v0 request: header v1 with a null client id', () => {
  const frame = Buffer.concat(
    encodeRequestFrame(
      { requestApiKey: ApiKey.Metadata, requestApiVersion: 0, correlationId: 1, clientId: null },
      { topics: [{ name: 't' }] },
    ),
  );
  assert.deepEqual(frame, hex('00000011 0003 0000 00000001 ffff 00000001 0001 74'));
  const decoded = decodeRequestFrame(frame.subarray(4));
  assert.ok(decoded.ok);
  assert.equal(decoded.value.header.clientId, null);
  // Fields v0 lacks come back as their schema defaults (topic id: the zero uuid).
  assert.deepEqual(decoded.value.body, {
    topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 't' }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
});

test('Metadata v0 response: header v0, int32 arrays, int16 strings', () => {
  const body: MetadataResponse = {
    brokers: [{ nodeId: 1, host: 'h', port: 9092 }],
    topics: [
      {
        errorCode: 0,
        name: 't',
        partitions: [
          { errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] },
        ],
      },
    ],
  };
  const frame = Buffer.concat(encodeResponseFrame(ApiKey.Metadata, 0, 7, body));
  const expected = hex(
    `0000003a 00000007
     00000001 00000001 0001 68 00002384
     00000001 0000 0001 74
       00000001 0000 00000000 00000001 00000001 00000001 00000001 00000001`,
  );
  assert.deepEqual(frame, expected);
  const decoded = decodeResponseFrame(ApiKey.Metadata, 0, frame.subarray(4));
  assert.ok(decoded.ok);
  const decodedBody = decoded.value.body as MetadataResponse;
  assert.equal(decodedBody.topics[0].partitions[0].leaderId, 1);
  assert.equal(decodedBody.brokers[0].rack, null, 'absent nullable field filled with its default');
});

test('ApiVersions v3 response keeps response header v0 (KIP-511); Metadata v9 uses v1', () => {
  const apiVersions = Buffer.concat(
    encodeResponseFrame(ApiKey.ApiVersions, 3, 5, { errorCode: 0, apiKeys: [], throttleTimeMs: 0 }),
  );
  // size 12 | correlation 5 (no tag byte) | error 0 | compact empty array | throttle 0 | no tags
  assert.deepEqual(apiVersions, hex('0000000c 00000005 0000 01 00000000 00'));
  const metadata = Buffer.concat(
    encodeResponseFrame(ApiKey.Metadata, 9, 5, { brokers: [], topics: [], clusterId: null }),
  );
  // size | correlation 5 + header tag byte | throttle | brokers | cluster id null | controller |
  // topics | cluster authorized operations | no tags
  assert.deepEqual(metadata, hex('00000015 00000005 00 00000000 01 00 ffffffff 01 80000000 00'));
});

test('tagged fields: known and unknown merged in tag order, unknown bytes preserved', () => {
  const value: ApiVersionsResponse = {
    errorCode: 0,
    apiKeys: [],
    throttleTimeMs: 0,
    zkMigrationReady: true,
    _unknownTaggedFields: [
      { tag: 9, data: hex('aabb') },
      { tag: 4, data: hex('') },
    ],
  };
  const writer = new Writer();
  encodeApiVersionsResponse(writer, 3, value);
  const bytes = writer.toBuffer();
  // three tags: 3 (size 1, true), 4 (size 0), 9 (size 2, aabb)
  assert.deepEqual(bytes, hex('0000 01 00000000 03 03 01 01 04 00 09 02 aabb'));
  const decoded = decodeApiVersionsResponse(new Reader(bytes), 3);
  assert.equal(decoded.zkMigrationReady, true);
  assert.deepEqual(decoded._unknownTaggedFields, [
    { tag: 4, data: hex('') },
    { tag: 9, data: hex('aabb') },
  ]);
  const again = new Writer();
  encodeApiVersionsResponse(again, 3, decoded);
  assert.deepEqual(again.toBuffer(), bytes);
});

test('a non-default field that the version cannot carry is refused; ignorable ones dropped', () => {
  // ApiVersions v0 response has no throttle time; it is ignorable, so it is dropped.
  const writer = new Writer();
  encodeApiVersionsResponse(writer, 0, { errorCode: 0, apiKeys: [], throttleTimeMs: 100 });
  assert.deepEqual(writer.toBuffer(), hex('0000 00000000'));
  // Metadata v0 request has no allowAutoTopicCreation (default true, not ignorable).
  assert.throws(
    () =>
      encodeRequestFrame(
        { requestApiKey: ApiKey.Metadata, requestApiVersion: 0, correlationId: 1, clientId: null },
        { topics: [], allowAutoTopicCreation: false },
      ),
    RangeError,
  );
});
