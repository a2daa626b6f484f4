// The admin client. Topics live here: CreateTopics goes to any broker (KRaft brokers forward it
// to the controller) and returns once metadata shows a leader for every partition, so a producer
// can use the topic at once. Every other area is a module of admin/ (configs, groups, records,
// cluster and log dirs, ACLs, quotas, transactions, reassignments) that these methods call.

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
  type AclBinding,
  type AclFilter,
  createAcls,
  deleteAcls,
  describeAcls,
} from './admin/acls.js';
import {
  type ClusterDescription,
  describeCluster,
  describeLogDirs,
  type LogDirDescription,
} from './admin/cluster-info.js';
import {
  alterConfigs,
  type ConfigAlteration,
  type ConfigResource,
  describeConfigs,
  incrementalAlterConfigs,
  type ResourceConfigs,
} from './admin/configs.js';
import {
  alterGroupOffsets,
  deleteGroupOffsets,
  deleteGroups,
  describeGroups,
  type GroupDescription,
  type GroupListing,
  type GroupOffset,
  groupLag,
  listGroupOffsets,
  listGroups,
  type PartitionLag,
  resetGroupOffsets,
} from './admin/groups.js';
import {
  alterClientQuotas,
  describeClientQuotas,
  type QuotaEntity,
  type QuotaEntry,
  type QuotaFilterComponent,
} from './admin/quotas.js';
import {
  alterPartitionReassignments,
  listPartitionReassignments,
  type OngoingReassignment,
} from './admin/reassignments.js';
import { deleteRecords, type PartitionLowWatermark } from './admin/records.js';
import {
  type ActiveProducer,
  describeProducers,
  describeTransactions,
  listTransactions,
  type TransactionDescription,
  type TransactionListing,
} from './admin/transactions.js';
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

  describeConfigs(
    resources: readonly ConfigResource[],
    options: { names?: readonly string[] } = {},
  ): Promise<ResourceConfigs[]> {
    return describeConfigs(this.cluster, resources, options);
  }

  incrementalAlterConfigs(
    alterations: readonly ConfigAlteration[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    return incrementalAlterConfigs(this.cluster, alterations, options);
  }

  /** Legacy AlterConfigs: replaces the resource's whole dynamic config set. */
  alterConfigs(
    resources: ReadonlyArray<{ resource: ConfigResource; configs: Record<string, string> }>,
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    return alterConfigs(this.cluster, resources, options);
  }

  listGroups(
    options: { states?: readonly string[]; types?: readonly string[] } = {},
  ): Promise<GroupListing[]> {
    return listGroups(this.cluster, options);
  }

  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return describeGroups(this.cluster, groupIds);
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return deleteGroups(this.cluster, groupIds);
  }

  listGroupOffsets(groupId: string): Promise<GroupOffset[]> {
    return listGroupOffsets(this.cluster, groupId);
  }

  alterGroupOffsets(
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }>,
  ): Promise<void> {
    return alterGroupOffsets(this.cluster, groupId, offsets);
  }

  deleteGroupOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
    return deleteGroupOffsets(this.cluster, groupId, partitions);
  }

  /** Committed offset, end offset (read_committed) and their difference per partition. */
  groupLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return groupLag(this.cluster, groupId, topics);
  }

  resetGroupOffsets(groupId: string, topic: string, to: OffsetQuery): Promise<GroupOffset[]> {
    return resetGroupOffsets(this.cluster, groupId, topic, to);
  }

  deleteRecords(
    targets: ReadonlyArray<TopicPartition & { offset: bigint }>,
  ): Promise<PartitionLowWatermark[]> {
    return deleteRecords(this.cluster, targets);
  }

  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this.cluster);
  }

  describeLogDirs(brokerIds?: readonly number[]): Promise<LogDirDescription[]> {
    return describeLogDirs(this.cluster, brokerIds);
  }

  createAcls(bindings: readonly AclBinding[]): Promise<void> {
    return createAcls(this.cluster, bindings);
  }

  describeAcls(filter: AclFilter = {}): Promise<AclBinding[]> {
    return describeAcls(this.cluster, filter);
  }

  deleteAcls(filters: readonly AclFilter[]): Promise<AclBinding[]> {
    return deleteAcls(this.cluster, filters);
  }

  describeClientQuotas(
    components: readonly QuotaFilterComponent[],
    options: { strict?: boolean } = {},
  ): Promise<QuotaEntry[]> {
    return describeClientQuotas(this.cluster, components, options);
  }

  alterClientQuotas(
    alterations: ReadonlyArray<{ entity: QuotaEntity; values: Record<string, number | null> }>,
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    return alterClientQuotas(this.cluster, alterations, options);
  }

  listTransactions(
    filters: { states?: readonly string[]; producerIds?: readonly bigint[] } = {},
  ): Promise<TransactionListing[]> {
    return listTransactions(this.cluster, filters);
  }

  describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
    return describeTransactions(this.cluster, transactionalIds);
  }

  describeProducers(partitions: readonly TopicPartition[]): Promise<ActiveProducer[]> {
    return describeProducers(this.cluster, partitions);
  }

  alterPartitionReassignments(
    moves: ReadonlyArray<TopicPartition & { replicas: readonly number[] | null }>,
  ): Promise<void> {
    return alterPartitionReassignments(this.cluster, moves);
  }

  listPartitionReassignments(
    partitions?: readonly TopicPartition[],
  ): Promise<OngoingReassignment[]> {
    return listPartitionReassignments(this.cluster, partitions);
  }

  close(): void {
    this.cluster.close();
  }
}
