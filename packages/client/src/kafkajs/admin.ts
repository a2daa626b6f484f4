// kafkajs's Admin on @gregor/client's cluster layer: each call is the Kafka request kafkajs sends
// (at the highest version both sides speak), with kafkajs's argument and result shapes: offsets as
// strings, `configEntries`, `partitionId`/`leader`/`isr`, errors as KafkaJSProtocolError.

import {
  type AlterConfigsResponse,
  alterConfigsApi,
  type CreatePartitionsResponse,
  type CreateTopicsResponse,
  createPartitionsApi,
  createTopicsApi,
  type DeleteGroupsResponse,
  type DeleteRecordsResponse,
  type DescribeConfigsResponse,
  type DescribeGroupsResponse,
  deleteGroupsApi,
  deleteRecordsApi,
  describeConfigsApi,
  describeGroupsApi,
  ErrorCode,
  type ListGroupsResponse,
  listGroupsApi,
  type MetadataResponse,
  metadataApi,
  type OffsetFetchResponse,
  offsetFetchApi,
} from '@gregor/protocol';
import { describeCluster as coreDescribeCluster } from '../admin/cluster-info.js';
import {
  type ConfigResourceType,
  alterConfigs as coreAlterConfigs,
  resourceTypes,
} from '../admin/configs.js';
import { listGroups as coreListGroups } from '../admin/groups.js';
import { Admin as CoreAdmin } from '../admin.js';
import { commitOffsets } from '../consumer/group-offsets.js';
import { listOffsets } from '../consumer/list-offsets.js';
import type { Cluster } from '../network/cluster.js';
import type { Connection } from '../network/connection.js';
import { clusterOptions, type KafkaContext, type RetryOptions } from './config.js';
import { protocolError, toKafkaJSError } from './error-mapping.js';
import {
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSNonRetriableError,
  type KafkaJSProtocolError,
} from './errors.js';
import { Instrumentation } from './events.js';
import type { Logger } from './logger.js';
import type { PartitionMetadata } from './partitioners.js';

export const ConfigResourceTypes = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
} as const;

export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

export const adminEvents = {
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: 'admin.network.request',
  REQUEST_TIMEOUT: 'admin.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size',
} as const;

export interface AdminConfig {
  retry?: RetryOptions;
}

export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  replicaAssignment?: { partition: number; replicas: number[] }[];
  configEntries?: { name: string; value: string }[];
}

export interface SeekEntry {
  partition: number;
  offset: string;
}

const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';
/** What kafkajs commits for "from the beginning" and "from the end" (ListOffsets' timestamps). */
const earliestSentinel = -2n;
const latestSentinel = -1n;

function throwIfError(code: number, context?: string): void {
  if (code !== ErrorCode.NONE) throw protocolError(code, context);
}

export class Admin {
  readonly events = adminEvents;
  private readonly instrumentation = new Instrumentation(new Set(Object.values(adminEvents)));
  private readonly log: Logger;
  private core: CoreAdmin | undefined;

  constructor(
    private readonly context: KafkaContext,
    _config: AdminConfig = {},
  ) {
    this.log = context.logger.namespace('Admin');
  }

  logger(): Logger {
    return this.log;
  }

  on(eventName: string, listener: (event: unknown) => void): () => void {
    return this.instrumentation.on(eventName, listener);
  }

  async connect(): Promise<void> {
    await this.call(async () => {
      const options = await clusterOptions(this.context, { allowAutoTopicCreation: false });
      this.core = new CoreAdmin(options);
      await this.core.cluster.refreshMetadata();
    });
    this.instrumentation.emit(adminEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    this.core?.close();
    this.core = undefined;
    this.instrumentation.emit(adminEvents.DISCONNECT);
  }

  async listTopics(): Promise<string[]> {
    return this.call(async () => {
      return listTopicNames(this.cluster());
    });
  }

  /** True when every topic was created, false when one already existed (kafkajs's contract). */
  async createTopics(options: {
    topics: ITopicConfig[];
    validateOnly?: boolean;
    waitForLeaders?: boolean;
    timeout?: number;
  }): Promise<boolean> {
    return this.call(async () => {
      const cluster = this.cluster();
      const connection = await cluster.anyConnection();
      const response = await connection.request<CreateTopicsResponse>(createTopicsApi, {
        timeoutMs: options.timeout ?? 5_000,
        validateOnly: options.validateOnly ?? false,
        topics: options.topics.map((topic) => ({
          name: topic.topic,
          numPartitions: topic.numPartitions ?? -1,
          replicationFactor: topic.replicationFactor ?? -1,
          assignments: (topic.replicaAssignment ?? []).map((assignment) => ({
            partitionIndex: assignment.partition,
            brokerIds: assignment.replicas,
          })),
          configs: topic.configEntries ?? [],
        })),
      });
      let allCreated = true;
      const errors: KafkaJSCreateTopicError[] = [];
      for (const result of response.topics) {
        if (result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) allCreated = false;
        else if (result.errorCode !== ErrorCode.NONE)
          errors.push(
            new KafkaJSCreateTopicError(
              protocolError(result.errorCode, result.errorMessage ?? undefined),
              result.name,
            ),
          );
      }
      if (errors.length > 0) throw errors[0];
      if (options.waitForLeaders !== false && options.validateOnly !== true) {
        const created = response.topics.filter((result) => result.errorCode === ErrorCode.NONE);
        for (const result of created)
          await cluster.topic(result.name, options.timeout ?? cluster.options.requestTimeoutMs);
      }
      return allCreated;
    });
  }

  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    await this.call(() => this.requireCore().deleteTopics(options.topics));
  }

  async createPartitions(options: {
    topicPartitions: { topic: string; count: number; assignments?: number[][] }[];
    validateOnly?: boolean;
    timeout?: number;
  }): Promise<void> {
    await this.call(async () => {
      const connection = await this.cluster().anyConnection();
      const response = await connection.request<CreatePartitionsResponse>(createPartitionsApi, {
        timeoutMs: options.timeout ?? 5_000,
        validateOnly: options.validateOnly ?? false,
        topics: options.topicPartitions.map((entry) => ({
          name: entry.topic,
          count: entry.count,
          assignments: entry.assignments?.map((brokerIds) => ({ brokerIds })) ?? null,
        })),
      });
      for (const result of response.results)
        throwIfError(result.errorCode, result.errorMessage ?? result.name);
    });
  }

  async fetchTopicMetadata(
    options: { topics?: string[] } = {},
  ): Promise<{ topics: { name: string; partitions: PartitionMetadata[] }[] }> {
    return this.call(async () => {
      const metadata = await this.metadata(options.topics ?? null);
      const topics: { name: string; partitions: PartitionMetadata[] }[] = [];
      for (const topic of metadata.topics) {
        throwIfError(topic.errorCode, topic.name ?? undefined);
        topics.push({
          name: topic.name ?? '',
          partitions: [...topic.partitions]
            .sort((left, right) => left.partitionIndex - right.partitionIndex)
            .map((partition) => ({
              partitionErrorCode: partition.errorCode,
              partitionId: partition.partitionIndex,
              leader: partition.leaderId,
              replicas: partition.replicaNodes,
              isr: partition.isrNodes,
              offlineReplicas: partition.offlineReplicas ?? [],
            })),
        });
      }
      return { topics };
    });
  }

  async fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; offset: string; high: string; low: string }[]> {
    return this.call(async () => {
      const partitions = await this.partitionsOf(topic);
      const [earliest, latest] = await Promise.all([
        this.listOffsets(partitions, 'earliest'),
        this.listOffsets(partitions, 'latest'),
      ]);
      return partitions.map((entry, index) => ({
        partition: entry.partition,
        offset: String(latest[index].offset),
        high: String(latest[index].offset),
        low: String(earliest[index].offset),
      }));
    });
  }

  async fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp?: number,
  ): Promise<{ partition: number; offset: string }[]> {
    return this.call(async () => {
      const partitions = await this.partitionsOf(topic);
      const offsets =
        timestamp === undefined
          ? await this.listOffsets(partitions, 'latest')
          : await this.listOffsets(partitions, { timestampMs: timestamp });
      const latest = await this.listOffsets(partitions, 'latest');
      // No record at or after the timestamp: kafkajs answers the high watermark.
      return partitions.map((entry, index) => ({
        partition: entry.partition,
        offset: String(offsets[index].offset < 0n ? latest[index].offset : offsets[index].offset),
      }));
    });
  }

  async fetchOffsets(options: {
    groupId: string;
    topics?: string[];
    resolveOffsets?: boolean;
  }): Promise<
    {
      topic: string;
      partitions: { partition: number; offset: string; metadata: string | null }[];
    }[]
  > {
    return this.call(async () => {
      const cluster = this.cluster();
      const stored = await this.storedOffsets(options.groupId);
      const topics = options.topics ?? [
        ...new Set([...stored.keys()].map((key) => key.split('\u0000')[0])),
      ];
      const result = [];
      for (const topic of topics) {
        const partitions = await this.partitionsOf(topic);
        const committed = partitions.map(({ partition }) => ({
          partition,
          ...(stored.get(`${topic}\u0000${partition}`) ?? { offset: -1n, metadata: null }),
        }));
        let offsets = committed.map((entry) => entry.offset);
        if (options.resolveOffsets === true && offsets.some((offset) => offset < 0n)) {
          const [earliest, latest] = await Promise.all([
            this.listOffsets(partitions, 'earliest'),
            this.listOffsets(partitions, 'latest'),
          ]);
          offsets = offsets.map((offset, index) =>
            offset === earliestSentinel
              ? earliest[index].offset
              : offset < 0n
                ? latest[index].offset
                : offset,
          );
          await this.commit(
            options.groupId,
            partitions.map(({ topic, partition }, index) => ({
              topic,
              partition,
              offset: offsets[index],
              metadata: null,
            })),
          );
        }
        result.push({
          topic,
          partitions: committed.map((entry, index) => ({
            partition: entry.partition,
            offset: String(offsets[index]),
            metadata: entry.metadata,
          })),
        });
      }
      return result;
    });
  }

  /**
   * Resets the group to the earliest or latest offset of every partition. Like kafkajs, this
   * commits the sentinels -2 (earliest) and -1 (latest), which consumers resolve when they start
   * and `fetchOffsets({ resolveOffsets: true })` resolves on the spot.
   */
  async resetOffsets(options: {
    groupId: string;
    topic: string;
    earliest?: boolean;
  }): Promise<void> {
    await this.call(async () => {
      const partitions = await this.partitionsOf(options.topic);
      const sentinel = options.earliest === true ? earliestSentinel : latestSentinel;
      await this.commit(
        options.groupId,
        partitions.map(({ topic, partition }) => ({
          topic,
          partition,
          offset: sentinel,
          metadata: null,
        })),
      );
    });
  }

  async setOffsets(options: {
    groupId: string;
    topic: string;
    partitions: SeekEntry[];
  }): Promise<void> {
    await this.call(() =>
      this.commit(
        options.groupId,
        options.partitions.map((entry) => ({
          topic: options.topic,
          partition: entry.partition,
          offset: BigInt(entry.offset),
          metadata: null,
        })),
      ),
    );
  }

  async describeCluster(): Promise<{
    brokers: { nodeId: number; host: string; port: number }[];
    controller: number | null;
    clusterId: string;
  }> {
    return this.call(async () => {
      const description = await coreDescribeCluster(this.cluster());
      return {
        brokers: description.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })),
        controller: description.controllerId,
        clusterId: description.clusterId,
      };
    });
  }

  async describeConfigs(options: {
    resources: { type: number; name: string; configNames?: string[] }[];
    includeSynonyms?: boolean;
  }) {
    return this.call(async () => {
      const resources = [];
      let throttleTime = 0;
      for (const resource of options.resources) {
        const connection = await this.connectionForResource(resource.type, resource.name);
        const response = await connection.request<DescribeConfigsResponse>(describeConfigsApi, {
          resources: [
            {
              resourceType: resource.type,
              resourceName: resource.name,
              configurationKeys: resource.configNames ?? null,
            },
          ],
          includeSynonyms: options.includeSynonyms ?? false,
          includeDocumentation: false,
        });
        throttleTime = Math.max(throttleTime, response.throttleTimeMs);
        for (const result of response.results) {
          resources.push({
            configEntries: result.configs.map((config) => ({
              configName: config.name,
              configValue: config.value,
              readOnly: config.readOnly,
              isDefault: config.isDefault ?? config.configSource === ConfigSource.DEFAULT_CONFIG,
              configSource: config.configSource ?? ConfigSource.UNKNOWN,
              isSensitive: config.isSensitive,
              configSynonyms: (config.synonyms ?? []).map((synonym) => ({
                configName: synonym.name,
                configValue: synonym.value,
                configSource: synonym.source,
              })),
            })),
            errorCode: result.errorCode,
            errorMessage: result.errorMessage,
            resourceName: result.resourceName,
            resourceType: result.resourceType,
          });
        }
      }
      return { resources, throttleTime };
    });
  }

  async alterConfigs(options: {
    validateOnly?: boolean;
    resources: { type: number; name: string; configEntries: { name: string; value: string }[] }[];
  }) {
    return this.call(async () => {
      await coreAlterConfigs(
        this.cluster(),
        options.resources.map((resource) => ({
          resource: { type: configResourceType(resource.type), name: resource.name },
          configs: Object.fromEntries(
            resource.configEntries.map((entry) => [entry.name, entry.value]),
          ),
        })),
        { validateOnly: options.validateOnly ?? false },
      );
      return {
        resources: options.resources.map((resource) => ({
          errorCode: 0,
          errorMessage: null,
          resourceName: resource.name,
          resourceType: resource.type,
        })),
        throttleTime: 0,
      };
    });
  }

  /** Groups of every broker (each coordinator knows only its own). */
  async listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }> {
    return this.call(async () => {
      const listings = await coreListGroups(this.cluster());
      return { groups: listings.map(({ groupId, protocolType }) => ({ groupId, protocolType })) };
    });
  }

  async describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    return this.call(async () => {
      const groups: GroupDescription[] = [];
      for (const groupId of groupIds) groups.push(await describeGroup(this.cluster(), groupId));
      return { groups };
    });
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return this.call(async () => {
      const results: { groupId: string; errorCode: number }[] = [];
      const failed: { groupId: string; errorCode: number; error: KafkaJSProtocolError }[] = [];
      for (const groupId of groupIds) {
        const connection = await this.groupCoordinator(groupId);
        const response = await connection.request<DeleteGroupsResponse>(deleteGroupsApi, {
          groupsNames: [groupId],
        });
        for (const result of response.results) {
          results.push({ groupId: result.groupId, errorCode: result.errorCode });
          if (result.errorCode !== ErrorCode.NONE)
            failed.push({
              ...results.at(-1)!,
              error: protocolError(result.errorCode, result.groupId),
            });
        }
      }
      if (failed.length > 0) throw new KafkaJSDeleteGroupsError('Error in DeleteGroups', failed);
      return results;
    });
  }

  /** Deletes records before the given offsets ('-1': up to the high watermark). */
  async deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void> {
    await this.call(async () => {
      const cluster = this.cluster();
      await cluster.topic(options.topic, cluster.options.requestTimeoutMs);
      const byLeader = new Map<number, SeekEntry[]>();
      for (const entry of options.partitions) {
        const leader = cluster.leaderOf(options.topic, entry.partition);
        if (leader === undefined)
          throw protocolError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `${options.topic}-${entry.partition}`,
          );
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), entry]);
      }
      const failures: { partition: number; offset: string; error: KafkaJSProtocolError }[] = [];
      for (const [leader, entries] of byLeader) {
        const connection = await cluster.connectionToNode(leader);
        const response = await connection.request<DeleteRecordsResponse>(deleteRecordsApi, {
          timeoutMs: cluster.options.requestTimeoutMs,
          topics: [
            {
              name: options.topic,
              partitions: entries.map((entry) => ({
                partitionIndex: entry.partition,
                offset: BigInt(entry.offset),
              })),
            },
          ],
        });
        for (const topic of response.topics)
          for (const partition of topic.partitions)
            if (partition.errorCode !== ErrorCode.NONE)
              failures.push({
                partition: partition.partitionIndex,
                offset:
                  entries.find((entry) => entry.partition === partition.partitionIndex)?.offset ??
                  '',
                error: protocolError(partition.errorCode),
              });
      }
      if (failures.length > 0) throw new KafkaJSDeleteTopicRecordsError({ partitions: failures });
    });
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toKafkaJSError(error);
    }
  }

  private requireCore(): CoreAdmin {
    if (this.core === undefined)
      throw new KafkaJSNonRetriableError('The admin client is not connected (call connect first)');
    return this.core;
  }

  private cluster(): Cluster {
    return this.requireCore().cluster;
  }

  /** Metadata of some topics (null: all topics; []: none, brokers only). */
  private metadata(topics: string[] | null): Promise<MetadataResponse> {
    return requestMetadata(this.cluster(), topics);
  }

  private async partitionsOf(topic: string): Promise<{ topic: string; partition: number }[]> {
    const cluster = this.cluster();
    await cluster.refreshMetadata().catch(() => undefined);
    const info = await cluster.topic(topic, cluster.options.requestTimeoutMs);
    return info.partitions.map((partition) => ({ topic, partition: partition.partition }));
  }

  private listOffsets(
    partitions: { topic: string; partition: number }[],
    query: 'earliest' | 'latest' | { timestampMs: number },
  ) {
    const cluster = this.cluster();
    return listOffsets(cluster, partitions, query, {
      isolationLevel: 'read_uncommitted',
      timeoutMs: cluster.options.requestTimeoutMs,
    });
  }

  private commit(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint; metadata?: string | null }[],
  ): Promise<void> {
    const cluster = this.cluster();
    return commitOffsets(cluster, groupId, offsets, cluster.options.requestTimeoutMs);
  }

  private groupCoordinator(groupId: string): Promise<Connection> {
    const cluster = this.cluster();
    return cluster.coordinator('group', groupId, cluster.options.requestTimeoutMs);
  }

  /**
   * Every offset the group stored, as stored (the core client reads negative offsets as "none";
   * kafkajs shows the -1/-2 sentinels its resetOffsets commits). Keyed by topic and partition.
   */
  private async storedOffsets(
    groupId: string,
  ): Promise<Map<string, { offset: bigint; metadata: string | null }>> {
    const connection = await this.groupCoordinator(groupId);
    const version = connection.versions.version(offsetFetchApi);
    const request =
      version >= 8
        ? { groups: [{ groupId, topics: null }], requireStable: true }
        : { groupId, topics: null, requireStable: true };
    const response = await connection.request<OffsetFetchResponse>(offsetFetchApi, request, {
      version,
    });
    const group = version >= 8 ? response.groups?.[0] : undefined;
    throwIfError(group?.errorCode ?? response.errorCode ?? ErrorCode.NONE, groupId);
    const stored = new Map<string, { offset: bigint; metadata: string | null }>();
    for (const topic of (version >= 8 ? group?.topics : response.topics) ?? []) {
      for (const partition of topic.partitions) {
        throwIfError(partition.errorCode, `${topic.name}-${partition.partitionIndex}`);
        stored.set(`${topic.name}\u0000${partition.partitionIndex}`, {
          offset: partition.committedOffset,
          metadata: partition.metadata,
        });
      }
    }
    return stored;
  }

  /** Broker and broker-logger resources are answered by that broker only. */
  private async connectionForResource(type: number, name: string): Promise<Connection> {
    const cluster = this.cluster();
    if (type === ConfigResourceTypes.BROKER || type === ConfigResourceTypes.BROKER_LOGGER) {
      const nodeId = Number(name);
      if (name !== '' && Number.isInteger(nodeId)) return cluster.connectionToNode(nodeId);
    }
    return cluster.anyConnection();
  }
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  members: {
    clientHost: string;
    clientId: string;
    memberId: string;
    memberAssignment: Buffer;
    memberMetadata: Buffer;
  }[];
  protocol: string;
  protocolType: string;
  state: string;
}

/** DescribeGroups at the group's coordinator, in kafkajs's shape (also `consumer.describeGroup`). */
export async function describeGroup(cluster: Cluster, groupId: string): Promise<GroupDescription> {
  const connection = await cluster.coordinator('group', groupId, cluster.options.requestTimeoutMs);
  const response = await connection.request<DescribeGroupsResponse>(describeGroupsApi, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  });
  const group = response.groups[0];
  if (group === undefined) throw protocolError(ErrorCode.GROUP_ID_NOT_FOUND, groupId);
  return {
    errorCode: group.errorCode,
    groupId: group.groupId,
    members: group.members.map((member) => ({
      clientHost: member.clientHost,
      clientId: member.clientId,
      memberId: member.memberId,
      memberAssignment: member.memberAssignment,
      memberMetadata: member.memberMetadata,
    })),
    protocol: group.protocolData,
    protocolType: group.protocolType,
    state: group.groupState,
  };
}

/** Metadata of some topics (null: all topics; []: none, brokers only). */
function requestMetadata(cluster: Cluster, topics: string[] | null): Promise<MetadataResponse> {
  return cluster.anyConnection().then((connection) =>
    connection.request<MetadataResponse>(metadataApi, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: zeroUuid })),
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }),
  );
}

/** Names of every topic in the cluster. */
export async function listTopicNames(cluster: Cluster): Promise<string[]> {
  const metadata = await requestMetadata(cluster, null);
  return metadata.topics.flatMap((topic) => (topic.name === null ? [] : [topic.name]));
}

function configResourceType(code: number): ConfigResourceType {
  const name = resourceTypes.name(code);
  if (name === 'unknown') throw protocolError(ErrorCode.INVALID_REQUEST, `resource type ${code}`);
  return name;
}
