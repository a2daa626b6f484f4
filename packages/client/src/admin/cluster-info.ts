// The cluster as a whole (DescribeCluster: id, controller, brokers) and each broker's log
// directories (DescribeLogDirs: size of every partition replica, free space).

import {
  type DescribeClusterResponse,
  type DescribeLogDirsResponse,
  describeClusterApi,
  describeLogDirsApi,
  ErrorCode,
} from '@gregor/protocol';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';

export interface ClusterDescription {
  clusterId: string;
  controllerId: number;
  brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
}

export interface LogDirDescription {
  brokerId: number;
  path: string;
  /** -1 when the broker does not report it (DescribeLogDirs < v4). */
  totalBytes: bigint;
  usableBytes: bigint;
  replicas: Array<{ topic: string; partition: number; sizeBytes: bigint; offsetLag: bigint }>;
}

export async function describeCluster(cluster: Cluster): Promise<ClusterDescription> {
  const connection = await cluster.anyConnection();
  const response = await connection.request<DescribeClusterResponse>(describeClusterApi, {
    includeClusterAuthorizedOperations: false,
    endpointType: 1,
  });
  if (response.errorCode !== ErrorCode.NONE) {
    throw new KafkaError(response.errorCode, `DescribeCluster: ${response.errorMessage ?? ''}`);
  }
  return {
    clusterId: response.clusterId,
    controllerId: response.controllerId,
    brokers: response.brokers
      .map((broker) => ({
        nodeId: broker.brokerId,
        host: broker.host,
        port: broker.port,
        rack: broker.rack,
      }))
      .sort((left, right) => left.nodeId - right.nodeId),
  };
}

/** Log directories of the given brokers (default: all), replicas sorted by topic and partition. */
export async function describeLogDirs(
  cluster: Cluster,
  brokerIds?: readonly number[],
): Promise<LogDirDescription[]> {
  const directories: LogDirDescription[] = [];
  for (const brokerId of brokerIds ?? (await cluster.brokerIds())) {
    const connection = await cluster.connectionToNode(brokerId);
    const response = await connection.request<DescribeLogDirsResponse>(describeLogDirsApi, {
      topics: null,
    });
    if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(response.errorCode, `DescribeLogDirs at broker ${brokerId}`);
    }
    for (const result of response.results) {
      if (result.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(result.errorCode, `DescribeLogDirs ${result.logDir}`);
      }
      directories.push({
        brokerId,
        path: result.logDir,
        totalBytes: result.totalBytes ?? -1n,
        usableBytes: result.usableBytes ?? -1n,
        replicas: result.topics
          .flatMap((topic) =>
            topic.partitions.map((partition) => ({
              topic: topic.name,
              partition: partition.partitionIndex,
              sizeBytes: partition.partitionSize,
              offsetLag: partition.offsetLag,
            })),
          )
          .sort(
            (left, right) =>
              left.topic.localeCompare(right.topic) || left.partition - right.partition,
          ),
      });
    }
  }
  return directories;
}
