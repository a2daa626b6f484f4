// Time-bounded micro-benchmark loop for the bench/ files: short runs (the machine is shared),
// reported as MB/s of input so figures line up with a plain memory copy measured in the same run.

export interface Measurement {
  name: string;
  megabytesPerSecond: number;
  operationsPerSecond: number;
}

export const benchDurationMs = Number(process.env.BENCH_DURATION_MS ?? 300);

/** Runs `operation` (which processes `bytesPerOperation` bytes) for about `durationMs`. */
export function measure(
  name: string,
  bytesPerOperation: number,
  operation: () => unknown,
  durationMs = benchDurationMs,
): Measurement {
  for (let warmup = 0; warmup < 5; warmup++) operation();
  let operations = 0;
  const start = performance.now();
  let elapsedMs = 0;
  do {
    for (let batch = 0; batch < 8; batch++) operation();
    operations += 8;
    elapsedMs = performance.now() - start;
  } while (elapsedMs < durationMs);
  return report(name, bytesPerOperation, operations, elapsedMs);
}

/** Same for an async operation, awaited one at a time. */
export async function measureAsync(
  name: string,
  bytesPerOperation: number,
  operation: () => Promise<unknown>,
  durationMs = benchDurationMs,
): Promise<Measurement> {
  for (let warmup = 0; warmup < 3; warmup++) await operation();
  let operations = 0;
  const start = performance.now();
  let elapsedMs = 0;
  do {
    await operation();
    operations++;
    elapsedMs = performance.now() - start;
  } while (elapsedMs < durationMs);
  return report(name, bytesPerOperation, operations, elapsedMs);
}

function report(
  name: string,
  bytesPerOperation: number,
  operations: number,
  elapsedMs: number,
): Measurement {
  const seconds = elapsedMs / 1000;
  const result = {
    name,
    megabytesPerSecond: (bytesPerOperation * operations) / seconds / 1e6,
    operationsPerSecond: operations / seconds,
  };
  const throughput = result.megabytesPerSecond.toFixed(0).padStart(7);
  const rate = result.operationsPerSecond.toFixed(0).padStart(10);
  process.stdout.write(`${name.padEnd(48)} ${throughput} MB/s ${rate} op/s\n`);
  return result;
}

/** Deterministic, moderately compressible bytes (JSON-like events). */
export function sampleEvents(sizeBytes: number): Buffer {
  const parts: string[] = [];
  let total = 0;
  for (let index = 0; total < sizeBytes; index++) {
    const line = `{"id":${index},"user":"user-${index % 97}","event":"click","path":"/items/${(index * 7919) % 1000}"}\n`;
    parts.push(line);
    total += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, sizeBytes);
}
