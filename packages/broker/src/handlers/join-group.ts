/**
 * JoinGroup (key 11), v0-v9: the classic rebalance protocol's first phase (group/classic-protocol.ts).
 * v0 has no rebalance timeout (the session timeout serves as both); v4+ gets MEMBER_ID_REQUIRED on
 * a first join (KIP-394); v5+ static membership (KIP-345); v9 skipAssignment (KIP-814).
 */
import { ApiKey, type JoinGroupRequest, type JoinGroupResponse } from '@gregor/protocol';
import type { JoinGroupResult } from '../group/classic-group.js';
import { joinError } from '../group/index.js';
import { clientIdentity, groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

function toResponse(result: JoinGroupResult, apiVersion: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    generationId: result.generationId,
    protocolType: result.protocolType,
    // Nullable only from v7.
    protocolName: apiVersion >= 7 ? result.protocolName : (result.protocolName ?? ''),
    leader: result.leader,
    skipAssignment: result.skipAssignment,
    memberId: result.memberId,
    members: result.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: member.metadata,
    })),
  };
}

export const joinGroupHandler: ApiHandler<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok)
      return toResponse(joinError(request.memberId, lookup.errorCode), context.apiVersion);
    const rebalanceTimeoutMs = request.rebalanceTimeoutMs ?? -1;
    const result = await lookup.coordinator.joinGroup(request.groupId, {
      apiVersion: context.apiVersion,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      ...clientIdentity(context),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((protocol) => ({
        name: protocol.name,
        metadata: Buffer.from(protocol.metadata),
      })),
    });
    return toResponse(result, context.apiVersion);
  },
  errorResponse(request, errorCode) {
    return toResponse(joinError(request.memberId, errorCode), 9);
  },
};
