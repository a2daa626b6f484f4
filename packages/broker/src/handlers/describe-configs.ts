/**
 * DescribeConfigs (key 32), v0-4: topic and broker configuration, and the broker's logger levels
 * (BROKER_LOGGER, broker-loggers.ts), with sources and synonyms
 * (v1+, when asked), type and documentation (v3+, documentation when asked). A broker resource
 * named "" shows only the cluster-wide dynamic defaults, as Kafka does. Sensitive values are
 * never returned.
 */
import {
  ApiKey,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  ErrorCode,
} from '@gregor/protocol';
import {
  ConfigSource,
  type DescribedConfig,
  describeBrokerConfigs,
  describeTopicConfigs,
  resolveTopicConfig,
} from '../config/index.js';
import type { BrokerServices } from '../services.js';
import { describeBrokerLoggers } from './broker-loggers.js';
import { resolveConfigResource } from './config-resources.js';
import type { ApiHandler } from './types.js';

type DescribeConfigsResult = DescribeConfigsResponse['results'][number];
type DescribeConfigsEntry = DescribeConfigsResult['configs'][number];

export const describeConfigsHandler: ApiHandler<DescribeConfigsRequest, DescribeConfigsResponse> = {
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    const format: EntryFormat = {
      apiVersion: context.apiVersion,
      includeSynonyms: context.apiVersion >= 1 && request.includeSynonyms === true,
      includeDocumentation: context.apiVersion >= 3 && request.includeDocumentation === true,
    };
    const results = request.resources.map((resource) =>
      describeResource(context.services, resource, format),
    );
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.resources.map((resource) => ({
        errorCode,
        errorMessage: null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: [],
      })),
    };
  },
};

interface EntryFormat {
  apiVersion: number;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

function describeResource(
  services: BrokerServices,
  resource: DescribeConfigsRequest['resources'][number],
  format: EntryFormat,
): DescribeConfigsResult {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  const target = resolveConfigResource(services, resource.resourceType, resource.resourceName);
  if (target.kind === 'error') return { ...base, ...target.outcome, configs: [] };
  let described: DescribedConfig[];
  if (target.kind === 'topic') {
    described = describeTopicConfigs(resolveTopicConfig(services.config, target.topic.configs));
  } else if (target.kind === 'loggers') {
    described = describeBrokerLoggers(services.logger.levels);
  } else {
    described = describeBrokerConfigs(services.config);
    if (target.scope === 'cluster-default') {
      described = described
        .filter((entry) => entry.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
        .map((entry) => ({
          ...entry,
          synonyms: entry.synonyms.filter(
            (synonym) => synonym.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
          ),
        }));
    }
  }
  const wanted = resource.configurationKeys === null ? null : new Set(resource.configurationKeys);
  const configs = described
    .filter((entry) => wanted === null || wanted.has(entry.name))
    .map((entry) => toWire(entry, format));
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
}

function toWire(entry: DescribedConfig, format: EntryFormat): DescribeConfigsEntry {
  const wire: DescribeConfigsEntry = {
    name: entry.name,
    value: entry.value,
    readOnly: entry.readOnly,
    isSensitive: entry.sensitive,
  };
  if (format.apiVersion === 0) {
    wire.isDefault = entry.isDefault;
    return wire;
  }
  wire.configSource = entry.source;
  wire.synonyms = format.includeSynonyms
    ? entry.synonyms.map((synonym) => ({
        name: synonym.name,
        value: synonym.text,
        source: synonym.source,
      }))
    : [];
  if (format.apiVersion >= 3) {
    wire.configType = entry.configType;
    wire.documentation = format.includeDocumentation ? entry.documentation : null;
  }
  return wire;
}
