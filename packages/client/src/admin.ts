// The first admin operations: create and delete topics, list offsets. CreateTopics goes to any
// broker (KRaft brokers forward it to the controller); the call returns once metadata shows the
// topic with a leader for every partition, so a producer can use it at once.

import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  createPartitionsApi,
  createTopicsApi,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  deleteTopicsApi,
  ErrorCode,
} from '@gregor/protocol';
import {
  type IsolationLevel,
  listOffsets,
  type OffsetQuery,
  type PartitionOffset,
  type TopicPartition,
} from './consumer/list-offsets.js';
import { KafkaError, TimeoutError } from './errors.js';
import { Cluster, type ClusterOptions, sleep } from './network/cluster.js';

export interface NewTopic {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** CreateTopics v2+ (KIP-896 removed older versions in Kafka 4.0). */
const createTopicsVersionMin = 2;
const deleteTopicsVersionMin = 1;

export class Admin {
  readonly cluster: Cluster;

  constructor(options: ClusterOptions) {
    this.cluster = new Cluster({ ...options, allowAutoTopicCreation: false });
  }

  /** Creates topics; TOPIC_ALREADY_EXISTS fails unless `ignoreExisting`. */
  async createTopics(
    topics: readonly NewTopic[],
    options: { ignoreExisting?: boolean } = {},
  ): Promise<void> {
    const connection = await this.cluster.anyConnection();
    const version = connection.versions.version(createTopicsApi, createTopicsVersionMin);
    const request: CreateTopicsRequest = {
      timeoutMs: this.cluster.options.requestTimeoutMs,
      validateOnly: false,
      topics: topics.map((topic) => ({
        name: topic.name,
        numPartitions: topic.partitions ?? -1,
        replicationFactor: topic.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    };
    const response = await connection.request<CreateTopicsResponse>(createTopicsApi, request, {
      version,
    });
    for (const result of response.topics) {
      if (result.errorCode === ErrorCode.NONE) continue;
      if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && options.ignoreExisting === true)
        continue;
      throw new KafkaError(result.errorCode, `${result.name}: ${result.errorMessage ?? ''}`);
    }
    for (const topic of topics)
      await this.cluster.topic(topic.name, this.cluster.options.requestTimeoutMs);
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const connection = await this.cluster.anyConnection();
    const version = connection.versions.version(deleteTopicsApi, deleteTopicsVersionMin);
    const request: DeleteTopicsRequest = {
      timeoutMs: this.cluster.options.requestTimeoutMs,
      topicNames: [...names],
      topics: names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
    };
    const response = await connection.request<DeleteTopicsResponse>(deleteTopicsApi, request, {
      version,
    });
    for (const result of response.responses) {
      if (result.errorCode !== ErrorCode.NONE)
        throw new KafkaError(result.errorCode, `${result.name}`);
    }
  }

  /** Raises topics' partition counts (`counts`: topic → new total), waits for the new leaders. */
  async createPartitions(counts: Readonly<Record<string, number>>): Promise<void> {
    const connection = await this.cluster.anyConnection();
    const request: CreatePartitionsRequest = {
      timeoutMs: this.cluster.options.requestTimeoutMs,
      validateOnly: false,
      topics: Object.entries(counts).map(([name, count]) => ({ name, count, assignments: null })),
    };
    const response = await connection.request<CreatePartitionsResponse>(
      createPartitionsApi,
      request,
    );
    for (const result of response.results) {
      if (result.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(result.errorCode, `${result.name}: ${result.errorMessage ?? ''}`);
      }
    }
    const deadline = Date.now() + this.cluster.options.requestTimeoutMs;
    for (const [name, count] of Object.entries(counts)) {
      while ((await this.partitionCount(name)) < count) {
        if (Date.now() > deadline)
          throw new TimeoutError(`${name} did not reach ${count} partitions`);
        await sleep(this.cluster.options.retryBackoffMs);
      }
    }
  }

  /** Partition count of a topic from fresh metadata. */
  async partitionCount(topic: string): Promise<number> {
    await this.cluster.refreshMetadata().catch(() => undefined);
    return (await this.cluster.topic(topic, this.cluster.options.requestTimeoutMs)).partitions
      .length;
  }

  listOffsets(
    partitions: readonly TopicPartition[],
    query: OffsetQuery,
    isolationLevel: IsolationLevel = 'read_uncommitted',
  ): Promise<PartitionOffset[]> {
    return listOffsets(this.cluster, partitions, query, {
      isolationLevel,
      timeoutMs: this.cluster.options.requestTimeoutMs,
    });
  }

  close(): void {
    this.cluster.close();
  }
}
