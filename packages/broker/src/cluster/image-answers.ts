/**
 * Cluster-mode answers from the metadata image for the Metadata, DescribeCluster and
 * FindCoordinator handlers: every registered broker on the request's listener, partitions with
 * their leaders, replicas, ISR, offline replicas and leader epochs, and the coordinator of a key.
 */
import {
  type BrokerAddress,
  brokerAddresses,
  coordinatorAddress,
  describeTopic,
  type PartitionDescription,
} from '@gregor/cluster';
import { ErrorCode } from '@gregor/protocol';
import type { RequestContext } from '../handlers/types.js';
import type { ClusterNode } from './cluster-node.js';

/** The listener the request arrived on (the first advertised one outside the server). */
export function requestListenerName(context: RequestContext): string {
  return context.connection.listenerName ?? context.services.settings.advertisedListeners[0]!.name;
}

export function clusterBrokers(cluster: ClusterNode, context: RequestContext): BrokerAddress[] {
  return brokerAddresses(cluster.image, requestListenerName(context));
}

/** A topic's partitions as Metadata describes them at `apiVersion`, or undefined if unknown. */
export function clusterTopicPartitions(
  cluster: ClusterNode,
  topicName: string,
  context: RequestContext,
): PartitionDescription[] | undefined {
  return describeTopic(cluster.image, topicName, {
    listenerName: requestListenerName(context),
    errorUnavailableListeners: context.apiVersion >= 6,
    errorUnavailableEndpoints: context.apiVersion === 0,
  })?.partitions;
}

/** The leader of `partition` of an internal topic, as FindCoordinator answers it. */
export function clusterCoordinator(
  cluster: ClusterNode,
  internalTopic: string,
  partition: number,
  context: RequestContext,
): { errorCode: number; nodeId: number; host: string; port: number } {
  const found = coordinatorAddress(
    cluster.image,
    internalTopic,
    partition,
    requestListenerName(context),
  );
  if (found.address === undefined) {
    return {
      errorCode: found.errorCode || ErrorCode.COORDINATOR_NOT_AVAILABLE,
      nodeId: -1,
      host: '',
      port: -1,
    };
  }
  return {
    errorCode: ErrorCode.NONE,
    nodeId: found.address.nodeId,
    host: found.address.host,
    port: found.address.port,
  };
}

/**
 * KIP-951: for a partition answered NOT_LEADER_OR_FOLLOWER, the leader the image knows (id and
 * epoch) and its endpoint on the request's listener, so the client moves without a Metadata
 * round trip. Undefined when the image knows no leader.
 */
export function currentLeaderHint(
  cluster: ClusterNode,
  topic: string,
  partition: number,
  context: RequestContext,
): { leaderId: number; leaderEpoch: number; endpoint: BrokerAddress | undefined } | undefined {
  const image = cluster.image;
  const found = image.partition(topic, partition);
  if (found === undefined || found.leader < 0) return undefined;
  const endpoint = image.brokerEndpoint(found.leader, requestListenerName(context));
  return {
    leaderId: found.leader,
    leaderEpoch: found.leaderEpoch,
    endpoint:
      endpoint === undefined
        ? undefined
        : {
            nodeId: found.leader,
            host: endpoint.host,
            port: endpoint.port,
            rack: image.broker(found.leader)?.registration.rack ?? null,
          },
  };
}
