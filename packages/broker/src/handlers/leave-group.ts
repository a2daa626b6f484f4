/**
 * LeaveGroup (key 13), v0-v5. v0-v2 name one member and answer with one error; v3+ (KIP-345)
 * remove a batch of members, by member id or by group.instance.id alone, with an error each.
 */
import {
  ApiKey,
  ErrorCode,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

function leavingMembers(request: LeaveGroupRequest, apiVersion: number) {
  if (apiVersion < 3) return [{ memberId: request.memberId ?? '', groupInstanceId: null }];
  return (request.members ?? []).map((member) => ({
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
  }));
}

export const leaveGroupHandler: ApiHandler<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(request, context) {
    const members = leavingMembers(request, context.apiVersion);
    const lookup = groupCoordinator(context);
    const result = lookup.ok
      ? lookup.coordinator.leaveGroup(request.groupId, members)
      : { errorCode: lookup.errorCode, memberErrors: [] };
    if (context.apiVersion < 3) {
      const memberError = result.memberErrors[0] ?? ErrorCode.NONE;
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      members:
        result.errorCode !== ErrorCode.NONE
          ? []
          : members.map((member, index) => ({
              memberId: member.memberId,
              groupInstanceId: member.groupInstanceId,
              errorCode: result.memberErrors[index] ?? ErrorCode.NONE,
            })),
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, members: [] };
  },
};
