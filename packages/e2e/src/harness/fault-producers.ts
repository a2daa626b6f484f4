/**
 * The fault run's producers: each sends unique values with its own prefix (`kafkajs-<n>`,
 * `librdkafka-<n>`) to partition 0 of one topic, idempotent and acks=all, and records every
 * send's outcome (acknowledged at an offset, or unknown) and when each acknowledgement arrived on
 * the machine's monotonic clock (`monotonicMs`), which the Python client's `time.monotonic()`
 * shares.
 */
import { Kafka, type KafkaConfig, logLevel, type Producer } from 'kafkajs';
import type { SendOutcome } from './history-checker.js';
import { type JsonLinesProcess, spawnPythonClient } from './json-lines-process.js';
import { sleep } from './wait.js';

export type FaultProducerName = 'kafkajs' | 'librdkafka';

export interface AckTiming {
  sentAtMs: number;
  ackedAtMs: number;
}

export interface FaultProducer {
  readonly name: FaultProducerName;
  start(): Promise<void>;
  /** Stops sending, waits for outstanding sends, and returns every send's outcome. */
  stop(): Promise<void>;
  sends(): SendOutcome[];
  /** Every acknowledged send: when it was sent and when its ack arrived (monotonicMs), in ack order. */
  acks(): AckTiming[];
  /** Killed at once, outcomes unread (a failed run's clean-up). */
  kill(): Promise<void>;
  /** What went wrong in the client itself (fatal errors, a crash), for the run's report. */
  errors(): string[];
}

/** CLOCK_MONOTONIC in milliseconds: Node's hrtime and Python's time.monotonic() read it. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * With GREGOR_FAULT_RUN_CLIENT_LOG set, kafkajs's warnings and errors (connection errors, retries
 * with their backoff) go to stderr with wall-clock times, to line up with the brokers' logs.
 */
export function clientLogging(): Pick<KafkaConfig, 'logLevel' | 'logCreator'> {
  if (!process.env.GREGOR_FAULT_RUN_CLIENT_LOG) return { logLevel: logLevel.NOTHING };
  return {
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, label, log }) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
        process.stderr.write(
          `${new Date().toISOString()} kafkajs ${label} ${namespace}: ${message} ${JSON.stringify(fields)}\n`,
        );
      },
  };
}

export function newFaultProducer(
  name: FaultProducerName,
  options: { bootstraps: readonly string[]; topic: string },
): FaultProducer {
  return name === 'kafkajs'
    ? new KafkajsFaultProducer(options)
    : new LibrdkafkaFaultProducer(options);
}

/** kafkajs 2.2.4, one send awaited at a time. */
class KafkajsFaultProducer implements FaultProducer {
  readonly name = 'kafkajs';
  private readonly outcomes: SendOutcome[] = [];
  private readonly ackTimings: AckTiming[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private producer: Producer | undefined;
  private readonly kafka: Kafka;

  constructor(private readonly options: { bootstraps: readonly string[]; topic: string }) {
    this.kafka = new Kafka({
      clientId: 'fault-run',
      brokers: [...options.bootstraps],
      ...clientLogging(),
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let sequence = 0;
    while (!this.stopped) {
      const value = `kafkajs-${sequence++}`;
      const sentAtMs = monotonicMs();
      try {
        if (this.producer === undefined) {
          const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
          await producer.connect();
          this.producer = producer;
        }
        const [metadata] = await this.producer.send({
          topic: this.options.topic,
          acks: -1,
          timeout: 10_000,
          messages: [{ value, partition: 0 }],
        });
        this.outcomes.push({
          outcome: 'acked',
          value,
          partition: 0,
          offset: Number(metadata!.baseOffset),
        });
        this.ackTimings.push({ sentAtMs, ackedAtMs: monotonicMs() });
      } catch {
        // After kafkajs's retries the record may or may not be in the log. kafkajs keeps the
        // failed batch's sequence number for the next send, so the broker would take that send
        // for a retry of this one and acknowledge it without writing it: a new producer (new
        // producer id) carries on instead, as Java's producer bumps its epoch.
        this.outcomes.push({ outcome: 'unknown', value, partition: 0 });
        const failed = this.producer;
        this.producer = undefined;
        await failed?.disconnect().catch(() => undefined);
        await sleep(50);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.producer?.disconnect();
  }

  kill(): Promise<void> {
    return this.stop();
  }

  errors(): string[] {
    return [];
  }

  sends(): SendOutcome[] {
    return this.outcomes;
  }

  acks(): AckTiming[] {
    return this.ackTimings;
  }
}

/**
 * confluent-kafka under Debian's python3 (librdkafka), clients/python/confluent_client.py
 * `produce-through-faults`: many sends in flight at a steady rate; offsets and times come from
 * its delivery reports.
 */
class LibrdkafkaFaultProducer implements FaultProducer {
  readonly name = 'librdkafka';
  private client: JsonLinesProcess | undefined;
  private readonly failures: string[] = [];

  constructor(private readonly options: { bootstraps: readonly string[]; topic: string }) {}

  async start(): Promise<void> {
    this.client = spawnPythonClient({
      script: 'confluent_client.py',
      command: 'produce-through-faults',
      parameters: {
        bootstrap: this.options.bootstraps.join(','),
        topic: this.options.topic,
        partition: 0,
        prefix: 'librdkafka',
        ratePerSecond: 200,
        inFlightMax: 50,
      },
      label: 'librdkafka fault producer',
    });
    await this.client.waitForEvent('ack', { timeoutMs: 30_000 });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    await client.finish({ timeoutMs: 60_000 }).catch((error: unknown) => {
      // Its outcomes so far still count; the failure is a finding of the run.
      this.failures.push(String(error).split('\n')[0]!);
    });
  }

  errors(): string[] {
    const fatal = (this.client?.events ?? [])
      .filter(
        (event) =>
          (event.event === 'client-error' && event.fatal === true) || event.event === 'fatal',
      )
      .map((event) => `fatal: ${String(event.error ?? event.message)}`);
    return [...fatal, ...this.failures];
  }

  async kill(): Promise<void> {
    await this.client?.kill();
  }

  sends(): SendOutcome[] {
    const outcomes: SendOutcome[] = [];
    for (const event of this.client?.events ?? []) {
      if (event.event === 'ack') {
        outcomes.push({
          outcome: 'acked',
          value: String(event.value),
          partition: Number(event.partition),
          offset: event.offset === null ? undefined : Number(event.offset),
        });
      } else if (event.event === 'failed') {
        // A delivery failure (timeout, purge) does not say whether the record was written.
        outcomes.push({ outcome: 'unknown', value: String(event.value), partition: 0 });
      }
    }
    return outcomes;
  }

  acks(): AckTiming[] {
    return (this.client?.events ?? [])
      .filter((event) => event.event === 'ack')
      .map((event) => ({
        sentAtMs: Number(event.sentAt) * 1_000,
        ackedAtMs: Number(event.at) * 1_000,
      }));
  }
}
