/**
 * DescribeGroups (key 15), v0-v5: classic groups with their members; metadata and assignments
 * only while Stable (as Kafka). Unknown and KIP-848 groups are described as Dead.
 */
import { ApiKey, type DescribeGroupsRequest, type DescribeGroupsResponse } from '@gregor/protocol';
import {
  authorizedOperationsOmitted,
  groupAuthorizedOperations,
  groupCoordinator,
} from './group-support.js';
import type { ApiHandler } from './types.js';

function failed(groupIds: readonly string[], errorCode: number): DescribeGroupsResponse {
  return {
    throttleTimeMs: 0,
    groups: groupIds.map((groupId) => ({
      errorCode,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: authorizedOperationsOmitted,
    })),
  };
}

export const describeGroupsHandler: ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return failed(request.groups, lookup.errorCode);
    const authorizedOperations =
      request.includeAuthorizedOperations === true
        ? groupAuthorizedOperations
        : authorizedOperationsOmitted;
    return {
      throttleTimeMs: 0,
      groups: lookup.coordinator
        .describeGroups(request.groups)
        .map((group) => ({ ...group, authorizedOperations })),
    };
  },
  errorResponse(request, errorCode) {
    return failed(request.groups, errorCode);
  },
};
