// Child process of the crash test: appends batches to one log as fast as it can, keeping a few
// appends in flight (group commit), and prints "ack <base> <last> <sha256>" for every
// acknowledged append. The parent kills it with SIGKILL at a random moment.
// Usage: node crash-writer.js <logDir> <seed>

import { createHash } from 'node:crypto';
import { FileLogManager } from '../log-manager.js';
import { systemClock } from '../types.js';
import { makeSimpleBatch, seededRandom } from './batches.js';

async function main(): Promise<void> {
  const [logDir, seedText] = process.argv.slice(2);
  const random = seededRandom(Number(seedText));
  const manager = await FileLogManager.open({
    logDirs: [logDir],
    clock: systemClock,
    defaultConfig: { segmentBytes: 64 * 1024, indexIntervalBytes: 512 },
    retentionCheckIntervalMs: 0,
    cleanerIntervalMs: 0,
    checkpointIntervalMs: 50,
  });
  const log = await manager.createLog('crash', 0);
  process.stdout.write('ready\n');
  let counter = 0;
  const appendOne = async (): Promise<void> => {
    const batch = makeSimpleBatch(
      1 + Math.floor(random() * 5),
      `r${counter++}-${'p'.repeat(Math.floor(random() * 300))}`,
      BigInt(Date.now()),
    );
    const result = await log.append(batch, { durability: 'fsync', leaderEpoch: 0 });
    const digest = createHash('sha256').update(batch).digest('hex');
    process.stdout.write(`ack ${result.baseOffset} ${result.lastOffset} ${digest}\n`);
  };
  const inFlight = 4;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) await appendOne();
    }),
  );
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
