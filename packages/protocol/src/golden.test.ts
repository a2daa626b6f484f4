/**
 * Golden-byte fixtures: request frames recorded from real third-party clients (kcat, librdkafka's
 * Python binding, kafka-python, kafkajs, @platformatic/kafka) by packages/e2e's recording proxy
 * (`npm run capture-fixtures -w @gregor/e2e`). Each frame must decode, carry the api key, version,
 * client id, topic and group names the capture used, and re-encode to identical bytes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  ApiKey,
  decodeRecordBatches,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  getApiDescriptor,
} from './index.js';

interface CapturedFrame {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  requestFile: string;
  responseFile?: string;
}

interface CaptureManifest {
  client: string;
  clientVersion: string;
  mode: 'first-contact' | 'full';
  clientId: string;
  topics: string[];
  groups: string[];
  frames: CapturedFrame[];
}

const fixturesDirectory = new URL('../fixtures/', import.meta.url);
const apiVersionsKey = 18;

function readManifests(): CaptureManifest[] {
  const clients = readdirSync(fixturesDirectory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return clients.map(
    (client) =>
      JSON.parse(
        readFileSync(new URL(`${client}/capture.json`, fixturesDirectory), 'utf8'),
      ) as CaptureManifest,
  );
}

function readFrame(manifest: CaptureManifest, file: string): Buffer {
  return readFileSync(new URL(`${manifest.client}/${file}`, fixturesDirectory));
}

/** Collects every topic name and group id a decoded request names, whatever the api. */
function namesIn(
  value: unknown,
  names: { topics: Set<string>; groups: Set<string> },
  parentKey = '',
): void {
  if (Array.isArray(value)) {
    for (const item of value) namesIn(item, names, parentKey);
    return;
  }
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (typeof field === 'string') {
      // Fields absent in a version decode to their default (''), e.g. Fetch v13+ names topics by id.
      if (field === '') continue;
      if (key === 'groupId') names.groups.add(field);
      if (key === 'topic' || (key === 'name' && parentKey === 'topics')) names.topics.add(field);
    } else if (
      Array.isArray(field) &&
      key === 'topics' &&
      field.every((item) => typeof item === 'string')
    ) {
      for (const topic of field) names.topics.add(topic as string);
    } else {
      namesIn(field, names, key);
    }
  }
}

/** Every `records` field in a decoded message (Produce requests, Fetch responses). */
function recordSections(value: unknown, found: Buffer[] = []): Buffer[] {
  if (Array.isArray(value)) {
    for (const item of value) recordSections(item, found);
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'records' && Buffer.isBuffer(field)) found.push(field);
      else recordSections(field, found);
    }
  }
  return found;
}

/** Record batches a client sent (or the broker returned) pass their CRC and hold records. */
function assertRecordBatches(sections: Buffer[], what: string): number {
  let recordCount = 0;
  for (const section of sections) {
    for (const batch of decodeRecordBatches(section)) {
      assert.ok(batch.records.length > 0, `${what}: empty batch`);
      for (const record of batch.records)
        assert.notEqual(record.value, null, `${what}: null value`);
      recordCount += batch.records.length;
    }
  }
  return recordCount;
}

const manifests = readManifests();

test('fixtures exist for every client the capture drives', () => {
  assert.deepEqual(
    manifests.map((manifest) => manifest.client),
    ['confluent-kafka-python', 'kafka-python', 'kafkajs', 'kcat', 'platformatic-kafka'],
  );
  for (const manifest of manifests) {
    assert.ok(
      manifest.frames.some((frame) => frame.apiKey === apiVersionsKey),
      `${manifest.client} sends ApiVersions`,
    );
  }
});

for (const manifest of manifests) {
  describe(`golden frames from ${manifest.clientVersion}`, () => {
    for (const frame of manifest.frames) {
      const apiName = getApiDescriptor(frame.apiKey)?.name ?? `api ${frame.apiKey}`;
      test(`${apiName} v${frame.apiVersion} (${frame.requestFile})`, () => {
        const bytes = readFrame(manifest, frame.requestFile);
        const decoded = decodeRequestFrame(bytes);
        assert.ok(decoded.ok, decoded.ok ? '' : `decode failed: ${decoded.error.message}`);
        const { header, body } = decoded.value;
        assert.equal(header.requestApiKey, frame.apiKey);
        assert.equal(header.requestApiVersion, frame.apiVersion);
        assert.equal(header.correlationId, frame.correlationId);
        assert.equal(header.clientId, manifest.clientId, 'the client id the capture configured');

        const names = { topics: new Set<string>(), groups: new Set<string>() };
        namesIn(body, names);
        for (const topic of names.topics)
          assert.ok(manifest.topics.includes(topic), `unexpected topic ${topic}`);
        for (const group of names.groups)
          assert.ok(manifest.groups.includes(group), `unexpected group ${group}`);

        if (frame.apiKey === ApiKey.Produce) {
          assert.equal((body as { acks: number }).acks, -1, 'every capture produced with acks=all');
          const count = assertRecordBatches(recordSections(body), 'produce request');
          assert.ok(count > 0, 'the produce request carries records');
        }
        if (frame.apiKey === ApiKey.ApiVersions && frame.apiVersion >= 3) {
          const software = body as { clientSoftwareName: string; clientSoftwareVersion: string };
          assert.match(software.clientSoftwareName, /\S/, 'KIP-511 client software name');
          assert.match(software.clientSoftwareVersion, /\S/, 'KIP-511 client software version');
        }

        const reencoded = Buffer.concat(encodeRequestFrame(header, body));
        assert.equal(reencoded.readInt32BE(0), bytes.length, 'size prefix');
        assert.deepEqual(reencoded.subarray(4), bytes, 're-encodes to identical bytes');

        if (frame.responseFile !== undefined) {
          const responseBytes = readFrame(manifest, frame.responseFile);
          const response = decodeResponseFrame(frame.apiKey, frame.apiVersion, responseBytes);
          assert.ok(
            response.ok,
            response.ok ? '' : `response decode failed: ${response.error.message}`,
          );
          assert.equal(response.value.header.correlationId, frame.correlationId);
          if (frame.apiKey === ApiKey.Fetch) {
            assertRecordBatches(recordSections(response.value.body), 'fetch response');
          }
          const responseAgain = Buffer.concat(
            encodeResponseFrame(
              frame.apiKey,
              frame.apiVersion,
              frame.correlationId,
              response.value.body,
              response.value.header._unknownTaggedFields,
            ),
          );
          assert.deepEqual(
            responseAgain.subarray(4),
            responseBytes,
            'response re-encodes to identical bytes',
          );
        }
      });
    }
  });
}

test('full captures name the topic and group the client used', () => {
  for (const manifest of manifests.filter((entry) => entry.mode === 'full')) {
    const names = { topics: new Set<string>(), groups: new Set<string>() };
    for (const frame of manifest.frames) {
      const decoded = decodeRequestFrame(readFrame(manifest, frame.requestFile));
      if (decoded.ok) namesIn(decoded.value.body, names);
    }
    assert.ok(
      names.topics.has(manifest.topics[0]),
      `${manifest.client} frames name ${manifest.topics[0]}`,
    );
    assert.ok(
      names.groups.has(manifest.groups[0]),
      `${manifest.client} frames name ${manifest.groups[0]}`,
    );
  }
});
