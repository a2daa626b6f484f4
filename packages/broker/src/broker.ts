/**
 * The single-node broker: configuration, node identity, partition logs, topics, the group
 * coordinator and the network server, started and stopped in that order (stopped in reverse).
 * Usable in-process (tests listen on port 0 and read `broker.port`) and by the `gregor` CLI.
 */

import { setMaxListeners } from 'node:events';
import { dirname } from 'node:path';
import { defaultCompressionCodecs, installNativeCrc32c } from '@gregor/compression';
import type { MetadataStore } from '@gregor/metadata';
import {
  type AlterPartitionResponse,
  ApiKey,
  type WriteTxnMarkersResponse,
} from '@gregor/protocol';
import {
  FileLogManager,
  FilePartitionLog,
  type LogConfig,
  type LogManager,
  nodeFileSystem,
} from '@gregor/storage';
import { type BrokerSettings, settingsFromConfig } from './broker-settings.js';
import { type Clock, systemClock } from './clock.js';
import { ClusterNode } from './cluster/cluster-node.js';
import {
  clusterNodeOptions,
  readPreviousBrokerEpoch,
  registrationEndpoints,
  writePreviousBrokerEpoch,
} from './cluster/cluster-settings.js';
import { ImageTopicManager } from './cluster/image-topic-manager.js';
import { PeerDeathDetector } from './cluster/peer-death-detector.js';
import type { RoleChange } from './cluster/replica-roles.js';
import {
  type BrokerConfig,
  formatHostPort,
  formatListener,
  loadBrokerConfig,
  logConfigFor,
  resolveTopicConfig,
} from './config/index.js';
import { type DataDirLock, lockLogDirs } from './data-dir-lock.js';
import {
  GroupCoordinator,
  groupCoordinatorConfigFrom,
  offsetsTopicStorage,
} from './group/index.js';
import { offsetsTopicName } from './group/types.js';
import { advertisedApis } from './handlers/api-versions.js';
import { clusterControllerHandlers } from './handlers/cluster-controller-apis.js';
import { FetchSessionCache } from './handlers/fetch-sessions.js';
import { handlers as defaultHandlers } from './handlers/index.js';
import type { ApiHandler } from './handlers/types.js';
import { LogLevels } from './logging/log-levels.js';
import { createJsonLogger, type Logger } from './logging/logger.js';
import { loadOrCreateNodeIdentity, type NodeIdentity } from './node-identity.js';
import { IsrManager } from './replication/isr-manager.js';
import {
  followRoleChange,
  ReplicaFetcherManager,
  replicaFetchSettingsFrom,
} from './replication/replica-fetcher.js';
import { ReplicaManager } from './replication/replica-manager.js';
import { nodeTransport } from './server/node-transport.js';
import { PeerConnections } from './server/peer-connections.js';
import { RequestRouter } from './server/request-router.js';
import { type BoundListener, SocketServer } from './server/socket-server.js';
import type { Transport } from './server/transport.js';
import type { AdvertisedListener, BrokerServices } from './services.js';
import { FileTopicManager, type PartitionLogHost } from './topics/topic-manager.js';
import type { TopicManager } from './topics/types.js';
import { startTransactionServices } from './txn/transaction-services.js';
import { transactionStateTopicName } from './txn/transaction-state-log.js';

export interface BrokerOptions {
  /**
   * A loaded configuration (the CLI loads it from file, environment and flags with
   * `loadBrokerConfig`, which also re-applies the persisted dynamic broker settings).
   */
  config?: BrokerConfig;
  /**
   * Or settings by Kafka name, applied over the defaults, with the persisted dynamic broker
   * settings above them, as `loadBrokerConfig` does (tests: `{ 'log.dirs': dir, listeners: 'PLAINTEXT://127.0.0.1:0' }`).
   */
  settings?: Readonly<Record<string, string | number | boolean>>;
  logger?: Logger;
  clock?: Clock;
  /** Storage to use instead of the file log manager over log.dirs (tests: memory logs). */
  openLogManager?: (options: LogManagerOpenOptions) => Promise<LogManager>;
  /** APIs to serve; defaults to every registered handler. */
  handlers?: readonly ApiHandler[];
  /** The network under the listeners: node:net when absent, in-memory under simulation. */
  transport?: Transport;
  /** Overrides of the internal per-connection limits (tests). */
  /**
   * Cluster mode: the metadata store (etcd) this broker registers with and follows. The broker
   * closes it at stop. Absent: today's single node (topics in the data dir).
   */
  metadata?: {
    store: MetadataStore;
    sessionTtlMs?: number;
    /** The id every broker of the cluster answers with (instead of meta.properties' own). */
    clusterId?: string;
  };
  connectionLimits?: {
    inFlightRequestsPerConnectionMax?: number;
    inFlightRequestBytesPerConnectionMax?: number;
    queuedResponseBytesPerConnectionMax?: number;
  };
}

export interface LogManagerOpenOptions {
  logDirs: string[];
  clock: Clock;
  logger: Logger;
  config: BrokerConfig;
  topicConfigs: (topic: string) => LogConfig | undefined;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly settings: BrokerSettings;
  readonly services: BrokerServices;
  /** Address the first listener is bound to. */
  readonly host: string;
  readonly port: number;
  /** Every bound listener, in `listeners` order. */
  readonly listeners: readonly BoundListener[];
  /** Milliseconds `start` took. */
  readonly startupMs: number;

  private readonly server: SocketServer;
  private readonly logs: LogManager;
  private readonly shutdownController: AbortController;
  private readonly lock: DataDirLock;
  private readonly metadataStore: MetadataStore | undefined;
  private readonly fetchers: ReplicaFetcherManager | undefined;
  private readonly peerDeaths: PeerDeathDetector | undefined;
  private readonly isrManager: IsrManager | undefined;
  private readonly markerPeers: PeerConnections | undefined;
  private stopping: Promise<void> | null = null;

  private constructor(fields: {
    config: BrokerConfig;
    settings: BrokerSettings;
    services: BrokerServices;
    server: SocketServer;
    logs: LogManager;
    shutdownController: AbortController;
    lock: DataDirLock;
    listeners: BoundListener[];
    startupMs: number;
    metadataStore: MetadataStore | undefined;
    fetchers: ReplicaFetcherManager | undefined;
    peerDeaths: PeerDeathDetector | undefined;
    isrManager: IsrManager | undefined;
    markerPeers: PeerConnections | undefined;
  }) {
    this.metadataStore = fields.metadataStore;
    this.markerPeers = fields.markerPeers;
    this.fetchers = fields.fetchers;
    this.peerDeaths = fields.peerDeaths;
    this.isrManager = fields.isrManager;
    this.config = fields.config;
    this.settings = fields.settings;
    this.services = fields.services;
    this.server = fields.server;
    this.logs = fields.logs;
    this.shutdownController = fields.shutdownController;
    this.lock = fields.lock;
    this.listeners = fields.listeners;
    this.host = fields.listeners[0]!.host;
    this.port = fields.listeners[0]!.port;
    this.startupMs = fields.startupMs;
  }

  get nodeId(): number {
    return this.services.nodeId;
  }

  get clusterId(): string {
    return this.services.clusterId;
  }

  get logDirs(): readonly string[] {
    return this.settings.logDirs;
  }

  /** `host:port` clients can use (the advertised listener). */
  get bootstrapAddress(): string {
    return formatHostPort(this.services.advertisedListener);
  }

  /** `host:port` the first listener is bound to (differs from `bootstrapAddress` when advertised.listeners is set). */
  get boundAddress(): string {
    return formatHostPort(this);
  }

  /** Live connection count (tests, metrics). */
  get connectionCount(): number {
    return this.server.connectionCount;
  }

  /** The network server (tests inspect per-connection buffers). */
  get socketServer(): SocketServer {
    return this.server;
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const clock = options.clock ?? systemClock;
    const startedAtMs = clock.monotonicMs();
    const config = options.config ?? (await loadBrokerConfig({ settings: options.settings ?? {} }));
    const settings = settingsFromConfig(config);
    // CRC-32C of every produced batch runs on the hot path: use the CPU instruction when we can.
    const nativeCrc = installNativeCrc32c();
    const baseLogger = options.logger ?? createJsonLogger({ level: 'info' });
    // This broker's own logger levels (BROKER_LOGGER resources), starting from the given level.
    const logger = baseLogger.withLevels(new LogLevels(baseLogger.level)).child({
      nodeId: settings.nodeId,
    });
    for (const warning of config.warnings) logger.warn(warning);
    if (!nativeCrc) logger.warn('native CRC-32C unavailable; using the JavaScript implementation');

    const identity = await loadOrCreateNodeIdentity({
      logDirs: settings.logDirs,
      nodeId: settings.nodeId,
      wallMs: clock.wallMs(),
    });
    const lock = await lockLogDirs(settings.logDirs);
    try {
      return await Broker.startLocked({
        options,
        clock,
        startedAtMs,
        config,
        settings,
        logger,
        identity,
        lock,
      });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async startLocked(context: {
    options: BrokerOptions;
    clock: Clock;
    startedAtMs: number;
    config: BrokerConfig;
    settings: BrokerSettings;
    logger: Logger;
    identity: NodeIdentity;
    lock: DataDirLock;
  }): Promise<Broker> {
    const { options, clock, startedAtMs, config, settings, logger, identity, lock } = context;
    // Topics first: the log manager needs each topic's configuration while it loads the logs.
    let logs: LogManager | undefined;
    let replicas: ReplicaManager | undefined;
    const topicDefaults = () => settings;
    let cluster: ClusterNode | undefined;
    // Cluster mode: the follower fetcher and the coordinators follow each partition's role.
    let fetchers: ReplicaFetcherManager | undefined;
    let peerDeaths: PeerDeathDetector | undefined;
    let isrManager: IsrManager | undefined;
    let coordinatorsFollow: ((change: RoleChange) => void) | undefined;
    let topics: TopicManager;
    if (options.metadata === undefined) {
      topics = await FileTopicManager.open({
        metadataDir: settings.logDirs[0]!,
        logs: partitionLogHost(() => replicas!, config),
        clock,
        logger: logger.child({ component: 'topics' }),
        // `settings` is refreshed in place on dynamic changes, so this always reads current values.
        defaults: topicDefaults,
      });
    } else {
      // Cluster mode: topics come from the metadata image, followed before the logs load (their
      // configurations are needed to open them).
      cluster = await ClusterNode.open(
        clusterNodeOptions({
          store: options.metadata.store,
          sessionTtlMs: options.metadata.sessionTtlMs,
          config,
          settings,
          clock,
          logger,
          previousBrokerEpoch: await readPreviousBrokerEpoch(settings.logDirs[0]!),
          onRoleChange: (change) => {
            if (fetchers !== undefined) followRoleChange(fetchers, change);
            coordinatorsFollow?.(change);
          },
        }),
      );
      topics = new ImageTopicManager(cluster, topicDefaults, (name) =>
        name === offsetsTopicName
          ? config.get('offsets.topic.replication.factor')
          : config.get('transaction.state.log.replication.factor'),
      );
    }
    const openLogManager = options.openLogManager ?? openFileLogManager;
    logs = await openLogManager({
      logDirs: settings.logDirs,
      clock,
      logger,
      config,
      topicConfigs: (topic) => {
        const info = topics.get(topic);
        return info === undefined ? undefined : logConfigFor(config, info.configs);
      },
    });
    let minInsyncReplicasByTopic = new WeakMap<object, number>();
    config.onChange(() => {
      minInsyncReplicasByTopic = new WeakMap();
    });
    replicas = new ReplicaManager({
      logs,
      nodeId: identity.nodeId,
      clock,
      logger: logger.child({ component: 'replicas' }),
      fileSystem: nodeFileSystem,
      logDirOf: (log) => (log instanceof FilePartitionLog ? dirname(log.directory) : undefined),
      rolesFromMetadata: cluster !== undefined,
      minInsyncReplicas: (topic) => {
        // Asked on every internal-topic append (each offset commit): resolved once per topic
        // object (replaced when its configs change) and broker config generation, as Produce does.
        const info = topics.get(topic);
        if (info === undefined) return resolveTopicConfig(config, {}).get('min.insync.replicas');
        let value = minInsyncReplicasByTopic.get(info);
        if (value === undefined) {
          value = resolveTopicConfig(config, info.configs).get('min.insync.replicas');
          minInsyncReplicasByTopic.set(info, value);
        }
        return value;
      },
      replicaLagTimeMaxMs: () => config.get('replica.lag.time.max.ms') as number,
      replicaRegistered: (id) => cluster === undefined || cluster.image.broker(id) !== undefined,
      checkpointIntervalMs: config.get('replica.high.watermark.checkpoint.interval.ms') as number,
    });
    config.onChange(() => replicas?.topicConfigChanged());
    if (topics instanceof FileTopicManager) await topics.reconcile();
    // High watermarks from replication-offset-checkpoint; as the sole in-sync replica of every
    // partition this node then moves each to its log end (DESIGN.md).
    await replicas.start(settings.logDirs);
    if (cluster !== undefined) {
      const node = cluster;
      const listenerName = settings.advertisedListeners[0]!.name;
      const store = options.metadata!.store;
      const detector = new PeerDeathDetector({
        transport: options.transport ?? nodeTransport,
        clock,
        logger: logger.child({ component: 'peer-deaths' }),
        nodeId: identity.nodeId,
        peer: (brokerId) => {
          const registration = node.image.broker(brokerId);
          const endpoint = node.image.brokerEndpoint(brokerId, listenerName);
          if (registration === undefined || endpoint === undefined) return undefined;
          return {
            brokerEpoch: registration.brokerEpoch,
            host: endpoint.host,
            port: endpoint.port,
          };
        },
        report: (brokerId, brokerEpoch) => store.expireBroker(brokerId, brokerEpoch),
      });
      peerDeaths = detector;
      fetchers = new ReplicaFetcherManager({
        replicas,
        transport: options.transport ?? nodeTransport,
        onLeaderUnreachable: (leaderId) => detector.suspect(leaderId),
        clock,
        logger: logger.child({ component: 'replica-fetcher' }),
        brokerEpoch: () => node.brokerEpoch,
        brokerAddress: (brokerId) => node.image.brokerEndpoint(brokerId, listenerName),
        settings: replicaFetchSettingsFrom(config),
      });
      // ISR shrink/expand decisions of the partitions this broker leads, sent to the controller.
      isrManager = new IsrManager({
        replicas,
        clock,
        logger: logger.child({ component: 'isr' }),
        brokerEpoch: () => node.brokerEpoch,
        topicId: (topic) => node.image.topic(topic)?.topicId,
        replicaLagTimeMaxMs: () => config.get('replica.lag.time.max.ms') as number,
        sender: {
          send: (request) =>
            node.channel.send<AlterPartitionResponse>({
              apiKey: ApiKey.AlterPartition,
              apiVersion: 3,
              request,
              local: (controller) => controller.alterPartition(request, 3),
              forwarded: false,
            }),
        },
      });
      isrManager.start();
    }
    // Cluster mode: every partition with a replica here gets its log and its role from the image.
    await cluster?.startRoles(replicas);

    const groups = new GroupCoordinator({
      clock,
      logger,
      storage: offsetsTopicStorage({ replicas, topics }),
      topics,
      config: groupCoordinatorConfigFrom(config),
      partitionsFollowLeadership: cluster !== undefined,
    });
    await groups.start();
    const markerPeers =
      cluster === undefined
        ? undefined
        : new PeerConnections({
            transport: options.transport ?? nodeTransport,
            clock,
            clientId: 'gregor-transaction-markers',
            address: (brokerId) =>
              cluster!.image.brokerEndpoint(brokerId, settings.advertisedListeners[0]!.name),
            connectTimeoutMs: 3000,
          });
    const transactionServices = await startTransactionServices({
      config,
      replicas,
      topics,
      groups,
      clock,
      logger,
      metadataDirectory: settings.logDirs[0]!,
      producerIdBlocks:
        options.metadata === undefined
          ? undefined
          : (blockSize) => options.metadata!.store.allocateProducerIds(blockSize),
      cluster:
        cluster === undefined || markerPeers === undefined
          ? undefined
          : {
              nodeId: identity.nodeId,
              leaderOf: (topic, partition) =>
                cluster!.image.partition(topic, partition)?.leader ?? null,
              send: (brokerId, request, timeoutMs) =>
                markerPeers.request<WriteTxnMarkersResponse>(brokerId, {
                  apiKey: ApiKey.WriteTxnMarkers,
                  apiVersion: 1,
                  body: request,
                  timeoutMs,
                }),
            },
    });
    if (cluster !== undefined) {
      const transactions = transactionServices.transactions;
      coordinatorsFollow = (change) => {
        if (change.topic === offsetsTopicName) {
          if (change.role === 'leader') void groups.loadPartition(change.partition);
          else groups.unloadPartition(change.partition);
        } else if (change.topic === transactionStateTopicName) {
          if (change.role === 'leader') {
            void transactions.loadPartition(change.partition, change.leaderEpoch);
          } else transactions.unloadPartition(change.partition);
        }
      };
      // Partitions led here since the image was applied (before the coordinators existed).
      for (const partition of replicas.all()) {
        if (!partition.isLeader) continue;
        if (partition.topic === offsetsTopicName) void groups.loadPartition(partition.index);
        if (partition.topic === transactionStateTopicName) {
          void transactions.loadPartition(partition.index, partition.leaderEpoch);
        }
      }
    }

    const shutdownController = new AbortController();
    // Every long-poll fetch in flight listens for shutdown and removes its listener when it ends:
    // hundreds of listeners are normal here, not the leak Node warns about above 10.
    setMaxListeners(0, shutdownController.signal);
    // Copies: ports 0 are replaced by the bound ports below.
    const advertisedListeners = new Map<string, AdvertisedListener>(
      settings.advertisedListeners.map((listener) => [
        listener.name,
        { host: listener.host, port: listener.port },
      ]),
    );
    const advertisedListener = advertisedListeners.get(settings.advertisedListeners[0]!.name)!;
    const servedHandlers =
      options.handlers ??
      (cluster === undefined
        ? defaultHandlers
        : [...defaultHandlers, ...clusterControllerHandlers]);
    const services: BrokerServices = {
      config,
      settings,
      logs,
      replicas,
      topics,
      groups,
      clock,
      logger,
      nodeId: identity.nodeId,
      clusterId: options.metadata?.clusterId ?? identity.clusterId,
      advertisedListener,
      advertisedListeners,
      supportedApis: advertisedApis(servedHandlers),
      fetchSessions: new FetchSessionCache({
        clock,
        slotsMax: () => settings.incrementalFetchSessionCacheSlots,
        evictionMsMin: () => settings.incrementalFetchSessionEvictionMsMin,
      }),
      shutdownSignal: shutdownController.signal,
      transactions: transactionServices.transactions,
      cluster,
      peerDeaths,
    };
    config.onChange(() => Object.assign(settings, settingsFromConfig(config)));

    const serverLogger = logger.child({ component: 'server' });
    const server = new SocketServer({
      listeners: settings.listeners,
      dispatcher: new RequestRouter({
        handlers: servedHandlers,
        services,
        logger: serverLogger,
      }),
      clock,
      logger: serverLogger,
      requestSizeBytesMax: settings.requestSizeBytesMax,
      connectionIdleMsMax: settings.connectionIdleMsMax,
      connectionsMax: settings.connectionsMax,
      connectionsPerAddressMax: settings.connectionsPerAddressMax,
      connectionsPerAddressOverrides: settings.connectionsPerAddressOverrides,
      listenBacklog: settings.listenBacklog,
      transport: options.transport,
      onConnectionClosed: (connectionId) => peerDeaths?.connectionClosed(connectionId),
      ...options.connectionLimits,
    });
    let bound: BoundListener[];
    try {
      bound = await server.listen();
      for (const listener of bound) {
        const advertised = advertisedListeners.get(listener.name);
        if (advertised?.port === 0) advertised.port = listener.port;
      }
      // Registered only once the listeners serve: other brokers and clients learn of it then.
      await cluster?.register(registrationEndpoints(settings, advertisedListeners));
    } catch (error) {
      if (cluster !== undefined) await server.stop();
      await cluster?.close();
      await transactionServices.stop();
      markerPeers?.close();
      await groups.stop();
      await replicas.stop();
      await logs.close();
      throw error;
    }
    const startupMs = Math.round(clock.monotonicMs() - startedAtMs);
    // `listener` / `advertised` (the first ones, host:port) are read by tools such as the e2e harness.
    logger.info('broker started', {
      listener: formatHostPort(bound[0]!),
      advertised: formatHostPort(advertisedListener),
      listeners: bound.map(formatListener),
      advertisedListeners: [...advertisedListeners].map(([name, listener]) =>
        formatListener({ name, ...listener }),
      ),
      clusterId: services.clusterId,
      logDirs: settings.logDirs,
      topics: topics.list().length,
      startupMs,
    });
    return new Broker({
      config,
      settings,
      services,
      server,
      logs,
      shutdownController,
      lock,
      listeners: bound,
      startupMs,
      metadataStore: options.metadata?.store,
      fetchers,
      peerDeaths,
      isrManager,
      markerPeers,
    });
  }

  /**
   * Graceful stop: stop accepting, end long polls, answer in-flight requests, close connections,
   * then flush and close the logs (which writes the clean-shutdown marker). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    const logger = this.services.logger;
    logger.info('broker stopping');
    const cluster = this.services.cluster;
    // Cluster mode: leaderships move to other brokers while this one still serves.
    await cluster?.controlledShutdown();
    this.shutdownController.abort();
    // The coordinator first: it answers parked JoinGroup/SyncGroup requests (which would otherwise
    // hold the server's drain for up to a rebalance timeout) and stops its session timers, so no
    // member expires while connections drain.
    await this.services.groups?.stop();
    await this.server.stop();
    await this.services.transactions?.stop();
    this.markerPeers?.close();
    this.isrManager?.stop();
    this.peerDeaths?.close();
    await this.fetchers?.stop();
    await this.services.replicas.producers?.stop();
    await this.services.replicas.stop();
    await this.logs.close();
    if (cluster !== undefined) {
      const brokerEpoch = cluster.brokerEpoch;
      await cluster.close();
      await this.metadataStore?.close();
      // Read at the next start: the registration says this shutdown was clean (KIP-966).
      await writePreviousBrokerEpoch(this.settings.logDirs[0]!, brokerEpoch);
    }
    await this.lock.release();
    logger.info('broker stopped');
  }
}

async function openFileLogManager(options: LogManagerOpenOptions): Promise<LogManager> {
  const { config } = options;
  const manager = await FileLogManager.open({
    logDirs: options.logDirs,
    clock: options.clock,
    defaultConfig: logConfigFor(config, {}),
    topicConfigs: options.topicConfigs,
    codecs: defaultCompressionCodecs,
    recoveryThreads: config.get('num.recovery.threads.per.data.dir'),
    segmentFileHandlesMax: config.get('log.segment.file.handles.max'),
    retentionCheckIntervalMs: config.get('log.retention.check.interval.ms'),
    cleanerIntervalMs: config.get('log.cleaner.enable') ? config.get('log.cleaner.backoff.ms') : 0,
    cleanerIoBytesPerSecondMax: config.get('log.cleaner.io.max.bytes.per.second'),
  });
  const loaded = manager.loadStatistics;
  options.logger.info('logs loaded', {
    logs: loaded.logCount,
    cleanShutdown: loaded.cleanShutdown,
    durationMs: Math.round(loaded.durationMs),
  });
  return manager;
}

/** The topic manager's view of the partitions: created with the topic's resolved configuration. */
function partitionLogHost(replicas: () => ReplicaManager, config: BrokerConfig): PartitionLogHost {
  return {
    hasLog: (topic, partition) => replicas().logs.getLog(topic, partition) !== undefined,
    async ensureLogs(topic, partitions, overrides) {
      // A topic created again under the same name may have other settings.
      replicas().topicConfigChanged(topic);
      await replicas().createMany(topic, partitions, logConfigFor(config, overrides));
    },
    async deleteLog(topic, partition) {
      await replicas().delete(topic, partition);
    },
    async updateConfigs(topic, _partitionCount, overrides) {
      replicas().logs.updateConfig(topic, logConfigFor(config, overrides));
      replicas().topicConfigChanged(topic);
    },
  };
}
