/**
 * Everything a handler may use, injected once by broker.ts (BROKER-LAYOUT.md).
 * Placeholders typed `unknown` are replaced by their owners' types as the parts land:
 *   BrokerConfig (D2, config/), LogManager (C, @gregor/storage), GroupCoordinator (E, group/).
 */
import type { Clock } from './clock.js';
import type { Logger } from './logging/logger.js';
import type { TopicManager } from './topics/types.js';

// D2 replaces this line with: export type { BrokerConfig } from './config/index.js';
export type BrokerConfig = unknown;
// D1 replaces this line with the LogManager type from @gregor/storage when it lands.
export type LogManagerService = unknown;
// E replaces this line with: export type { GroupCoordinator } from './group/index.js';
export type GroupCoordinator = unknown;

export interface AdvertisedListener {
  host: string;
  port: number;
}

export interface BrokerServices {
  config: BrokerConfig;
  logs: LogManagerService;
  topics: TopicManager;
  groups: GroupCoordinator;
  clock: Clock;
  logger: Logger;
  nodeId: number;
  clusterId: string;
  advertisedListener: AdvertisedListener;
}
