import type { CodecClient } from './codec-scenario.js';
import { assertKafkaJars, startJava } from './java.js';
import { type ClientEvent, JsonLinesProcess } from './json-lines-process.js';
import { type PlacedRecord, placedRecordFromEvent } from './records.js';
import type { RoundTripClient } from './roundtrip-scenario.js';

/**
 * Apache Kafka's Java client (java/src/JavaClients.java) as one long-lived JVM per test file:
 * the source is compiled once and every command is a JSON line on stdin; the answers are JSON-line
 * events carrying the command's id, ending with `done` or `error`.
 */

export class JavaClientsError extends Error {
  constructor(
    readonly command: string,
    readonly type: string,
    message: string,
  ) {
    super(`JavaClients ${command} failed: ${type}: ${message}`);
    this.name = 'JavaClientsError';
  }
}

export class JavaClients {
  private nextId = 1;

  private constructor(
    private readonly client: JsonLinesProcess,
    /** Apache Kafka client version the JVM reports (`AppInfoParser`). */
    readonly version: string,
  ) {}

  static async start(options: { bootstrap: string; heapMb?: number }): Promise<JavaClients> {
    await assertKafkaJars();
    const client = new JsonLinesProcess(
      startJava({
        main: 'JavaClients.java',
        arguments: [options.bootstrap],
        heapMb: options.heapMb ?? 256,
        label: 'JavaClients',
      }),
    );
    const ready = await client.waitForEvent('ready', { timeoutMs: 90_000 });
    return new JavaClients(client, String(ready.version));
  }

  /** Runs one command; resolves with its events (without `done`), rejects on `error`. */
  async run(
    command: string,
    parameters: Record<string, unknown>,
    options: { timeoutMs: number },
  ): Promise<ClientEvent[]> {
    const id = this.nextId++;
    this.client.process.writeLine(JSON.stringify({ id, command, ...parameters }));
    const end = await this.client.waitFor(
      (events) =>
        events.find(
          (event) => event.id === id && (event.event === 'done' || event.event === 'error'),
        ),
      { timeoutMs: options.timeoutMs, what: `${command} (#${id}) to finish` },
    );
    if (end.event === 'error') {
      throw new JavaClientsError(command, String(end.type), String(end.message));
    }
    return this.client.events.filter((event) => event.id === id && event.event !== 'done');
  }

  /** The `result` events of an admin command as check name → value. */
  async results(
    command: string,
    parameters: Record<string, unknown>,
    options: { timeoutMs: number },
  ): Promise<Record<string, unknown>> {
    const events = await this.run(command, parameters, options);
    return Object.fromEntries(
      events
        .filter((event) => event.event === 'result')
        .map((event) => [String(event.check), event.value]),
    );
  }

  /** Closes stdin (the program exits), then makes sure the JVM is gone. */
  async stop(): Promise<void> {
    this.client.process.closeInput();
    await this.client.process.stop({ signal: 'SIGTERM', timeoutMs: 10_000 });
  }
}

export function recordsOf(events: readonly ClientEvent[], name: 'ack' | 'record'): PlacedRecord[] {
  return events.filter((event) => event.event === name).map(placedRecordFromEvent);
}

/** The round-trip scenario's adapter: acks=all producer, one group member per consumption. */
export function javaRoundTripClient(
  java: JavaClients,
  options: { producer: Record<string, string>; consumer: Record<string, string> },
): RoundTripClient {
  return {
    async createTopic({ topic, partitions }) {
      await java.run('createTopic', { topic, partitions }, { timeoutMs: 30_000 });
    },
    async produce({ topic, partitions, count, prefix }) {
      const events = await java.run(
        'produce',
        { topic, partitions, count, prefix, settings: { acks: 'all', ...options.producer } },
        { timeoutMs: 60_000 },
      );
      return recordsOf(events, 'ack');
    },
    async consumeGroup({ topic, group, expected }) {
      const events = await java.run(
        'consumeGroup',
        { topic, expected, settings: { 'group.id': group, ...options.consumer } },
        { timeoutMs: 90_000 },
      );
      return recordsOf(events, 'record');
    },
    async committedOffsets({ group }) {
      const [committed] = await java.run('committed', { group }, { timeoutMs: 30_000 });
      const offsets = committed.offsets as Record<string, number>;
      return new Map(
        Object.entries(offsets).map(([partition, offset]) => [Number(partition), offset]),
      );
    },
  };
}

/** The codec scenario's adapter; `produced` collects each topic's acknowledged records. */
export function javaCodecClient(
  java: JavaClients,
  produced: Map<string, PlacedRecord[]>,
): CodecClient {
  return {
    async createTopic({ topic, partitions }) {
      await java.run('createTopic', { topic, partitions }, { timeoutMs: 30_000 });
    },
    async produce({ topic, count, prefix, compression }) {
      const events = await java.run(
        'produce',
        {
          topic,
          count,
          prefix,
          // Repetitive padding so every codec really compresses; linger for multi-record batches.
          padding: 'compressible-',
          settings: { 'compression.type': compression, 'linger.ms': '20' },
        },
        { timeoutMs: 60_000 },
      );
      const acknowledged = recordsOf(events, 'ack');
      produced.set(topic, acknowledged);
      return acknowledged;
    },
    async readAll({ topic }) {
      return recordsOf(
        await java.run('read', { topic, settings: {} }, { timeoutMs: 60_000 }),
        'record',
      );
    },
  };
}
