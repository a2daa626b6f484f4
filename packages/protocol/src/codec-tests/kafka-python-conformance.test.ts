// Conformance against an implementation we did not write: kafka-python (Debian python3-kafka)
// encodes random bodies for every API class it defines; each must decode with the generated
// codecs consuming every byte, and re-encode to the identical bytes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { getApiDescriptor } from '../generated/index.js';
import { Reader } from '../io/reader.js';
import { Writer } from '../io/writer.js';
import { packageDirectory } from './schema-model.js';

/** Debian's Kafka python clients import only under the system interpreter. */
const pythonPath = '/usr/bin/python3';
const scriptPath = path.join(packageDirectory, 'src', 'codec-tests', 'kafka-python-vectors.py');

/**
 * kafka-python 2.0.2 classes whose layout disagrees with Kafka's own schema (checked by hand
 * against the JSON definitions); their bodies are skipped.
 */
const knownKafkaPythonDefects = new Map([
  ['DescribeAclsRequest_v2', 'v2 is flexible in Kafka; kafka-python encodes it like v1'],
  ['DescribeAclsResponse_v2', 'v2 is flexible in Kafka; kafka-python encodes it like v1'],
  ['DescribeGroupsResponse_v3', 'lacks AuthorizedOperations (int32, v3+)'],
  ['GroupCoordinatorResponse_v1', 'lacks ThrottleTimeMs (FindCoordinator v1+)'],
  ['OffsetRequest_v4', 'CurrentLeaderEpoch is int32 in Kafka, int64 in kafka-python'],
  ['OffsetRequest_v5', 'CurrentLeaderEpoch is int32 in Kafka, int64 in kafka-python'],
  ['ProduceResponse_v8', 'lacks RecordErrors and ErrorMessage (v8+)'],
]);

interface Vector {
  name: string;
  apiKey: number;
  version: number;
  kind: 'request' | 'response';
  hex: string;
}

function loadVectors(): Vector[] | string {
  if (!fs.existsSync(pythonPath)) return `${pythonPath} not found`;
  const probe = spawnSync(pythonPath, ['-c', 'import kafka.protocol'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'kafka-python (python3-kafka) not installed';
  const run = spawnSync(pythonPath, [scriptPath, '7'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Vector);
}

test('kafka-python encodings decode and re-encode byte for byte', (t) => {
  const vectors = loadVectors();
  if (typeof vectors === 'string') {
    t.skip(vectors);
    return;
  }
  const classes = new Set<string>();
  let checked = 0;
  for (const vector of vectors) {
    const descriptor = getApiDescriptor(vector.apiKey);
    assert.ok(descriptor !== undefined, `${vector.name}: api key ${vector.apiKey} known`);
    const bytes = Buffer.from(vector.hex, 'hex');
    const reader = new Reader(bytes);
    const decode = vector.kind === 'request' ? descriptor.decodeRequest : descriptor.decodeResponse;
    const encode = vector.kind === 'request' ? descriptor.encodeRequest : descriptor.encodeResponse;
    if (knownKafkaPythonDefects.has(vector.name)) continue;
    const value = decode.call(descriptor, reader, vector.version);
    assert.equal(reader.remaining, 0, `${vector.name}: every byte consumed`);
    const writer = new Writer();
    encode.call(descriptor, writer, vector.version, value);
    assert.equal(writer.toBuffer().toString('hex'), vector.hex, `${vector.name}: same bytes`);
    classes.add(vector.name);
    checked++;
  }
  t.diagnostic(
    `${checked} bodies from ${classes.size} kafka-python classes (${knownKafkaPythonDefects.size} defective classes skipped)`,
  );
  assert.ok(classes.size > 100);
});
