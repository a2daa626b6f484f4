/**
 * ListGroups (key 16), v0-v5: every group with its protocol type; v4+ its state and a states
 * filter (KIP-518), v5 its type (classic/consumer) and a types filter (KIP-848).
 */
import { ApiKey, type ListGroupsRequest, type ListGroupsResponse } from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

export const listGroupsHandler: ApiHandler<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return { throttleTimeMs: 0, errorCode: lookup.errorCode, groups: [] };
    const result = lookup.coordinator.listGroups({
      states: request.statesFilter ?? [],
      types: request.typesFilter ?? [],
    });
    return { throttleTimeMs: 0, errorCode: result.errorCode, groups: result.groups };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] };
  },
};
