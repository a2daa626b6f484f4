/**
 * ConsumerGroupDescribe (key 69), v0: KIP-848 groups with epochs, members, current and target
 * assignments. A classic or unknown group answers GROUP_ID_NOT_FOUND.
 */
import {
  ApiKey,
  type ConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeResponse,
} from '@gregor/protocol';
import {
  authorizedOperationsOmitted,
  groupAuthorizedOperations,
  groupCoordinator,
} from './group-support.js';
import type { ApiHandler } from './types.js';

function failed(
  request: ConsumerGroupDescribeRequest,
  errorCode: number,
): ConsumerGroupDescribeResponse {
  return {
    throttleTimeMs: 0,
    groups: request.groupIds.map((groupId) => ({
      errorCode,
      errorMessage: null,
      groupId,
      groupState: '',
      groupEpoch: -1,
      assignmentEpoch: -1,
      assignorName: '',
      members: [],
      authorizedOperations: authorizedOperationsOmitted,
    })),
  };
}

export const consumerGroupDescribeHandler: ApiHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse
> = {
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 0,
  handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return failed(request, lookup.errorCode);
    const authorizedOperations = request.includeAuthorizedOperations
      ? groupAuthorizedOperations
      : authorizedOperationsOmitted;
    return {
      throttleTimeMs: 0,
      groups: lookup.coordinator
        .consumerGroupDescribe(request.groupIds)
        .map((group) => ({ ...group, authorizedOperations })),
    };
  },
  errorResponse(request, errorCode) {
    return failed(request, errorCode);
  },
};
