/**
 * IncrementalAlterConfigs (key 44), v0-1 (KIP-339): SET, DELETE, APPEND and SUBTRACT on single
 * configs of a topic (persisted overrides, applied to live logs) or of the broker (dynamic
 * settings); SET and DELETE on the broker's logger levels (BROKER_LOGGER, broker-loggers.ts). APPEND/SUBTRACT work on list configs only and start from the effective value when
 * the resource has no override of its own. The resulting set is validated as a whole: one bad
 * entry changes nothing.
 */
import {
  ApiKey,
  ErrorCode,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '@gregor/protocol';
import {
  brokerConfigDefinition,
  type ConfigProblem,
  resolveTopicConfig,
  topicConfigDefinition,
} from '../config/index.js';
import type { BrokerServices } from '../services.js';
import { alterBrokerLoggers } from './broker-loggers.js';
import {
  type AlterationTarget,
  alterConfigResources,
  ConfigOperation,
  everyResourceFailed,
  invalidConfig,
  type NewSettings,
  resourceError,
} from './config-resources.js';
import type { ApiHandler } from './types.js';

type IncrementalResource = IncrementalAlterConfigsRequest['resources'][number];
type IncrementalConfig = IncrementalResource['configs'][number];

export const incrementalAlterConfigsHandler: ApiHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse
> = {
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  handle(request, context) {
    const { services } = context;
    return alterConfigResources(
      services,
      request,
      (resource, target) => applyOperations(resource.configs, currentState(services, target)),
      (resource, options) => alterBrokerLoggers(services.logger, resource.configs, options),
    );
  },
  errorResponse: everyResourceFailed,
};

/** The current state of the resource being altered. */
interface CurrentState {
  settings: ReadonlyMap<string, string>;
  /** The effective value of a config as a list (APPEND/SUBTRACT), undefined for non-lists. */
  effectiveList(name: string): readonly string[] | undefined;
  isKnown(name: string): boolean;
}

function currentState(services: BrokerServices, target: AlterationTarget): CurrentState {
  if (target.kind === 'topic') {
    const { topic } = target;
    const resolved = resolveTopicConfig(services.config, topic.configs);
    return {
      settings: new Map(Object.entries(topic.configs)),
      isKnown: (name) => topicConfigDefinition(name) !== undefined,
      effectiveList(name) {
        const entry = resolved.entries.get(name);
        return entry?.definition.type === 'list' ? (entry.value as readonly string[]) : undefined;
      },
    };
  }
  const { config } = services;
  return {
    settings: config.dynamicSettings(target.scope),
    isKnown: (name) => brokerConfigDefinition(name) !== undefined,
    effectiveList(name) {
      if (brokerConfigDefinition(name)?.type !== 'list') return undefined;
      const text = config.text(name);
      return text === null || text === '' ? [] : text.split(',');
    },
  };
}

function applyOperations(configs: readonly IncrementalConfig[], target: CurrentState): NewSettings {
  const settings = new Map(target.settings);
  const problems: ConfigProblem[] = [];
  for (const config of configs) {
    const { name, value } = config;
    switch (config.configOperation) {
      case ConfigOperation.SET:
        if (value === null) problems.push({ name, value, reason: 'SET needs a value' });
        else settings.set(name, value);
        break;
      case ConfigOperation.DELETE:
        settings.delete(name);
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT: {
        const updated = updateList(config, target, settings);
        if (typeof updated === 'string') problems.push({ name, value, reason: updated });
        else settings.set(name, updated.join(','));
        break;
      }
      default:
        return {
          outcome: resourceError(
            ErrorCode.INVALID_REQUEST,
            `unknown config operation ${config.configOperation} for "${name}"`,
          ),
        };
    }
  }
  if (problems.length > 0) return { outcome: invalidConfig(problems) };
  return { settings };
}

/** The new list for APPEND / SUBTRACT, or why it cannot be computed. */
function updateList(
  config: IncrementalConfig,
  target: CurrentState,
  settings: ReadonlyMap<string, string>,
): string[] | string {
  const operation = config.configOperation === ConfigOperation.APPEND ? 'APPEND' : 'SUBTRACT';
  if (!target.isKnown(config.name)) return `unknown configuration; ${operation} is not possible`;
  const effective = target.effectiveList(config.name);
  if (effective === undefined) return `${operation} applies to list configurations only`;
  const own = settings.get(config.name);
  const current =
    own === undefined ? [...effective] : own.split(',').map((element) => element.trim());
  const given = (config.value ?? '')
    .split(',')
    .map((element) => element.trim())
    .filter((element) => element !== '');
  if (config.configOperation === ConfigOperation.APPEND) {
    return [...new Set([...current.filter((element) => element !== ''), ...given])];
  }
  return current.filter((element) => element !== '' && !given.includes(element));
}
