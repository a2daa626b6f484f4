import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArguments, usageText } from './arguments.js';

test('broker flags: separate and inline values, repeatable overrides, text kept as given', () => {
  assert.deepEqual(
    parseArguments([
      'broker',
      '--listen=127.0.0.1:0',
      '--data-dir',
      './d',
      '--node-id',
      '3',
      '--override',
      'num.partitions=3',
      '--override=log.retention.ms=-1',
      '--config',
      'server.properties',
      '--log-level',
      'debug',
      '--metadata',
      'etcd://127.0.0.1:2379,127.0.0.1:2380/gregor-a',
    ]),
    {
      command: 'broker',
      configFile: 'server.properties',
      flags: {
        listen: '127.0.0.1:0',
        dataDir: './d',
        nodeId: '3',
        overrides: ['num.partitions=3', 'log.retention.ms=-1'],
      },
      logLevel: 'debug',
      metadata: 'etcd://127.0.0.1:2379,127.0.0.1:2380/gregor-a',
    },
  );
});

test('help, version and every usage error', () => {
  for (const argv of [[], ['--help'], ['-h'], ['help'], ['broker', '--help']]) {
    assert.deepEqual(parseArguments(argv), { command: 'help', text: usageText });
  }
  assert.deepEqual(parseArguments(['--version']), { command: 'version' });
  assert.deepEqual(parseArguments(['serve']), {
    command: 'error',
    message: 'unknown command "serve"',
  });
  assert.deepEqual(parseArguments(['broker', '--listen']), {
    command: 'error',
    message: '--listen needs a value',
  });
  assert.deepEqual(parseArguments(['broker', '--override', 'num.partitions']), {
    command: 'error',
    message: '--override expects NAME=VALUE, got "num.partitions"',
  });
  assert.deepEqual(parseArguments(['broker', '--port', '1']), {
    command: 'error',
    message: 'unknown option "--port" (see gregor --help)',
  });
});
