import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { runPythonClient } from './harness/json-lines-process.js';
import { kafkajsCreateTopic, kafkajsProduce, newKafkajs } from './harness/kafkajs-client.js';
import { RawConnection, requestHeaderV1, sizePrefixed } from './harness/raw-connection.js';
import {
  assertSameRecords,
  type PlacedRecord,
  placedRecordFromEvent,
  uniqueName,
} from './harness/records.js';
import { sleep } from './harness/wait.js';

/**
 * Hostile input from raw sockets against the real broker process while a real client (kafkajs)
 * keeps producing: truncated frames, lengths that lie, unsupported versions, a 2 GiB size prefix,
 * random bytes, a client that floods requests and never reads. The broker closes the bad
 * connections, stays up, keeps its memory bounded and keeps serving the real client.
 */

const apiVersionsKey = 18;
const metadataKey = 3;
const unsupportedVersionCode = 35;
const closeTimeoutMs = 10_000;
const residentSetBytesMax = 400 * 1024 * 1024;

let broker: BrokerProcess;
const topic = uniqueName('hostile');
let address: { host: string; port: number };
let background: Promise<void> | undefined;
let stopBackground = false;
const backgroundAcknowledged: PlacedRecord[] = [];
let backgroundFailure: unknown;

before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(hostile)' });
  address = { host: broker.host, port: broker.port };
  const kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'hostile-real-client' });
  await kafkajsCreateTopic(kafka, { topic, partitions: 2 });
  // The real client: produces batches with acks=all for as long as the hostile tests run.
  background = (async () => {
    let round = 0;
    while (!stopBackground) {
      try {
        const placed = await kafkajsProduce(kafka, {
          topic,
          partitions: 2,
          count: 20,
          prefix: `round-${round}`,
        });
        backgroundAcknowledged.push(...placed);
      } catch (error) {
        backgroundFailure = error;
        return;
      }
      round += 1;
      await sleep(50);
    }
  })();
});
after(async () => {
  stopBackground = true;
  await background;
  await broker?.dispose();
});

function apiVersionsRequest(options: { version: number; correlationId: number }): Buffer {
  const header = requestHeaderV1({
    apiKey: apiVersionsKey,
    apiVersion: options.version,
    correlationId: options.correlationId,
    clientId: 'hostile',
  });
  // v3+ uses request header v2 (tagged fields) and a flexible body: software name, version, tags.
  if (options.version >= 3) {
    return sizePrefixed(
      Buffer.concat([
        header,
        Buffer.from([0x00, 0x08]),
        Buffer.from('hostile'),
        Buffer.from([0x02, 0x31, 0x00]),
      ]),
    );
  }
  return sizePrefixed(header);
}

/** ApiVersions v0 response body: error code and the advertised [key, min, max] list. */
function parseApiVersionsV0(frame: Buffer): {
  correlationId: number;
  errorCode: number;
  keys: Map<number, [number, number]>;
} {
  const correlationId = frame.readInt32BE(0);
  const errorCode = frame.readInt16BE(4);
  const count = frame.readInt32BE(6);
  const keys = new Map<number, [number, number]>();
  for (let index = 0; index < count; index += 1) {
    const base = 10 + index * 6;
    keys.set(frame.readInt16BE(base), [frame.readInt16BE(base + 2), frame.readInt16BE(base + 4)]);
  }
  return { correlationId, errorCode, keys };
}

async function assertBrokerHealthy(what: string): Promise<void> {
  assert.ok(broker.isRunning, `${what}: broker process alive`);
  assert.equal(backgroundFailure, undefined, `${what}: the real client kept working`);
  const probe = await RawConnection.open(address);
  await probe.write(apiVersionsRequest({ version: 0, correlationId: 4242 }));
  const response = parseApiVersionsV0(await probe.readFrame({ timeoutMs: 5_000 }));
  probe.destroy();
  assert.equal(response.correlationId, 4242);
  assert.equal(response.errorCode, 0);
  const residentBytes = await broker.residentSetBytes();
  assert.ok(residentBytes < residentSetBytesMax, `${what}: RSS ${residentBytes} bytes`);
}

test('a valid ApiVersions request split into single bytes is answered', {
  timeout: 30_000,
}, async () => {
  const connection = await RawConnection.open(address);
  const request = apiVersionsRequest({ version: 0, correlationId: 7 });
  for (const byte of request) {
    await connection.write(Buffer.from([byte]));
  }
  const response = parseApiVersionsV0(await connection.readFrame({ timeoutMs: 5_000 }));
  connection.destroy();
  assert.equal(response.correlationId, 7);
  assert.equal(response.errorCode, 0);
  assert.ok(
    response.keys.has(apiVersionsKey) && response.keys.has(metadataKey),
    'advertises ApiVersions and Metadata',
  );
});

test('an unsupported ApiVersions version gets UNSUPPORTED_VERSION with the supported list (KIP-511)', {
  timeout: 30_000,
}, async () => {
  const connection = await RawConnection.open(address);
  await connection.write(apiVersionsRequest({ version: 99, correlationId: 11 }));
  const response = parseApiVersionsV0(await connection.readFrame({ timeoutMs: 5_000 }));
  connection.destroy();
  assert.equal(response.correlationId, 11);
  assert.equal(response.errorCode, unsupportedVersionCode);
  const [minimum, maximum] = response.keys.get(apiVersionsKey) ?? [-1, -1];
  assert.ok(minimum === 0 && maximum >= 3, `ApiVersions advertised as ${minimum}..${maximum}`);
});

test('malformed frames close their own connection only', {
  timeout: 60_000,
}, async () => {
  const cases: { name: string; bytes: Buffer; endAfter?: boolean }[] = [
    { name: '2 GiB size prefix', bytes: Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x00, 0x12]) },
    { name: 'negative size prefix', bytes: Buffer.from([0xff, 0xff, 0xff, 0xfe, 0x00, 0x12]) },
    {
      name: 'random bytes',
      bytes: Buffer.concat([Buffer.from([0x00, 0x00, 0x10, 0x00]), randomBytes(4096)]),
    },
    {
      name: 'unsupported Metadata version',
      bytes: sizePrefixed(
        requestHeaderV1({
          apiKey: metadataKey,
          apiVersion: 999,
          correlationId: 1,
          clientId: 'hostile',
        }),
      ),
    },
    {
      name: 'unknown api key',
      bytes: sizePrefixed(
        requestHeaderV1({ apiKey: 31_000, apiVersion: 0, correlationId: 1, clientId: 'hostile' }),
      ),
    },
    {
      name: 'client id length beyond the frame',
      bytes: (() => {
        const header = requestHeaderV1({
          apiKey: apiVersionsKey,
          apiVersion: 0,
          correlationId: 1,
          clientId: 'x',
        });
        header.writeInt16BE(3000, 8);
        return sizePrefixed(header);
      })(),
    },
    {
      name: 'Metadata v1 topic array count larger than the frame',
      bytes: sizePrefixed(
        Buffer.concat([
          requestHeaderV1({
            apiKey: metadataKey,
            apiVersion: 1,
            correlationId: 1,
            clientId: 'hostile',
          }),
          Buffer.from([0x7f, 0xff, 0xff, 0xff]),
        ]),
      ),
    },
    {
      name: 'frame shorter than a request header',
      bytes: sizePrefixed(Buffer.from([0x00, 0x12, 0x00])),
    },
    {
      name: 'truncated frame then end of stream',
      bytes: Buffer.concat([Buffer.from([0x00, 0x00, 0x01, 0x00]), randomBytes(100)]),
      endAfter: true,
    },
  ];
  for (const hostile of cases) {
    const connection = await RawConnection.open(address);
    await connection.write(hostile.bytes);
    if (hostile.endAfter) connection.end();
    const closed = await connection.closesWithin(closeTimeoutMs);
    connection.destroy();
    assert.ok(
      closed,
      `${hostile.name}: the broker closed the connection within ${closeTimeoutMs} ms`,
    );
    await assertBrokerHealthy(`after ${hostile.name}`);
  }
});

test('a truncated frame left hanging does not stop other connections', {
  timeout: 30_000,
}, async () => {
  const hanging = await RawConnection.open(address);
  await hanging.write(
    Buffer.concat([
      Buffer.from([0x00, 0x00, 0x04, 0x00]),
      apiVersionsRequest({ version: 0, correlationId: 1 }).subarray(4),
    ]),
  );
  await assertBrokerHealthy('with a half-sent frame pending');
  hanging.destroy();
});

test('a client that floods requests and never reads is bounded and does not starve others', {
  timeout: 90_000,
}, async (context) => {
  const flooder = await RawConnection.open(address, { paused: true });
  const request = sizePrefixed(
    Buffer.concat([
      requestHeaderV1({
        apiKey: metadataKey,
        apiVersion: 1,
        correlationId: 1,
        clientId: 'flooder',
      }),
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // null topic array: all topics
    ]),
  );
  const burst = Buffer.concat(Array.from({ length: 1_000 }, () => request));
  const deadlineMs = Date.now() + 8_000;
  let sentBytes = 0;
  while (Date.now() < deadlineMs && !flooder.isClosed) {
    if (flooder.needsDrain) {
      await sleep(50);
      continue;
    }
    flooder.writeNoWait(burst);
    sentBytes += burst.length;
  }
  context.diagnostic(
    `the flooder got ${sentBytes} bytes of requests out before the broker stopped reading`,
  );
  await assertBrokerHealthy(`while a client that never reads sent ${sentBytes} bytes`);
  flooder.destroy();
});

test('the real client kept working: every acknowledged record is stored exactly', {
  timeout: 60_000,
}, async () => {
  stopBackground = true;
  await background;
  assert.equal(backgroundFailure, undefined, `real client failed: ${backgroundFailure}`);
  assert.ok(
    backgroundAcknowledged.length >= 20,
    'the real client produced during the hostile tests',
  );
  const events = await runPythonClient({
    script: 'confluent_client.py',
    command: 'read-all',
    parameters: { bootstrap: broker.bootstrap, topic, partitions: [0, 1] },
    timeoutMs: 45_000,
  });
  const stored = events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
  assertSameRecords(stored, backgroundAcknowledged, 'records of the real client');
});
