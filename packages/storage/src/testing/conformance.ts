// The storage conformance suite: the same behaviour asserted against every PartitionLog
// implementation (memory and file). Each implementation's test file calls `describeConformance`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultCompressionCodecs } from '@gregor/compression';
import {
  type BatchHeader,
  batchAttributes,
  decodeRecordBatch,
  encodeControlBatch,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  readBatchHeader,
} from '@gregor/protocol';
import type { LogConfig } from '../config.js';
import { OffsetOutOfRangeError } from '../errors.js';
import type { LogManager, PartitionLog } from '../types.js';
import { listOffsetsTimestamp } from '../types.js';
import {
  batchBaseOffsets,
  decodeAll,
  type ManualClock,
  makeBatch,
  makeSimpleBatch,
} from './batches.js';

export interface ConformanceHarness {
  manager: LogManager;
  clock: ManualClock;
  /** Closes and reopens the manager (file: from disk; memory: returns the same manager). */
  reopen?: () => Promise<LogManager>;
  cleanup: () => Promise<void>;
}

export type HarnessFactory = (defaultConfig?: Partial<LogConfig>) => Promise<ConformanceHarness>;

async function withLog(
  factory: HarnessFactory,
  config: Partial<LogConfig>,
  body: (log: PartitionLog, harness: ConformanceHarness) => Promise<void>,
): Promise<void> {
  const harness = await factory(config);
  try {
    const log = await harness.manager.createLog('topic-a', 0, config);
    await body(log, harness);
  } finally {
    await harness.cleanup();
  }
}

async function readAll(log: PartitionLog, from: bigint, maxOffset?: bigint): Promise<Buffer[]> {
  const result: Buffer[] = [];
  let offset = from;
  const end = maxOffset ?? log.logEndOffset;
  while (offset < end) {
    const read = await log.read(offset, { maxBytes: 1 << 20, maxOffset: end, minOneBatch: true });
    if (read.buffers.length === 0) break;
    result.push(...read.buffers);
    // From the last batch's header: a batch a cleaner emptied has no records.
    const last = batchHeaders(read.buffers).at(-1)!;
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  }
  return result;
}

function batchHeaders(buffers: Buffer[]): BatchHeader[] {
  const headers: BatchHeader[] = [];
  for (const buffer of buffers) {
    for (let position = 0; position < buffer.length; ) {
      const header = readBatchHeader(buffer, position);
      headers.push(header);
      position += header.batchLength + 12;
    }
  }
  return headers;
}

/** One line per batch: `base-last flags records`, flags c(ontrol) t(ransactional) h(orizon). */
function describeBatches(buffers: Buffer[]): string[] {
  return batchHeaders(buffers).map((header) => {
    const flags =
      (header.attributes & batchAttributes.control ? 'c' : '') +
      (header.attributes & batchAttributes.transactional ? 't' : '') +
      (header.attributes & batchAttributes.deleteHorizonFlag ? 'h' : '');
    const last = header.baseOffset + BigInt(header.lastOffsetDelta);
    return `${header.baseOffset}-${last} ${flags || '-'} ${header.recordsCount}`;
  });
}

function decodeAllWith(
  buffers: Buffer[],
): { offset: bigint; key: string | null; value: string | null }[] {
  const result: { offset: bigint; key: string | null; value: string | null }[] = [];
  for (const buffer of buffers) {
    for (let position = 0; position < buffer.length; ) {
      const size = buffer.readInt32BE(position + 8) + 12;
      for (const record of decodeRecordBatch(
        buffer.subarray(position, position + size),
        defaultCompressionCodecs,
      ).records) {
        result.push({
          offset: record.offset,
          key: record.key?.toString() ?? null,
          value: record.value?.toString() ?? null,
        });
      }
      position += size;
    }
  }
  return result;
}

export function describeConformance(name: string, factory: HarnessFactory): void {
  describe(`PartitionLog conformance: ${name}`, () => {
    it('assigns contiguous offsets and reads back exactly what was appended', async () => {
      await withLog(factory, {}, async (log) => {
        const first = await log.append(makeSimpleBatch(3, 'a'), {
          durability: 'fsync',
          leaderEpoch: 0,
        });
        const second = await log.append(makeSimpleBatch(2, 'b'), {
          durability: 'write',
          leaderEpoch: 0,
        });
        assert.equal(first.baseOffset, 0n);
        assert.equal(first.lastOffset, 2n);
        assert.equal(second.baseOffset, 3n);
        assert.equal(second.lastOffset, 4n);
        assert.equal(log.logEndOffset, 5n);
        const records = decodeAll(await readAll(log, 0n));
        assert.deepEqual(
          records.map((record) => record.offset),
          [0n, 1n, 2n, 3n, 4n],
        );
        assert.deepEqual(
          records.map((record) => record.value),
          ['a-0', 'a-1', 'a-2', 'b-0', 'b-1'],
        );
        const middle = await log.read(4n, { maxBytes: 1 << 20 });
        assert.deepEqual(batchBaseOffsets(middle.buffers), [3n]);
      });
    });

    it('assigns offsets in call order under concurrent appends', async () => {
      await withLog(factory, {}, async (log) => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            log.append(makeSimpleBatch(1 + (index % 3), `c${index}`), {
              durability: index % 2 ? 'fsync' : 'write',
              leaderEpoch: 0,
            }),
          ),
        );
        let expected = 0n;
        for (const [index, result] of results.entries()) {
          assert.equal(result.baseOffset, expected);
          expected += BigInt(1 + (index % 3));
        }
        assert.equal(log.logEndOffset, expected);
        assert.equal(decodeAll(await readAll(log, 0n)).length, Number(expected));
      });
    });

    it('rejects reads outside [logStartOffset, logEndOffset] and returns nothing at the end', async () => {
      await withLog(factory, {}, async (log) => {
        await log.append(makeSimpleBatch(2, 'a'), { durability: 'write', leaderEpoch: 0 });
        await assert.rejects(log.read(3n, { maxBytes: 1000 }), OffsetOutOfRangeError);
        await assert.rejects(log.read(-1n, { maxBytes: 1000 }), OffsetOutOfRangeError);
        assert.deepEqual(await log.read(2n, { maxBytes: 1000 }), { buffers: [], sizeBytes: 0 });
      });
    });

    it('returns large reads whole, bounded by maxBytes', async () => {
      await withLog(factory, {}, async (log) => {
        // ~200 KiB in one segment: more than one 64 KiB header-walk chunk of the file log.
        const value = (index: number): string => String(index).padStart(4000, '.');
        const batches = Array.from({ length: 50 }, (_, index) =>
          makeBatch([{ key: `k${index}`, value: value(index) }]),
        );
        for (const batch of batches)
          await log.append(batch, { durability: 'write', leaderEpoch: 0 });
        const all = await log.read(0n, { maxBytes: 1 << 20 });
        assert.equal(
          all.sizeBytes,
          batches.reduce((sum, batch) => sum + batch.length, 0),
        );
        assert.deepEqual(
          decodeAll(all.buffers).map((record) => [record.offset, record.key, record.value]),
          batches.map((_, index) => [BigInt(index), `k${index}`, value(index)]),
        );
        const batchBytes = batches[10].length; // keys k10..k49: equal sizes from here on
        const fit = Math.floor(100_000 / batchBytes);
        const bounded = await log.read(10n, { maxBytes: 100_000 });
        assert.equal(bounded.sizeBytes, fit * batchBytes);
        assert.deepEqual(
          batchBaseOffsets(bounded.buffers),
          Array.from({ length: fit }, (_, index) => BigInt(10 + index)),
        );
      });
    });

    it('bounds reads by maxBytes, minOneBatch and maxOffset', async () => {
      await withLog(factory, {}, async (log) => {
        const batch = makeSimpleBatch(4, 'x');
        for (let index = 0; index < 4; index++)
          await log.append(Buffer.from(batch), { durability: 'write', leaderEpoch: 0 });
        const small = await log.read(0n, { maxBytes: batch.length - 1 });
        assert.equal(small.sizeBytes, 0);
        const one = await log.read(0n, { maxBytes: batch.length - 1, minOneBatch: true });
        assert.equal(one.sizeBytes, batch.length);
        const two = await log.read(1n, { maxBytes: batch.length * 2 + 10 });
        assert.deepEqual(batchBaseOffsets(two.buffers), [0n, 4n]);
        const bounded = await log.read(0n, { maxBytes: 1 << 20, maxOffset: 8n });
        assert.deepEqual(batchBaseOffsets(bounded.buffers), [0n, 4n]);
        const partialBatch = await log.read(0n, { maxBytes: 1 << 20, maxOffset: 7n });
        assert.deepEqual(batchBaseOffsets(partialBatch.buffers), [0n]);
      });
    });

    it('finds offsets by timestamp (ListOffsets)', async () => {
      await withLog(factory, {}, async (log) => {
        await log.append(makeBatch([{ key: 'a', value: '1', timestamp: 100n }]), {
          durability: 'write',
          leaderEpoch: 3,
        });
        await log.append(makeBatch([{ key: 'b', value: '2', timestamp: 300n }]), {
          durability: 'write',
          leaderEpoch: 3,
        });
        await log.append(makeBatch([{ key: 'c', value: '3', timestamp: 200n }]), {
          durability: 'write',
          leaderEpoch: 4,
        });
        assert.deepEqual(await log.offsetForTimestamp(listOffsetsTimestamp.earliest), {
          offset: 0n,
          timestamp: -1n,
          leaderEpoch: 3,
        });
        assert.deepEqual(await log.offsetForTimestamp(listOffsetsTimestamp.latest), {
          offset: 3n,
          timestamp: -1n,
          leaderEpoch: 4,
        });
        assert.deepEqual(await log.offsetForTimestamp(listOffsetsTimestamp.maxTimestamp), {
          offset: 1n,
          timestamp: 300n,
          leaderEpoch: 3,
        });
        assert.equal((await log.offsetForTimestamp(50n))?.offset, 0n);
        assert.equal((await log.offsetForTimestamp(150n))?.offset, 1n);
        assert.equal((await log.offsetForTimestamp(300n))?.offset, 1n);
        assert.equal(await log.offsetForTimestamp(301n), null);
      });
    });

    it('advances the log start offset with deleteRecordsBefore', async () => {
      await withLog(factory, { segmentBytes: 200 }, async (log) => {
        for (let index = 0; index < 6; index++)
          await log.append(makeSimpleBatch(2, `d${index}`), {
            durability: 'write',
            leaderEpoch: 0,
          });
        assert.equal(await log.deleteRecordsBefore(5n), 5n);
        assert.equal(log.logStartOffset, 5n);
        await assert.rejects(log.read(4n, { maxBytes: 1000 }), OffsetOutOfRangeError);
        const offsets = decodeAll(await readAll(log, 5n)).map((record) => record.offset);
        // Whole batches: the one holding offset 5 (4-5) comes back whole, then everything after.
        assert.deepEqual(offsets, [4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
        await assert.rejects(log.deleteRecordsBefore(13n), OffsetOutOfRangeError);
      });
    });

    it('truncates to an offset and continues from there', async () => {
      await withLog(factory, { segmentBytes: 250 }, async (log) => {
        for (let index = 0; index < 6; index++)
          await log.append(makeSimpleBatch(2, `t${index}`), {
            durability: 'write',
            leaderEpoch: index < 3 ? 1 : 2,
          });
        log.setHighWatermark(12n);
        await log.truncateTo(6n);
        assert.equal(log.logEndOffset, 6n);
        assert.equal(log.highWatermark, 6n);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 1, startOffset: 0n }]);
        const result = await log.append(makeSimpleBatch(1, 'new'), {
          durability: 'fsync',
          leaderEpoch: 3,
        });
        assert.equal(result.baseOffset, 6n);
        const records = decodeAll(await readAll(log, 0n));
        assert.deepEqual(
          records.map((record) => record.value),
          ['t0-0', 't0-1', 't1-0', 't1-1', 't2-0', 't2-1', 'new-0'],
        );
      });
    });

    it('truncating at its end drops an epoch begun there and never written to', async () => {
      await withLog(factory, {}, async (log) => {
        await log.append(makeSimpleBatch(2, 'e'), { durability: 'write', leaderEpoch: 1 });
        // Leader at epoch 2 from offset 2, nothing appended; then a follower truncating to its LEO.
        await log.beginLeaderEpoch(2);
        await log.truncateTo(2n);
        assert.equal(log.logEndOffset, 2n);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 1, startOffset: 0n }]);
        assert.equal(log.latestLeaderEpoch(), 1);
      });
    });

    it('answers OffsetForLeaderEpoch from the epoch cache', async () => {
      await withLog(factory, {}, async (log) => {
        await log.append(makeSimpleBatch(2, 'e'), { durability: 'write', leaderEpoch: 1 });
        await log.append(makeSimpleBatch(3, 'e'), { durability: 'write', leaderEpoch: 3 });
        await log.beginLeaderEpoch(5);
        assert.deepEqual(log.leaderEpochEntries(), [
          { epoch: 1, startOffset: 0n },
          { epoch: 3, startOffset: 2n },
          { epoch: 5, startOffset: 5n },
        ]);
        assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 2n });
        assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 1, endOffset: 2n });
        assert.deepEqual(log.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 5n });
        assert.deepEqual(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 0n });
        assert.deepEqual(log.endOffsetForEpoch(9), { leaderEpoch: -1, endOffset: -1n });
      });
    });

    it('keeps offsets and epochs of follower appends', async () => {
      await withLog(factory, {}, async (log) => {
        const batch = makeSimpleBatch(2, 'f');
        batch.writeBigInt64BE(0n, 0);
        batch.writeInt32BE(7, 12);
        await log.appendAsFollower(batch, { durability: 'write' });
        const next = makeSimpleBatch(1, 'g');
        next.writeBigInt64BE(2n, 0);
        next.writeInt32BE(8, 12);
        await log.appendAsFollower(next, { durability: 'fsync' });
        assert.equal(log.logEndOffset, 3n);
        assert.deepEqual(log.leaderEpochEntries(), [
          { epoch: 7, startOffset: 0n },
          { epoch: 8, startOffset: 2n },
        ]);
        await assert.rejects(log.appendAsFollower(next, { durability: 'write' }));
      });
    });

    it('wakes a long-poll waiter when data arrives and times out otherwise', async () => {
      await withLog(factory, {}, async (log, harness) => {
        const timingOut = log.waitForData(0n, { bound: 'logEnd', timeoutMs: 10 });
        harness.clock.advance(10);
        assert.equal(await timingOut, false);
        const waiting = log.waitForData(0n, { bound: 'highWatermark', timeoutMs: 5000 });
        await log.append(makeSimpleBatch(1, 'w'), { durability: 'write', leaderEpoch: 0 });
        log.setHighWatermark(log.logEndOffset);
        assert.equal(await waiting, true);
      });
    });

    it('stamps LogAppendTime when configured', async () => {
      await withLog(factory, { messageTimestampType: 'LogAppendTime' }, async (log, harness) => {
        const result = await log.append(makeSimpleBatch(2, 'l', 5n), {
          durability: 'write',
          leaderEpoch: 0,
        });
        assert.equal(result.logAppendTimeMs, BigInt(harness.clock.wallMs()));
        const records = decodeAll((await log.read(0n, { maxBytes: 10000 })).buffers);
        assert.deepEqual(
          records.map((record) => record.timestamp),
          [result.logAppendTimeMs, result.logAppendTimeMs],
        );
        // The log's own bookkeeping (time index, max timestamp) follows the stamp, not the
        // create time the producer sent.
        const atAppendTime = await log.offsetForTimestamp(result.logAppendTimeMs);
        assert.equal(atAppendTime?.offset, 0n);
        assert.equal(atAppendTime?.timestamp, result.logAppendTimeMs);
        const newest = await log.offsetForTimestamp(listOffsetsTimestamp.maxTimestamp);
        assert.equal(newest?.timestamp, result.logAppendTimeMs);
      });
    });

    it('deletes by retention.bytes and retention.ms but never unreadable data', async () => {
      await withLog(
        factory,
        { segmentBytes: 120, retentionBytes: -1, retentionMs: 60_000 },
        async (log, harness) => {
          const now = BigInt(harness.clock.wallMs());
          for (let index = 0; index < 5; index++) {
            await log.append(
              makeBatch([{ key: 'k', value: `old${index}`, timestamp: now - 120_000n }]),
              { durability: 'write', leaderEpoch: 0 },
            );
          }
          for (let index = 0; index < 3; index++) {
            await log.append(makeBatch([{ key: 'k', value: `new${index}`, timestamp: now }]), {
              durability: 'write',
              leaderEpoch: 0,
            });
          }
          await log.enforceRetention();
          assert.equal(log.logStartOffset, 5n);
          assert.deepEqual(
            decodeAll(await readAll(log, log.logStartOffset)).map((record) => record.value),
            ['new0', 'new1', 'new2'],
          );
          log.updateConfig({ retentionBytes: 1, retentionMs: -1 });
          await log.enforceRetention();
          assert.equal(log.logStartOffset, 7n);
          assert.equal(log.logEndOffset, 8n);
        },
      );
    });

    it('deletes the whole log by retention.ms, keeping the log end offset', async () => {
      await withLog(factory, { retentionMs: 1000 }, async (log, harness) => {
        await log.append(makeSimpleBatch(3, 'r', BigInt(harness.clock.wallMs())), {
          durability: 'write',
          leaderEpoch: 0,
        });
        harness.clock.advance(5000);
        await log.enforceRetention();
        assert.equal(log.logStartOffset, 3n);
        assert.equal(log.logEndOffset, 3n);
        const next = await log.append(makeSimpleBatch(1, 's'), {
          durability: 'write',
          leaderEpoch: 0,
        });
        assert.equal(next.baseOffset, 3n);
      });
    });

    it('compacts to the latest record per key, keeping offsets, and expires tombstones', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', segmentBytes: 150, minCleanableDirtyRatio: 0 },
        async (log, harness) => {
          const append = (records: { key: string; value: string | null }[]) =>
            log.append(
              makeBatch(
                records.map((record) => ({ ...record, timestamp: BigInt(harness.clock.wallMs()) })),
              ),
              { durability: 'write', leaderEpoch: 0 },
            );
          await append([
            { key: 'k1', value: 'a1' },
            { key: 'k2', value: 'b1' },
          ]);
          await append([{ key: 'k1', value: 'a2' }]);
          await append([{ key: 'k3', value: 'c1' }]);
          await append([{ key: 'k2', value: null }]);
          await append([{ key: 'k1', value: 'a3' }]);
          await log.roll();
          const sizeBefore = log.sizeBytes;
          await log.compact();
          assert.ok(log.sizeBytes < sizeBefore, 'compaction frees space');
          const view = async () =>
            decodeAll(await readAll(log, log.logStartOffset)).map(
              (record) => `${record.offset}:${record.key}=${record.value}`,
            );
          assert.deepEqual(await view(), ['3:k3=c1', '4:k2=null', '5:k1=a3']);
          assert.equal(log.logEndOffset, 6n);
          harness.clock.advance(2 * 24 * 60 * 60 * 1000);
          await append([{ key: 'k4', value: 'd1' }]);
          await log.roll();
          await log.compact();
          assert.deepEqual(await view(), ['3:k3=c1', '5:k1=a3', '6:k4=d1']);
          const next = await append([{ key: 'k5', value: 'e1' }]);
          assert.equal(next.baseOffset, 7n);
        },
      );
    });

    it('drops aborted transactional records when compacting and keeps markers', async () => {
      await withLog(factory, { cleanupPolicy: 'compact' }, async (log, harness) => {
        const timestamp = BigInt(harness.clock.wallMs());
        const transactional = (value: string, producerId: bigint) =>
          encodeRecordBatch({
            records: [{ key: Buffer.from('t'), value: Buffer.from(value), timestamp }],
            producerId,
            producerEpoch: 0,
            baseSequence: 0,
            transactional: true,
          });
        await log.append(makeBatch([{ key: 't', value: 'plain', timestamp }]), {
          durability: 'write',
          leaderEpoch: 0,
        });
        await log.append(transactional('aborted', 7n), { durability: 'write', leaderEpoch: 0 });
        await log.append(
          encodeControlBatch({
            type: 'abort',
            producerId: 7n,
            producerEpoch: 0,
            coordinatorEpoch: 0,
            timestamp,
          }),
          { durability: 'write', leaderEpoch: 0 },
        );
        await log.roll();
        await log.compact();
        const records = decodeAll(await readAll(log, log.logStartOffset));
        assert.deepEqual(
          records.map((record) => record.offset),
          [0n, 2n],
        );
        assert.equal(records[0].value, 'plain');
      });
    });

    it('answers ListOffsets at record precision inside a batch', async () => {
      await withLog(factory, {}, async (log) => {
        await log.append(
          makeBatch([
            { key: 'a', value: '1', timestamp: 100n },
            { key: 'b', value: '2', timestamp: 300n },
            { key: 'c', value: '3', timestamp: 200n },
          ]),
          { durability: 'write', leaderEpoch: 2 },
        );
        assert.deepEqual(await log.offsetForTimestamp(150n), {
          offset: 1n,
          timestamp: 300n,
          leaderEpoch: 2,
        });
        assert.deepEqual(await log.offsetForTimestamp(100n), {
          offset: 0n,
          timestamp: 100n,
          leaderEpoch: 2,
        });
        assert.deepEqual(await log.offsetForTimestamp(listOffsetsTimestamp.maxTimestamp), {
          offset: 1n,
          timestamp: 300n,
          leaderEpoch: 2,
        });
      });
    });

    it('compacts compressed batches and keeps their compression', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 },
        async (log, harness) => {
          const timestamp = BigInt(harness.clock.wallMs());
          const gzip = (pairs: [string, string][]) =>
            encodeRecordBatch({
              records: pairs.map(([key, value]) => ({
                key: Buffer.from(key),
                value: Buffer.from(value),
                timestamp,
              })),
              compression: 1,
              codecs: defaultCompressionCodecs,
            });
          await log.append(
            gzip([
              ['x', '1'],
              ['y', '1'],
              ['z', '1'],
            ]),
            { durability: 'write', leaderEpoch: 0 },
          );
          await log.append(
            gzip([
              ['x', '2'],
              ['y', '2'],
            ]),
            { durability: 'write', leaderEpoch: 0 },
          );
          await log.roll();
          await log.compact();
          const read = await readAll(log, 0n);
          for (const buffer of read) assert.equal(buffer.readInt16BE(21) & 7, 1, 'still gzip');
          const records = decodeAllWith(read);
          assert.deepEqual(
            records.map((record) => `${record.offset}:${record.key}=${record.value}`),
            ['2:z=1', '3:x=2', '4:y=2'],
          );
        },
      );
    });

    it('compacts zstd batches into real zstd frames (async codecs)', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 },
        async (log, harness) => {
          const timestamp = BigInt(harness.clock.wallMs());
          const valueBytes = 4000;
          const zstd = async (pairs: [string, string][]) =>
            encodeRecordBatchAsync({
              records: pairs.map(([key, fill]) => ({
                key: Buffer.from(key),
                value: Buffer.alloc(valueBytes, fill),
                timestamp,
              })),
              compression: 4,
              codecs: defaultCompressionCodecs,
            });
          const first = await zstd([
            ['x', 'a'],
            ['y', 'b'],
            ['z', 'c'],
          ]);
          assert.ok(first.length < valueBytes, 'the producer side compresses');
          await log.append(first, { durability: 'write', leaderEpoch: 0 });
          await log.append(
            await zstd([
              ['x', 'd'],
              ['y', 'e'],
            ]),
            { durability: 'write', leaderEpoch: 0 },
          );
          await log.roll();
          await log.compact();
          const read = await readAll(log, 0n);
          const batches: Buffer[] = [];
          for (const buffer of read) {
            for (let position = 0; position < buffer.length; ) {
              const size = buffer.readInt32BE(position + 8) + 12;
              batches.push(buffer.subarray(position, position + size));
              position += size;
            }
          }
          assert.equal(batches.length, 2);
          for (const batch of batches) {
            assert.equal(batch.readInt16BE(21) & 7, 4, 'still zstd');
            assert.ok(batch.length < valueBytes, `compressed for real (${batch.length} bytes)`);
          }
          const records = decodeAllWith(read);
          assert.deepEqual(
            records.map((record) => `${record.offset}:${record.key}=${record.value?.[0]}`),
            ['2:z=c', '3:x=d', '4:y=e'],
          );
        },
      );
    });

    it('stamps a KIP-534 delete horizon on the first clean and drops tombstones once it passed', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0, deleteRetentionMs: 10_000 },
        async (log, harness) => {
          // Old record timestamps: the horizon counts from the clean, not from the records.
          const old = BigInt(harness.clock.wallMs() - 7 * 24 * 60 * 60 * 1000);
          const append = (key: string, value: string | null) =>
            log.append(makeBatch([{ key, value, timestamp: old }]), {
              durability: 'write',
              leaderEpoch: 0,
            });
          await append('k1', 'a');
          await append('k1', null);
          await append('k2', 'b');
          await log.roll();
          const cleanedAtMs = harness.clock.wallMs();
          await log.compact();
          let read = await readAll(log, log.logStartOffset);
          assert.deepEqual(describeBatches(read), ['1-1 h 1', '2-2 - 1']);
          const tombstone = readBatchHeader(read[0], 0);
          assert.equal(tombstone.baseTimestamp, BigInt(cleanedAtMs + 10_000), 'the horizon');
          assert.equal(decodeAll(read)[0].timestamp, old, 'record timestamps are kept');
          harness.clock.advance(5_000);
          await log.compact();
          read = await readAll(log, log.logStartOffset);
          assert.deepEqual(
            decodeAll(read).map((record) => `${record.offset}:${record.key}=${record.value}`),
            ['1:k1=null', '2:k2=b'],
            'before the horizon the tombstone stays',
          );
          // Past the horizon a pass runs even without new dirty data (Kafka's latestDeleteHorizon).
          harness.clock.advance(6_000);
          await log.compact();
          read = await readAll(log, log.logStartOffset);
          assert.deepEqual(
            decodeAll(read).map((record) => `${record.offset}:${record.key}=${record.value}`),
            ['2:k2=b'],
          );
          assert.equal(log.logEndOffset, 3n);
        },
      );
    });

    it('removes the markers of transactions whose data is gone, after the delete horizon', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0, deleteRetentionMs: 10_000 },
        async (log, harness) => {
          const timestamp = BigInt(harness.clock.wallMs());
          const write = (buffer: Buffer) =>
            log.append(buffer, { durability: 'write', leaderEpoch: 0 });
          const data = (producerId: bigint, sequence: number, key: string, value: string) =>
            write(
              encodeRecordBatch({
                records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp }],
                producerId,
                producerEpoch: 0,
                baseSequence: sequence,
                transactional: true,
              }),
            );
          const marker = (producerId: bigint, type: 'commit' | 'abort') =>
            write(
              encodeControlBatch({
                type,
                producerId,
                producerEpoch: 0,
                coordinatorEpoch: 0,
                timestamp,
              }),
            );
          await data(7n, 0, 'k', 'v1'); // 0: superseded by 4
          await marker(7n, 'commit'); // 1
          await data(8n, 0, 'x', 'aborted'); // 2
          await marker(8n, 'abort'); // 3
          await data(7n, 1, 'k', 'v2'); // 4: producer 7's last batch
          await marker(7n, 'commit'); // 5
          await data(8n, 1, 'y', 'y1'); // 6: producer 8's last batch
          await marker(8n, 'commit'); // 7
          await log.roll();
          await log.compact();
          assert.deepEqual(describeBatches(await readAll(log, log.logStartOffset)), [
            '1-1 cth 1',
            '3-3 cth 1',
            '4-4 t 1',
            '5-5 ct 1',
            '6-6 t 1',
            '7-7 ct 1',
          ]);
          harness.clock.advance(10_000);
          await log.compact();
          assert.deepEqual(describeBatches(await readAll(log, log.logStartOffset)), [
            '4-4 t 1',
            '5-5 ct 1',
            '6-6 t 1',
            '7-7 ct 1',
          ]);
          assert.equal(log.logEndOffset, 8n);
        },
      );
    });

    it("keeps an idempotent producer's last batch, emptied, until it writes again", async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 },
        async (log, harness) => {
          const timestamp = BigInt(harness.clock.wallMs());
          const idempotent = (sequence: number, value: string) =>
            encodeRecordBatch({
              records: [{ key: Buffer.from('k'), value: Buffer.from(value), timestamp }],
              producerId: 9n,
              producerEpoch: 3,
              baseSequence: sequence,
            });
          const options = { durability: 'write', leaderEpoch: 0 } as const;
          await log.append(idempotent(0, 'a'), options);
          await log.append(makeBatch([{ key: 'k', value: 'b', timestamp }]), options);
          await log.roll();
          await log.compact();
          let read = await readAll(log, log.logStartOffset);
          assert.deepEqual(describeBatches(read), ['0-0 - 0', '1-1 - 1']);
          const kept = readBatchHeader(read[0], 0);
          assert.equal(kept.producerId, 9n);
          assert.equal(kept.producerEpoch, 3);
          assert.equal(kept.baseSequence, 0, 'producer state can be rebuilt from it');
          await log.append(idempotent(1, 'c'), options);
          await log.roll();
          await log.compact();
          read = await readAll(log, log.logStartOffset);
          assert.deepEqual(describeBatches(read), ['2-2 - 1']);
        },
      );
    });

    it('restarts an empty log at the offset of a follower append past its end', async () => {
      await withLog(factory, {}, async (log) => {
        const batch = makeSimpleBatch(3, 'late');
        batch.writeBigInt64BE(100n, 0);
        batch.writeInt32BE(4, 12);
        await log.appendAsFollower(batch, { durability: 'fsync' });
        assert.equal(log.logStartOffset, 100n);
        assert.equal(log.logEndOffset, 103n);
        await assert.rejects(log.read(50n, { maxBytes: 1000 }), OffsetOutOfRangeError);
        assert.deepEqual(batchBaseOffsets((await log.read(101n, { maxBytes: 1000 })).buffers), [
          100n,
        ]);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 4, startOffset: 100n }]);
      });
    });

    it('leaves records younger than min.compaction.lag.ms alone', async () => {
      await withLog(
        factory,
        { cleanupPolicy: 'compact', minCleanableDirtyRatio: 0, minCompactionLagMs: 60_000 },
        async (log, harness) => {
          const timestamp = BigInt(harness.clock.wallMs());
          await log.append(makeBatch([{ key: 'k', value: 'old', timestamp }]), {
            durability: 'write',
            leaderEpoch: 0,
          });
          await log.append(makeBatch([{ key: 'k', value: 'new', timestamp }]), {
            durability: 'write',
            leaderEpoch: 0,
          });
          await log.roll();
          await log.compact();
          assert.equal(decodeAll(await readAll(log, 0n)).length, 2);
          harness.clock.advance(120_000);
          await log.compact();
          assert.deepEqual(
            decodeAll(await readAll(log, 0n)).map((record) => record.value),
            ['new'],
          );
        },
      );
    });
  });
}
