import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListenerLogLine, parseReadyLine } from './broker-process.js';

test('the ready line and the listener log line give the addresses', () => {
  assert.deepEqual(
    parseReadyLine('gregor: broker 1 ready on 127.0.0.1:37103 (data /tmp/x) in 530 ms'),
    { host: '127.0.0.1', port: 37103 },
  );
  assert.deepEqual(parseReadyLine('{"message":"ready","host":"127.0.0.1","port":9092}'), {
    host: '127.0.0.1',
    port: 9092,
  });
  assert.equal(parseReadyLine('{"message":"logs loaded","nodeId":1}'), undefined);
  assert.deepEqual(
    parseListenerLogLine(
      '{"level":"INFO","message":"broker started","listener":"127.0.0.1:37887","advertised":"127.0.0.1:37103"}',
    ),
    { host: '127.0.0.1', port: 37887 },
  );
  assert.equal(parseListenerLogLine('gregor: broker 1 ready on 127.0.0.1:1'), undefined);
});
