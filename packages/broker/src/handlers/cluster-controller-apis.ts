/**
 * APIs a broker serves only in cluster mode, all answered by the controller (forwarded there by
 * any other broker): ElectLeaders (key 43, preferred and unclean elections), AlterPartition
 * (key 56, the ISR changes partition leaders send) and ControlledShutdown (key 7, v3: a stopping
 * broker's leaderships move away). A single node has no other broker to elect or to move to.
 */
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  ApiKey,
  type ControlledShutdownRequest,
  type ControlledShutdownResponse,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
} from '@gregor/protocol';
import { viaController } from '../cluster/controller-requests.js';
import type { ApiHandler, RequestContext } from './types.js';

function clusterOf(context: RequestContext) {
  const cluster = context.services.cluster;
  if (cluster === undefined) throw new Error('a cluster API reached a single-node broker');
  return cluster;
}

export const electLeadersHandler: ApiHandler<ElectLeadersRequest, ElectLeadersResponse> = {
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  handle(request, context) {
    return viaController(clusterOf(context), electLeadersHandler, request, context, (controller) =>
      controller.electLeaders(request),
    );
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      replicaElectionResults: (request.topicPartitions ?? []).map((topic) => ({
        topic: topic.topic,
        partitionResult: topic.partitions.map((partitionId) => ({
          partitionId,
          errorCode,
          errorMessage: null,
        })),
      })),
    };
  },
};

export const alterPartitionHandler: ApiHandler<AlterPartitionRequest, AlterPartitionResponse> = {
  apiKey: ApiKey.AlterPartition,
  minVersion: 0,
  maxVersion: 3,
  handle(request, context) {
    return viaController(
      clusterOf(context),
      alterPartitionHandler,
      request,
      context,
      (controller) => controller.alterPartition(request, context.apiVersion),
    );
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, topics: [] };
  },
};

export const controlledShutdownHandler: ApiHandler<
  ControlledShutdownRequest,
  ControlledShutdownResponse
> = {
  apiKey: ApiKey.ControlledShutdown,
  minVersion: 3,
  maxVersion: 3,
  handle(request, context) {
    return viaController(
      clusterOf(context),
      controlledShutdownHandler,
      request,
      context,
      async (controller) => {
        const result = await controller.controlledShutdown(
          request.brokerId,
          request.brokerEpoch ?? -1n,
        );
        return { errorCode: result.errorCode, remainingPartitions: result.remainingPartitions };
      },
    );
  },
  errorResponse(_request, errorCode) {
    return { errorCode, remainingPartitions: [] };
  },
};

/** Served in addition to the single node's APIs when the broker runs in a cluster. */
export const clusterControllerHandlers: readonly ApiHandler[] = [
  electLeadersHandler,
  alterPartitionHandler,
  controlledShutdownHandler,
];
