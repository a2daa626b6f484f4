// Crash test with real processes: a writer acknowledging fsync'ed appends is killed with SIGKILL
// at random points; the active segment's unacknowledged tail is then randomly truncated and
// garbage is appended to it; after restart every acknowledged batch must read back byte for byte
// and the log must take new appends.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileLogManager } from './log-manager.js';
import { makeSimpleBatch, seededRandom } from './testing/batches.js';
import { type ReadResult, systemClock } from './types.js';

const rounds = Number(process.env.GREGOR_CRASH_ROUNDS ?? 50);
const writerScript = fileURLToPath(new URL('./testing/crash-writer.js', import.meta.url));

interface Ack {
  baseOffset: bigint;
  lastOffset: bigint;
  digest: string;
}

function runWriterUntilKilled(logDir: string, seed: number, runMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [writerScript, logDir, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!timer && output.includes('ready\n'))
        timer = setTimeout(() => child.kill('SIGKILL'), runMs);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited without being killed: ${errors}`));
        return;
      }
      const acks: Ack[] = [];
      for (const line of output.split('\n')) {
        const match = /^ack (\d+) (\d+) ([0-9a-f]{64})$/.exec(line);
        if (match)
          acks.push({
            baseOffset: BigInt(match[1]),
            lastOffset: BigInt(match[2]),
            digest: match[3],
          });
      }
      resolve(acks);
    });
  });
}

/** Cuts a random part of the bytes after the last acknowledged batch and appends garbage. */
async function damageUnacknowledgedTail(
  partitionDir: string,
  lastAcked: bigint,
  random: () => number,
): Promise<void> {
  const segments = (await readdir(partitionDir)).filter((name) => name.endsWith('.log')).sort();
  const active = join(partitionDir, segments[segments.length - 1]);
  const handle = await open(active, 'r+');
  try {
    const size = (await handle.stat()).size;
    const data = Buffer.alloc(size);
    await handle.read(data, 0, size, 0);
    let position = 0;
    let ackedEnd = 0;
    while (size - position >= 61) {
      const batchSize = data.readInt32BE(position + 8) + 12;
      if (batchSize < 61 || position + batchSize > size) break;
      const last = data.readBigInt64BE(position) + BigInt(data.readInt32BE(position + 23));
      position += batchSize;
      if (last <= lastAcked) ackedEnd = position;
    }
    const cut = ackedEnd + Math.floor(random() * (size - ackedEnd + 1));
    await handle.truncate(cut);
    if (random() < 0.7) {
      const garbage = Buffer.alloc(1 + Math.floor(random() * 300));
      for (let index = 0; index < garbage.length; index++)
        garbage[index] = Math.floor(random() * 256);
      // Sometimes a plausible header, so recovery must rely on the CRC.
      if (random() < 0.5 && garbage.length >= 61) {
        garbage.writeInt32BE(Math.min(garbage.length - 12, 200), 8);
        garbage.writeInt8(2, 16);
      }
      await handle.write(garbage, 0, garbage.length, cut);
    }
  } finally {
    await handle.close();
  }
}

it(`survives ${rounds} SIGKILLs of a writer with torn and garbage tails`, {
  timeout: 180_000,
}, async () => {
  const logDir = await mkdtemp(join(tmpdir(), 'gregor-crash-'));
  const random = seededRandom(20261121);
  const acknowledged = new Map<bigint, Ack>();
  let lastAcked = -1n;
  const startedMs = Date.now();
  try {
    for (let round = 0; round < rounds; round++) {
      const acks = await runWriterUntilKilled(logDir, round, 10 + Math.floor(random() * 150));
      for (const ack of acks) {
        acknowledged.set(ack.baseOffset, ack);
        if (ack.lastOffset > lastAcked) lastAcked = ack.lastOffset;
      }
      await damageUnacknowledgedTail(join(logDir, 'crash-0'), lastAcked, random);
      const manager = await FileLogManager.open({
        logDirs: [logDir],
        clock: systemClock,
        retentionCheckIntervalMs: 0,
        cleanerIntervalMs: 0,
        checkpointIntervalMs: 0,
      });
      const log = manager.getLog('crash', 0);
      assert.ok(log, 'log exists after restart');
      assert.ok(
        log.logEndOffset > lastAcked,
        `round ${round}: LEO ${log.logEndOffset} lost acknowledged ${lastAcked}`,
      );
      let verified = 0;
      let offset = log.logStartOffset;
      while (offset <= lastAcked) {
        const read: ReadResult = await log.read(offset, { maxBytes: 1 << 20, minOneBatch: true });
        const bytes = Buffer.concat(read.buffers);
        for (let position = 0; position < bytes.length; ) {
          const size = bytes.readInt32BE(position + 8) + 12;
          const base = bytes.readBigInt64BE(position);
          const ack = acknowledged.get(base);
          if (ack) {
            const digest = createHash('sha256')
              .update(bytes.subarray(position, position + size))
              .digest('hex');
            assert.equal(digest, ack.digest, `round ${round}: bytes of ${base}`);
            verified++;
          }
          offset = base + BigInt(bytes.readInt32BE(position + 23)) + 1n;
          position += size;
        }
      }
      assert.equal(
        verified,
        acknowledged.size,
        `round ${round}: every acknowledged batch read back`,
      );
      // Data beyond the last acknowledgement may be gone; the log must still take appends.
      const next = await log.append(makeSimpleBatch(1, `after-${round}`), {
        durability: 'fsync',
        leaderEpoch: 0,
      });
      assert.equal(next.baseOffset, log.logEndOffset - 1n);
      acknowledged.set(next.baseOffset, {
        baseOffset: next.baseOffset,
        lastOffset: next.lastOffset,
        digest: createHash('sha256')
          .update((await log.read(next.baseOffset, { maxBytes: 1, minOneBatch: true })).buffers[0])
          .digest('hex'),
      });
      lastAcked = next.lastOffset;
      // Alternate clean and unclean shutdowns of the verifier.
      if (round % 2 === 0) await manager.close();
      else manager.abandon();
    }
    assert.ok(acknowledged.size > rounds, 'the writer acknowledged appends');
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
  process.stderr.write(
    `crash test: ${rounds} rounds, ${acknowledged.size} acknowledged appends, ${Date.now() - startedMs} ms\n`,
  );
});
