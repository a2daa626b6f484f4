/**
 * AlterConfigs (key 33), v0-2: the legacy, non-incremental update — the configs given REPLACE
 * the resource's whole set of overrides (topic) or dynamic settings (broker); anything not named
 * returns to its default. Null values are rejected. Topic overrides are persisted by the topic
 * manager and applied to live logs; broker settings are persisted next to the topic metadata.
 */
import {
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  ApiKey,
  ErrorCode,
} from '@gregor/protocol';
import type { BrokerServices } from '../services.js';
import {
  alterEachResource,
  commitBrokerSettings,
  commitTopicOverrides,
  everyResourceFailed,
  type ResourceOutcome,
  resolveConfigResource,
  resourceError,
} from './config-resources.js';
import type { ApiHandler } from './types.js';

type AlterConfigsResource = AlterConfigsRequest['resources'][number];

export const alterConfigsHandler: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const { services } = context;
    const responses = await alterEachResource(services, request.resources, (resource) =>
      alterResource(services, resource, request.validateOnly),
    );
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, responses: everyResourceFailed(request.resources, errorCode) };
  },
};

async function alterResource(
  services: BrokerServices,
  resource: AlterConfigsResource,
  validateOnly: boolean,
): Promise<ResourceOutcome> {
  const target = resolveConfigResource(services, resource.resourceType, resource.resourceName);
  if (target.kind === 'error') return target.outcome;
  const settings = new Map<string, string>();
  for (const config of resource.configs) {
    if (config.value === null) {
      return resourceError(
        ErrorCode.INVALID_REQUEST,
        `null value given for configuration "${config.name}"`,
      );
    }
    if (settings.has(config.name)) {
      return resourceError(
        ErrorCode.INVALID_REQUEST,
        `configuration "${config.name}" appears more than once`,
      );
    }
    settings.set(config.name, config.value);
  }
  if (target.kind === 'topic') {
    return commitTopicOverrides(services, target.topic, settings, { validateOnly });
  }
  return commitBrokerSettings(services, target.scope, settings, { validateOnly });
}
