/**
 * What DescribeConfigs, AlterConfigs and IncrementalAlterConfigs share: resource types, finding
 * the resource a request names, and committing a complete new set of topic overrides or dynamic
 * broker settings (validate, then persist, then apply to live logs). Alterations are serialised
 * per broker so two concurrent requests cannot interleave their read-modify-write.
 */
import { ErrorCode } from '@gregor/protocol';
import {
  type ConfigProblem,
  canonicalTopicConfigText,
  checkTopicConfigOverrides,
  type DynamicBrokerScope,
  describeConfigProblem,
  logConfigFor,
  saveDynamicBrokerSettings,
} from '../config/index.js';
import { SerialQueues } from '../serial-queues.js';
import type { BrokerServices } from '../services.js';
import { topicNameProblem } from '../topics/topic-names.js';
import { TopicError, type TopicInfo } from '../topics/types.js';

/** Kafka's ConfigResource.Type codes. */
export const ConfigResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** IncrementalAlterConfigs operations (Kafka's AlterConfigOp.OpType). */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ResourceOutcome {
  errorCode: number;
  errorMessage: string | null;
}

export const resourceOk: ResourceOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

export function resourceError(errorCode: number, errorMessage: string): ResourceOutcome {
  return { errorCode, errorMessage };
}

export type ResolvedResource =
  | { kind: 'topic'; topic: TopicInfo }
  | { kind: 'broker'; scope: DynamicBrokerScope }
  /** BROKER_LOGGER: this broker's named loggers (broker-loggers.ts). */
  | { kind: 'loggers' }
  | { kind: 'error'; outcome: ResourceOutcome };

/**
 * The topic or broker scope a config resource names. A broker resource is either this node's id
 * (its own settings) or "" (the cluster-wide defaults).
 */
export function resolveConfigResource(
  services: BrokerServices,
  resourceType: number,
  resourceName: string,
): ResolvedResource {
  if (resourceType === ConfigResourceType.TOPIC) {
    const problem = topicNameProblem(resourceName);
    if (problem !== undefined) {
      return { kind: 'error', outcome: resourceError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem) };
    }
    const topic = services.topics.get(resourceName);
    if (topic === undefined) {
      return {
        kind: 'error',
        outcome: resourceError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `topic "${resourceName}" does not exist`,
        ),
      };
    }
    return { kind: 'topic', topic };
  }
  if (resourceType === ConfigResourceType.BROKER) {
    if (resourceName === '') return { kind: 'broker', scope: 'cluster-default' };
    if (resourceName === String(services.nodeId)) return { kind: 'broker', scope: 'this-broker' };
    return {
      kind: 'error',
      outcome: resourceError(
        ErrorCode.INVALID_REQUEST,
        `broker resource "${resourceName}" is not this broker (${services.nodeId}) nor "" (cluster default)`,
      ),
    };
  }
  if (resourceType === ConfigResourceType.BROKER_LOGGER) {
    if (resourceName === String(services.nodeId)) return { kind: 'loggers' };
    return {
      kind: 'error',
      outcome: resourceError(
        ErrorCode.INVALID_REQUEST,
        `broker logger resource "${resourceName}" is not this broker (${services.nodeId})`,
      ),
    };
  }
  return {
    kind: 'error',
    outcome: resourceError(
      ErrorCode.INVALID_REQUEST,
      `config resource type ${resourceType} is not supported (TOPIC=2, BROKER=4 and BROKER_LOGGER=8 are)`,
    ),
  };
}

export function invalidConfig(problems: readonly ConfigProblem[]): ResourceOutcome {
  return resourceError(ErrorCode.INVALID_CONFIG, problems.map(describeConfigProblem).join('; '));
}

/**
 * Kafka validates a broker resource's change as a whole and answers any failure (read-only
 * name, invalid value) with INVALID_REQUEST (ConfigAdminManager.validateBrokerConfigChange), so
 * the Java admin client throws InvalidRequestException; topics get INVALID_CONFIG.
 */
function invalidBrokerChange(problems: readonly ConfigProblem[]): ResourceOutcome {
  return resourceError(ErrorCode.INVALID_REQUEST, problems.map(describeConfigProblem).join('; '));
}

/** Alterations run one at a time per broker, each after every earlier one has finished. */
const alterations = new SerialQueues<BrokerServices>();

/**
 * Replaces a topic's overrides with `overrides` (complete set): validated, persisted by the topic
 * manager (so they survive restart) and applied to the topic's live logs.
 */
async function commitTopicOverrides(
  services: BrokerServices,
  topic: TopicInfo,
  overrides: ReadonlyMap<string, string>,
  options: { validateOnly: boolean },
): Promise<ResourceOutcome> {
  const problems = checkTopicConfigOverrides(overrides);
  if (problems.length > 0) return invalidConfig(problems);
  if (options.validateOnly) return resourceOk;
  const canonical: Record<string, string> = {};
  for (const [name, text] of overrides) canonical[name] = canonicalTopicConfigText(name, text);
  try {
    await services.topics.updateConfigs(topic.name, canonical);
  } catch (error) {
    if (error instanceof TopicError) return resourceError(error.errorCode, error.message);
    throw error;
  }
  services.logger.info('topic configuration changed', { topic: topic.name, configs: canonical });
  return resourceOk;
}

/**
 * Replaces the dynamic broker settings of `scope` (complete set): validated against every
 * configuration rule, persisted in the metadata dir, applied, and pushed to every topic's logs
 * (their defaults may come from the changed settings).
 */
async function commitBrokerSettings(
  services: BrokerServices,
  scope: DynamicBrokerScope,
  settings: ReadonlyMap<string, string>,
  options: { validateOnly: boolean },
): Promise<ResourceOutcome> {
  const { config } = services;
  const problems = config.checkDynamicSettings(scope, settings);
  if (problems.length > 0) return invalidBrokerChange(problems);
  if (options.validateOnly) return resourceOk;
  const previous = config.dynamicSettings(scope);
  config.replaceDynamicSettings(scope, settings);
  try {
    await saveDynamicBrokerSettings(config, config.logDirs[0]);
  } catch (error) {
    config.replaceDynamicSettings(scope, previous);
    throw error;
  }
  for (const topic of services.topics.list()) {
    services.logs.updateConfig(topic.name, logConfigFor(config, topic.configs));
  }
  services.logger.info('dynamic broker configuration changed', {
    scope,
    configs: Object.fromEntries(settings),
  });
  return resourceOk;
}
/** Config resources named more than once in one request are all refused (INVALID_REQUEST). */
function resourceKey(resource: ConfigResourceName): string {
  return `${resource.resourceType}\u0000${resource.resourceName}`;
}

function duplicateResourceKeys(resources: readonly ConfigResourceName[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const resource of resources) {
    const key = resourceKey(resource);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return duplicates;
}

interface ConfigResourceName {
  resourceType: number;
  resourceName: string;
}

/** A resource of AlterConfigs / IncrementalAlterConfigs: its configs are named by `name`. */
interface AlteredResource extends ConfigResourceName {
  configs: readonly { name: string }[];
}

/** What an alteration replaces: a topic's overrides or one scope of dynamic broker settings. */
export type AlterationTarget = Exclude<ResolvedResource, { kind: 'error' } | { kind: 'loggers' }>;

/** How a request alters BROKER_LOGGER resources; absent, it refuses them (legacy AlterConfigs). */
export type LoggerAlteration<R> = (
  resource: R,
  options: { validateOnly: boolean },
) => ResourceOutcome;

/** A resource's complete new set of settings, or why the request cannot give one. */
export type NewSettings = { settings: ReadonlyMap<string, string> } | { outcome: ResourceOutcome };

export interface ResourceAlterationResult extends ResourceOutcome {
  resourceType: number;
  resourceName: string;
}

export interface AlterationResponse {
  throttleTimeMs: number;
  responses: ResourceAlterationResult[];
}

/**
 * AlterConfigs and IncrementalAlterConfigs: each resource in turn, serialised with every other
 * alteration on this broker (`newSettings` reads the current state, so it runs inside). A
 * resource named twice in the request, or naming a config twice, is refused with INVALID_REQUEST;
 * otherwise the complete set `newSettings` computes is validated, then persisted and applied
 * unless the request only validates.
 */
export async function alterConfigResources<R extends AlteredResource>(
  services: BrokerServices,
  request: { resources: readonly R[]; validateOnly: boolean },
  newSettings: (resource: R, target: AlterationTarget) => NewSettings,
  alterLoggers?: LoggerAlteration<R>,
): Promise<AlterationResponse> {
  const duplicates = duplicateResourceKeys(request.resources);
  const options = { validateOnly: request.validateOnly };
  const responses: ResourceAlterationResult[] = [];
  for (const resource of request.resources) {
    const outcome = duplicates.has(resourceKey(resource))
      ? resourceError(
          ErrorCode.INVALID_REQUEST,
          'the resource appears more than once in the request',
        )
      : await alterations.run(services, () =>
          alterResource(
            services,
            resource,
            {
              newSettings: (target) => newSettings(resource, target),
              alterLoggers:
                alterLoggers === undefined ? undefined : () => alterLoggers(resource, options),
            },
            options,
          ),
        );
    responses.push({
      ...outcome,
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
    });
  }
  return { throttleTimeMs: 0, responses };
}

async function alterResource(
  services: BrokerServices,
  resource: AlteredResource,
  alter: {
    newSettings: (target: AlterationTarget) => NewSettings;
    alterLoggers: (() => ResourceOutcome) | undefined;
  },
  options: { validateOnly: boolean },
): Promise<ResourceOutcome> {
  const target = resolveConfigResource(services, resource.resourceType, resource.resourceName);
  if (target.kind === 'error') return target.outcome;
  const names = new Set<string>();
  for (const config of resource.configs) {
    if (names.has(config.name)) {
      return resourceError(
        ErrorCode.INVALID_REQUEST,
        `configuration "${config.name}" appears more than once`,
      );
    }
    names.add(config.name);
  }
  if (target.kind === 'loggers') {
    // As Kafka: broker loggers change through IncrementalAlterConfigs only.
    return (
      alter.alterLoggers?.() ??
      resourceError(
        ErrorCode.INVALID_REQUEST,
        'AlterConfigs does not change BROKER_LOGGER resources; use IncrementalAlterConfigs',
      )
    );
  }
  const computed = alter.newSettings(target);
  if ('outcome' in computed) return computed.outcome;
  if (target.kind === 'topic') {
    return commitTopicOverrides(services, target.topic, computed.settings, options);
  }
  return commitBrokerSettings(services, target.scope, computed.settings, options);
}

/** The same error for every resource (errorResponse of the alter APIs). */
export function everyResourceFailed(
  request: { resources: readonly ConfigResourceName[] },
  errorCode: number,
): AlterationResponse {
  return {
    throttleTimeMs: 0,
    responses: request.resources.map((resource) => ({
      errorCode,
      errorMessage: null,
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
    })),
  };
}
