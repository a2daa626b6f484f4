import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, encodeRecordBatch, validateRecordBatches } from '@gregor/protocol';
import { FileLogManager, type PartitionLog } from '@gregor/storage';
import { ManualClock } from '../group/test-support.js';
import { createJsonLogger } from '../logging/logger.js';
import {
  type AppendedOffsets,
  PartitionProducerState,
  type ProducerBatchHeader,
  producerBatchesRetainedMax,
} from './producer-state.js';
import { ProducerStateError, ProducerStateManager } from './producer-state-manager.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-file.js';

function header(overrides: Partial<ProducerBatchHeader>): ProducerBatchHeader {
  return {
    producerId: 7n,
    producerEpoch: 0,
    baseSequence: 0,
    lastOffsetDelta: 0,
    transactional: false,
    ...overrides,
  };
}

function offsets(base: bigint, count = 1n): AppendedOffsets {
  return { baseOffset: base, lastOffset: base + count - 1n, logAppendTimeMs: -1n };
}

test('a retried batch is a duplicate answered with its original offsets', async () => {
  const state = new PartitionProducerState();
  const first = header({ baseSequence: 0, lastOffsetDelta: 2 });
  assert.equal(state.check(first).kind, 'append');
  await state.begin(first, Promise.resolve(offsets(10n, 3n)), 0);
  const retry = state.check(first);
  assert.equal(retry.kind, 'duplicate');
  assert.deepEqual(retry.kind === 'duplicate' && (await retry.offsets), offsets(10n, 3n));
  assert.equal(state.check(header({ baseSequence: 3 })).kind, 'append');
});

test('a pipelined batch is checked against one still being appended', async () => {
  const state = new PartitionProducerState();
  let finish!: (value: AppendedOffsets) => void;
  const pending = new Promise<AppendedOffsets>((resolve) => {
    finish = resolve;
  });
  const tracked = state.begin(header({ baseSequence: 0 }), pending, 0);
  assert.equal(state.check(header({ baseSequence: 1 })).kind, 'append');
  const duplicate = state.check(header({ baseSequence: 0 }));
  assert.equal(duplicate.kind, 'duplicate');
  finish(offsets(5n));
  await tracked;
  assert.deepEqual(duplicate.kind === 'duplicate' && (await duplicate.offsets), offsets(5n));
});

test('sequence and epoch errors follow Kafka (KIP-98, KIP-360)', async () => {
  const state = new PartitionProducerState();
  assert.equal(
    errorOf(state.check(header({ baseSequence: 5 }))),
    ErrorCode.UNKNOWN_PRODUCER_ID,
    'an unknown producer must start at sequence 0',
  );
  await state.begin(header({ producerEpoch: 3 }), Promise.resolve(offsets(0n)), 0);
  assert.equal(
    errorOf(state.check(header({ producerEpoch: 3, baseSequence: 2 }))),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(
    errorOf(state.check(header({ producerEpoch: 2, baseSequence: 1 }))),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assert.equal(
    errorOf(state.check(header({ producerEpoch: 4, baseSequence: 1 }))),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(state.check(header({ producerEpoch: 4, baseSequence: 0 })).kind, 'append');
});

test('only the last five batches are remembered; older retries are out of order', async () => {
  const state = new PartitionProducerState();
  for (let sequence = 0; sequence < producerBatchesRetainedMax + 1; sequence++) {
    await state.begin(
      header({ baseSequence: sequence }),
      Promise.resolve(offsets(BigInt(sequence))),
      0,
    );
  }
  assert.equal(
    errorOf(state.check(header({ baseSequence: 0 }))),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  );
  assert.equal(state.check(header({ baseSequence: 1 })).kind, 'duplicate');
});

test('a failed append is forgotten so the client can retry the same sequence', async () => {
  const state = new PartitionProducerState();
  const failed = state.begin(header({}), Promise.reject(new Error('disk full')), 0);
  await assert.rejects(failed);
  assert.equal(state.check(header({})).kind, 'append');
});

test('transactions hold the first unstable offset until their marker; aborts are reported', async () => {
  const state = new PartitionProducerState();
  await state.begin(header({ transactional: true }), Promise.resolve(offsets(4n)), 0);
  await state.begin(
    header({ transactional: true, baseSequence: 1 }),
    Promise.resolve(offsets(5n)),
    0,
  );
  assert.equal(state.firstUnstableOffset(), 4n);
  const aborted = state.completeTransaction({
    producerId: 7n,
    producerEpoch: 0,
    coordinatorEpoch: 0,
    commit: false,
    markerOffset: 6n,
    writeMs: 0,
  });
  assert.deepEqual(aborted, { producerId: 7n, firstOffset: 4n, lastOffset: 6n });
  assert.equal(state.firstUnstableOffset(), null);
  assert.equal(state.checkMarker(7n, -1, 0), ErrorCode.INVALID_PRODUCER_EPOCH);
  // A marker from an older coordinator than the last marker's is fenced.
  assert.equal(state.checkMarker(7n, 0, -1), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal(state.checkMarker(7n, 0, 0), ErrorCode.NONE);
});

test('a transaction whose first batch is still being appended already holds the LSO', async () => {
  const state = new PartitionProducerState();
  let finish!: (value: AppendedOffsets) => void;
  const pending = new Promise<AppendedOffsets>((resolve) => {
    finish = resolve;
  });
  const tracked = state.begin(header({ transactional: true }), pending, 0, 12n);
  assert.equal(state.firstUnstableOffset(), 12n, 'bounded by the log end at check time');
  finish(offsets(15n));
  await tracked;
  assert.equal(state.firstUnstableOffset(), 15n);
});

test('producer.id.expiration.ms forgets idle producers, never one with an open transaction', async () => {
  const state = new PartitionProducerState();
  await state.begin(header({ producerId: 1n }), Promise.resolve(offsets(0n)), 1000);
  await state.begin(
    header({ producerId: 2n, transactional: true }),
    Promise.resolve(offsets(1n)),
    1000,
  );
  assert.equal(state.expire(5000, 3000), 1);
  assert.equal(state.get(1n), undefined);
  assert.ok(state.get(2n));
});

test('a snapshot round-trips every producer and refuses corruption', async () => {
  const state = new PartitionProducerState();
  await state.begin(
    header({ producerId: 1n, lastOffsetDelta: 4 }),
    Promise.resolve(offsets(0n, 5n)),
    1000,
  );
  await state.begin(
    header({ producerId: 2n, transactional: true }),
    Promise.resolve(offsets(5n)),
    2000,
  );
  const data = encodeSnapshot(state);
  const restored = new PartitionProducerState();
  decodeSnapshot(data, restored);
  assert.equal(restored.check(header({ producerId: 1n, lastOffsetDelta: 4 })).kind, 'duplicate');
  assert.equal(restored.firstUnstableOffset(), 5n);
  data[data.length - 1] ^= 1;
  assert.throws(() => decodeSnapshot(data, new PartitionProducerState()), /CRC/);
});

function errorOf(check: ReturnType<PartitionProducerState['check']>): number | undefined {
  return check.kind === 'error' ? check.errorCode : undefined;
}

// ---------------------------------------------------------------- the manager over file logs

function batch(options: {
  producerId: bigint;
  epoch?: number;
  sequence: number;
  values: string[];
  transactional?: boolean;
}): Buffer {
  return encodeRecordBatch({
    records: options.values.map((value) => ({ key: null, value: Buffer.from(value) })),
    producerId: options.producerId,
    producerEpoch: options.epoch ?? 0,
    baseSequence: options.sequence,
    transactional: options.transactional ?? false,
  });
}

async function appendThrough(manager: ProducerStateManager, log: PartitionLog, data: Buffer) {
  const validation = validateRecordBatches(data, { origin: 'client' });
  assert.ok(validation.ok);
  const result = await manager.append(log, data, validation.batches, {
    durability: 'write',
    leaderEpoch: 0,
  });
  if (result.lastOffset + 1n > log.highWatermark) log.setHighWatermark(result.lastOffset + 1n);
  return result;
}

/** Writes a marker at leader epoch 0 and moves the HW past it, as the Partition does. */
async function markThrough(
  manager: ProducerStateManager,
  log: PartitionLog,
  marker: Parameters<ProducerStateManager['writeMarker']>[1],
): Promise<number> {
  const written = await manager.writeMarker(log, marker, 0);
  if (written.errorCode === ErrorCode.NONE) log.setHighWatermark(written.endOffset);
  await written.indexed;
  return written.errorCode;
}

async function withFileLogs(
  body: (
    open: () => Promise<{ logs: FileLogManager; manager: ProducerStateManager }>,
  ) => Promise<void>,
  options: { warnings?: string[] } = {},
): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-producer-state-'));
  const clock = new ManualClock();
  const open = async () => {
    const logs = await FileLogManager.open({
      logDirs: [directory],
      clock,
      retentionCheckIntervalMs: 0,
      cleanerIntervalMs: 0,
      checkpointIntervalMs: 0,
    });
    const log = logs.getLog('t', 0) ?? (await logs.createLog('t', 0));
    log.setHighWatermark(log.logEndOffset);
    const manager = new ProducerStateManager({
      clock,
      logger:
        options.warnings === undefined
          ? createJsonLogger({ level: 'off' })
          : createJsonLogger({ level: 'warn', write: (line) => options.warnings?.push(line) }),
      fileSystem: (await import('@gregor/storage')).nodeFileSystem,
      directoryOf: (candidate) => join(directory, `${candidate.topic}-${candidate.partition}`),
      isCurrent: (candidate) => logs.getLog(candidate.topic, candidate.partition) === candidate,
      expirationMs: () => 86_400_000,
      expirationCheckIntervalMs: () => 600_000,
      snapshotIntervalMs: 0,
    });
    await manager.load(logs.allLogs());
    return { logs, manager };
  };
  try {
    await body(open);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('deduplication survives a restart, from a snapshot and from the log alone', async () => {
  await withFileLogs(async (open) => {
    let { logs, manager } = await open();
    let log = logs.getLog('t', 0)!;
    const first = await appendThrough(
      manager,
      log,
      batch({ producerId: 3n, sequence: 0, values: ['a', 'b'] }),
    );
    // Clean stop: snapshot written, then the log closes.
    await manager.stop();
    await logs.close();
    ({ logs, manager } = await open());
    log = logs.getLog('t', 0)!;
    const retried = await appendThrough(
      manager,
      log,
      batch({ producerId: 3n, sequence: 0, values: ['a', 'b'] }),
    );
    assert.equal(retried.baseOffset, first.baseOffset, 'retry answered from the snapshot');
    await appendThrough(manager, log, batch({ producerId: 3n, sequence: 2, values: ['c'] }));
    // No snapshot of the last append (a crash): the state is rebuilt from the log tail.
    await logs.close();
    ({ logs, manager } = await open());
    log = logs.getLog('t', 0)!;
    const again = await appendThrough(
      manager,
      log,
      batch({ producerId: 3n, sequence: 2, values: ['c'] }),
    );
    assert.equal(again.baseOffset, 2n);
    assert.equal(log.logEndOffset, 3n, 'nothing written twice');
    await assert.rejects(
      appendThrough(manager, log, batch({ producerId: 3n, sequence: 9, values: ['x'] })),
      (error: unknown) =>
        error instanceof ProducerStateError &&
        error.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    await manager.stop();
    await logs.close();
  });
});

test('a deleted partition is forgotten at the next snapshot round (no warning, no state)', async () => {
  const warnings: string[] = [];
  await withFileLogs(
    async (open) => {
      const { logs, manager } = await open();
      const kept = logs.getLog('t', 0)!;
      const doomed = await logs.createLog('doomed', 0);
      await appendThrough(manager, kept, batch({ producerId: 1n, sequence: 0, values: ['a'] }));
      await appendThrough(manager, doomed, batch({ producerId: 2n, sequence: 0, values: ['b'] }));
      await logs.deleteLog('doomed', 0);
      await manager.snapshotAll({ includeEmpty: true });
      assert.deepEqual(warnings, []);
      assert.deepEqual(
        manager.describeProducers(kept).map((producer) => producer.producerId),
        [1n],
      );
      // Re-created under the same name, the topic starts with no producers.
      const recreated = await logs.createLog('doomed', 0);
      assert.deepEqual(manager.describeProducers(recreated), []);
      await manager.stop();
      assert.deepEqual(warnings, []);
      await logs.close();
    },
    { warnings },
  );
});

test('LSO, abort markers and the .txnindex (also after a restart)', async () => {
  await withFileLogs(async (open) => {
    let { logs, manager } = await open();
    let log = logs.getLog('t', 0)!;
    await appendThrough(manager, log, batch({ producerId: 1n, sequence: 0, values: ['plain'] }));
    await appendThrough(
      manager,
      log,
      batch({ producerId: 2n, sequence: 0, values: ['t1', 't2'], transactional: true }),
    );
    assert.equal(log.highWatermark, 3n);
    assert.equal(manager.lastStableOffset(log), 1n, 'the open transaction holds the LSO');
    assert.equal(
      await markThrough(manager, log, {
        producerId: 2n,
        producerEpoch: 0,
        coordinatorEpoch: 0,
        commit: false,
      }),
      ErrorCode.NONE,
    );
    assert.equal(manager.lastStableOffset(log), 4n);
    assert.deepEqual(manager.abortedTransactions(log, 0n, 4n), [
      { producerId: 2n, firstOffset: 1n, lastOffset: 3n },
    ]);
    assert.deepEqual(manager.abortedTransactions(log, 4n, 10n), []);
    // A marker from a fenced (older) epoch is refused.
    await appendThrough(
      manager,
      log,
      batch({ producerId: 2n, epoch: 1, sequence: 0, values: ['t3'], transactional: true }),
    );
    assert.equal(
      await markThrough(manager, log, {
        producerId: 2n,
        producerEpoch: 0,
        coordinatorEpoch: 0,
        commit: true,
      }),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    assert.equal(manager.lastStableOffset(log), 4n);
    await logs.close();
    ({ logs, manager } = await open());
    log = logs.getLog('t', 0)!;
    assert.equal(manager.lastStableOffset(log), 4n, 'the open transaction is found again');
    assert.deepEqual(manager.abortedTransactions(log, 0n, 4n), [
      { producerId: 2n, firstOffset: 1n, lastOffset: 3n },
    ]);
    await manager.stop();
    await logs.close();
  });
});
