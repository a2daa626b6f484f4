/**
 * DeleteGroups (key 42), v0-v2: deletes empty groups and their offsets (tombstones in
 * `__consumer_offsets`); NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND when unknown.
 */
import { ApiKey, type DeleteGroupsRequest, type DeleteGroupsResponse } from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

function failed(request: DeleteGroupsRequest, errorCode: number): DeleteGroupsResponse {
  return {
    throttleTimeMs: 0,
    results: request.groupsNames.map((groupId) => ({ groupId, errorCode })),
  };
}

export const deleteGroupsHandler: ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse> = {
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return failed(request, lookup.errorCode);
    const results = await lookup.coordinator.deleteGroups(request.groupsNames);
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return failed(request, errorCode);
  },
};
