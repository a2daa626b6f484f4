/**
 * The leader side of replication for one simulated broker: the broker's real SocketServer on its
 * simulated host (MemoryNetwork), whose real RequestRouter serves the real Fetch, ListOffsets and
 * ApiVersions handlers over BrokerServices holding this broker's ReplicaManager and a read-only
 * topic view of its metadata image. Followers' ReplicaFetcherManagers connect to it as they
 * would to a broker process.
 */
import { setMaxListeners } from 'node:events';
import type { MetadataImage } from '@gregor/cluster';
import type { LogManager } from '@gregor/storage';
import { settingsFromConfig } from '../../broker-settings.js';
import type { Clock } from '../../clock.js';
import { topicInfo } from '../../cluster/image-topic-manager.js';
import { BrokerConfig } from '../../config/index.js';
import { advertisedApis, apiVersionsHandler } from '../../handlers/api-versions.js';
import { fetchHandler } from '../../handlers/fetch.js';
import { FetchSessionCache } from '../../handlers/fetch-sessions.js';
import { listOffsetsHandler } from '../../handlers/list-offsets.js';
import { silentLogger } from '../../logging/logger.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { RequestRouter } from '../../server/request-router.js';
import { SocketServer } from '../../server/socket-server.js';
import type { Transport } from '../../server/transport.js';
import type { BrokerServices } from '../../services.js';
import type { TopicInfo, TopicManager } from '../../topics/types.js';

export const replicationListenerName = 'PLAINTEXT';
export const replicationPort = 9092;

export interface ReplicationListenerOptions {
  host: string;
  nodeId: number;
  transport: Transport;
  clock: Clock;
  logs: LogManager;
  replicas: ReplicaManager;
  image: () => MetadataImage;
}

export interface ReplicationListener {
  /** Ends long polls and closes the listener and its connections. */
  stop(): Promise<void>;
}

const handlers = [fetchHandler, listOffsetsHandler, apiVersionsHandler];

export async function startReplicationListener(
  options: ReplicationListenerOptions,
): Promise<ReplicationListener> {
  const config = new BrokerConfig();
  const settings = settingsFromConfig(config);
  const shutdown = new AbortController();
  // One listener per long-poll fetch in flight, as in broker.ts: not the leak Node warns about.
  setMaxListeners(0, shutdown.signal);
  const advertisedListener = { host: options.host, port: replicationPort };
  const services: BrokerServices = {
    config,
    settings,
    logs: options.logs,
    replicas: options.replicas,
    topics: new ImageTopics(options.image),
    groups: undefined,
    clock: options.clock,
    logger: silentLogger,
    nodeId: options.nodeId,
    clusterId: 'simulated',
    advertisedListener,
    advertisedListeners: new Map([[replicationListenerName, advertisedListener]]),
    supportedApis: advertisedApis(handlers),
    fetchSessions: new FetchSessionCache({
      clock: options.clock,
      slotsMax: () => settings.incrementalFetchSessionCacheSlots,
      evictionMsMin: () => settings.incrementalFetchSessionEvictionMsMin,
    }),
    shutdownSignal: shutdown.signal,
  };
  const server = new SocketServer({
    listeners: [{ name: replicationListenerName, host: options.host, port: replicationPort }],
    dispatcher: new RequestRouter({ handlers, services, logger: silentLogger }),
    clock: options.clock,
    logger: silentLogger,
    requestSizeBytesMax: settings.requestSizeBytesMax,
    connectionIdleMsMax: 0,
    transport: options.transport,
  });
  await server.listen();
  return {
    stop: async () => {
      shutdown.abort();
      await server.stop();
    },
  };
}

/** The topics of the broker's metadata image; writes belong to the controller, not here. */
class ImageTopics implements TopicManager {
  constructor(private readonly image: () => MetadataImage) {}

  get(name: string): TopicInfo | undefined {
    const topic = this.image().topic(name);
    return topic === undefined ? undefined : topicInfo(topic);
  }

  getById(topicId: string): TopicInfo | undefined {
    const topic = this.image().topicById(topicId);
    return topic === undefined ? undefined : topicInfo(topic);
  }

  list(): TopicInfo[] {
    return this.image().topics().map(topicInfo);
  }

  async getOrCreate(name: string): Promise<TopicInfo | undefined> {
    return this.get(name);
  }

  create(): Promise<TopicInfo> {
    return Promise.reject(new Error('the simulated replication listener creates no topics'));
  }

  delete(): Promise<void> {
    return Promise.reject(new Error('the simulated replication listener deletes no topics'));
  }

  createPartitions(): Promise<TopicInfo> {
    return Promise.reject(new Error('the simulated replication listener grows no topics'));
  }

  updateConfigs(): Promise<TopicInfo> {
    return Promise.reject(new Error('the simulated replication listener changes no configs'));
  }
}
