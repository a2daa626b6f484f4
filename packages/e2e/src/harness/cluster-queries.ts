/**
 * Questions any Kafka-protocol cluster answers (Gregor's or Apache Kafka's), asked of the first
 * broker that answers: the controller clients are told about and a partition's leader.
 */
import { TestClient } from '@gregor/broker/testing/test-client';
import { ApiKey, type DescribeClusterResponse, type MetadataResponse } from '@gregor/protocol';
import { withDeadline } from './wait.js';

/** A cluster of processes the fault run can hurt; node ids are 1..n. */
export interface FaultableCluster {
  /** `host:port` per node id - 1. */
  readonly bootstraps: readonly string[];
  controller(): Promise<number>;
  leaderOf(topic: string, partition: number): Promise<number>;
  kill(nodeId: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<unknown>;
  restart(nodeId: number): Promise<void>;
  pause(nodeId: number): void;
  resume(nodeId: number): void;
  dispose(): Promise<void>;
}

async function askAny<T>(
  bootstraps: readonly string[],
  apiKey: number,
  apiVersion: number,
  body: unknown,
): Promise<T> {
  let lastError: unknown = new Error('no answering broker');
  for (const bootstrap of bootstraps) {
    const [host, port] = bootstrap.split(':');
    try {
      const client = await withDeadline(TestClient.connect({ host: host!, port: Number(port) }), {
        timeoutMs: 2_000,
        what: `connecting to ${bootstrap}`,
      });
      try {
        return await withDeadline(client.request<T>(apiKey, apiVersion, body), {
          timeoutMs: 5_000,
          what: `api ${apiKey} from ${bootstrap}`,
        });
      } finally {
        client.destroy();
      }
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * The controller id of DescribeCluster (-1 while there is none). Gregor answers with its active
 * controller; Apache Kafka in KRaft mode answers with a live broker of its choosing, not the
 * quorum leader.
 */
export async function describedController(bootstraps: readonly string[]): Promise<number> {
  const response = await askAny<DescribeClusterResponse>(bootstraps, ApiKey.DescribeCluster, 1, {
    includeClusterAuthorizedOperations: false,
    endpointType: 1,
  });
  return response.controllerId;
}

/** The leader of one partition in Metadata (-1 while offline or unknown). */
export async function partitionLeader(
  bootstraps: readonly string[],
  topic: string,
  partition: number,
): Promise<number> {
  const response = await askAny<MetadataResponse>(bootstraps, ApiKey.Metadata, 12, {
    topics: [{ name: topic, topicId: undefined }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const found = response.topics
    .find((entry) => entry.name === topic)
    ?.partitions.find((entry) => entry.partitionIndex === partition);
  return found?.leaderId ?? -1;
}

/**
 * Partitions (`topic-index`) whose ISR lacks a replica, internal topics included, as one broker's
 * Metadata has them: none left means a broker may be taken down without any partition falling
 * below its replication (the rule for rolling restarts: UnderReplicatedPartitions = 0).
 */
export async function underReplicatedPartitions(bootstraps: readonly string[]): Promise<string[]> {
  const response = await askAny<MetadataResponse>(bootstraps, ApiKey.Metadata, 12, {
    topics: null,
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const result: string[] = [];
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.isrNodes.length < partition.replicaNodes.length) {
        result.push(`${topic.name}-${partition.partitionIndex}`);
      }
    }
  }
  return result;
}
