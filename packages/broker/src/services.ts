/**
 * Everything a handler may use, injected once by broker.ts (DESIGN.md).
 */

import type { LogManager } from '@gregor/storage';
import type { BrokerSettings } from './broker-settings.js';
import type { Clock } from './clock.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import type { PeerDeathDetector } from './cluster/peer-death-detector.js';
import type { BrokerConfig } from './config/index.js';
import type { GroupCoordinator } from './group/index.js';
import type { AdvertisedApi } from './handlers/api-versions.js';
import type { FetchSessionCache } from './handlers/fetch-sessions.js';
import type { Logger } from './logging/logger.js';
import type { ReplicaManager } from './replication/replica-manager.js';
import type { TopicManager } from './topics/types.js';
import type { TransactionCoordinator } from './txn/transaction-coordinator.js';

export type { BrokerConfig, GroupCoordinator };

export interface AdvertisedListener {
  host: string;
  port: number;
}

export interface BrokerServices {
  config: BrokerConfig;
  /** Typed view of `config` for hot paths (D1's handlers and the server). */
  settings: BrokerSettings;
  /** Storage-level operations only (log dirs, config pushes); partitions go through `replicas`. */
  logs: LogManager;
  /** Every partition of this broker: appends, reads, HW, LSO, leader epochs, producer state. */
  replicas: ReplicaManager;
  topics: TopicManager;
  /** Undefined until broker.ts constructs it (group APIs answer COORDINATOR_NOT_AVAILABLE). */
  groups: GroupCoordinator | undefined;
  clock: Clock;
  logger: Logger;
  nodeId: number;
  clusterId: string;
  /** The first advertised listener (the bootstrap address). */
  advertisedListener: AdvertisedListener;
  /** Advertised address per listener name, ports resolved once bound (see handlers/advertised-endpoint.ts). */
  advertisedListeners: ReadonlyMap<string, AdvertisedListener>;
  /** The APIs and version ranges this broker serves (what ApiVersions advertises). */
  supportedApis: readonly AdvertisedApi[];
  /** KIP-227 incremental fetch sessions of this broker. */
  fetchSessions: FetchSessionCache;
  /** Aborted when the broker begins to stop: long polls return early. */
  shutdownSignal: AbortSignal;
  /** The transaction coordinator (helper G, txn/); undefined answers COORDINATOR_NOT_AVAILABLE. */
  transactions?: TransactionCoordinator;
  /**
   * Cluster mode (`--metadata`): the image, the controller channel, this broker's registration.
   * Absent on a single node, which answers as the only broker, leader and controller.
   */
  cluster?: ClusterNode;
  /** Cluster mode: finds dead peers (the Fetch handler notes which connections followers use). */
  peerDeaths?: PeerDeathDetector;
}
