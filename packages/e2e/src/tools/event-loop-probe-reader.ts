import { fileURLToPath } from 'node:url';

/** One probe line (see event-loop-probe.ts), with the time it was read. */
export interface ProbeSample {
  atEpochMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  heapUsedBytes: number;
}

const probePath = fileURLToPath(new URL('./event-loop-probe.js', import.meta.url));

/** Environment for a broker process that should report its event-loop delay. */
export function eventLoopProbeEnvironment(intervalMs: number): Record<string, string> {
  return {
    NODE_OPTIONS: `--import ${probePath}`,
    GREGOR_PROBE_INTERVAL_MS: String(intervalMs),
  };
}

/** The sample on `line`, or undefined when it is not a probe line. */
export function parseProbeLine(line: string): ProbeSample | undefined {
  if (!line.startsWith('probe {')) return undefined;
  const fields = JSON.parse(line.slice('probe '.length)) as Omit<ProbeSample, 'atEpochMs'>;
  return { atEpochMs: Date.now(), ...fields };
}
