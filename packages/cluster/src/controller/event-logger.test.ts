import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordingLogger } from '../testing/images.js';
import { EventLogger } from './event-logger.js';

describe('EventLogger', () => {
  test('writes the first partition changes of an event, then one summary by reason', () => {
    const recording = new RecordingLogger();
    const logger = new EventLogger(recording, 3);
    for (let partition = 0; partition < 5; partition++)
      logger.partitionChange(`Leader of t-${partition} changed`, { reason: 'broker 1 left' });
    logger.partitionChange('ISR of t-9 shrank', { reason: 'AlterPartition from broker 2' });
    logger.partitionChange('Unclean leader election for t-7', { reason: 'x' }, { always: true });
    logger.warn('Broker 3 restarted after an unclean shutdown');
    logger.endEvent();
    assert.deepEqual(recording.warnings(), [
      'Leader of t-0 changed',
      'Leader of t-1 changed',
      'Leader of t-2 changed',
      'Unclean leader election for t-7',
      'Broker 3 restarted after an unclean shutdown',
      '3 more partition changes (leader or ISR) of this controller event are not logged one by one: 2 broker 1 left, 1 AlterPartition from broker 2',
    ]);
    assert.deepEqual(recording.lines.at(-1)!.fields, {
      skipped: 3,
      reasons: { 'broker 1 left': 2, 'AlterPartition from broker 2': 1 },
    });
  });

  test('each event gets a new budget and no summary when nothing was held back', () => {
    const recording = new RecordingLogger();
    const logger = new EventLogger(recording, 1);
    logger.partitionChange('Leader of t-0 changed', { reason: 'r' });
    logger.endEvent();
    logger.partitionChange('Leader of t-1 changed', { reason: 'r' });
    logger.endEvent();
    assert.deepEqual(recording.warnings(), ['Leader of t-0 changed', 'Leader of t-1 changed']);
  });
});
