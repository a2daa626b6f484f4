import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, runToCompletion } from '../harness/managed-process.js';
import { sleep } from '../harness/wait.js';
import { percentile } from './statistics.js';

/**
 * The machine's own limits, measured in the same run as the broker numbers so they can be read
 * side by side: synced sequential disk writes and loopback TCP bandwidth.
 */

export interface DiskSyncedWrite {
  chunkBytes: number;
  bytesPerSecond: number;
  syncsPerSecond: number;
}

/** Sequential writes of `chunkBytes`, each followed by fdatasync, for about `durationMs`. */
export async function measureSyncedWrite(options: {
  directory: string;
  chunkBytes: number;
  durationMs: number;
}): Promise<DiskSyncedWrite> {
  const path = join(options.directory, `synced-write-${options.chunkBytes}.bin`);
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(options.chunkBytes, 0x5a);
  let written = 0;
  let syncs = 0;
  const startedMs = performance.now();
  try {
    while (performance.now() - startedMs < options.durationMs) {
      await handle.write(chunk, 0, chunk.length, written);
      await handle.datasync();
      written += chunk.length;
      syncs += 1;
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  const seconds = (performance.now() - startedMs) / 1000;
  return {
    chunkBytes: options.chunkBytes,
    bytesPerSecond: written / seconds,
    syncsPerSecond: syncs / seconds,
  };
}

export interface SyncLatency {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  syncs: number;
}

/**
 * Latency of one small appended write + fdatasync, the floor under an acks=all produce (the
 * broker syncs before acknowledging): p50, p99 and the worst stall over `durationMs`.
 */
export async function measureSyncLatency(options: {
  directory: string;
  chunkBytes: number;
  durationMs: number;
}): Promise<SyncLatency> {
  const path = join(options.directory, `sync-latency-${options.chunkBytes}.bin`);
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(options.chunkBytes, 0x5a);
  const latencies: number[] = [];
  let written = 0;
  const startedMs = performance.now();
  try {
    while (performance.now() - startedMs < options.durationMs) {
      const beforeMs = performance.now();
      await handle.write(chunk, 0, chunk.length, written);
      await handle.datasync();
      latencies.push(performance.now() - beforeMs);
      written += chunk.length;
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) => percentile(latencies, fraction);
  return {
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    p999Ms: at(0.999),
    maxMs: latencies.at(-1) ?? 0,
    syncs: latencies.length,
  };
}

/** fio's sequential write with fdatasync after every block, when fio is installed. */
export async function measureFioSyncedWrite(options: {
  directory: string;
  blockBytes: number;
  sizeBytes: number;
}): Promise<number | undefined> {
  try {
    const result = await runToCompletion({
      command: 'fio',
      arguments: [
        '--name=gregor-seq-write',
        `--directory=${options.directory}`,
        '--rw=write',
        `--bs=${options.blockBytes}`,
        `--size=${options.sizeBytes}`,
        '--fdatasync=1',
        '--ioengine=sync',
        '--output-format=json',
        '--unlink=1',
      ],
      timeoutMs: 120_000,
    });
    if (result.code !== 0) return undefined;
    const report = JSON.parse(result.stdout) as { jobs: { write: { bw_bytes: number } }[] };
    return report.jobs[0]?.write.bw_bytes;
  } catch {
    return undefined;
  }
}

/** Loopback TCP bandwidth with iperf3 (one stream, 3 s), in bytes/s; undefined without iperf3. */
export async function measureLoopbackBandwidth(options: {
  port: number;
}): Promise<number | undefined> {
  const server = new ManagedProcess({
    label: 'iperf3 server',
    command: 'iperf3',
    arguments: ['-s', '-1', '-p', String(options.port), '-B', '127.0.0.1'],
  });
  try {
    await sleep(500);
    if (server.hasExited) return undefined;
    const result = await runToCompletion({
      command: 'iperf3',
      arguments: ['-c', '127.0.0.1', '-p', String(options.port), '-t', '3', '-J'],
      timeoutMs: 30_000,
    });
    if (result.code !== 0) return undefined;
    const report = JSON.parse(result.stdout) as {
      end: { sum_received: { bits_per_second: number } };
    };
    return report.end.sum_received.bits_per_second / 8;
  } catch {
    return undefined;
  } finally {
    await server.stop({ signal: 'SIGKILL' });
  }
}
