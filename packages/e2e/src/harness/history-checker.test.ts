import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHistory } from './history-checker.js';

describe('history checker', () => {
  it('accepts a clean history and counts unknown sends that were written', () => {
    const summary = checkHistory({
      sends: [
        { outcome: 'acked', value: 'a', partition: 0, offset: 0 },
        { outcome: 'unknown', value: 'b', partition: 0 },
        { outcome: 'failed', value: 'c', partition: 0 },
        { outcome: 'acked', value: 'd', partition: 1, offset: 0 },
      ],
      readers: [
        {
          reader: 'r1',
          records: [
            { partition: 0, offset: 0, value: 'a' },
            { partition: 0, offset: 1, value: 'b' },
            { partition: 1, offset: 0, value: 'd' },
          ],
        },
      ],
    });
    assert.equal(summary.valid, true, JSON.stringify(summary.problems));
    assert.deepEqual(
      [
        summary.acked,
        summary.failed,
        summary.unknown,
        summary.unknownWritten,
        summary.readPositions,
      ],
      [2, 1, 1, 1, 3],
    );
  });

  it('finds a lost write, a duplicate, two values at one offset, a wrong acked offset, a backwards read and an aborted read', () => {
    const summary = checkHistory({
      sends: [
        { outcome: 'acked', value: 'lost', partition: 0, offset: 5 },
        { outcome: 'acked', value: 'moved', partition: 0, offset: 1 },
        { outcome: 'acked', value: 'twice', partition: 0, offset: 2 },
      ],
      readers: [
        {
          reader: 'r1',
          records: [
            { partition: 0, offset: 0, value: 'x' },
            { partition: 0, offset: 2, value: 'twice' },
            { partition: 0, offset: 3, value: 'twice' },
            { partition: 0, offset: 4, value: 'moved' },
          ],
        },
        {
          reader: 'r2',
          records: [
            { partition: 0, offset: 0, value: 'y' },
            { partition: 0, offset: 7, value: 'aborted' },
            { partition: 0, offset: 6, value: 'z' },
          ],
        },
      ],
      abortedValues: new Set(['aborted']),
    });
    assert.equal(summary.valid, false);
    assert.deepEqual(summary.counts, {
      'lost-write': 1,
      duplicate: 1,
      'inconsistent-offsets': 1,
      'acked-offset-mismatch': 1,
      'nonmonotonic-read': 1,
      'aborted-read': 1,
    });
    assert.deepEqual(summary.problems.map((problem) => problem.detail).sort(), [
      '0:0 holds x, y',
      'lost acked at 0:5, never read',
      'moved acked at 0:1, read at 0:4',
      'r2: aborted value aborted at 0:7',
      'r2: partition 0 offset 6 after 7',
      'twice at 0:2, 0:3',
    ]);
  });
});
