// The client's view of the cluster: bootstrap addresses, one connection per broker address,
// and cached metadata (brokers, topics, partition leaders). Metadata is refreshed when an error
// says it is stale (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION...), when a topic is
// first used, and after `metadataMaxAgeMs`. Concurrent refreshes coalesce into one request.

import { installNativeCrc32c } from '@gregor/compression';
import {
  ErrorCode,
  type FindCoordinatorResponse,
  findCoordinatorApi,
  type MetadataRequest,
  type MetadataResponse,
  metadataApi,
} from '@gregor/protocol';
import { ClientError, ClosedError, ConnectionError, KafkaError, TimeoutError } from '../errors.js';
import { Connection, type ConnectionOptions } from './connection.js';
import type { SaslOptions, TlsOptions } from './security.js';

export interface ClusterOptions {
  /** `host:port` addresses to start from. */
  bootstrapServers: readonly string[];
  clientId?: string;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** In-flight requests per connection (Java's max.in.flight.requests.per.connection). */
  maxInFlightRequestsPerConnection?: number;
  metadataMaxAgeMs?: number;
  retryBackoffMs?: number;
  /** Ask the broker to create unknown topics on metadata requests (Java's default: true). */
  allowAutoTopicCreation?: boolean;
  responseSizeBytesMax?: number;
  /** node:tls options: every connection is TLS when set (`{}` for the system's CAs). */
  tls?: TlsOptions;
  /** SASL credentials: every connection authenticates when set. */
  sasl?: SaslOptions;
}

export const clusterDefaults = {
  clientId: 'gregor-client',
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 10_000,
  maxInFlightRequestsPerConnection: 5,
  metadataMaxAgeMs: 300_000,
  retryBackoffMs: 100,
  allowAutoTopicCreation: true,
  responseSizeBytesMax: 100 * 1024 * 1024,
} as const;

export type CoordinatorType = 'group' | 'transaction';

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  /** -1 when the partition has no leader right now. */
  leaderId: number;
  leaderEpoch: number;
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  /** Base64 UUID as the codecs carry it; all zeros when the broker has no topic ids. */
  topicId: string;
  errorCode: number;
  partitions: PartitionInfo[];
}

const softwareName = 'gregor-client';
const softwareVersion = '0.1.0';
const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

export function parseAddress(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  const port = Number(address.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ClientError(`bootstrap address "${address}" is not host:port`, { retriable: false });
  }
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

let nativeCrcChecked = false;

/**
 * Record batches carry a CRC-32C that producers compute and consumers verify: with
 * @node-rs/crc32 present (an optional native module), ~10× faster than the JavaScript table.
 */
function useNativeCrc32c(): void {
  if (nativeCrcChecked) return;
  nativeCrcChecked = true;
  installNativeCrc32c();
}

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

export class Cluster {
  readonly options: Required<Omit<ClusterOptions, 'bootstrapServers' | 'tls' | 'sasl'>> &
    Pick<ClusterOptions, 'tls' | 'sasl'> & {
      bootstrapServers: readonly string[];
    };
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly brokers = new Map<number, BrokerAddress>();
  private readonly topics = new Map<string, TopicInfo>();
  private readonly topicsOfInterest = new Set<string>();
  private readonly coordinators = new Map<string, { host: string; port: number }>();
  private metadataLoadedAtMs = 0;
  private refreshesRequested = 0;
  private refreshesCompleted = 0;
  private refreshing: Promise<void> | null = null;
  private closed = false;
  private bootstrapIndex = 0;

  constructor(options: ClusterOptions) {
    if (options.bootstrapServers.length === 0) {
      throw new ClientError('bootstrapServers is empty', { retriable: false });
    }
    for (const address of options.bootstrapServers) parseAddress(address);
    this.options = { ...clusterDefaults, ...options };
    useNativeCrc32c();
  }

  /** The connection to a broker by node id (opened on first use, reopened after a failure). */
  async connectionToNode(nodeId: number): Promise<Connection> {
    const broker = this.brokers.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata();
      const refreshed = this.brokers.get(nodeId);
      if (refreshed === undefined)
        throw new ConnectionError(`broker ${nodeId} is not in the metadata`);
      return this.connectionTo(refreshed.host, refreshed.port);
    }
    return this.connectionTo(broker.host, broker.port);
  }

  /** Some connection: a known broker's, else a bootstrap server's, trying each in turn. */
  async anyConnection(): Promise<Connection> {
    const candidates = [
      ...[...this.brokers.values()].map((broker) => ({ host: broker.host, port: broker.port })),
      ...this.options.bootstrapServers.map(parseAddress),
    ];
    let lastError: unknown;
    for (let attempt = 0; attempt < candidates.length; attempt++) {
      const candidate = candidates[(this.bootstrapIndex + attempt) % candidates.length];
      try {
        return await this.connectionTo(candidate.host, candidate.port);
      } catch (error) {
        lastError = error;
      }
    }
    this.bootstrapIndex++;
    throw lastError instanceof Error ? lastError : new ConnectionError('no broker reachable');
  }

  private connectionTo(host: string, port: number): Promise<Connection> {
    // Not retriable: a retry loop running past close() (InitProducerId, coordinator lookups)
    // must end now rather than at its own deadline.
    if (this.closed) return Promise.reject(new ClosedError('the client'));
    const key = `${host}:${port}`;
    const existing = this.connections.get(key);
    if (existing !== undefined) return existing;
    const options: ConnectionOptions = {
      host,
      port,
      clientId: this.options.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs,
      connectionTimeoutMs: this.options.connectionTimeoutMs,
      maxInFlightRequests: this.options.maxInFlightRequestsPerConnection,
      responseSizeBytesMax: this.options.responseSizeBytesMax,
      softwareName,
      softwareVersion,
    };
    if (this.options.tls !== undefined) options.tls = this.options.tls;
    if (this.options.sasl !== undefined) options.sasl = this.options.sasl;
    const opening = Connection.open(options);
    this.connections.set(key, opening);
    opening.then(
      (connection) =>
        connection.onClose(() => {
          if (this.connections.get(key) === opening) this.connections.delete(key);
        }),
      () => {
        if (this.connections.get(key) === opening) this.connections.delete(key);
      },
    );
    return opening;
  }

  /**
   * The connection to the coordinator of a group or transactional id (FindCoordinator, cached
   * until `forgetCoordinator`). Retriable lookup errors (COORDINATOR_NOT_AVAILABLE while
   * `__consumer_offsets` is created, COORDINATOR_LOAD_IN_PROGRESS) are retried until `timeoutMs`.
   */
  async coordinator(type: CoordinatorType, key: string, timeoutMs: number): Promise<Connection> {
    const cacheKey = `${type}:${key}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const known = this.coordinators.get(cacheKey);
      if (known !== undefined) return this.connectionTo(known.host, known.port);
      try {
        const found = await this.findCoordinator(type, key);
        this.coordinators.set(cacheKey, found);
      } catch (error) {
        const retriable = error instanceof ClientError && error.retriable;
        if (!retriable || Date.now() >= deadline) throw error;
        await sleep(this.options.retryBackoffMs);
      }
    }
  }

  /** Drops a cached coordinator after NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. */
  forgetCoordinator(type: CoordinatorType, key: string): void {
    this.coordinators.delete(`${type}:${key}`);
  }

  private async findCoordinator(
    type: CoordinatorType,
    key: string,
  ): Promise<{ host: string; port: number }> {
    const connection = await this.anyConnection();
    const version = connection.versions.version(findCoordinatorApi);
    const keyType = type === 'group' ? 0 : 1;
    // v4 batches keys (KIP-699); older versions take one key.
    const request = version >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType };
    const response = await connection.request<FindCoordinatorResponse>(
      findCoordinatorApi,
      request,
      { version },
    );
    const answer = version >= 4 ? response.coordinators?.[0] : response;
    if (answer === undefined) throw new ConnectionError('FindCoordinator answered no coordinator');
    const errorCode = answer.errorCode ?? ErrorCode.NONE;
    if (errorCode !== ErrorCode.NONE)
      throw new KafkaError(errorCode, `FindCoordinator ${type} ${key}`);
    return { host: answer.host ?? '', port: answer.port ?? 0 };
  }

  /** Every broker in the metadata (loaded first when none is known yet). */
  async brokerIds(): Promise<number[]> {
    if (this.brokers.size === 0) await this.refreshMetadata();
    return [...this.brokers.keys()].sort((left, right) => left - right);
  }

  /** Registers topics whose metadata every refresh loads. */
  addTopics(topics: Iterable<string>): void {
    for (const topic of topics) this.topicsOfInterest.add(topic);
  }

  /** Cached metadata of a topic (undefined when never loaded or stale). */
  cachedTopic(topic: string): TopicInfo | undefined {
    if (Date.now() - this.metadataLoadedAtMs > this.options.metadataMaxAgeMs) return undefined;
    return this.topics.get(topic);
  }

  /** The leader's node id of a partition from the cache (undefined: unknown or no leader). */
  leaderOf(topic: string, partition: number): number | undefined {
    const leaderId = this.topics.get(topic)?.partitions[partition]?.leaderId;
    return leaderId === undefined || leaderId < 0 ? undefined : leaderId;
  }

  /**
   * KIP-951: a NOT_LEADER_OR_FOLLOWER answer (Produce v10+, Fetch v16+) names the new leader and
   * its endpoint, so the retry can go there before a metadata refresh returns. Adopted only when
   * its leader epoch is newer than the cached one and the leader's address is known; answers
   * whether the cache changed.
   */
  applyLeaderHint(
    topic: string,
    partition: number,
    hint: { leaderId: number; leaderEpoch: number },
    endpoints: ReadonlyArray<{
      nodeId: number;
      host: string;
      port: number;
      rack: string | null;
    }> = [],
  ): boolean {
    for (const endpoint of endpoints) {
      this.brokers.set(endpoint.nodeId, {
        nodeId: endpoint.nodeId,
        host: endpoint.host,
        port: endpoint.port,
        rack: endpoint.rack,
      });
    }
    const partitions = this.topics.get(topic)?.partitions;
    const current = partitions?.[partition];
    if (partitions === undefined || current === undefined) return false;
    if (hint.leaderId < 0 || hint.leaderEpoch <= current.leaderEpoch) return false;
    if (!this.brokers.has(hint.leaderId)) return false;
    partitions[partition] = {
      ...current,
      leaderId: hint.leaderId,
      leaderEpoch: hint.leaderEpoch,
      errorCode: ErrorCode.NONE,
    };
    return true;
  }

  /** Topic name for a topic id from the cache. */
  topicNameById(topicId: string): string | undefined {
    for (const topic of this.topics.values()) if (topic.topicId === topicId) return topic.name;
    return undefined;
  }

  /**
   * Metadata of a topic with a leader for every partition, refreshing (with backoff) until then
   * or until `timeoutMs` passes. Non-retriable topic errors (authorization...) fail at once.
   */
  async topic(name: string, timeoutMs: number): Promise<TopicInfo> {
    const deadline = Date.now() + timeoutMs;
    this.addTopics([name]);
    let cached = this.cachedTopic(name);
    let lastError: Error | undefined;
    for (;;) {
      if (cached !== undefined && isUsable(cached)) return cached;
      if (cached !== undefined && cached.errorCode !== ErrorCode.NONE) {
        const error = new KafkaError(cached.errorCode, `topic ${name}`);
        if (!error.retriable && cached.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
          throw error;
        lastError = error;
      }
      if (Date.now() >= deadline) {
        throw new TimeoutError(
          `metadata of topic ${name} not available within ${timeoutMs} ms`,
          lastError,
        );
      }
      if (cached !== undefined) await sleep(this.options.retryBackoffMs);
      try {
        await this.refreshMetadata();
      } catch (error) {
        if (error instanceof ClientError && !error.retriable) throw error;
        lastError = error instanceof Error ? error : lastError;
        await sleep(this.options.retryBackoffMs);
      }
      cached = this.topics.get(name);
    }
  }

  /**
   * Loads metadata of every topic of interest. A call made while a load is in flight waits for
   * that one and then for a newer one, so its result reflects state after the call.
   */
  async refreshMetadata(): Promise<void> {
    const wanted = ++this.refreshesRequested;
    while (this.refreshesCompleted < wanted) {
      if (this.refreshing === null) {
        const target = this.refreshesRequested;
        this.refreshing = this.loadMetadata()
          .then(() => {
            this.refreshesCompleted = Math.max(this.refreshesCompleted, target);
          })
          .finally(() => {
            this.refreshing = null;
          });
      }
      await this.refreshing;
    }
  }

  private async loadMetadata(): Promise<void> {
    const connection = await this.anyConnection();
    const version = connection.versions.version(metadataApi, 4);
    const request: MetadataRequest = {
      topics: [...this.topicsOfInterest].map((name) => ({ name, topicId: zeroUuid })),
      allowAutoTopicCreation: this.options.allowAutoTopicCreation,
      includeTopicAuthorizedOperations: false,
      includeClusterAuthorizedOperations: false,
    };
    const response = await connection.request<MetadataResponse>(metadataApi, request, { version });
    this.applyMetadata(response);
  }

  /** Replaces the cached brokers and updates the topics a Metadata response carries. */
  applyMetadata(response: MetadataResponse): void {
    this.brokers.clear();
    for (const broker of response.brokers) {
      this.brokers.set(broker.nodeId, {
        nodeId: broker.nodeId,
        host: broker.host,
        port: broker.port,
        rack: broker.rack ?? null,
      });
    }
    for (const topic of response.topics) {
      if (topic.name === null) continue;
      const partitions: PartitionInfo[] = [];
      for (const partition of topic.partitions) {
        partitions[partition.partitionIndex] = {
          partition: partition.partitionIndex,
          leaderId: partition.leaderId,
          leaderEpoch: partition.leaderEpoch ?? -1,
          errorCode: partition.errorCode,
        };
      }
      this.topics.set(topic.name, {
        name: topic.name,
        topicId: topic.topicId ?? zeroUuid,
        errorCode: topic.errorCode,
        partitions,
      });
    }
    this.metadataLoadedAtMs = Date.now();
  }

  close(): void {
    this.closed = true;
    for (const opening of this.connections.values()) {
      opening.then(
        (connection) => connection.close(),
        () => undefined,
      );
    }
    this.connections.clear();
  }
}

function isUsable(topic: TopicInfo): boolean {
  if (topic.errorCode !== ErrorCode.NONE || topic.partitions.length === 0) return false;
  for (let index = 0; index < topic.partitions.length; index++) {
    const partition = topic.partitions[index];
    if (partition === undefined || partition.leaderId < 0) return false;
  }
  return true;
}
