/**
 * What the client benchmark asks of every Node client: a producer that sends one record per call
 * or a list per call (each awaited until acknowledged with acks=all), and a group consumer from
 * the beginning of a topic handing out record values in batches.
 */

export interface BenchProducer {
  sendOne(topic: string, value: Buffer): Promise<void>;
  sendMany(topic: string, values: readonly Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export interface BenchConsumer {
  close(): Promise<void>;
}

export interface ConsumeOptions {
  topic: string;
  group: string;
  /** Called with every record's value, in the order the client hands them out. */
  onValues: (values: ReadonlyArray<Buffer | null>) => void;
}

export interface BenchDriver {
  /** Name and version as reported in the tables. */
  readonly label: string;
  producer(bootstrap: string): Promise<BenchProducer>;
  /** Resolves once consumption started (the consumer may still be joining its group). */
  consume(bootstrap: string, options: ConsumeOptions): Promise<BenchConsumer>;
}

export const benchClientNames = [
  'gregor',
  'kafkajs',
  'platformatic',
  'confluent',
  'node-rdkafka',
] as const;
/**
 * `gregor-baseline`: @gregor/client from the compiled build in the folder named by
 * GREGOR_CLIENT_BASELINE (the bench's `--baseline`), for before/after figures in one run.
 */
export type BenchClientName = (typeof benchClientNames)[number] | 'gregor-baseline';
