import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ApiKey,
  decodeRequestFrame,
  decodeResponseFrame,
  getApiDescriptor,
} from '@gregor/protocol';
import { BrokerProcess } from '../harness/broker-process.js';
import { kafkajsCreateTopic, kafkajsProduce, newKafkajs } from '../harness/kafkajs-client.js';
import { makeTemporaryDirectory, removeDirectory } from '../harness/temporary-directory.js';
import { FrameSplitter } from './frame-splitter.js';
import { RecordProxy } from './record-proxy.js';

test('the frame splitter reassembles frames split at every byte and refuses oversized ones', () => {
  const frames = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.from('third')];
  const stream = Buffer.concat(
    frames.map((frame) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(frame.length);
      return Buffer.concat([size, frame]);
    }),
  );
  for (let split = 0; split <= stream.length; split += 1) {
    const splitter = new FrameSplitter({ frameBytesMax: 64 });
    const out = [
      ...splitter.push(stream.subarray(0, split)),
      ...splitter.push(stream.subarray(split)),
    ];
    assert.deepEqual(out, frames, `split at ${split}`);
  }
  const oversized = Buffer.from([0x00, 0x00, 0x01, 0x00]);
  assert.throws(() => new FrameSplitter({ frameBytesMax: 64 }).push(oversized), /frame size 256/);
});

test('the recording proxy writes the frames a real client sends, and the answers', {
  timeout: 60_000,
}, async () => {
  const outputDirectory = await makeTemporaryDirectory('proxy');
  const proxy = await RecordProxy.start({
    outputDirectory,
    recordResponses: true,
    framesPerVersionMax: 1,
    apiName: (apiKey) => getApiDescriptor(apiKey)?.name ?? `ApiKey${apiKey}`,
  });
  const broker = await BrokerProcess.start({
    label: 'broker(proxy)',
    environment: { GREGOR_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${proxy.port}` },
  });
  try {
    assert.notEqual(
      broker.port,
      proxy.port,
      'the harness reads the bound port, not the advertised one',
    );
    proxy.setUpstream({ host: broker.host, port: broker.port });
    const kafka = newKafkajs({ bootstrap: proxy.address, clientId: 'proxy-test' });
    await kafkajsCreateTopic(kafka, { topic: 'proxied', partitions: 1 });
    const placed = await kafkajsProduce(kafka, {
      topic: 'proxied',
      partitions: 1,
      count: 3,
      prefix: 'p',
    });
    assert.deepEqual(
      placed.map((record) => record.offset),
      [0, 1, 2],
    );
    const frames = await proxy.close();
    const produce = frames.find((frame) => frame.apiKey === ApiKey.Produce);
    assert.ok(
      produce?.responseFile,
      `a produce request and its response: ${JSON.stringify(frames)}`,
    );
    assert.match(produce.requestFile, /^Produce-v\d+-1\.request\.bin$/);
    for (const frame of frames) {
      const request = decodeRequestFrame(await readFile(join(outputDirectory, frame.requestFile)));
      assert.ok(request.ok, frame.requestFile);
      assert.equal(request.value.header.clientId, 'proxy-test');
      assert.ok(frame.responseFile, `${frame.requestFile} has its response`);
      const bytes = await readFile(join(outputDirectory, frame.responseFile));
      const response = decodeResponseFrame(frame.apiKey, frame.apiVersion, bytes);
      assert.ok(response.ok, frame.responseFile);
      assert.equal(response.value.header.correlationId, frame.correlationId);
    }
  } finally {
    await proxy.close();
    await broker.dispose();
    await removeDirectory(outputDirectory);
  }
});
