import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProperties } from './properties-file.js';

describe('parseProperties', () => {
  it('reads key=value, key: value and key value, skipping comments and blank lines', () => {
    const entries = parseProperties(
      ['# comment', '! also a comment', '', 'a=1', '  b : two words ', 'c 3', 'd', 'e='].join('\n'),
    );
    assert.deepEqual(
      entries.map(({ key, value }) => [key, value]),
      [
        ['a', '1'],
        ['b', 'two words '],
        ['c', '3'],
        ['d', ''],
        ['e', ''],
      ],
    );
  });

  it('keeps the line number where each entry starts, across continuations', () => {
    const entries = parseProperties(
      'x=1\r\nlisteners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\ny=2',
    );
    assert.deepEqual(entries, [
      { key: 'x', value: '1', line: 1 },
      { key: 'listeners', value: 'PLAINTEXT://:9092,CONTROLLER://:9093', line: 2 },
      { key: 'y', value: '2', line: 4 },
    ]);
  });

  it('decodes escapes and keeps an escaped separator in the key', () => {
    const [entry] = parseProperties('my\\=key = a\\tb\\u0041\\\\');
    assert.equal(entry.key, 'my=key');
    assert.equal(entry.value, 'a\tbA\\');
  });

  it('treats an even number of trailing backslashes as literal', () => {
    const entries = parseProperties('path=C:\\\\\nnext=1');
    assert.deepEqual(
      entries.map(({ key, value }) => [key, value]),
      [
        ['path', 'C:\\'],
        ['next', '1'],
      ],
    );
  });
});
