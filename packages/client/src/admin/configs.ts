// Configs of topics, brokers, loggers and groups: DescribeConfigs, IncrementalAlterConfigs
// (KIP-339: set, delete, append, subtract per key) and the legacy AlterConfigs (replaces the whole
// set). Broker resources go to that broker; the others to any broker (KRaft brokers forward).

import {
  type AlterConfigsResponse,
  alterConfigsApi,
  type DescribeConfigsResponse,
  describeConfigsApi,
  ErrorCode,
  type IncrementalAlterConfigsResponse,
  incrementalAlterConfigsApi,
} from '@gregor/protocol';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import type { Connection } from '../network/connection.js';
import { CodeNames } from './shared.js';

export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'client-metrics' | 'group';

export interface ConfigResource {
  type: ConfigResourceType;
  /** Topic or group name; a broker's node id as text ('' for the cluster-wide default). */
  name: string;
}

export type ConfigSource =
  | 'unknown'
  | 'dynamic-topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group';

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: ConfigSource;
  isSensitive: boolean;
}

export interface ResourceConfigs {
  resource: ConfigResource;
  configs: ConfigEntry[];
}

export interface ConfigAlteration {
  resource: ConfigResource;
  set?: Record<string, string>;
  /** Back to the default. */
  delete?: readonly string[];
  /** List-valued keys: add to / remove from the list. */
  append?: Record<string, string>;
  subtract?: Record<string, string>;
}

export const resourceTypes = new CodeNames<ConfigResourceType>({
  topic: 2,
  broker: 4,
  'broker-logger': 8,
  'client-metrics': 16,
  group: 32,
});

const configSources = new CodeNames<Exclude<ConfigSource, 'unknown'>>({
  'dynamic-topic': 1,
  'dynamic-broker': 2,
  'dynamic-default-broker': 3,
  'static-broker': 4,
  default: 5,
  'dynamic-broker-logger': 6,
  'client-metrics': 7,
  group: 8,
});

/** DescribeConfigs v1+ has config sources (v0 was removed in Kafka 4.0, KIP-896). */
const describeConfigsVersionMin = 1;

function connectionFor(cluster: Cluster, resource: ConfigResource): Promise<Connection> {
  const brokerScoped = resource.type === 'broker' || resource.type === 'broker-logger';
  return brokerScoped && resource.name !== ''
    ? cluster.connectionToNode(Number(resource.name))
    : cluster.anyConnection();
}

/** Resources grouped by the connection that must answer them, in input order. */
async function byConnection(
  cluster: Cluster,
  resources: readonly ConfigResource[],
): Promise<Map<Connection, ConfigResource[]>> {
  const groups = new Map<Connection, ConfigResource[]>();
  for (const resource of resources) {
    const connection = await connectionFor(cluster, resource);
    const list = groups.get(connection) ?? [];
    list.push(resource);
    groups.set(connection, list);
  }
  return groups;
}

function check(errorCode: number, errorMessage: string | null, resource: ConfigResource): void {
  if (errorCode !== ErrorCode.NONE) {
    throw new KafkaError(errorCode, `${resource.type} ${resource.name}: ${errorMessage ?? ''}`);
  }
}

/** Configs of each resource (all keys, or only `names`), in the order asked. */
export async function describeConfigs(
  cluster: Cluster,
  resources: readonly ConfigResource[],
  options: { names?: readonly string[] } = {},
): Promise<ResourceConfigs[]> {
  const answers = new Map<string, ResourceConfigs>();
  for (const [connection, group] of await byConnection(cluster, resources)) {
    const version = connection.versions.version(describeConfigsApi, describeConfigsVersionMin);
    const response = await connection.request<DescribeConfigsResponse>(
      describeConfigsApi,
      {
        resources: group.map((resource) => ({
          resourceType: resourceTypes.code(resource.type),
          resourceName: resource.name,
          configurationKeys: options.names === undefined ? null : [...options.names],
        })),
        includeSynonyms: false,
        includeDocumentation: false,
      },
      { version },
    );
    for (const result of response.results) {
      const resource: ConfigResource = {
        type: resourceTypes.name(result.resourceType) as ConfigResourceType,
        name: result.resourceName,
      };
      check(result.errorCode, result.errorMessage, resource);
      answers.set(`${resource.type}:${resource.name}`, {
        resource,
        configs: result.configs
          .map((config) => ({
            name: config.name,
            value: config.value,
            readOnly: config.readOnly,
            isDefault: config.configSource === 5,
            source: configSources.name(config.configSource ?? 0),
            isSensitive: config.isSensitive,
          }))
          .sort((left, right) => left.name.localeCompare(right.name)),
      });
    }
  }
  return resources.map(
    (resource) => answers.get(`${resource.type}:${resource.name}`) ?? { resource, configs: [] },
  );
}

/** KIP-339 operations per key; only the keys named change. */
export async function incrementalAlterConfigs(
  cluster: Cluster,
  alterations: readonly ConfigAlteration[],
  options: { validateOnly?: boolean } = {},
): Promise<void> {
  const byResource = new Map(alterations.map((entry) => [entry.resource, entry]));
  for (const [connection, group] of await byConnection(cluster, [...byResource.keys()])) {
    const response = await connection.request<IncrementalAlterConfigsResponse>(
      incrementalAlterConfigsApi,
      {
        validateOnly: options.validateOnly ?? false,
        resources: group.map((resource) => {
          const entry = byResource.get(resource)!;
          const operations = [
            ...Object.entries(entry.set ?? {}).map(([name, value]) => ({
              name,
              configOperation: 0,
              value,
            })),
            ...(entry.delete ?? []).map((name) => ({ name, configOperation: 1, value: null })),
            ...Object.entries(entry.append ?? {}).map(([name, value]) => ({
              name,
              configOperation: 2,
              value,
            })),
            ...Object.entries(entry.subtract ?? {}).map(([name, value]) => ({
              name,
              configOperation: 3,
              value,
            })),
          ];
          return {
            resourceType: resourceTypes.code(resource.type),
            resourceName: resource.name,
            configs: operations,
          };
        }),
      },
    );
    for (const result of response.responses) {
      check(result.errorCode, result.errorMessage, {
        type: resourceTypes.name(result.resourceType) as ConfigResourceType,
        name: result.resourceName,
      });
    }
  }
}

/** Legacy AlterConfigs: the resource's dynamic configs become exactly `configs`. */
export async function alterConfigs(
  cluster: Cluster,
  resources: ReadonlyArray<{ resource: ConfigResource; configs: Record<string, string> }>,
  options: { validateOnly?: boolean } = {},
): Promise<void> {
  const byResource = new Map(resources.map((entry) => [entry.resource, entry.configs]));
  for (const [connection, group] of await byConnection(cluster, [...byResource.keys()])) {
    const response = await connection.request<AlterConfigsResponse>(alterConfigsApi, {
      validateOnly: options.validateOnly ?? false,
      resources: group.map((resource) => ({
        resourceType: resourceTypes.code(resource.type),
        resourceName: resource.name,
        configs: Object.entries(byResource.get(resource)!).map(([name, value]) => ({
          name,
          value,
        })),
      })),
    });
    for (const result of response.responses) {
      check(result.errorCode, result.errorMessage, {
        type: resourceTypes.name(result.resourceType) as ConfigResourceType,
        name: result.resourceName,
      });
    }
  }
}
