/**
 * The typed broker settings the network layer and the produce/fetch handlers read on hot paths,
 * derived from the broker configuration (config/, D2) and refreshed when it changes dynamically.
 */
import type { BrokerConfig, ListenerAddress } from './config/index.js';
import { parsePerAddressOverrides } from './config/per-address-overrides.js';
import type { TopicDefaults } from './topics/topic-manager.js';

/** Includes the topic manager's defaults (num.partitions, internal topic sizes, auto-create). */
export interface BrokerSettings extends TopicDefaults {
  /** node.id */
  nodeId: number;
  /** Every client listener we bind (`listeners` without controller listeners), by name. */
  listeners: ListenerAddress[];
  /**
   * What Metadata tells a client, per listener name (advertised.listeners, else listeners); port 0
   * means "the port that listener bound".
   */
  advertisedListeners: ListenerAddress[];
  /** log.dirs, else log.dir */
  logDirs: string[];
  /** socket.request.max.bytes */
  requestSizeBytesMax: number;
  /** connections.max.idle.ms */
  connectionIdleMsMax: number;
  /** max.connections */
  connectionsMax: number;
  /** max.connections.per.ip */
  connectionsPerAddressMax: number;
  /** max.connections.per.ip.overrides, by normalized address. */
  connectionsPerAddressOverrides: ReadonlyMap<string, number>;
  /** socket.listen.backlog.size */
  listenBacklog: number;
  /** fetch.max.bytes: cap on one Fetch response */
  fetchMaxBytes: number;
  /** max.incremental.fetch.session.cache.slots */
  incrementalFetchSessionCacheSlots: number;
  /** min.incremental.fetch.session.eviction.ms */
  incrementalFetchSessionEvictionMsMin: number;
}

export function settingsFromConfig(config: BrokerConfig): BrokerSettings {
  const listeners = config.listeners;
  if (listeners.length === 0 || config.advertisedListeners.length === 0) {
    throw new Error('configuration "listeners" names no listener for clients');
  }
  const connectionsPerAddressMax = config.get('max.connections.per.ip');
  const connectionsPerAddressOverrides = parsePerAddressOverrides(
    config.get('max.connections.per.ip.overrides'),
  );
  if (connectionsPerAddressMax === 0 && connectionsPerAddressOverrides.size === 0) {
    // Kafka's rule: a limit of 0 for everyone else only makes sense next to some exceptions.
    throw new Error(
      'configuration "max.connections.per.ip" can be 0 only when "max.connections.per.ip.overrides" names some addresses',
    );
  }
  return {
    nodeId: config.nodeId,
    listeners: [...listeners],
    advertisedListeners: [...config.advertisedListeners],
    logDirs: [...config.logDirs],
    requestSizeBytesMax: config.get('socket.request.max.bytes'),
    connectionIdleMsMax: config.get('connections.max.idle.ms'),
    connectionsMax: config.get('max.connections'),
    connectionsPerAddressMax,
    connectionsPerAddressOverrides,
    listenBacklog: config.get('socket.listen.backlog.size'),
    numPartitions: config.get('num.partitions'),
    autoCreateTopicsEnable: config.get('auto.create.topics.enable'),
    offsetsTopicNumPartitions: config.get('offsets.topic.num.partitions'),
    offsetsTopicSegmentBytes: config.get('offsets.topic.segment.bytes'),
    transactionStateLogNumPartitions: config.get('transaction.state.log.num.partitions'),
    transactionStateLogSegmentBytes: config.get('transaction.state.log.segment.bytes'),
    transactionStateLogMinIsr: config.get('transaction.state.log.min.isr'),
    fetchMaxBytes: config.get('fetch.max.bytes'),
    incrementalFetchSessionCacheSlots: config.get('max.incremental.fetch.session.cache.slots'),
    incrementalFetchSessionEvictionMsMin: config.get('min.incremental.fetch.session.eviction.ms'),
  };
}
