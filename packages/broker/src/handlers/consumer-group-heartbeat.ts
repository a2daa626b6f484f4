/**
 * ConsumerGroupHeartbeat (key 68), v0-v1: the KIP-848 consumer rebalance protocol
 * (group/consumer-protocol.ts). v1 adds the regex subscription (and client-generated member ids).
 * Disabled unless group.coordinator.rebalance.protocols contains "consumer".
 */
import {
  ApiKey,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  ErrorCode,
} from '@gregor/protocol';
import { consumerProtocolEnabled, heartbeatErrorResult } from '../group/index.js';
import { clientIdentity, groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

function failed(errorCode: number, errorMessage: string | null): ConsumerGroupHeartbeatResponse {
  return { throttleTimeMs: 0, ...heartbeatErrorResult(errorCode, errorMessage) };
}

export const consumerGroupHeartbeatHandler: ApiHandler<
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse
> = {
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, context) {
    if (!consumerProtocolEnabled(context.services.config)) {
      return failed(
        ErrorCode.UNSUPPORTED_VERSION,
        'The consumer rebalance protocol is disabled (group.coordinator.rebalance.protocols).',
      );
    }
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return failed(lookup.errorCode, null);
    const result = await lookup.coordinator.consumerGroupHeartbeat({
      apiVersion: context.apiVersion,
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId,
      rackId: request.rackId,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames,
      subscribedTopicRegex: request.subscribedTopicRegex ?? null,
      serverAssignor: request.serverAssignor,
      topicPartitions: request.topicPartitions,
      ...clientIdentity(context),
    });
    return { throttleTimeMs: 0, ...result };
  },
  errorResponse(_request, errorCode) {
    return failed(errorCode, null);
  },
};
