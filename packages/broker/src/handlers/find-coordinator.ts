/**
 * FindCoordinator (key 10), v0-v6. A single node coordinates every group and every transactional
 * id, so the answer is this broker (v4+ answers each key of the batch, KIP-699). Key type 0 =
 * group, 1 = transaction; anything else is INVALID_REQUEST.
 */
import {
  ApiKey,
  ErrorCode,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
} from '@gregor/protocol';
import { clusterCoordinator } from '../cluster/image-answers.js';
import { internalTopicNames } from '../topics/topic-names.js';
import { advertisedEndpoint } from './advertised-endpoint.js';
import type { ApiHandler, RequestContext } from './types.js';

const keyType = { group: 0, transaction: 1 } as const;

async function answer(
  key: string,
  type: number,
  context: RequestContext,
): Promise<FindCoordinatorResponseCoordinator> {
  const failed = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: '',
    port: -1,
    errorCode,
    errorMessage,
  });
  if (type !== keyType.group && type !== keyType.transaction) {
    return failed(ErrorCode.INVALID_REQUEST, `Invalid coordinator type: ${type}`);
  }
  if (type === keyType.group && key === '') {
    return failed(ErrorCode.INVALID_REQUEST, 'Group id can not be empty.');
  }
  const coordinator = context.services.groups;
  if (coordinator === undefined || coordinator.status === 'stopped') {
    return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  const cluster = context.services.cluster;
  if (cluster !== undefined) {
    // The coordinator is the leader of the key's partition of the internal topic, created on
    // first use as Kafka does.
    const transactions = context.services.transactions;
    if (type === keyType.transaction && transactions === undefined) {
      return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    }
    const topic =
      type === keyType.group
        ? internalTopicNames.consumerOffsets
        : internalTopicNames.transactionState;
    const partition =
      type === keyType.group ? coordinator.partitionFor(key) : transactions!.partitionFor(key);
    try {
      await context.services.topics.getOrCreate(topic, { autoCreate: false });
    } catch (error) {
      context.services.logger.warn('creating an internal topic failed', { topic, error });
      return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    }
    const found = clusterCoordinator(cluster, topic, partition, context);
    if (found.errorCode !== ErrorCode.NONE) {
      return failed(found.errorCode, 'The coordinator is not available.');
    }
    return { key, ...found, errorMessage: null };
  }
  const listener = advertisedEndpoint(context);
  if (listener === undefined) {
    return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  return {
    key,
    nodeId: context.services.nodeId,
    host: listener.host,
    port: listener.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinatorHandler: ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, context) {
    const type = request.keyType ?? keyType.group;
    if (context.apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: await Promise.all(
          (request.coordinatorKeys ?? []).map((key) => answer(key, type, context)),
        ),
      };
    }
    const single = await answer(request.key ?? '', type, context);
    return {
      throttleTimeMs: 0,
      errorCode: single.errorCode,
      errorMessage: single.errorMessage,
      nodeId: single.nodeId,
      host: single.host,
      port: single.port,
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      nodeId: -1,
      host: '',
      port: -1,
      coordinators: (request.coordinatorKeys ?? []).map((key) => ({
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode,
        errorMessage: null,
      })),
    };
  },
};
