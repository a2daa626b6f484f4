// kafkajs's transaction object: `producer.transaction()` begins one on the core transactional
// producer; send/sendBatch/sendOffsets go into it; commit or abort ends it, after which the
// object refuses further use (kafkajs's "Cannot continue to use transaction once ended").

import type { Producer as CoreProducer } from '../producer/producer.js';
import { toKafkaJSError } from './error-mapping.js';
import { KafkaJSNonRetriableError } from './errors.js';
import { groupMetadataFor } from './group-registry.js';
import type { MessageSender, ProducerBatch, ProducerRecord, RecordMetadata } from './producer.js';

export interface TopicOffsets {
  topic: string;
  partitions: { partition: number; offset: string }[];
}

export interface Offsets {
  topics: TopicOffsets[];
}

export class Transaction {
  private active = true;

  constructor(
    private readonly core: CoreProducer,
    private readonly sender: MessageSender,
    private readonly onEnd: () => void,
  ) {}

  isActive(): boolean {
    return this.active;
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }] });
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.checkActive();
    try {
      return await this.sender.send(this.core, batch.topicMessages ?? []);
    } catch (error) {
      throw toKafkaJSError(error);
    }
  }

  async sendOffsets(options: Offsets & { consumerGroupId: string }): Promise<void> {
    this.checkActive();
    const offsets = options.topics.flatMap((topic) =>
      topic.partitions.map((entry) => ({
        topic: topic.topic,
        partition: entry.partition,
        offset: BigInt(entry.offset),
        metadata: null,
      })),
    );
    try {
      await this.core.sendOffsetsToTransaction(offsets, groupMetadataFor(options.consumerGroupId));
    } catch (error) {
      throw toKafkaJSError(error);
    }
  }

  async commit(): Promise<void> {
    this.checkActive();
    try {
      await this.core.commitTransaction();
    } catch (error) {
      throw toKafkaJSError(error);
    }
    this.end();
  }

  async abort(): Promise<void> {
    this.checkActive();
    try {
      await this.core.abortTransaction();
    } catch (error) {
      throw toKafkaJSError(error);
    } finally {
      this.end();
    }
  }

  private end(): void {
    this.active = false;
    this.onEnd();
  }

  private checkActive(): void {
    if (!this.active)
      throw new KafkaJSNonRetriableError('Cannot continue to use transaction once ended');
  }
}
