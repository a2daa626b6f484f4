import { ApiKey, TestClient } from '@gregor/broker/testing/test-client';
import {
  type CreateTopicsResponse,
  encodeRecordBatch,
  type ListOffsetsResponse,
  type ProduceResponse,
  type RecordInput,
} from '@gregor/protocol';
import type { BrokerProcess } from './broker-process.js';

/**
 * Many partitions on one broker process (the scale bench and its short test): topics of 1,000
 * partitions created with one CreateTopics request, records spread over many partitions with
 * pipelined Produce requests, and the end offsets read back with ListOffsets.
 */

export const partitionsPerTopic = 1_000;
const createTimeoutMs = 300_000;

export function scaleTopicNames(partitionCount: number, prefix = 'scale'): string[] {
  const topicCount = Math.ceil(partitionCount / partitionsPerTopic);
  return Array.from({ length: topicCount }, (_, index) => `${prefix}-${index}`);
}

/** Partitions of `topics` (1,000 each, the last one takes the rest), in order. */
export function scalePartitions(
  topics: readonly string[],
  partitionCount: number,
): { topic: string; partition: number }[] {
  const partitions: { topic: string; partition: number }[] = [];
  for (const [index, topic] of topics.entries()) {
    const count = Math.min(partitionsPerTopic, partitionCount - index * partitionsPerTopic);
    for (let partition = 0; partition < count; partition++) partitions.push({ topic, partition });
  }
  return partitions;
}

/** One CreateTopics request for every topic; throws unless every topic was created. */
export async function createScaleTopics(
  client: TestClient,
  topics: readonly string[],
  partitionCount: number,
): Promise<void> {
  const partitions = scalePartitions(topics, partitionCount);
  const response = await client.request<CreateTopicsResponse>(ApiKey.CreateTopics, 7, {
    topics: topics.map((name) => ({
      name,
      numPartitions: partitions.filter((entry) => entry.topic === name).length,
      replicationFactor: 1,
      assignments: [],
      configs: [],
    })),
    timeoutMs: createTimeoutMs,
    validateOnly: false,
  });
  for (const topic of response.topics) {
    if (topic.errorCode !== 0)
      throw new Error(`CreateTopics ${topic.name}: error ${topic.errorCode} ${topic.errorMessage}`);
  }
}

/**
 * Produces `recordCount` records of `valueBytes` with acks=1 over `partitions`, round-robin:
 * each request carries one batch of `recordsPerBatch` records for each of the next partitions
 * (up to `recordsPerRequest` records), `inFlightMax` requests pipelined. Returns records per
 * second and the records each partition received.
 */
export async function produceAcross(
  client: TestClient,
  partitions: readonly { topic: string; partition: number }[],
  options: {
    recordCount: number;
    valueBytes: number;
    recordsPerRequest: number;
    inFlightMax: number;
  },
): Promise<{ recordsPerSecond: number; perPartition: Map<string, number> }> {
  const batchesPerRequest = Math.min(partitions.length, 100);
  const recordsPerBatch = Math.max(1, Math.floor(options.recordsPerRequest / batchesPerRequest));
  const value = Buffer.alloc(options.valueBytes, 0x61);
  const records: RecordInput[] = Array.from({ length: recordsPerBatch }, () => ({
    key: null,
    value,
  }));
  const perPartition = new Map<string, number>();
  let sent = 0;
  let next = 0;
  const startedMs = performance.now();
  const inFlight = new Set<Promise<void>>();
  while (sent < options.recordCount) {
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    for (let batch = 0; batch < batchesPerRequest && sent < options.recordCount; batch++) {
      const { topic, partition } = partitions[next];
      next = (next + 1) % partitions.length;
      const list = byTopic.get(topic) ?? [];
      list.push({ index: partition, records: encodeRecordBatch({ records }) });
      byTopic.set(topic, list);
      const key = `${topic}-${partition}`;
      perPartition.set(key, (perPartition.get(key) ?? 0) + recordsPerBatch);
      sent += recordsPerBatch;
    }
    const request = client
      .request<ProduceResponse>(ApiKey.Produce, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 30_000,
        topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
      })
      .then((response) => {
        for (const topic of response.responses)
          for (const partition of topic.partitionResponses)
            if (partition.errorCode !== 0)
              throw new Error(`produce ${topic.name}-${partition.index}: ${partition.errorCode}`);
      });
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= options.inFlightMax) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - startedMs) / 1000;
  return { recordsPerSecond: sent / seconds, perPartition };
}

/** The log end offset of every partition (ListOffsets LATEST), keyed `<topic>-<partition>`. */
export async function endOffsets(
  client: TestClient,
  partitions: readonly { topic: string; partition: number }[],
): Promise<Map<string, bigint>> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic) ?? [];
    list.push(partition);
    byTopic.set(topic, list);
  }
  const response = await client.request<ListOffsetsResponse>(ApiKey.ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [...byTopic].map(([name, indexes]) => ({
      name,
      partitions: indexes.map((partitionIndex) => ({
        partitionIndex,
        currentLeaderEpoch: -1,
        timestamp: -1n,
      })),
    })),
  });
  const offsets = new Map<string, bigint>();
  for (const topic of response.topics) {
    for (const partition of topic.partitions) {
      if (partition.errorCode !== 0)
        throw new Error(
          `ListOffsets ${topic.name}-${partition.partitionIndex}: ${partition.errorCode}`,
        );
      offsets.set(`${topic.name}-${partition.partitionIndex}`, partition.offset ?? -1n);
    }
  }
  return offsets;
}

export function connectTo(broker: BrokerProcess): Promise<TestClient> {
  return TestClient.connect({ host: broker.host, port: broker.port, clientId: 'scale' });
}
