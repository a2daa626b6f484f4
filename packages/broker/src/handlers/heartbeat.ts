/**
 * Heartbeat (key 12), v0-v4: keeps a classic member's session alive and tells it when to rejoin
 * (REBALANCE_IN_PROGRESS) or that it was fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID).
 */
import { ApiKey, type HeartbeatRequest, type HeartbeatResponse } from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

export const heartbeatHandler: ApiHandler<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return { throttleTimeMs: 0, errorCode: lookup.errorCode };
    const errorCode = lookup.coordinator.heartbeat(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationId,
    });
    return { throttleTimeMs: 0, errorCode };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
};
