import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, encodeRecordBatch, validateRecordBatches } from '@gregor/protocol';
import { MemoryLogManager, type PartitionLog } from '@gregor/storage';
import { ManualClock, settle } from '../group/test-support.js';
import { createJsonLogger } from '../logging/logger.js';
import { ProducerStateError, ProducerStateManager } from '../producer/producer-state-manager.js';
import { producerStateOver, replicaManagerOver } from '../testing/replicas.js';
import { createMarkerWriter } from './marker-writer.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import { TransactionStateLog, transactionStateTopicName } from './transaction-state-log.js';

const logger = createJsonLogger({ level: 'off' });
const abortCheckIntervalMs = 1000;

/** A coordinator over in-memory logs on a manual clock; `restart` builds a new one over the same logs. */
async function setUp() {
  const clock = new ManualClock();
  const logs = await MemoryLogManager.open({ clock });
  const data = await logs.createLog('data', 0);
  const other = await logs.createLog('data', 1);
  let nextProducerId = 100n;
  const build = async () => {
    const producers = producerStateOver(logs, clock);
    await producers.load(logs.allLogs());
    const replicas = replicaManagerOver(logs, clock);
    replicas.setProducers(producers);
    const coordinator = new TransactionCoordinator({
      clock,
      logger,
      stateLog: new TransactionStateLog({
        storage: {
          existingPartitionCount: () =>
            logs.allLogs().some((log) => log.topic === transactionStateTopicName) ? 2 : null,
          partitionLog: async (partition) =>
            replicas.get(transactionStateTopicName, partition) ??
            (await replicas.create(transactionStateTopicName, partition)),
        },
        clock,
        logger,
        defaultPartitionCount: 2,
      }),
      allocateProducerId: async () => nextProducerId++,
      writeMarkers: createMarkerWriter({
        replicas,
        logger,
        completeOffsets: () => undefined,
      }),
      partitionExists: (topic, partition) => topic === 'data' && partition >= 0 && partition < 2,
      offsetsPartitionFor: () => ({ topic: '__consumer_offsets', partition: 0 }),
      config: {
        maxTimeoutMs: () => 900_000,
        abortCheckIntervalMs: () => abortCheckIntervalMs,
        idExpirationMs: () => 604_800_000,
      },
    });
    producers.setTransactionVerifier((batch) => coordinator.verifyTransactionalBatch(batch));
    await coordinator.start();
    return { coordinator, producers };
  };
  return { clock, logs, data, other, build };
}

function transactionalBatch(producerId: bigint, epoch: number, sequence: number, value: string) {
  return encodeRecordBatch({
    records: [{ key: null, value: Buffer.from(value) }],
    producerId,
    producerEpoch: epoch,
    baseSequence: sequence,
    transactional: true,
  });
}

async function produce(producers: ProducerStateManager, log: PartitionLog, data: Buffer) {
  const validation = validateRecordBatches(data, { origin: 'client' });
  assert.ok(validation.ok);
  const result = await producers.append(log, data, validation.batches, {
    durability: 'write',
    leaderEpoch: 0,
  });
  if (result.lastOffset + 1n > log.highWatermark) log.setHighWatermark(result.lastOffset + 1n);
  return result;
}

async function producerErrorOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ErrorCode.NONE;
  } catch (error) {
    assert.ok(error instanceof ProducerStateError, String(error));
    return error.errorCode;
  }
}

const transactionalId = 'app-1';

test('idempotent producers get fresh ids; a transactional id keeps its id and bumps the epoch', async () => {
  const { build } = await setUp();
  const { coordinator } = await build();
  const first = await coordinator.initProducerId({
    transactionalId: null,
    transactionTimeoutMs: 0,
    producerId: -1n,
    producerEpoch: -1,
  });
  const second = await coordinator.initProducerId({
    transactionalId: null,
    transactionTimeoutMs: 0,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.notEqual(first.producerId, second.producerId);
  const init = (timeoutMs = 60_000) =>
    coordinator.initProducerId({
      transactionalId,
      transactionTimeoutMs: timeoutMs,
      producerId: -1n,
      producerEpoch: -1,
    });
  const a = await init();
  const b = await init();
  assert.deepEqual([a.errorCode, b.errorCode], [ErrorCode.NONE, ErrorCode.NONE]);
  assert.equal(b.producerId, a.producerId);
  assert.equal(b.producerEpoch, a.producerEpoch + 1);
  assert.equal((await init(0)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await init(900_001)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
});

test('commit: markers end the transaction, the LSO moves, late writes are refused (KIP-890 part 1)', async () => {
  const { build, data, other } = await setUp();
  const { coordinator, producers } = await build();
  const { producerId, producerEpoch } = await coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  const request = { transactionalId, producerId, producerEpoch };
  // Not added to the transaction yet: refused.
  assert.equal(
    await producerErrorOf(
      produce(producers, data, transactionalBatch(producerId, producerEpoch, 0, 'x')),
    ),
    ErrorCode.INVALID_TXN_STATE,
  );
  const added = await coordinator.addPartitions({
    ...request,
    partitions: [{ topic: 'data', partition: 0 }],
  });
  assert.equal(added.errorCode, ErrorCode.NONE);
  await produce(producers, data, transactionalBatch(producerId, producerEpoch, 0, 'x'));
  assert.equal(producers.lastStableOffset(data), 0n);
  assert.equal(
    await producerErrorOf(
      produce(producers, other, transactionalBatch(producerId, producerEpoch, 0, 'y')),
    ),
    ErrorCode.INVALID_TXN_STATE,
    'a partition the transaction does not hold',
  );
  const ended = await coordinator.endTransaction({ ...request, commit: true, bumpEpoch: false });
  assert.equal(ended.errorCode, ErrorCode.NONE);
  assert.equal(coordinator.metadata(transactionalId)?.status, 'CompleteCommit');
  assert.equal(data.logEndOffset, 2n, 'one record and its commit marker');
  assert.equal(producers.lastStableOffset(data), 2n);
  // A retried EndTxn is answered again; the opposite outcome is refused.
  assert.equal(
    (await coordinator.endTransaction({ ...request, commit: true, bumpEpoch: false })).errorCode,
    ErrorCode.NONE,
  );
  assert.equal(
    (await coordinator.endTransaction({ ...request, commit: false, bumpEpoch: false })).errorCode,
    ErrorCode.INVALID_TXN_STATE,
  );
  // A delayed write of the finished transaction cannot open a hanging one.
  assert.equal(
    await producerErrorOf(
      produce(producers, data, transactionalBatch(producerId, producerEpoch, 1, 'late')),
    ),
    ErrorCode.INVALID_TXN_STATE,
  );
  assert.equal(producers.lastStableOffset(data), 2n);
});

test('an abandoned transaction is aborted after its timeout and its producer fenced', async () => {
  const { build, clock, data } = await setUp();
  const { coordinator, producers } = await build();
  const { producerId, producerEpoch } = await coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 5000,
    producerId: -1n,
    producerEpoch: -1,
  });
  const request = { transactionalId, producerId, producerEpoch };
  await coordinator.addPartitions({ ...request, partitions: [{ topic: 'data', partition: 0 }] });
  await produce(producers, data, transactionalBatch(producerId, producerEpoch, 0, 'x'));
  clock.advance(4000);
  await settle();
  assert.equal(coordinator.metadata(transactionalId)?.status, 'Ongoing');
  clock.advance(2000);
  await settle(20);
  const metadata = coordinator.metadata(transactionalId);
  assert.equal(metadata?.status, 'CompleteAbort');
  assert.equal(metadata?.producerEpoch, producerEpoch + 1);
  assert.equal(producers.lastStableOffset(data), data.highWatermark);
  assert.deepEqual(producers.abortedTransactions(data, 0n, 10n), [
    { producerId, firstOffset: 0n, lastOffset: 1n },
  ]);
  assert.equal(
    (await coordinator.endTransaction({ ...request, commit: true, bumpEpoch: false })).errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
  assert.equal(
    await producerErrorOf(
      produce(producers, data, transactionalBatch(producerId, producerEpoch, 1, 'z')),
    ),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
});

test('a new instance fences the zombie: its transaction is aborted and its requests refused', async () => {
  const { build, data } = await setUp();
  const { coordinator, producers } = await build();
  const init = () =>
    coordinator.initProducerId({
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
  const zombie = await init();
  const zombieRequest = { transactionalId, ...zombie };
  await coordinator.addPartitions({
    ...zombieRequest,
    partitions: [{ topic: 'data', partition: 0 }],
  });
  await produce(
    producers,
    data,
    transactionalBatch(zombie.producerId, zombie.producerEpoch, 0, 'z'),
  );
  const successor = await init();
  assert.equal(successor.errorCode, ErrorCode.NONE);
  assert.equal(successor.producerEpoch, zombie.producerEpoch + 2, 'abort bump + init bump');
  assert.equal(producers.lastStableOffset(data), data.highWatermark, 'zombie transaction aborted');
  assert.equal(
    (
      await coordinator.addPartitions({
        ...zombieRequest,
        partitions: [{ topic: 'data', partition: 1 }],
      })
    ).errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
  // KIP-360: resuming with a stale epoch is fenced too.
  const resumed = await coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: zombie.producerId,
    producerEpoch: zombie.producerEpoch,
  });
  assert.equal(resumed.errorCode, ErrorCode.PRODUCER_FENCED);
});

test('KIP-890 part 2: a delayed EndTxn of an earlier transaction cannot end a later one (KAFKA-17754)', async () => {
  const { build } = await setUp();
  const { coordinator } = await build();
  const start = await coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  const first = {
    transactionalId,
    producerId: start.producerId,
    producerEpoch: start.producerEpoch,
  };
  await coordinator.addPartitions({ ...first, partitions: [{ topic: 'data', partition: 0 }] });
  const ended = await coordinator.endTransaction({ ...first, commit: true, bumpEpoch: true });
  assert.equal(ended.errorCode, ErrorCode.NONE);
  assert.equal(ended.producerEpoch, first.producerEpoch + 1, 'EndTxn v5 returns the bumped epoch');
  // The client's retry of that EndTxn (old epoch) is answered with the same outcome.
  const retried = await coordinator.endTransaction({ ...first, commit: true, bumpEpoch: true });
  assert.deepEqual(
    [retried.errorCode, retried.producerEpoch],
    [ErrorCode.NONE, ended.producerEpoch],
  );
  const second = { ...first, producerEpoch: ended.producerEpoch };
  await coordinator.addPartitions({ ...second, partitions: [{ topic: 'data', partition: 1 }] });
  // The first transaction's EndTxn arrives late (old epoch) while the second is open.
  const delayed = await coordinator.endTransaction({ ...first, commit: false, bumpEpoch: true });
  assert.equal(delayed.errorCode, ErrorCode.PRODUCER_FENCED);
  assert.equal(coordinator.metadata(transactionalId)?.status, 'Ongoing');
  const done = await coordinator.endTransaction({ ...second, commit: true, bumpEpoch: true });
  assert.equal(done.errorCode, ErrorCode.NONE);
});

test('the coordinator reloads __transaction_state and finishes a commit a crash interrupted', async () => {
  const { build, data, logs } = await setUp();
  const first = await build();
  const { producerId, producerEpoch } = await first.coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  const request = { transactionalId, producerId, producerEpoch };
  await first.coordinator.addPartitions({
    ...request,
    partitions: [{ topic: 'data', partition: 0 }],
  });
  await produce(first.producers, data, transactionalBatch(producerId, producerEpoch, 0, 'x'));
  // Crash between PrepareCommit and the markers: write the prepare record the way the coordinator does.
  const stateLog = new TransactionStateLog({
    storage: {
      existingPartitionCount: () => 2,
      partitionLog: async (partition) =>
        replicaManagerOver(logs).get(transactionStateTopicName, partition)!,
    },
    clock: new ManualClock(),
    logger,
    defaultPartitionCount: 2,
  });
  const metadata = first.coordinator.metadata(transactionalId)!;
  await stateLog.write(transactionalId, { ...metadata, status: 'PrepareCommit' });
  const second = await build();
  await settle(20);
  assert.equal(second.coordinator.metadata(transactionalId)?.status, 'CompleteCommit');
  assert.equal(second.producers.lastStableOffset(data), data.highWatermark);
  assert.equal(data.logEndOffset, 2n, 'the commit marker was written after the reload');
  const again = await second.coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.deepEqual([again.producerId, again.producerEpoch], [producerId, producerEpoch + 1]);
});
