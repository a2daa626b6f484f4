import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsonLogger, parseLogLevel } from './logger.js';

describe('JSON logger', () => {
  it('writes one JSON object per line at or above its level, with child fields', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({
      level: 'info',
      write: (line) => lines.push(line),
      wallMs: () => 0,
    });
    logger.debug('hidden');
    logger.child({ component: 'server' }).warn('closing connection', { offset: 5n, reason: 'x' });
    logger.error('failed', { error: new Error('boom') });
    assert.equal(lines.length, 2);
    assert.ok(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
    const warn = JSON.parse(lines[0]!);
    assert.deepEqual(warn, {
      time: '1970-01-01T00:00:00.000Z',
      level: 'WARN',
      message: 'closing connection',
      component: 'server',
      offset: '5',
      reason: 'x',
    });
    assert.equal(JSON.parse(lines[1]!).error.message, 'boom');
  });

  it('parses level names', () => {
    assert.equal(parseLogLevel('WARNING'), 'warn');
    assert.equal(parseLogLevel(' debug '), 'debug');
    assert.equal(parseLogLevel('verbose'), null);
    assert.equal(parseLogLevel('TRACE'), 'debug');
    assert.equal(parseLogLevel('fatal'), 'error');
    // Names every plain object inherits are not levels (the name may come from the network).
    for (const inherited of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      assert.equal(parseLogLevel(inherited), null, inherited);
    assert.equal(createJsonLogger({ level: 'off', write: () => {} }).isEnabled('error'), false);
  });
});
