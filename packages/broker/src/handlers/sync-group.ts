/**
 * SyncGroup (key 14), v0-v5: the leader hands in the assignment, every member gets its own.
 * v3+ static membership; v5 protocol type/name checks (INCONSISTENT_GROUP_PROTOCOL).
 */
import { ApiKey, type SyncGroupRequest, type SyncGroupResponse } from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

const emptyBuffer = Buffer.alloc(0);

function errorResponse(errorCode: number): SyncGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    protocolType: null,
    protocolName: null,
    assignment: emptyBuffer,
  };
}

export const syncGroupHandler: ApiHandler<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return errorResponse(lookup.errorCode);
    const result = await lookup.coordinator.syncGroup(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
      protocolType: request.protocolType ?? null,
      protocolName: request.protocolName ?? null,
      assignments: request.assignments.map((entry) => ({
        memberId: entry.memberId,
        assignment: Buffer.from(entry.assignment),
      })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
  errorResponse(_request, errorCode) {
    return errorResponse(errorCode);
  },
};
