import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, encodeRecordBatch, validateRecordBatches } from '@gregor/protocol';
import {
  FileLogManager,
  FilePartitionLog,
  MemoryLogManager,
  nodeFileSystem,
  type PartitionLog,
} from '@gregor/storage';
import { ManualClock } from '../group/test-support.js';
import { createJsonLogger, type Logger } from '../logging/logger.js';
import type { ProducerStateManager } from '../producer/producer-state-manager.js';
import { producerStateOver } from '../testing/replicas.js';
import { highWatermarkCheckpointFileName } from './high-watermark-checkpoint.js';
import { Partition } from './partition.js';
import { ReplicaManager } from './replica-manager.js';
import { leaderEpoch, type ReplicaId, replicaId } from './types.js';

const logger = createJsonLogger({ level: 'off' });
const [leader, first, second] = [replicaId(0), replicaId(1), replicaId(2)];

function records(count: number, options: { producerId?: bigint; sequence?: number } = {}) {
  return encodeRecordBatch({
    records: Array.from({ length: count }, (_, index) => ({
      key: null,
      value: Buffer.from(`v${index}`),
      timestamp: 1_000n,
    })),
    baseTimestamp: 1_000n,
    ...(options.producerId !== undefined && {
      producerId: options.producerId,
      producerEpoch: 0,
      baseSequence: options.sequence ?? 0,
    }),
  });
}

async function leaderOf(options: {
  replicas: ReplicaId[];
  isr?: ReplicaId[];
  minInsyncReplicas?: number;
  producers?: ProducerStateManager;
  log?: PartitionLog;
  clock?: ManualClock;
  logger?: Logger;
  replicaRegistered?: (id: ReplicaId) => boolean;
}) {
  const clock = options.clock ?? new ManualClock();
  const log =
    options.log ??
    (await (await MemoryLogManager.open({ clock: new ManualClock(0) })).createLog('t', 0));
  const partition = new Partition({
    log,
    localReplicaId: leader,
    producers: options.producers,
    clock,
    logger: options.logger ?? logger,
    minInsyncReplicas: () => options.minInsyncReplicas ?? 1,
    replicaLagTimeMaxMs: () => 10_000,
    replicaRegistered: options.replicaRegistered,
  });
  await partition.makeLeader({
    leaderEpoch: leaderEpoch(3),
    replicas: options.replicas,
    isr: options.isr ?? options.replicas,
  });
  return { partition, log, clock };
}

async function errorCodeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ErrorCode.NONE;
  } catch (error) {
    return (error as { errorCode?: number }).errorCode ?? -1;
  }
}

test('the high watermark is the lowest LEO over the maximal ISR and never goes back', async () => {
  const warnings: string[] = [];
  const { partition, clock } = await leaderOf({
    replicas: [leader, first, second],
    logger: createJsonLogger({ level: 'warn', write: (line) => warnings.push(line) }),
  });
  await partition.appendAsLeader(records(3), { requiredAcks: 1 });
  assert.equal(partition.logEndOffset, 3n);
  assert.equal(partition.highWatermark, 0n, 'no follower has fetched');
  partition.updateFollowerFetchState(first, 3n);
  assert.equal(partition.highWatermark, 0n, 'the second follower is in the ISR at LEO -1');
  partition.updateFollowerFetchState(second, 2n);
  assert.equal(partition.highWatermark, 2n);
  // The second follower leaves the ISR: while it is still caught up (within
  // replica.lag.time.max.ms of the leadership start) it counts, as in Kafka; then only the ISR.
  partition.updateIsr([leader, first]);
  assert.equal(partition.highWatermark, 2n);
  clock.advance(10_001);
  partition.maybeIncrementHighWatermark();
  assert.equal(partition.highWatermark, 3n);
  // Operators see leadership and ISR changes at WARN, with the old and new values.
  const logged = warnings.map((line) => JSON.parse(line));
  assert.deepEqual(
    logged.map((entry) => [entry.msg ?? entry.message, entry.previousIsr, entry.isr]),
    [
      ['partition leadership: this broker leads', undefined, [0, 1, 2]],
      ['ISR shrink', [0, 1, 2], [0, 1]],
    ],
  );
  partition.updateFollowerFetchState(first, 1n);
  assert.equal(partition.highWatermark, 3n, 'never decreases');
  // Far behind for longer than the lag bound: out of sync, an ISR shrink candidate.
  clock.advance(20_000);
  assert.deepEqual(partition.outOfSyncReplicas(), [first]);
  assert.equal(partition.isIsrEligible(second), false, 'LEO 2 is below the HW');
  partition.updateFollowerFetchState(second, 3n);
  assert.equal(partition.isIsrEligible(second), true);
});

test('a new leader gives its ISR followers replica.lag.time.max.ms to fetch before they lag', async () => {
  const clock = new ManualClock();
  const { partition } = await leaderOf({
    replicas: [leader, first, second],
    isr: [leader, first],
    clock,
  });
  assert.deepEqual(partition.outOfSyncReplicas(), [], 'no follower has fetched yet');
  clock.advance(10_000);
  assert.deepEqual(partition.outOfSyncReplicas(), []);
  clock.advance(1);
  assert.deepEqual(partition.outOfSyncReplicas(), [first]);
});

test('new metadata for the same leadership keeps an ISR expansion in flight and takes the partition epoch', async () => {
  const { partition } = await leaderOf({ replicas: [leader, first, second], isr: [leader, first] });
  partition.updateIsr([leader, first], [second]);
  await partition.makeLeader({
    leaderEpoch: leaderEpoch(3),
    replicas: [leader, first, second],
    isr: [leader, first],
    partitionEpoch: 5,
  });
  assert.deepEqual([...partition.isr], [leader, first]);
  assert.deepEqual([...partition.maximalIsr].sort(), [leader, first, second]);
  assert.equal(partition.partitionEpoch, 5);
  // A new leader epoch starts from the metadata alone.
  await partition.makeLeader({
    leaderEpoch: leaderEpoch(4),
    replicas: [leader, first, second],
    isr: [leader, first],
    partitionEpoch: 6,
  });
  assert.deepEqual([...partition.maximalIsr].sort(), [leader, first]);
});

test('strict min.insync rule: the HW stays while |ISR| < min.insync, acks=all is refused', async () => {
  const { partition } = await leaderOf({
    replicas: [leader, first, second],
    isr: [leader],
    minInsyncReplicas: 2,
  });
  await partition.appendAsLeader(records(2), { requiredAcks: 1 });
  assert.equal(partition.highWatermark, 0n, 'the leader alone does not commit');
  assert.equal(
    await errorCodeOf(partition.appendAsLeader(records(1), { requiredAcks: -1 })),
    ErrorCode.NOT_ENOUGH_REPLICAS,
  );
  assert.equal(partition.logEndOffset, 2n, 'a refused acks=all appends nothing');
  partition.updateFollowerFetchState(first, 2n);
  partition.updateIsr([leader, first]);
  assert.equal(partition.highWatermark, 2n);
});

test('acks=all parks until the HW covers the batch, and times out otherwise', async () => {
  const { partition, clock } = await leaderOf({ replicas: [leader, first], minInsyncReplicas: 2 });
  let done = false;
  const parked = partition.appendAsLeader(records(2), { requiredAcks: -1, timeoutMs: 1_000 });
  void parked.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(partition.logEndOffset, 2n);
  assert.equal(done, false, 'waits for the follower');
  partition.updateFollowerFetchState(first, 2n);
  assert.equal((await parked).baseOffset, 0n);
  const late = partition.appendAsLeader(records(1), { requiredAcks: -1, timeoutMs: 1_000 });
  await new Promise((resolve) => setImmediate(resolve));
  clock.advance(1_000);
  assert.equal(await errorCodeOf(late), ErrorCode.REQUEST_TIMED_OUT);
});

test('a sole replica commits at once; acks=1 and acks=all see their own end', async () => {
  const { partition } = await leaderOf({ replicas: [leader] });
  const result = await partition.appendAsLeader(records(2), { requiredAcks: -1 });
  assert.equal(result.baseOffset, 0n);
  assert.equal(partition.highWatermark, 2n);
  await partition.appendAsLeader(records(1), { requiredAcks: 1 });
  assert.equal(partition.highWatermark, 3n);
  const read = await partition.read(0n, { isolation: 'uncommitted', maxBytes: 1 << 20 });
  assert.equal(read.buffers.length, 2);
  assert.equal(
    await errorCodeOf(partition.read(4n, { isolation: 'uncommitted', maxBytes: 100 })),
    ErrorCode.OFFSET_OUT_OF_RANGE,
  );
});

test('leader epochs: stamped on appends, older fenced, newer unknown, OffsetForLeaderEpoch', async () => {
  const { partition, log } = await leaderOf({ replicas: [leader] });
  assert.equal(partition.leaderEpochError(-1), ErrorCode.NONE);
  assert.equal(partition.leaderEpochError(3), ErrorCode.NONE);
  assert.equal(partition.leaderEpochError(2), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(partition.leaderEpochError(4), ErrorCode.UNKNOWN_LEADER_EPOCH);
  await partition.appendAsLeader(records(2), { requiredAcks: 1 });
  await partition.makeLeader({ leaderEpoch: leaderEpoch(5), replicas: [leader], isr: [leader] });
  await partition.appendAsLeader(records(1), { requiredAcks: 1 });
  assert.deepEqual(log.leaderEpochEntries(), [
    { epoch: 3, startOffset: 0n },
    { epoch: 5, startOffset: 2n },
  ]);
  const [batch] = (await log.read(2n, { maxBytes: 1 << 20 })).buffers;
  assert.equal(batch!.readInt32BE(12), 5, 'partitionLeaderEpoch of the new batch');
  assert.deepEqual(partition.endOffsetForEpoch(3, 5), { leaderEpoch: 3, endOffset: 2n });
  assert.deepEqual(partition.endOffsetForEpoch(4, -1), { leaderEpoch: 3, endOffset: 2n });
  assert.throws(() => partition.endOffsetForEpoch(3, 4), {
    errorCode: ErrorCode.FENCED_LEADER_EPOCH,
  });
  partition.makeFollower({ leaderEpoch: leaderEpoch(6), replicas: [first, leader] });
  assert.equal(
    await errorCodeOf(partition.appendAsLeader(records(1), { requiredAcks: 1 })),
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  // A follower serves other replicas only.
  assert.equal(
    await errorCodeOf(partition.read(0n, { isolation: 'uncommitted', maxBytes: 100 })),
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  assert.equal(
    (await partition.read(0n, { isolation: 'replica', maxBytes: 1 << 20 })).buffers.length > 0,
    true,
  );
  assert.throws(() => partition.endOffsetForEpoch(3, -1), {
    errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
  });
  assert.deepEqual(partition.endOffsetForEpoch(3, -1, { fromReplica: true }), {
    leaderEpoch: 3,
    endOffset: 2n,
  });
});

test('an acks=all append whose leadership ends while it is written answers NOT_LEADER_OR_FOLLOWER at once', {
  timeout: 10_000,
}, async () => {
  const { partition } = await leaderOf({ replicas: [leader, first], minInsyncReplicas: 2 });
  // The append is on its way to the log (fsync) when the broker learns it follows.
  const lost = partition.appendAsLeader(records(1), { requiredAcks: -1, timeoutMs: 60_000 });
  partition.makeFollower({ leaderEpoch: leaderEpoch(4), replicas: [first, leader] });
  assert.equal(await errorCodeOf(lost), ErrorCode.NOT_LEADER_OR_FOLLOWER);

  await partition.makeLeader({
    leaderEpoch: leaderEpoch(5),
    replicas: [leader, first],
    isr: [leader, first],
  });
  // Still the leader at its epoch: the append waits for the follower as before.
  const kept = partition.appendAsLeader(records(1), { requiredAcks: -1, timeoutMs: 60_000 });
  await new Promise((resolve) => setImmediate(resolve));
  partition.updateFollowerFetchState(first, partition.logEndOffset);
  assert.equal(await errorCodeOf(kept), ErrorCode.NONE);
});

test('a caught-up replica out of the ISR holds the HW back only while its broker is registered', async () => {
  const registered = new Set<ReplicaId>([leader, first, second]);
  const { partition } = await leaderOf({
    replicas: [leader, first, second],
    replicaRegistered: (id) => registered.has(id),
  });
  await partition.appendAsLeader(records(2), { requiredAcks: 1 });
  partition.updateFollowerFetchState(first, 2n);
  partition.updateFollowerFetchState(second, 2n);
  assert.equal(partition.highWatermark, 2n);
  // Broker `first` dies; the controller takes it out of the ISR. Caught up a moment ago, it
  // would count for replica.lag.time.max.ms while alive (it may rejoin at once, as in Kafka).
  partition.updateIsr([leader, second]);
  await partition.appendAsLeader(records(1), { requiredAcks: 1 });
  partition.updateFollowerFetchState(second, 3n);
  assert.equal(partition.highWatermark, 2n, 'a live caught-up replica is waited for');
  registered.delete(first);
  partition.maybeIncrementHighWatermark();
  assert.equal(partition.highWatermark, 3n, 'an unregistered one is not');
});

test('an acks=all append still being written while its broker follows, truncates it and leads again is not acknowledged', {
  timeout: 10_000,
}, async () => {
  const log = await (await MemoryLogManager.open({ clock: new ManualClock(0) })).createLog('t', 0);
  const { partition } = await leaderOf({ replicas: [leader, first], minInsyncReplicas: 2, log });
  // The first append's bytes are in the log (LEO 1) but its completion (the fsync) is held.
  let release = () => {};
  const written = new Promise<void>((resolve) => {
    release = resolve;
  });
  const append = log.append.bind(log);
  log.append = (buffer, options) => {
    log.append = append;
    return append(buffer, options).then(async (result) => {
      await written;
      return result;
    });
  };
  const frozen = partition.appendAsLeader(records(1), { requiredAcks: -1, timeoutMs: 60_000 });
  // Meanwhile another broker leads epoch 4 without that batch: this one follows and truncates it.
  partition.makeFollower({ leaderEpoch: leaderEpoch(4), replicas: [first, leader] });
  await partition.truncateTo(0n);
  // It leads again (epoch 5); two new records fill offsets 0-1 and the follower holds them.
  await partition.makeLeader({
    leaderEpoch: leaderEpoch(5),
    replicas: [leader, first],
    isr: [leader, first],
  });
  const fresh = await partition.appendAsLeader(records(2), { requiredAcks: 1 });
  assert.equal(fresh.baseOffset, 0n);
  partition.updateFollowerFetchState(first, 2n);
  assert.equal(partition.highWatermark, 2n);
  // The first write completes only now: offset 0 holds another record, so no acknowledgement.
  release();
  assert.equal(await errorCodeOf(frozen), ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('a follower appends the leader batches as they are; its HW is min(leader HW, own LEO)', async () => {
  const { partition: leading } = await leaderOf({ replicas: [leader] });
  await leading.appendAsLeader(records(2), { requiredAcks: 1 });
  await leading.appendAsLeader(records(3), { requiredAcks: 1 });
  const fetched = await leading.read(0n, { isolation: 'replica', maxBytes: 1 << 20 });
  const { partition: following, log } = await leaderOf({ replicas: [leader] });
  following.makeFollower({ leaderEpoch: leaderEpoch(3), replicas: [first, leader] });
  await following.appendAsFollower(Buffer.concat(fetched.buffers));
  assert.equal(following.logEndOffset, 5n);
  assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 3, startOffset: 0n }]);
  following.updateFollowerHighWatermark(9n);
  assert.equal(following.highWatermark, 5n, 'bounded by its own LEO');
  following.updateFollowerHighWatermark(2n);
  assert.equal(following.highWatermark, 5n, 'never backwards');
  const stored = await following.read(0n, { isolation: 'replica', maxBytes: 1 << 20 });
  assert.deepEqual(Buffer.concat(stored.buffers), Buffer.concat(fetched.buffers), 'same bytes');
});

test('truncation rolls the producer state back to the new log end', async () => {
  const clock = new ManualClock();
  const logs = await MemoryLogManager.open({ clock });
  const log = await logs.createLog('t', 0);
  const producers = producerStateOver(logs, clock);
  const { partition } = await leaderOf({ replicas: [leader], producers, log, clock });
  const idempotent = (sequence: number) => {
    const data = records(1, { producerId: 9n, sequence });
    const validation = validateRecordBatches(data, { origin: 'client' });
    assert.ok(validation.ok);
    return partition.appendAsLeader(data, { requiredAcks: 1, batches: validation.batches });
  };
  await idempotent(0);
  await idempotent(1);
  assert.equal(
    await errorCodeOf(idempotent(1)),
    ErrorCode.NONE,
    'a retry of the last batch is answered as a duplicate with its offsets',
  );
  assert.equal(partition.logEndOffset, 2n);
  partition.makeFollower({ leaderEpoch: leaderEpoch(4), replicas: [first, leader] });
  await partition.truncateTo(1n);
  await partition.makeLeader({ leaderEpoch: leaderEpoch(5), replicas: [leader], isr: [leader] });
  // Sequence 1 is gone from the log: it is the next expected one, not a duplicate.
  const again = await idempotent(1);
  assert.equal(again.baseOffset, 1n);
  assert.equal(
    await errorCodeOf(idempotent(3)),
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    'and sequence 2 comes next',
  );
  await logs.close();
});

/** File logs in `directory` and a ReplicaManager checkpointing their HWs there. */
function checkpointedReplicas(directory: string, rolesFromMetadata: boolean) {
  return {
    open: () =>
      FileLogManager.open({
        logDirs: [directory],
        clock: new ManualClock(0),
        retentionCheckIntervalMs: 0,
        cleanerIntervalMs: 0,
        checkpointIntervalMs: 0,
      }),
    replicasOver: (logs: FileLogManager) =>
      new ReplicaManager({
        logs,
        nodeId: 0,
        clock: new ManualClock(),
        logger,
        fileSystem: nodeFileSystem,
        logDirOf: (log) => (log instanceof FilePartitionLog ? directory : undefined),
        checkpointIntervalMs: 0,
        rolesFromMetadata,
      }),
  };
}

test('replication-offset-checkpoint round trip; a sole replica restarts at its log end', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-hw-'));
  try {
    const { open, replicasOver } = checkpointedReplicas(directory, false);
    let logs = await open();
    let replicas = replicasOver(logs);
    await replicas.start([directory]);
    const partition = await replicas.create('t', 0);
    await replicas.create('u', 1);
    await partition.appendAsLeader(records(3), { requiredAcks: -1 });
    await replicas.stop();
    await logs.close();
    assert.equal(
      await readFile(join(directory, highWatermarkCheckpointFileName), 'utf8'),
      '0\n2\nt 0 3\nu 1 0\n',
    );
    logs = await open();
    const lowered = logs.getLog('t', 0)!;
    lowered.setHighWatermark(0n);
    replicas = replicasOver(logs);
    await replicas.start([directory]);
    assert.equal(replicas.get('t', 0)!.highWatermark, 3n);
    await replicas.stop();
    await logs.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('cluster mode: a restarted replica keeps its checkpointed HW until its role is known', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-hw-'));
  try {
    const { open, replicasOver } = checkpointedReplicas(directory, true);
    let logs = await open();
    let replicas = replicasOver(logs);
    await replicas.start([directory]);
    // A follower's log: 3 records appended, the leader's HW (2) learnt with them.
    const partition = await replicas.create('t', 0);
    partition.makeFollower({ leaderEpoch: leaderEpoch(1), replicas: [leader, first] });
    await partition.appendAsFollower(
      encodeRecordBatch({
        records: ['a', 'b', 'c'].map((value) => ({
          key: null,
          value: Buffer.from(value),
          timestamp: 1_000n,
        })),
        partitionLeaderEpoch: 1,
      }),
    );
    partition.updateFollowerHighWatermark(2n);
    await replicas.stop();
    await logs.close();
    logs = await open();
    replicas = replicasOver(logs);
    await replicas.start([directory]);
    const restarted = replicas.get('t', 0)!;
    assert.equal(restarted.logEndOffset, 3n);
    assert.equal(restarted.highWatermark, 2n, 'offset 2 was never committed: not visible yet');
    await replicas.stop();
    await logs.close();
    // The same disk as a single node: the sole in-sync replica commits its whole log.
    logs = await open();
    replicas = checkpointedReplicas(directory, false).replicasOver(logs);
    await replicas.start([directory]);
    assert.equal(replicas.get('t', 0)!.highWatermark, 3n);
    await replicas.stop();
    await logs.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
