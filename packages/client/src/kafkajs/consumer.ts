// kafkajs's Consumer on @gregor/client's group consumer. `run` polls the core consumer and hands
// the records to `eachMessage` or `eachBatch` one topic-partition batch at a time, with kafkajs's
// offset bookkeeping: handlers resolve offsets, resolved offsets (+1) are what gets committed
// (after each batch, or per autoCommitInterval / autoCommitThreshold), and a failing handler sends
// its partition back to the first unresolved offset, retried with kafkajs's retry settings. The
// core consumer's own auto-commit stays off: it would commit records handed out, not resolved.

import {
  type ConsumerRecord,
  Consumer as CoreConsumer,
  type ConsumerOptions as CoreConsumerOptions,
  type TopicPartition,
} from '../consumer/consumer.js';
import { sleep } from '../network/cluster.js';
import { describeGroup, listTopicNames } from './admin.js';
import {
  kafkajsRoundRobinAssignor,
  type PartitionAssigner,
  PartitionAssigners,
} from './assigners.js';
import { clusterOptions, type KafkaContext, kafkajsDefaults, type RetryOptions } from './config.js';
import { toKafkaJSError } from './error-mapping.js';
import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSNotImplemented } from './errors.js';
import { Instrumentation } from './events.js';
import { registerGroupMember } from './group-registry.js';
import type { Logger } from './logger.js';
import type { IHeaders } from './producer.js';

export interface ConsumerConfig {
  groupId: string;
  partitionAssigners?: PartitionAssigner[];
  metadataMaxAge?: number;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  minBytes?: number;
  maxBytes?: number;
  maxWaitTimeInMs?: number;
  retry?: RetryOptions;
  allowAutoTopicCreation?: boolean;
  maxInFlightRequests?: number | null;
  readUncommitted?: boolean;
  rackId?: string;
}

export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  size: number;
  headers: IHeaders;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

type OffsetsByTopicPartition = {
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
};

export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: OffsetsByTopicPartition): Promise<void>;
  uncommittedOffsets(): OffsetsByTopicPartition;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface ConsumerRunConfig {
  autoCommit?: boolean;
  autoCommitInterval?: number | null;
  autoCommitThreshold?: number | null;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
}

export const consumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function toMessage(record: ConsumerRecord): KafkaMessage {
  const headers: IHeaders = {};
  for (const header of record.headers) {
    const value = header.value ?? Buffer.alloc(0);
    const existing = headers[header.key];
    if (existing === undefined) headers[header.key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[header.key] = [existing, value];
  }
  return {
    key: record.key,
    value: record.value,
    timestamp: String(record.timestamp),
    attributes: 0,
    offset: String(record.offset),
    size: 0,
    headers,
  };
}

interface PartitionProgress {
  /** Next offset to commit: the last resolved offset + 1. */
  resolved: bigint | undefined;
  committed: bigint | undefined;
  /** Bumped by seeks and revocations: batches fetched before are stale. */
  generation: number;
}

export class Consumer {
  readonly events = consumerEvents;
  private readonly instrumentation = new Instrumentation(new Set(Object.values(consumerEvents)));
  private readonly log: Logger;
  private readonly subscriptions: { topics: (string | RegExp)[]; fromBeginning: boolean }[] = [];
  private core: CoreConsumer | undefined;
  private options: CoreConsumerOptions | undefined;
  private readonly progress = new Map<string, PartitionProgress>();
  private running = false;
  private loop: Promise<void> | undefined;
  private runConfig: ConsumerRunConfig = {};
  private resolvedSinceCommit = 0;
  private lastCommitAtMs = Date.now();
  private unregister: (() => void) | undefined;
  /** The batches being handed to the handlers now (stop waits for them). */
  private processing: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: KafkaContext,
    private readonly config: ConsumerConfig,
  ) {
    if (config?.groupId === undefined || config.groupId === '')
      throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.');
    this.log = context.logger.namespace('Consumer');
  }

  logger(): Logger {
    return this.log;
  }

  on(eventName: string, listener: (event: unknown) => void): () => void {
    return this.instrumentation.on(eventName, listener);
  }

  async connect(): Promise<void> {
    try {
      const cluster = await clusterOptions(this.context, {
        metadataMaxAge: this.config.metadataMaxAge,
        allowAutoTopicCreation: this.config.allowAutoTopicCreation ?? true,
        maxInFlightRequests: this.config.maxInFlightRequests,
      });
      const assigners = this.config.partitionAssigners ?? [PartitionAssigners.roundRobin];
      const assignors = assigners.map((assigner) => {
        if (assigner !== PartitionAssigners.roundRobin)
          throw new KafkaJSNotImplemented(
            'custom partitionAssigners are not supported: only PartitionAssigners.roundRobin',
          );
        return kafkajsRoundRobinAssignor;
      });
      this.options = {
        ...cluster,
        groupId: this.config.groupId,
        sessionTimeoutMs: this.config.sessionTimeout ?? 30_000,
        heartbeatIntervalMs: this.config.heartbeatInterval ?? 3_000,
        maxPollIntervalMs: this.config.rebalanceTimeout ?? 60_000,
        maxPartitionBytes: this.config.maxBytesPerPartition ?? 1_048_576,
        minBytes: this.config.minBytes ?? 1,
        maxBytes: this.config.maxBytes ?? 10_485_760,
        maxWaitMs: this.config.maxWaitTimeInMs ?? 5_000,
        isolationLevel:
          this.config.readUncommitted === true ? 'read_uncommitted' : 'read_committed',
        rackId: this.config.rackId ?? null,
        enableAutoCommit: false,
        partitionAssignors: assignors,
      };
      // Connectivity is checked now, as kafkajs does; the group is joined by `run`.
      const probe = new CoreConsumer(this.options);
      try {
        await probe.cluster.refreshMetadata();
      } finally {
        await probe.close();
      }
    } catch (error) {
      throw toKafkaJSError(error);
    }
    this.instrumentation.emit(consumerEvents.CONNECT);
  }

  async subscribe(options: {
    topic?: string | RegExp;
    topics?: (string | RegExp)[];
    fromBeginning?: boolean;
  }): Promise<void> {
    if (this.running)
      throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running');
    const topics = options.topics ?? (options.topic === undefined ? [] : [options.topic]);
    if (topics.length === 0)
      throw new KafkaJSNonRetriableError('Missing required argument "topics"');
    this.subscriptions.push({ topics, fromBeginning: options.fromBeginning === true });
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.options === undefined)
      throw new KafkaJSNonRetriableError('The consumer is not connected (call connect first)');
    if (this.running) return;
    if (config.eachBatch === undefined && config.eachMessage === undefined)
      throw new KafkaJSNonRetriableError('Consumer.run requires eachMessage or eachBatch');
    this.runConfig = config;
    const core = new CoreConsumer({
      ...this.options,
      // kafkajs's fromBeginning decides where a group without offsets starts.
      autoOffsetReset: this.subscriptions.some((entry) => entry.fromBeginning)
        ? 'earliest'
        : 'latest',
    });
    this.core = core;
    const topics = await this.resolveTopics(core);
    let joined: () => void = () => {};
    const firstJoin = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const startedAtMs = Date.now();
    core.subscribe(topics, {
      onPartitionsAssigned: (partitions) => {
        for (const { topic, partition } of partitions)
          this.progressOf(topic, partition).generation++;
        const metadata = core.groupMetadata();
        this.instrumentation.emit(consumerEvents.GROUP_JOIN, {
          duration: Date.now() - startedAtMs,
          groupId: this.config.groupId,
          memberId: metadata.memberId,
          groupProtocol: kafkajsRoundRobinAssignor.name,
          memberAssignment: assignmentByTopic(core.assignment()),
        });
        joined();
      },
      onPartitionsRevoked: async (partitions) => {
        this.instrumentation.emit(consumerEvents.REBALANCING, {
          groupId: this.config.groupId,
          memberId: core.groupMetadata().memberId,
        });
        if (this.autoCommit()) await this.commitResolved(partitions).catch(() => undefined);
        for (const { topic, partition } of partitions)
          this.progress.delete(partitionKey(topic, partition));
      },
    });
    this.unregister = registerGroupMember(this.config.groupId, () =>
      this.running ? core.groupMetadata() : undefined,
    );
    this.running = true;
    this.loop = this.consume(core).catch((error: unknown) => {
      this.log.error('Consumer crashed', { error: String(error) });
    });
    // kafkajs resolves run once the member joined; a join that takes longer does not block it.
    let timer: NodeJS.Timeout | undefined;
    const joinWait = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options?.sessionTimeoutMs ?? 30_000);
    });
    await Promise.race([firstJoin, this.loop, joinWait]);
    clearTimeout(timer);
  }

  async commitOffsets(
    offsets: { topic: string; partition: number; offset: string; metadata?: string | null }[],
  ): Promise<void> {
    const core = this.requireRunning();
    try {
      await core.commit(
        offsets.map((entry) => ({
          topic: entry.topic,
          partition: entry.partition,
          offset: BigInt(entry.offset),
          metadata: entry.metadata ?? null,
        })),
      );
    } catch (error) {
      throw toKafkaJSError(error);
    }
    for (const entry of offsets) {
      const progress = this.progress.get(partitionKey(entry.topic, entry.partition));
      if (progress !== undefined) progress.committed = BigInt(entry.offset);
    }
    this.emitCommit(offsets);
  }

  seek(target: { topic: string; partition: number; offset: string }): void {
    const core = this.requireRunning();
    const offset = BigInt(target.offset);
    const progress = this.progressOf(target.topic, target.partition);
    progress.generation++;
    progress.resolved = undefined;
    core.seek({ topic: target.topic, partition: target.partition }, offset);
    // kafkajs commits the sought offset unless autoCommit is off.
    if (this.autoCommit()) {
      void this.commitOffsets([
        { topic: target.topic, partition: target.partition, offset: target.offset },
      ]).catch((error: unknown) => this.log.error('Seek commit failed', { error: String(error) }));
    }
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    const core = this.requireRunning();
    core.pause(this.expand(core, topics));
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    const core = this.requireRunning();
    core.resume(this.expand(core, topics));
  }

  paused(): { topic: string; partitions: number[] }[] {
    if (this.core === undefined) return [];
    return Object.entries(assignmentByTopic(this.core.pausedPartitions())).map(
      ([topic, partitions]) => ({ topic, partitions }),
    );
  }

  async describeGroup() {
    const core = this.requireRunning();
    try {
      return await describeGroup(core.cluster, this.config.groupId);
    } catch (error) {
      throw toKafkaJSError(error);
    }
  }

  /**
   * Stops consuming: the batch in hand finishes, resolved offsets are committed (autoCommit),
   * then the member leaves the group. The consumer can `run` again.
   */
  async stop(): Promise<void> {
    if (!this.running && this.core === undefined) return;
    this.running = false;
    const core = this.core;
    this.unregister?.();
    // A handler that itself waits for stop must not hang it: wait at most a session timeout.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.processing,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options?.sessionTimeoutMs ?? 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (core !== undefined) {
      if (this.autoCommit()) await this.commitResolved(core.assignment()).catch(() => undefined);
      this.core = undefined;
      await core.close().catch(() => undefined);
    }
    await this.loop;
    this.instrumentation.emit(consumerEvents.STOP);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.instrumentation.emit(consumerEvents.DISCONNECT);
  }

  private async consume(core: CoreConsumer): Promise<void> {
    let attempt = 0;
    while (this.running) {
      let records: ConsumerRecord[];
      try {
        this.instrumentation.emit(consumerEvents.FETCH_START, {});
        records = await core.poll();
      } catch (error) {
        if (!this.running) return;
        await this.onFailure(error, attempt++);
        continue;
      }
      if (!this.running) return;
      if (records.length > 0)
        this.instrumentation.emit(consumerEvents.FETCH, { numberOfBatches: records.length });
      try {
        const processed = this.process(core, records);
        this.processing = processed.then(
          () => undefined,
          () => undefined,
        );
        await processed;
        attempt = 0;
        if (this.autoCommit()) await this.commitIfNecessary(core, false);
      } catch (error) {
        if (!this.running) return;
        if (this.autoCommit()) await this.commitResolved(core.assignment()).catch(() => undefined);
        this.rewind(core, records);
        await this.onFailure(error, attempt++);
      }
    }
  }

  /** kafkajs's retrier: exponential backoff, then a crash event and a restart (or a stop). */
  private async onFailure(error: unknown, attempt: number): Promise<void> {
    const retry = this.config.retry ?? {};
    const retries = retry.retries ?? kafkajsDefaults.retries;
    const converted = toKafkaJSError(error);
    // kafkajs's retrier gives up at once on non-retriable errors, and then does not restart.
    const retriable = !(converted instanceof KafkaJSError) || converted.retriable;
    if (retriable && attempt < retries) {
      const waitMs = Math.min(
        (retry.initialRetryTime ?? kafkajsDefaults.initialRetryTimeMs) *
          (retry.multiplier ?? 2) ** attempt,
        retry.maxRetryTime ?? kafkajsDefaults.maxRetryTimeMs,
      );
      await sleep(waitMs);
      return;
    }
    const restart =
      retriable &&
      (retry.restartOnFailure === undefined ||
        (await retry.restartOnFailure(converted).catch(() => false)));
    this.instrumentation.emit(consumerEvents.CRASH, {
      error: converted,
      groupId: this.config.groupId,
      restart,
    });
    if (!restart) await this.stop();
  }

  private async process(core: CoreConsumer, records: ConsumerRecord[]): Promise<void> {
    const batches = new Map<string, ConsumerRecord[]>();
    for (const record of records) {
      const key = partitionKey(record.topic, record.partition);
      let list = batches.get(key);
      if (list === undefined) {
        list = [];
        batches.set(key, list);
      }
      list.push(record);
    }
    const pending = [...batches.values()];
    const concurrency = Math.max(1, this.runConfig.partitionsConsumedConcurrently ?? 1);
    const worker = async () => {
      for (let next = pending.shift(); next !== undefined && this.running; next = pending.shift())
        await this.processBatch(core, next);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
  }

  private async processBatch(core: CoreConsumer, records: ConsumerRecord[]): Promise<void> {
    const { topic, partition } = records[0];
    const progress = this.progressOf(topic, partition);
    const generation = progress.generation;
    const isStale = () => progress.generation !== generation;
    const messages = records.map(toMessage);
    const highWatermark =
      core.highWatermark({ topic, partition }) ?? records[records.length - 1].offset + 1n;
    const batch: Batch = {
      topic,
      partition,
      highWatermark: String(highWatermark),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => messages.at(-1)?.offset ?? String(highWatermark - 1n),
      offsetLag: () => String(highWatermark - 1n - BigInt(batch.lastOffset())),
      offsetLagLow: () =>
        String(highWatermark - 1n - BigInt(batch.firstOffset() ?? batch.lastOffset())),
    };
    const resolveOffset = (offset: string) => {
      if (isStale()) return;
      const next = BigInt(offset) + 1n;
      if (progress.resolved === undefined || next > progress.resolved) {
        progress.resolved = next;
        this.resolvedSinceCommit++;
      }
    };
    const pause = () => {
      core.pause([{ topic, partition }]);
      return () => core.resume([{ topic, partition }]);
    };
    const heartbeat = async () => {
      this.instrumentation.emit(consumerEvents.HEARTBEAT, { groupId: this.config.groupId });
    };
    this.instrumentation.emit(consumerEvents.START_BATCH_PROCESS, {
      topic,
      partition,
      batchSize: messages.length,
      firstOffset: batch.firstOffset(),
      lastOffset: batch.lastOffset(),
    });
    const startedAtMs = Date.now();
    if (this.runConfig.eachMessage !== undefined) {
      for (const message of messages) {
        if (
          isStale() ||
          core
            .pausedPartitions()
            .some((entry) => entry.topic === topic && entry.partition === partition)
        )
          break;
        await this.runConfig.eachMessage({ topic, partition, message, heartbeat, pause });
        resolveOffset(message.offset);
        if (this.autoCommit()) await this.commitIfNecessary(core, true);
      }
    } else if (this.runConfig.eachBatch !== undefined) {
      await this.runConfig.eachBatch({
        batch,
        resolveOffset,
        heartbeat,
        pause,
        commitOffsetsIfNecessary: async (offsets) => {
          if (offsets !== undefined) {
            await this.commitOffsets(
              offsets.topics.flatMap((entry) =>
                entry.partitions.map((p) => ({
                  topic: entry.topic,
                  partition: p.partition,
                  offset: p.offset,
                })),
              ),
            );
          } else if (this.autoCommit()) {
            await this.commitIfNecessary(core, true);
          }
        },
        uncommittedOffsets: () => this.uncommitted(),
        isRunning: () => this.running,
        isStale,
      });
      if ((this.runConfig.eachBatchAutoResolve ?? true) && messages.length > 0 && !isStale())
        resolveOffset(messages[messages.length - 1].offset);
    }
    this.instrumentation.emit(consumerEvents.END_BATCH_PROCESS, {
      topic,
      partition,
      batchSize: messages.length,
      duration: Date.now() - startedAtMs,
    });
  }

  /** After a failed batch: every partition of the poll restarts at its first unresolved record. */
  private rewind(core: CoreConsumer, records: ConsumerRecord[]): void {
    const firstOffsets = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const record of records) {
      const key = partitionKey(record.topic, record.partition);
      if (!firstOffsets.has(key))
        firstOffsets.set(key, {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        });
    }
    for (const [key, first] of firstOffsets) {
      const resolved = this.progress.get(key)?.resolved;
      const offset = resolved !== undefined && resolved > first.offset ? resolved : first.offset;
      try {
        core.seek({ topic: first.topic, partition: first.partition }, offset);
      } catch {
        // Revoked meanwhile: the next owner starts from the committed offset.
      }
    }
  }

  private autoCommit(): boolean {
    return this.runConfig.autoCommit ?? true;
  }

  /**
   * kafkajs's rule: with neither interval nor threshold, commit after every batch; otherwise when
   * the interval passed or the threshold of resolved messages is reached (mid-batch checks only
   * apply then).
   */
  private async commitIfNecessary(core: CoreConsumer, midBatch: boolean): Promise<void> {
    const interval = this.runConfig.autoCommitInterval ?? null;
    const threshold = this.runConfig.autoCommitThreshold ?? null;
    if (interval === null && threshold === null) {
      if (midBatch) return;
    } else {
      const due =
        (interval !== null && Date.now() - this.lastCommitAtMs >= interval) ||
        (threshold !== null && this.resolvedSinceCommit >= threshold);
      if (!due) return;
    }
    await this.commitResolved(core.assignment());
  }

  private async commitResolved(partitions: readonly TopicPartition[]): Promise<void> {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const { topic, partition } of partitions) {
      const progress = this.progress.get(partitionKey(topic, partition));
      if (progress?.resolved === undefined || progress.resolved === progress.committed) continue;
      offsets.push({ topic, partition, offset: String(progress.resolved) });
    }
    this.resolvedSinceCommit = 0;
    this.lastCommitAtMs = Date.now();
    if (offsets.length > 0) await this.commitOffsets(offsets);
  }

  private uncommitted(): OffsetsByTopicPartition {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const [key, progress] of this.progress) {
      if (progress.resolved === undefined || progress.resolved === progress.committed) continue;
      const [topic, partition] = key.split('\u0000');
      byTopic.set(topic, [
        ...(byTopic.get(topic) ?? []),
        { partition: Number(partition), offset: String(progress.resolved) },
      ]);
    }
    return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
  }

  private emitCommit(offsets: { topic: string; partition: number; offset: string }[]): void {
    const byTopic = new Map<string, { partition: string; offset: string }[]>();
    for (const entry of offsets)
      byTopic.set(entry.topic, [
        ...(byTopic.get(entry.topic) ?? []),
        { partition: String(entry.partition), offset: entry.offset },
      ]);
    const metadata = this.core?.groupMetadata();
    this.instrumentation.emit(consumerEvents.COMMIT_OFFSETS, {
      groupId: this.config.groupId,
      memberId: metadata?.memberId,
      groupGenerationId: metadata?.generationId,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
  }

  private progressOf(topic: string, partition: number): PartitionProgress {
    const key = partitionKey(topic, partition);
    let progress = this.progress.get(key);
    if (progress === undefined) {
      progress = { resolved: undefined, committed: undefined, generation: 0 };
      this.progress.set(key, progress);
    }
    return progress;
  }

  /** kafkajs matches regular expressions against the topics that exist when `run` starts. */
  private async resolveTopics(core: CoreConsumer): Promise<string[]> {
    const names = new Set<string>();
    const patterns: RegExp[] = [];
    for (const { topics } of this.subscriptions)
      for (const topic of topics) {
        if (typeof topic === 'string') names.add(topic);
        else patterns.push(topic);
      }
    if (patterns.length > 0) {
      for (const topic of await listTopicNames(core.cluster))
        if (patterns.some((pattern) => pattern.test(topic))) names.add(topic);
    }
    return [...names];
  }

  private expand(
    core: CoreConsumer,
    topics: { topic: string; partitions?: number[] }[],
  ): TopicPartition[] {
    const assigned = core.assignment();
    return topics.flatMap(({ topic, partitions }) =>
      partitions === undefined
        ? assigned.filter((entry) => entry.topic === topic)
        : partitions.map((partition) => ({ topic, partition })),
    );
  }

  private requireRunning(): CoreConsumer {
    if (this.core === undefined)
      throw new KafkaJSNonRetriableError('Consumer must be running (call run first)');
    return this.core;
  }
}

function assignmentByTopic(partitions: readonly TopicPartition[]): Record<string, number[]> {
  const byTopic: Record<string, number[]> = {};
  for (const { topic, partition } of partitions) {
    byTopic[topic] ??= [];
    byTopic[topic].push(partition);
  }
  for (const list of Object.values(byTopic)) list.sort((left, right) => left - right);
  return byTopic;
}
