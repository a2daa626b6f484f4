// Storage benchmarks (`npm run bench -- storage`): append throughput with and without a sync per
// acknowledgement (group commit), read throughput, recovery time per GiB and start-up with 1,000
// partitions, each next to the disk's own synced sequential write speed measured in the same run.
// Short by design (shared 2-core machine): each case runs for GREGOR_BENCH_CASE_MS (1500 ms).

import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installNativeCrc32c } from '@gregor/compression';
import { encodeRecordBatch } from '@gregor/protocol';
import { FileLogManager } from '../log-manager.js';
import { type Durability, systemClock } from '../types.js';

const caseMs = Number(process.env.GREGOR_BENCH_CASE_MS ?? 1500);
const mib = 1024 * 1024;
const quiet = { retentionCheckIntervalMs: 0, cleanerIntervalMs: 0, checkpointIntervalMs: 0 };

function formatRate(bytes: number, ms: number): string {
  return `${((bytes / mib) * 1000) / ms}`.slice(0, 7).padStart(7);
}

/** The disk's own speed: sequential writes of `chunkBytes`, each followed by fdatasync (or not). */
async function rawDisk(directory: string, chunkBytes: number, sync: boolean): Promise<number> {
  const path = join(directory, `raw-${chunkBytes}-${sync}`);
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(chunkBytes, 7);
  let written = 0;
  const started = performance.now();
  while (performance.now() - started < caseMs) {
    await handle.write(chunk, 0, chunkBytes, written);
    if (sync) await handle.datasync();
    written += chunkBytes;
  }
  if (!sync) await handle.datasync();
  const elapsed = performance.now() - started;
  await handle.close();
  await rm(path);
  return (written / mib / elapsed) * 1000;
}

function makeBatchTemplate(
  recordBytes: number,
  batchBytes: number,
): { batch: Buffer; records: number } {
  const count = Math.max(1, Math.floor(batchBytes / (recordBytes + 10)));
  const value = Buffer.alloc(recordBytes - 8, 'v');
  const records = Array.from({ length: count }, (_, index) => ({
    key: Buffer.from(String(index).padStart(8, '0')),
    value,
    timestamp: BigInt(Date.now()),
  }));
  return { batch: encodeRecordBatch({ records }), records: count };
}

interface AppendCase {
  recordBytes: number;
  batchBytes: number;
  durability: Durability;
  inFlight: number;
}

/**
 * Alternates short slices of the raw reference (sequential write of the same size, then
 * fdatasync or not) and of appends to the log, so that both see the same disk: this shared
 * virtual disk's speed drifts by 10x within seconds.
 */
async function appendCase(
  directory: string,
  spec: AppendCase,
): Promise<{
  mbPerSecond: number;
  recordsPerSecond: number;
  appendsPerSecond: number;
  rawMbPerSecond: number;
}> {
  const manager = await FileLogManager.open({ logDirs: [directory], clock: systemClock, ...quiet });
  const log = await manager.createLog(
    `bench${spec.recordBytes}-${spec.batchBytes}-${spec.durability}-${spec.inFlight}`,
    0,
  );
  const template = makeBatchTemplate(spec.recordBytes, spec.batchBytes);
  const rawPath = join(directory, 'raw-reference');
  const raw = await open(rawPath, 'w');
  const rounds = 10;
  const sliceMs = caseMs / rounds / 2;
  let appended = 0;
  let appendMs = 0;
  let rawBytes = 0;
  let rawMs = 0;
  const buffers = Array.from({ length: spec.inFlight }, () => Buffer.from(template.batch));
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    while (performance.now() - started < sliceMs) {
      await raw.write(template.batch, 0, template.batch.length, rawBytes);
      if (spec.durability === 'fsync') await raw.datasync();
      rawBytes += template.batch.length;
    }
    rawMs += performance.now() - started;
    started = performance.now();
    await Promise.all(
      buffers.map(async (own) => {
        while (performance.now() - started < sliceMs) {
          await log.append(own, { durability: spec.durability, leaderEpoch: 0 });
          appended++;
        }
      }),
    );
    appendMs += performance.now() - started;
  }
  await raw.close();
  await rm(rawPath);
  await manager.close();
  await rm(join(directory, `${log.topic}-0`), { recursive: true, force: true });
  const bytes = appended * template.batch.length;
  return {
    mbPerSecond: (bytes / mib / appendMs) * 1000,
    recordsPerSecond: (appended * template.records * 1000) / appendMs,
    appendsPerSecond: (appended * 1000) / appendMs,
    rawMbPerSecond: (rawBytes / mib / rawMs) * 1000,
  };
}

async function readAndRecovery(
  directory: string,
  totalBytes: number,
): Promise<{ readMbPerSecond: number; recoverySecondsPerGib: number; cleanOpenMs: number }> {
  const logDir = join(directory, 'recovery');
  let manager = await FileLogManager.open({ logDirs: [logDir], clock: systemClock, ...quiet });
  const log = await manager.createLog('recover', 0);
  const template = makeBatchTemplate(1024, mib);
  for (let written = 0; written < totalBytes; written += template.batch.length) {
    await log.append(Buffer.from(template.batch), { durability: 'write', leaderEpoch: 0 });
  }
  await log.flush();
  let offset = 0n;
  let bytesRead = 0;
  const readStarted = performance.now();
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, { maxBytes: mib, minOneBatch: true });
    const buffer = result.buffers[result.buffers.length - 1];
    bytesRead += result.sizeBytes;
    offset =
      buffer.readBigInt64BE(buffer.length - template.batch.length) + BigInt(template.records);
  }
  const readMs = performance.now() - readStarted;
  // Unclean stop: no marker, recovery point 0 → every segment is scanned and CRC-checked.
  manager.abandon();
  const recoveryStarted = performance.now();
  manager = await FileLogManager.open({ logDirs: [logDir], clock: systemClock, ...quiet });
  const recoveryMs = performance.now() - recoveryStarted;
  await manager.close();
  const cleanStarted = performance.now();
  manager = await FileLogManager.open({ logDirs: [logDir], clock: systemClock, ...quiet });
  const cleanOpenMs = performance.now() - cleanStarted;
  await manager.close();
  await rm(logDir, { recursive: true, force: true });
  return {
    readMbPerSecond: (bytesRead / mib / readMs) * 1000,
    recoverySecondsPerGib: (recoveryMs / 1000) * ((1024 * mib) / totalBytes),
    cleanOpenMs,
  };
}

async function startupWithPartitions(
  directory: string,
  partitions: number,
): Promise<{ cleanMs: number; uncleanMs: number }> {
  const logDirs = [join(directory, 'dirA'), join(directory, 'dirB')];
  let manager = await FileLogManager.open({ logDirs, clock: systemClock, ...quiet });
  const template = makeBatchTemplate(100, 16 * 1024);
  for (let partition = 0; partition < partitions; partition++) {
    const log = await manager.createLog('many', partition);
    await log.append(Buffer.from(template.batch), { durability: 'write', leaderEpoch: 0 });
  }
  await manager.close();
  let started = performance.now();
  manager = await FileLogManager.open({ logDirs, clock: systemClock, ...quiet });
  const cleanMs = performance.now() - started;
  manager.abandon();
  started = performance.now();
  manager = await FileLogManager.open({ logDirs, clock: systemClock, ...quiet });
  const uncleanMs = performance.now() - started;
  await manager.close();
  for (const dir of logDirs) await rm(dir, { recursive: true, force: true });
  return { cleanMs, uncleanMs };
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-bench-storage-'));
  try {
    console.log(`storage bench (${caseMs} ms per case, directory ${directory})`);
    const raw16 = await rawDisk(directory, 16 * 1024, true);
    const raw1m = await rawDisk(directory, mib, true);
    const rawCache = await rawDisk(directory, mib, false);
    console.log(`raw disk, write+fdatasync 16 KiB: ${formatRate(raw16 * mib, 1000)} MB/s`);
    console.log(`raw disk, write+fdatasync 1 MiB:  ${formatRate(raw1m * mib, 1000)} MB/s`);
    console.log(`raw disk, write 1 MiB, one sync at end: ${formatRate(rawCache * mib, 1000)} MB/s`);
    console.log(
      'append: record B | batch | durability | in flight | MB/s | records/s | appends/s | raw same size, interleaved | ratio',
    );
    for (const recordBytes of [100, 1024]) {
      for (const batchBytes of [16 * 1024, mib]) {
        for (const [durability, inFlight] of [
          ['fsync', 1],
          ['fsync', 16],
          ['write', 16],
        ] as const) {
          const result = await appendCase(directory, {
            recordBytes,
            batchBytes,
            durability,
            inFlight,
          });
          const raw = result.rawMbPerSecond;
          console.log(
            `append ${String(recordBytes).padStart(5)} | ${batchBytes === mib ? '1 MiB ' : '16 KiB'} | ${durability.padEnd(5)} | ${String(inFlight).padStart(2)} | ${result.mbPerSecond.toFixed(1).padStart(7)} | ${Math.round(result.recordsPerSecond).toString().padStart(9)} | ${Math.round(result.appendsPerSecond).toString().padStart(6)} | ${raw.toFixed(1).padStart(7)} MB/s ${durability === 'fsync' ? 'synced  ' : 'unsynced'} | ${((result.mbPerSecond / raw) * 100).toFixed(0)}%`,
          );
        }
      }
    }
    const recoveryBytes = Number(process.env.GREGOR_BENCH_RECOVERY_MB ?? 256) * mib;
    const software = await readAndRecovery(directory, recoveryBytes);
    console.log(
      `read (page cache, 1 MiB fetches, CRC checked with JS CRC-32C): ${software.readMbPerSecond.toFixed(0)} MB/s`,
    );
    console.log(
      `recovery after unclean stop (full scan + CRC, JS CRC-32C): ${software.recoverySecondsPerGib.toFixed(2)} s per GiB (${recoveryBytes / mib} MiB log); clean open ${software.cleanOpenMs.toFixed(1)} ms`,
    );
    if (installNativeCrc32c()) {
      const native = await readAndRecovery(directory, recoveryBytes);
      console.log(
        `read (page cache, 1 MiB fetches, native CRC-32C as the broker runs): ${native.readMbPerSecond.toFixed(0)} MB/s`,
      );
      console.log(
        `recovery after unclean stop (native CRC-32C): ${native.recoverySecondsPerGib.toFixed(2)} s per GiB`,
      );
    }
    const startup = await startupWithPartitions(directory, 1000);
    console.log(
      `start-up with 1,000 partitions: clean ${startup.cleanMs.toFixed(0)} ms, unclean ${startup.uncleanMs.toFixed(0)} ms`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
