// kafkajs's Producer on @gregor/client's. A kafkajs send names its acks and compression per call
// while ours fixes them per producer, so one core producer is kept per (acks, compression) pair
// used (almost always just one). Partitions are chosen here with kafkajs's partitioner contract
// (`createPartitioner`, default DefaultPartitioner), then handed to the core producer explicitly.
// kafkajs has no linger: a send leaves at once, so the core producers run with linger.ms 0 (sends
// made in the same tick still share a batch).

import type { CompressionName } from '@gregor/protocol';
import type { TopicInfo } from '../network/cluster.js';
import {
  type Acks,
  Producer as CoreProducer,
  type RecordMetadata as CoreRecordMetadata,
  type HeaderValue,
} from '../producer/producer.js';
import { clusterOptions, type KafkaContext, type RetryOptions, retryBudgetMs } from './config.js';
import { toKafkaJSError } from './error-mapping.js';
import { KafkaJSNonRetriableError } from './errors.js';
import { Instrumentation } from './events.js';
import type { Logger } from './logger.js';
import { type ICustomPartitioner, Partitioners, type PartitionMetadata } from './partitioners.js';
import { Transaction } from './transaction.js';

export const CompressionTypes = {
  None: 0,
  GZIP: 1,
  Snappy: 2,
  LZ4: 3,
  ZSTD: 4,
} as const;

export type CompressionTypesValue = (typeof CompressionTypes)[keyof typeof CompressionTypes];

const compressionNames: Record<number, CompressionName> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};

/**
 * kafkajs's codec registry. Every codec is built into @gregor/client, so registrations are kept
 * (code that assigns to it keeps working) but never needed.
 */
export const CompressionCodecs: Record<number, unknown> = {};

export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner;
  retry?: RetryOptions;
  metadataMaxAge?: number;
  allowAutoTopicCreation?: boolean;
  idempotent?: boolean;
  transactionalId?: string;
  transactionTimeout?: number;
  maxInFlightRequests?: number | null;
}

export type IHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  timestamp?: string;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: number;
  timeout?: number;
  compression?: CompressionTypesValue;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export interface ProducerBatch {
  acks?: number;
  timeout?: number;
  compression?: CompressionTypesValue;
  topicMessages?: TopicMessages[];
}

export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

export const producerEvents = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const;

function toHeaders(
  headers: IHeaders | undefined,
): { key: string; value: HeaderValue }[] | undefined {
  if (headers === undefined) return undefined;
  const list: { key: string; value: HeaderValue }[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const each of value) list.push({ key, value: each });
    else list.push({ key, value });
  }
  return list;
}

function validateMessages(topic: string, messages: Message[] | undefined): Message[] {
  if (!Array.isArray(messages)) {
    throw new KafkaJSNonRetriableError(
      `Invalid messages array [${String(messages)}] for topic "${topic}"`,
    );
  }
  for (const message of messages) {
    if (message === null || typeof message !== 'object' || message.value === undefined) {
      throw new KafkaJSNonRetriableError(`Invalid message without value for topic "${topic}"`);
    }
  }
  return messages;
}

/** Shared by the producer and its transactions: sends one call's topics and messages. */
export class MessageSender {
  private readonly partitionMetadataByTopic = new WeakMap<TopicInfo, PartitionMetadata[]>();
  private readonly partitioner: ReturnType<ICustomPartitioner>;

  constructor(createPartitioner: ICustomPartitioner | undefined) {
    this.partitioner = (createPartitioner ?? Partitioners.DefaultPartitioner)();
  }

  async send(
    core: CoreProducer,
    topicMessages: readonly TopicMessages[],
  ): Promise<RecordMetadata[]> {
    const pending: Promise<CoreRecordMetadata>[] = [];
    for (const { topic, messages } of topicMessages) {
      const valid = validateMessages(topic, messages);
      const partitionMetadata = this.partitionMetadata(
        await core.cluster.topic(topic, core.cluster.options.requestTimeoutMs),
      );
      for (const message of valid) {
        const partition = this.partitioner({ topic, partitionMetadata, message });
        pending.push(
          core.send({
            topic,
            partition,
            key: message.key ?? null,
            value: message.value,
            headers: toHeaders(message.headers),
            timestamp: message.timestamp === undefined ? undefined : Number(message.timestamp),
          }),
        );
      }
    }
    const delivered = await Promise.all(pending);
    // kafkajs answers one entry per partition written (topics in call order, partitions
    // ascending), with the offset of the call's first record there.
    const topicOrder = new Map(topicMessages.map(({ topic }, index) => [topic, index]));
    const byPartition = new Map<string, { entry: RecordMetadata; first: bigint }>();
    for (const metadata of delivered) {
      const key = `${metadata.topic}\u0000${metadata.partition}`;
      const known = byPartition.get(key);
      if (known === undefined) {
        byPartition.set(key, {
          entry: {
            topicName: metadata.topic,
            partition: metadata.partition,
            errorCode: 0,
            baseOffset: String(metadata.offset),
            logAppendTime: '-1',
            logStartOffset: String(metadata.logStartOffset),
          },
          first: metadata.offset,
        });
      } else if (metadata.offset >= 0n && metadata.offset < known.first) {
        known.first = metadata.offset;
        known.entry.baseOffset = String(metadata.offset);
      }
    }
    return [...byPartition.values()]
      .map(({ entry }) => entry)
      .sort(
        (left, right) =>
          (topicOrder.get(left.topicName) ?? 0) - (topicOrder.get(right.topicName) ?? 0) ||
          left.partition - right.partition,
      );
  }

  private partitionMetadata(topic: TopicInfo): PartitionMetadata[] {
    let metadata = this.partitionMetadataByTopic.get(topic);
    if (metadata === undefined) {
      metadata = topic.partitions.map((partition) => ({
        partitionErrorCode: partition.errorCode,
        partitionId: partition.partition,
        leader: partition.leaderId,
        replicas: [partition.leaderId],
        isr: [partition.leaderId],
        offlineReplicas: [],
      }));
      this.partitionMetadataByTopic.set(topic, metadata);
    }
    return metadata;
  }
}

export class Producer {
  readonly events = producerEvents;
  private readonly instrumentation = new Instrumentation(new Set(Object.values(producerEvents)));
  private readonly sender: MessageSender;
  private readonly log: Logger;
  private readonly cores = new Map<string, Promise<CoreProducer>>();
  private connected = false;
  private activeTransaction: Transaction | undefined;

  constructor(
    private readonly context: KafkaContext,
    private readonly config: ProducerConfig = {},
  ) {
    this.sender = new MessageSender(config.createPartitioner);
    this.log = context.logger.namespace('Producer');
  }

  logger(): Logger {
    return this.log;
  }

  isIdempotent(): boolean {
    return this.config.idempotent === true || this.config.transactionalId !== undefined;
  }

  on(eventName: string, listener: (event: unknown) => void): () => void {
    return this.instrumentation.on(eventName, listener);
  }

  async connect(): Promise<void> {
    try {
      const core = await this.core(-1, CompressionTypes.None);
      await core.cluster.refreshMetadata();
      await this.afterConnect(core);
    } catch (error) {
      throw toKafkaJSError(error);
    }
    this.connected = true;
    this.instrumentation.emit(producerEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    const cores = [...this.cores.values()];
    this.cores.clear();
    this.connected = false;
    await Promise.all(
      cores.map((opening) =>
        opening.then(
          (core) => core.close(),
          () => undefined,
        ),
      ),
    );
    this.instrumentation.emit(producerEvents.DISCONNECT);
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({
      acks: record.acks,
      timeout: record.timeout,
      compression: record.compression,
      topicMessages: [{ topic: record.topic, messages: record.messages }],
    });
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.checkSendAllowed();
    try {
      const core = await this.core(batch.acks ?? -1, batch.compression ?? CompressionTypes.None);
      return await this.sender.send(core, batch.topicMessages ?? []);
    } catch (error) {
      throw toKafkaJSError(error);
    }
  }

  /** Begins a transaction (the producer needs a `transactionalId`). */
  async transaction(): Promise<Transaction> {
    if (this.config.transactionalId === undefined)
      throw new KafkaJSNonRetriableError(
        'Must provide transactional id for transactional producer',
      );
    if (this.activeTransaction?.isActive()) {
      throw new KafkaJSNonRetriableError(
        'There is already an ongoing transaction for this producer. Please end the transaction before beginning another.',
      );
    }
    this.checkSendAllowed();
    const core = await this.core(-1, CompressionTypes.None);
    try {
      core.beginTransaction();
    } catch (error) {
      throw toKafkaJSError(error);
    }
    const transaction = new Transaction(core, this.sender, () => {
      if (this.activeTransaction === transaction) this.activeTransaction = undefined;
    });
    this.activeTransaction = transaction;
    return transaction;
  }

  private async afterConnect(core: CoreProducer): Promise<void> {
    // kafkajs initialises the producer id of a transactional producer on connect.
    if (this.config.transactionalId !== undefined) await core.initTransactions();
  }

  private checkSendAllowed(): void {
    if (!this.connected) throw new KafkaJSNonRetriableError('The producer is disconnected');
  }

  /** The core producer for this acks and compression, created on first use. */
  private core(acks: number, compression: number): Promise<CoreProducer> {
    // A transactional producer is one producer id: every send goes through the same core.
    const key =
      this.config.transactionalId === undefined ? `${acks}:${compression}` : 'transactional';
    let opening = this.cores.get(key);
    if (opening === undefined) {
      opening = this.createCore(acks, compression);
      this.cores.set(key, opening);
      opening.catch(() => {
        if (this.cores.get(key) === opening) this.cores.delete(key);
      });
    }
    return opening;
  }

  private async createCore(acks: number, compression: number): Promise<CoreProducer> {
    const name = compressionNames[compression];
    if (name === undefined)
      throw new KafkaJSNonRetriableError(`Compression type ${compression} not supported`);
    if (acks !== -1 && acks !== 0 && acks !== 1)
      throw new KafkaJSNonRetriableError(`Invalid acks ${acks}: expected -1, 0 or 1`);
    const idempotent = this.isIdempotent();
    if (idempotent && acks !== -1) {
      throw new KafkaJSNonRetriableError(
        "Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees",
      );
    }
    const cluster = await clusterOptions(this.context, {
      metadataMaxAge: this.config.metadataMaxAge,
      allowAutoTopicCreation: this.config.allowAutoTopicCreation ?? true,
      maxInFlightRequests: idempotent
        ? Math.min(this.config.maxInFlightRequests ?? 5, 5)
        : (this.config.maxInFlightRequests ?? undefined),
    });
    const core = new CoreProducer({
      ...cluster,
      lingerMs: 0,
      idempotent,
      deliveryTimeoutMs: Math.max(retryBudgetMs(this.config.retry), cluster.requestTimeoutMs ?? 0),
      acks: acks as Acks,
      compression: name,
      transactionalId: this.config.transactionalId,
      transactionTimeoutMs: this.config.transactionTimeout,
    });
    return core;
  }
}
