/**
 * Cluster mode's transaction coordinator following `__transaction_state` leadership: two
 * coordinators over one broker's partitions stand for the old and the new leader of the
 * partition (its leader epoch moved between them), with the cluster marker writer on local
 * partitions. What one coordinator wrote, the other replays.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, encodeRecordBatch, validateRecordBatches } from '@gregor/protocol';
import { MemoryLogManager } from '@gregor/storage';
import { ManualClock, settle } from '../group/test-support.js';
import { createJsonLogger } from '../logging/logger.js';
import type { Partition } from '../replication/partition.js';
import { leaderEpoch, replicaId } from '../replication/types.js';
import { producerStateOver, replicaManagerOver } from '../testing/replicas.js';
import { createClusterMarkerWriter } from './cluster-marker-writer.js';
import { writePartitionMarker } from './marker-writer.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import { TransactionStateLog, transactionStateTopicName } from './transaction-state-log.js';

const logger = createJsonLogger({ level: 'off' });
const transactionalId = 'processor-1';

async function setUp() {
  const clock = new ManualClock();
  const logs = await MemoryLogManager.open({ clock });
  const replicas = replicaManagerOver(logs, clock);
  const stateLog = await replicas.create(transactionStateTopicName, 0);
  const data = await replicas.create('data', 0);
  const producers = producerStateOver(logs, clock);
  await producers.load(logs.allLogs());
  replicas.setProducers(producers);
  let nextProducerId = 100n;
  /** Markers wait while `gate` is set (a slow partition leader). */
  const gate: { held: Promise<void> | undefined } = { held: undefined };
  const localWriter = createClusterMarkerWriter({
    nodeId: 0,
    replicas,
    clock,
    logger,
    completeOffsets: () => undefined,
    leaderOf: (topic, partition) => (replicas.get(topic, partition) === undefined ? null : 0),
    send: () => Promise.reject(new Error('every partition is local here')),
  });
  const coordinator = async () => {
    const built = new TransactionCoordinator({
      clock,
      logger,
      stateLog: new TransactionStateLog({
        storage: {
          existingPartitionCount: () => 1,
          partitionLog: async (partition) => replicas.get(transactionStateTopicName, partition)!,
        },
        clock,
        logger,
        defaultPartitionCount: 1,
      }),
      allocateProducerId: async () => nextProducerId++,
      writeMarkers: async (transaction) => {
        await gate.held;
        return localWriter(transaction);
      },
      partitionExists: (topic, partition) => topic === 'data' && partition === 0,
      offsetsPartitionFor: () => ({ topic: '__consumer_offsets', partition: 0 }),
      config: {
        maxTimeoutMs: () => 900_000,
        abortCheckIntervalMs: () => 1000,
        idExpirationMs: () => 604_800_000,
      },
      followsLeadership: true,
    });
    producers.setTransactionVerifier((batch) => built.verifyTransactionalBatch(batch));
    await built.start();
    return built;
  };
  /** The partition's leadership moves on: a follower at `epoch`, then leader again one later. */
  const moveLeadership = async (epoch: number) => {
    const self = [replicaId(0)];
    stateLog.makeFollower({ leaderEpoch: leaderEpoch(epoch), replicas: self });
    await stateLog.makeLeader({ leaderEpoch: leaderEpoch(epoch + 1), replicas: self, isr: self });
  };
  return { clock, replicas, producers, stateLog, data, gate, coordinator, moveLeadership };
}

async function produceTransactional(
  data: Partition,
  producer: { producerId: bigint; producerEpoch: number },
  value: string,
) {
  const batch = encodeRecordBatch({
    records: [{ key: null, value: Buffer.from(value) }],
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    baseSequence: 0,
    transactional: true,
  });
  const validation = validateRecordBatches(batch, { origin: 'client' });
  assert.ok(validation.ok);
  return data.appendAsLeader(batch, { requiredAcks: 1, batches: validation.batches });
}

/** Transactional ids in the state log, in write order, as `id:status`. */
async function stateRecords(replicas: ReturnType<typeof replicaManagerOver>) {
  const fresh = new TransactionStateLog({
    storage: {
      existingPartitionCount: () => 1,
      partitionLog: async (partition) => replicas.get(transactionStateTopicName, partition)!,
    },
    clock: new ManualClock(),
    logger,
    defaultPartitionCount: 1,
  });
  return [...(await fresh.loadPartition(0)).values()].map(
    (metadata) => `${metadata.transactionalId}:${metadata.status}:${metadata.producerEpoch}`,
  );
}

async function begin(coordinator: TransactionCoordinator, timeoutMs = 60_000) {
  const init = await coordinator.initProducerId({
    transactionalId,
    transactionTimeoutMs: timeoutMs,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(init.errorCode, ErrorCode.NONE);
  const added = await coordinator.addPartitions({
    transactionalId,
    producerId: init.producerId,
    producerEpoch: init.producerEpoch,
    partitions: [{ topic: 'data', partition: 0 }],
  });
  assert.equal(added.errorCode, ErrorCode.NONE);
  return init;
}

test('ids of a partition not led here are NOT_COORDINATOR; COORDINATOR_LOAD_IN_PROGRESS while it loads', async () => {
  const { coordinator } = await setUp();
  const first = await coordinator();
  const init = () =>
    first.initProducerId({
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
  assert.equal((await init()).errorCode, ErrorCode.NOT_COORDINATOR);
  // Idempotent producers need no coordinator partition.
  const idempotent = await first.initProducerId({
    transactionalId: null,
    transactionTimeoutMs: 0,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(idempotent.errorCode, ErrorCode.NONE);
  const loading = first.loadPartition(0, 0);
  assert.equal(first.availabilityFor(transactionalId), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal((await init()).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  await loading;
  assert.equal((await init()).errorCode, ErrorCode.NONE);
  first.unloadPartition(0);
  assert.equal((await init()).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(first.describe(transactionalId).errorCode, ErrorCode.NOT_COORDINATOR);
});

test('a new leader completes a commit the old one prepared, with its epoch; the old one writes nothing more', async () => {
  const { replicas, stateLog, data, gate, coordinator, moveLeadership } = await setUp();
  const old = await coordinator();
  await old.loadPartition(0, stateLog.leaderEpoch);
  const oldEpoch = stateLog.leaderEpoch;
  const producer = await begin(old);
  await produceTransactional(data, producer, 'a');
  let release = () => {};
  gate.held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ending = old.endTransaction({
    transactionalId,
    ...producer,
    commit: true,
    bumpEpoch: false,
  });
  await settle();
  assert.equal(old.metadata(transactionalId)?.status, 'PrepareCommit');
  assert.equal(data.lastStableOffset, 0n, 'the transaction holds the LSO');

  // The coordinator's partition moves to another leader epoch (another broker, in a cluster).
  await moveLeadership(oldEpoch);
  old.unloadPartition(0);
  gate.held = undefined;
  const successor = await coordinator();
  await successor.loadPartition(0, stateLog.leaderEpoch);
  await settle(20);
  assert.equal(successor.metadata(transactionalId)?.status, 'CompleteCommit');
  assert.deepEqual(await stateRecords(replicas), [
    `${transactionalId}:CompleteCommit:${producer.producerEpoch}`,
  ]);
  assert.equal(data.logEndOffset, 2n, 'the record and the new coordinator’s commit marker');
  assert.equal(data.lastStableOffset, 2n);

  // The old coordinator's markers were held; released, it finds the partition gone and stops.
  release();
  const answer = await ending;
  assert.equal(answer.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(data.logEndOffset, 2n, 'no marker from the old coordinator');
  const stateEnd = stateLog.logEndOffset;
  await settle(20);
  assert.equal(stateLog.logEndOffset, stateEnd, 'no state write from the old coordinator');
  // A marker of the older coordinator epoch reaching the partition leader is refused.
  const stale = await writePartitionMarker(
    { replicas, completeOffsets: undefined },
    {
      topic: 'data',
      partition: 0,
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      coordinatorEpoch: oldEpoch,
      commit: false,
    },
  );
  assert.equal(stale, ErrorCode.TRANSACTION_COORDINATOR_FENCED);
  assert.equal(data.logEndOffset, 2n);
});

test('a write in flight when leadership moves fails NOT_COORDINATOR and leaves no state behind', async () => {
  const { replicas, stateLog, coordinator, moveLeadership } = await setUp();
  const old = await coordinator();
  await old.loadPartition(0, stateLog.leaderEpoch);
  await moveLeadership(stateLog.leaderEpoch);
  // Not yet told (the role change reaches the coordinator after the partition's).
  const answer = await old.initProducerId({
    transactionalId,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
  });
  assert.equal(answer.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(await stateRecords(replicas), []);
});

test('a new leader aborts an ongoing transaction past its timeout with a bumped epoch', async () => {
  const { clock, stateLog, data, coordinator, moveLeadership } = await setUp();
  const old = await coordinator();
  await old.loadPartition(0, stateLog.leaderEpoch);
  const producer = await begin(old, 5000);
  await produceTransactional(data, producer, 'a');
  await moveLeadership(stateLog.leaderEpoch);
  old.unloadPartition(0);
  clock.advance(6000);
  const successor = await coordinator();
  await successor.loadPartition(0, stateLog.leaderEpoch);
  await settle(20);
  const metadata = successor.metadata(transactionalId);
  assert.equal(metadata?.status, 'CompleteAbort');
  assert.equal(metadata?.producerEpoch, producer.producerEpoch + 1, 'the producer is fenced');
  assert.equal(data.logEndOffset, 2n, 'the record and its abort marker');
  assert.equal(data.lastStableOffset, 2n);
  const read = await data.read(0n, { isolation: 'committed', maxBytes: 1 << 20 });
  assert.deepEqual(read.abortedTransactions, [
    { producerId: producer.producerId, firstOffset: 0n, lastOffset: 1n },
  ]);
});
