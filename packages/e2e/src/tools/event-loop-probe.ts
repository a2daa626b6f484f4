/**
 * Loaded into a broker process by the scale and soak benches (`NODE_OPTIONS=--import <this file>`,
 * see eventLoopProbeEnvironment): every `GREGOR_PROBE_INTERVAL_MS` (default 1,000) it writes one
 * line `probe {"p50Ms":…,"p99Ms":…,"maxMs":…,"heapUsedBytes":…}` on stderr with the event-loop
 * delay seen since the last line. The broker itself is not changed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const intervalMs = Number(process.env.GREGOR_PROBE_INTERVAL_MS ?? 1_000);
const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();
setInterval(() => {
  const nanosecondsPerMs = 1e6;
  const line = {
    p50Ms: histogram.percentile(50) / nanosecondsPerMs,
    p99Ms: histogram.percentile(99) / nanosecondsPerMs,
    maxMs: histogram.max / nanosecondsPerMs,
    heapUsedBytes: process.memoryUsage().heapUsed,
  };
  histogram.reset();
  process.stderr.write(`probe ${JSON.stringify(line)}\n`);
}, intervalMs).unref();
