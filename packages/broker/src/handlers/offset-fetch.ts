/**
 * OffsetFetch (key 9), v0-v9. v0-v7 ask for one group (v2+ topics may be null = all, with a
 * top-level error), v8+ for several (KIP-709); v9 validates a KIP-848 member epoch; v7+
 * require_stable waits out pending transactional offsets (none exist before transactions land).
 */
import {
  ApiKey,
  ErrorCode,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from '@gregor/protocol';
import type { OffsetFetchGroupInput, OffsetFetchGroupResult } from '../group/coordinator.js';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler, RequestContext } from './types.js';

function fetchGroup(
  input: OffsetFetchGroupInput,
  requireStable: boolean,
  context: RequestContext,
): OffsetFetchGroupResult {
  const lookup = groupCoordinator(context);
  if (!lookup.ok) return { groupId: input.groupId, errorCode: lookup.errorCode, topics: [] };
  return lookup.coordinator.fetchOffsets(input, { requireStable });
}

/** v0/v1 have no top-level error: a group-level error goes to every requested partition. */
function legacyResponse(
  request: OffsetFetchRequest,
  result: OffsetFetchGroupResult,
  apiVersion: number,
): OffsetFetchResponse {
  if (apiVersion >= 2 || result.errorCode === ErrorCode.NONE) {
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      topics: result.errorCode === ErrorCode.NONE ? result.topics : [],
    };
  }
  return {
    throttleTimeMs: 0,
    topics: (request.topics ?? []).map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1n,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode: result.errorCode,
      })),
    })),
  };
}

export const offsetFetchHandler: ApiHandler<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  handle(request, context) {
    const requireStable = request.requireStable ?? false;
    if (context.apiVersion < 8) {
      const result = fetchGroup(
        {
          groupId: request.groupId ?? '',
          memberId: null,
          memberEpoch: -1,
          topics: request.topics ?? null,
        },
        requireStable,
        context,
      );
      return legacyResponse(request, result, context.apiVersion);
    }
    return {
      throttleTimeMs: 0,
      groups: (request.groups ?? []).map((group) =>
        fetchGroup(
          {
            groupId: group.groupId,
            memberId: group.memberId ?? null,
            memberEpoch: group.memberEpoch ?? -1,
            topics: group.topics,
          },
          requireStable,
          context,
        ),
      ),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      topics: [],
      groups: (request.groups ?? []).map((group) => ({
        groupId: group.groupId,
        errorCode,
        topics: [],
      })),
    };
  },
};
