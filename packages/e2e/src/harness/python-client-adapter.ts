import assert from 'node:assert/strict';
import type { AdminTourClient } from './admin-tour.js';
import type { CodecClient } from './codec-scenario.js';
import {
  type ClientEvent,
  type JsonLinesProcess,
  runPythonClient,
  spawnPythonClient,
} from './json-lines-process.js';
import type { PythonRuntime } from './python-runtimes.js';
import { type PlacedRecord, placedRecordFromEvent } from './records.js';
import type { RoundTripClient } from './roundtrip-scenario.js';
import type { ProcessorParameters, TransactionalProcessorClient } from './transaction-scenario.js';

/**
 * One python client script under one interpreter, driven through the commands the scripts share
 * (create-topic, produce, read-all, consume-group, committed, process): the scenarios' client
 * interfaces over it. Every spawned process is remembered so `killAll` ends them after a test.
 */
export class PythonClientAdapter
  implements RoundTripClient, CodecClient, TransactionalProcessorClient, AdminTourClient
{
  private readonly spawned: JsonLinesProcess[] = [];

  constructor(
    private readonly options: { script: string; python: PythonRuntime; bootstrap: string },
  ) {}

  run(command: string, parameters: object, timeoutMs = 60_000): Promise<ClientEvent[]> {
    return runPythonClient({
      script: this.options.script,
      command,
      parameters: { bootstrap: this.options.bootstrap, ...parameters },
      timeoutMs,
      python: this.options.python,
    });
  }

  spawn(command: string, parameters: object, label: string): JsonLinesProcess {
    const client = spawnPythonClient({
      script: this.options.script,
      command,
      parameters: { bootstrap: this.options.bootstrap, ...parameters },
      label: `${label} (${this.options.python.label})`,
      python: this.options.python,
    });
    this.spawned.push(client);
    return client;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.spawned.map((client) => client.kill()));
  }

  async createTopic(options: { topic: string; partitions: number }): Promise<void> {
    await this.run('create-topic', options);
  }

  async produce(options: {
    topic: string;
    count: number;
    prefix: string;
    compression?: string;
  }): Promise<PlacedRecord[]> {
    const events = await this.run('produce', { ...options, acks: 'all' });
    const acknowledged = events.filter((event) => event.event === 'ack').map(placedRecordFromEvent);
    assert.equal(
      acknowledged.length,
      options.count,
      `every record acknowledged (${this.options.python.label})`,
    );
    return acknowledged;
  }

  async readAll(options: {
    topic: string;
    partitions: number[];
    expected: number;
    isolation?: 'read_committed' | 'read_uncommitted';
  }): Promise<PlacedRecord[]> {
    const events = await this.run('read-all', { ...options, timeoutS: 60 }, 90_000);
    return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
  }

  async consumeGroup(options: {
    topic: string;
    group: string;
    expected: number;
  }): Promise<PlacedRecord[]> {
    const events = await this.run('consume-group', { ...options, timeoutS: 40 }, 60_000);
    return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
  }

  async committedOffsets(options: {
    topic: string;
    group: string;
    partitions: number;
  }): Promise<Map<number, number>> {
    const events = await this.run('committed', {
      topic: options.topic,
      group: options.group,
      partitions: Array.from({ length: options.partitions }, (_, partition) => partition),
    });
    const offsets = (events.find((event) => event.event === 'committed-offsets')?.offsets ??
      []) as {
      partition: number;
      offset: number;
    }[];
    return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
  }

  runTour(parameters: object): Promise<ClientEvent[]> {
    return this.run('admin-tour', parameters);
  }

  spawnProcessor(parameters: ProcessorParameters, label: string): JsonLinesProcess {
    return this.spawn('process', parameters, label);
  }

  async readCommittedValues(options: {
    topic: string;
    partitions: number[];
    expected: number;
  }): Promise<string[]> {
    const read = await this.readAll({ ...options, isolation: 'read_committed' });
    return read.map((record) => record.value ?? '');
  }
}
