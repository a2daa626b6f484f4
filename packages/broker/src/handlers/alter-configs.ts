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
import {
  alterConfigResources,
  everyResourceFailed,
  type NewSettings,
  resourceError,
} from './config-resources.js';
import type { ApiHandler } from './types.js';

type AlterConfigsResource = AlterConfigsRequest['resources'][number];

export const alterConfigsHandler: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  handle(request, context) {
    return alterConfigResources(context.services, request, replacedSettings);
  },
  errorResponse: everyResourceFailed,
};

/** The configs given are the whole new set; a null value is refused. */
function replacedSettings(resource: AlterConfigsResource): NewSettings {
  const settings = new Map<string, string>();
  for (const config of resource.configs) {
    if (config.value === null) {
      return {
        outcome: resourceError(
          ErrorCode.INVALID_REQUEST,
          `null value given for configuration "${config.name}"`,
        ),
      };
    }
    settings.set(config.name, config.value);
  }
  return { settings };
}
