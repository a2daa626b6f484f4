/**
 * What cluster mode reads from the broker's configuration: the ClusterNode's options, the
 * endpoints a registration advertises, and `cluster-broker-epoch`, the broker epoch of the last
 * clean shutdown (KIP-966's PreviousBrokerEpoch), kept in the first log dir.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrokerEndpoint } from '@gregor/cluster';
import type { MetadataStore } from '@gregor/metadata';
import type { BrokerSettings } from '../broker-settings.js';
import type { Clock } from '../clock.js';
import {
  type BrokerConfig,
  checkTopicConfigOverrides,
  describeConfigProblem,
  logConfigFor,
} from '../config/index.js';
import { writeFileDurably } from '../durable-file.js';
import type { Logger } from '../logging/logger.js';
import type { AdvertisedListener } from '../services.js';
import type { ClusterNodeOptions } from './cluster-node.js';

/** Lease TTL of a broker's registration and controller campaign when not configured. */
export const clusterSessionTtlMsDefault = 3000;
const previousEpochFile = 'cluster-broker-epoch';

export function clusterNodeOptions(options: {
  store: MetadataStore;
  sessionTtlMs: number | undefined;
  config: BrokerConfig;
  settings: BrokerSettings;
  clock: Clock;
  logger: Logger;
  previousBrokerEpoch: bigint;
  onRoleChange: ClusterNodeOptions['onRoleChange'];
}): ClusterNodeOptions {
  const { config, settings } = options;
  return {
    store: options.store,
    nodeId: settings.nodeId,
    rack: config.get('broker.rack'),
    clock: options.clock,
    logger: options.logger.child({ component: 'cluster' }),
    sessionTtlMs: options.sessionTtlMs ?? clusterSessionTtlMsDefault,
    controllerDefaults: {
      numPartitions: config.get('num.partitions'),
      defaultReplicationFactor: config.get('default.replication.factor'),
      minInsyncReplicas: config.get('min.insync.replicas'),
      uncleanLeaderElectionEnable: config.get('unclean.leader.election.enable'),
    },
    topicConfigsProblem: (configs) => {
      const problems = checkTopicConfigOverrides(configs);
      return problems.length === 0 ? undefined : problems.map(describeConfigProblem).join('; ');
    },
    logConfig: (overrides) => logConfigFor(config, overrides),
    previousBrokerEpoch: options.previousBrokerEpoch,
    onRoleChange: options.onRoleChange,
    interBrokerListenerName: settings.advertisedListeners[0]!.name,
  };
}

/** The advertised endpoint of every listener (ports resolved once bound). */
export function registrationEndpoints(
  settings: BrokerSettings,
  advertised: ReadonlyMap<string, AdvertisedListener>,
): BrokerEndpoint[] {
  const endpoints: BrokerEndpoint[] = [];
  for (const listener of settings.advertisedListeners) {
    const address = advertised.get(listener.name);
    if (address === undefined) continue;
    endpoints.push({
      name: listener.name,
      host: address.host,
      port: address.port,
      securityProtocol: 'PLAINTEXT',
    });
  }
  return endpoints;
}

/**
 * The broker epoch written at the last clean stop, -1n if none. The file is removed: a crash
 * before the next clean stop must not look clean.
 */
export async function readPreviousBrokerEpoch(logDir: string): Promise<bigint> {
  const path = join(logDir, previousEpochFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return -1n;
  }
  await rm(path, { force: true });
  return /^-?\d+$/.test(text.trim()) ? BigInt(text.trim()) : -1n;
}

export async function writePreviousBrokerEpoch(logDir: string, brokerEpoch: bigint): Promise<void> {
  if (brokerEpoch < 0n) return;
  await writeFileDurably(join(logDir, previousEpochFile), `${brokerEpoch}\n`);
}
