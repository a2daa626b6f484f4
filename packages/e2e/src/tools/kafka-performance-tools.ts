import { runJava } from '../harness/java.js';

/**
 * Apache Kafka's own performance tools from the jars in java/lib (kafka-producer-perf-test,
 * kafka-consumer-perf-test, kafka-e2e-latency), run with the heap and JVM flags of their scripts
 * (`jvmFlags: 'kafka'`, -Xmx512M) or the fast-starting test flags, and their summary lines parsed.
 * The tools' "MB" is 2^20 bytes; latencies are as the tools print them (percentiles in whole ms).
 */

export type JavaFlags = 'test' | 'kafka';

/** kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh set -Xmx512M. */
const toolHeapMb = 512;

export interface ProducerSummary {
  records: number;
  recordsPerSecond: number;
  mebibytesPerSecond: number;
  averageLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export interface ProducerPerformanceResult {
  total: ProducerSummary;
  /** The records after `warmUpRecords`, when a warm-up was asked for. */
  steadyState?: ProducerSummary;
  /** The producer's own metrics of group producer-metrics (`--print-metrics`), by name. */
  metrics: Map<string, number>;
  output: string;
}

/**
 * The client-level metrics a tool prints with --print-metrics, of one group
 * (`producer-metrics`, `consumer-fetch-manager-metrics`), without per-node or per-topic ones:
 * lines `group:name:{client-id=...} : value`.
 */
export function parseClientMetrics(output: string, group: string): Map<string, number> {
  const metrics = new Map<string, number>();
  const pattern = /^([\w-]+):([\w-]+):\{client-id=[^,}]*\}\s*:\s*(\S+)$/;
  for (const line of output.split('\n')) {
    const match = pattern.exec(line.trim());
    if (match && match[1] === group) metrics.set(match[2], Number(match[3]));
  }
  return metrics;
}

const producerSummaryPattern =
  /^(\d+) (steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th\.$/;

/** The final summary lines of ProducerPerformance (the whole run and, with a warm-up, the steady state). */
export function parseProducerPerformance(output: string): {
  total?: ProducerSummary;
  steadyState?: ProducerSummary;
} {
  const summaries: { total?: ProducerSummary; steadyState?: ProducerSummary } = {};
  for (const line of output.split('\n')) {
    const match = producerSummaryPattern.exec(line.trim());
    if (!match) continue;
    const summary: ProducerSummary = {
      records: Number(match[1]),
      recordsPerSecond: Number(match[3]),
      mebibytesPerSecond: Number(match[4]),
      averageLatencyMs: Number(match[5]),
      maxLatencyMs: Number(match[6]),
      p50Ms: Number(match[7]),
      p95Ms: Number(match[8]),
      p99Ms: Number(match[9]),
      p999Ms: Number(match[10]),
    };
    if (match[2]) summaries.steadyState = summary;
    else summaries.total = summary;
  }
  return summaries;
}

/**
 * Runs one of the tools (`main` in org.apache.kafka.tools) to completion and parses its stdout;
 * fails with both streams when it exits non-zero or prints no summary.
 */
async function runTool<T>(
  main: string,
  toolArguments: string[],
  options: { jvmFlags?: JavaFlags; timeoutMs: number; what: string },
  parse: (stdout: string) => T | undefined,
): Promise<T & { output: string }> {
  const result = await runJava({
    main: `org.apache.kafka.tools.${main}`,
    arguments: toolArguments,
    heapMb: toolHeapMb,
    jvmFlags: options.jvmFlags,
    timeoutMs: options.timeoutMs,
  });
  const parsed = result.code === 0 ? parse(result.stdout) : undefined;
  if (parsed === undefined)
    throw new Error(
      `${main} ${options.what} exited ${result.code}${result.code === 0 ? ' without a summary' : ''}\n--- stdout ---\n${result.stdout.slice(-3000)}\n--- stderr ---\n${result.stderr.slice(-3000)}`,
    );
  return { ...parsed, output: result.stdout };
}

/** `org.apache.kafka.tools.ProducerPerformance`: `records` records of `recordBytes` to `topic`. */
export async function runProducerPerformance(options: {
  bootstrap: string;
  topic: string;
  records: number;
  recordBytes: number;
  acks: '1' | 'all';
  /** Records per second the tool paces itself to; unlimited when absent. */
  throughputPerSecond?: number;
  warmUpRecords?: number;
  /** More producer configuration (`linger.ms`, `batch.size`...). */
  properties?: Record<string, string>;
  jvmFlags?: JavaFlags;
  timeoutMs: number;
}): Promise<ProducerPerformanceResult> {
  const properties = { acks: options.acks, ...options.properties };
  return runTool(
    'ProducerPerformance',
    [
      '--bootstrap-server',
      options.bootstrap,
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--record-size',
      String(options.recordBytes),
      '--throughput',
      String(options.throughputPerSecond ?? -1),
      ...(options.warmUpRecords ? ['--warmup-records', String(options.warmUpRecords)] : []),
      '--command-property',
      ...Object.entries(properties).map(([name, value]) => `${name}=${value}`),
      '--print-metrics',
    ],
    { ...options, what: `${options.topic} ${options.recordBytes} B acks=${options.acks}` },
    (stdout) => {
      const { total, steadyState } = parseProducerPerformance(stdout);
      return total === undefined
        ? undefined
        : { total, steadyState, metrics: parseClientMetrics(stdout, 'producer-metrics') };
    },
  );
}

export interface ConsumerPerformanceResult {
  records: number;
  mebibytes: number;
  /** Over the whole run, group join included. */
  mebibytesPerSecond: number;
  recordsPerSecond: number;
  rebalanceMs: number;
  fetchMs: number;
  /** Over the fetch time only (after the group join), as the tool reports it. */
  fetchMebibytesPerSecond: number;
  fetchRecordsPerSecond: number;
  /** The consumer's metrics of group consumer-fetch-manager-metrics (`--print-metrics`). */
  fetchMetrics: Map<string, number>;
  output: string;
}

/** The result line of ConsumerPerformance (the one after its CSV header). */
export function parseConsumerPerformance(
  output: string,
): Omit<ConsumerPerformanceResult, 'output' | 'fetchMetrics'> | undefined {
  const lines = output.split('\n').map((line) => line.trim());
  const headerIndex = lines.findIndex((line) => line.startsWith('start.time, end.time'));
  if (headerIndex < 0) return undefined;
  const header = lines[headerIndex].split(',').map((field) => field.trim());
  const values = (lines[headerIndex + 1] ?? '').split(',').map((field) => field.trim());
  if (values.length !== header.length) return undefined;
  const field = (name: string) => {
    const value = Number(values[header.indexOf(name)]);
    if (!Number.isFinite(value)) throw new Error(`ConsumerPerformance: no ${name} in ${values}`);
    return value;
  };
  return {
    records: field('data.consumed.in.nMsg'),
    mebibytes: field('data.consumed.in.MB'),
    mebibytesPerSecond: field('MB.sec'),
    recordsPerSecond: field('nMsg.sec'),
    rebalanceMs: field('rebalance.time.ms'),
    fetchMs: field('fetch.time.ms'),
    fetchMebibytesPerSecond: field('fetch.MB.sec'),
    fetchRecordsPerSecond: field('fetch.nMsg.sec'),
  };
}

/**
 * `org.apache.kafka.tools.ConsumerPerformance`: a consumer in a new group (classic protocol)
 * reading `records` records of `topic` from the beginning.
 */
export async function runConsumerPerformance(options: {
  bootstrap: string;
  topic: string;
  records: number;
  jvmFlags?: JavaFlags;
  timeoutMs: number;
}): Promise<ConsumerPerformanceResult> {
  return runTool(
    'ConsumerPerformance',
    [
      '--bootstrap-server',
      options.bootstrap,
      '--topic',
      options.topic,
      '--num-records',
      String(options.records),
      '--timeout',
      '30000',
      '--print-metrics',
    ],
    { ...options, what: options.topic },
    (stdout) => {
      const parsed = parseConsumerPerformance(stdout);
      return parsed === undefined
        ? undefined
        : { ...parsed, fetchMetrics: parseClientMetrics(stdout, 'consumer-fetch-manager-metrics') };
    },
  );
}

export interface EndToEndLatencyResult {
  averageMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  output: string;
}

/** The summary of EndToEndLatency: average (fractional ms) and percentiles (whole ms). */
export function parseEndToEndLatency(
  output: string,
): Omit<EndToEndLatencyResult, 'output'> | undefined {
  const average = /^Avg latency: ([\d.]+) ms$/m.exec(output);
  const percentiles = /^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)$/m.exec(output);
  if (!average || !percentiles) return undefined;
  return {
    averageMs: Number(average[1]),
    p50Ms: Number(percentiles[1]),
    p99Ms: Number(percentiles[2]),
    p999Ms: Number(percentiles[3]),
  };
}

/**
 * `org.apache.kafka.tools.EndToEndLatency`: one record at a time, sent synchronously (linger.ms=0)
 * and polled back by a consumer with fetch.max.wait.ms=0 before the next; the tool checks each
 * record's content and count. `topic` should exist (the tool creates one partition otherwise).
 */
export async function runEndToEndLatency(options: {
  bootstrap: string;
  topic: string;
  records: number;
  recordBytes: number;
  acks: '1' | 'all';
  jvmFlags?: JavaFlags;
  timeoutMs: number;
}): Promise<EndToEndLatencyResult> {
  return runTool(
    'EndToEndLatency',
    [
      options.bootstrap,
      options.topic,
      String(options.records),
      options.acks,
      String(options.recordBytes),
    ],
    { ...options, what: `${options.topic} acks=${options.acks}` },
    parseEndToEndLatency,
  );
}
