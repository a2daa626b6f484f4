/**
 * Request bodies for broker tests (shared by D1, D2 and E tests). Versions are arguments where
 * the shape differs; defaults are the newest versions we serve.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchRequest, MetadataRequest, ProduceRequest } from '@gregor/protocol';
import { Broker, type BrokerOptions } from '../broker.js';
import { silentLogger } from '../logging/logger.js';

export const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

export function metadataRequest(
  topics: string[] | null,
  options: { allowAutoTopicCreation?: boolean } = {},
): MetadataRequest {
  return {
    topics: topics === null ? null : topics.map((name) => ({ name, topicId: zeroUuid })),
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  } as MetadataRequest;
}

export function produceRequest(options: {
  topic: string;
  partition?: number;
  records: Buffer;
  acks?: number;
  timeoutMs?: number;
}): ProduceRequest {
  return {
    transactionalId: null,
    acks: options.acks ?? -1,
    timeoutMs: options.timeoutMs ?? 30_000,
    topicData: [
      {
        name: options.topic,
        partitionData: [{ index: options.partition ?? 0, records: options.records }],
      },
    ],
  } as ProduceRequest;
}

export interface FetchPartitionSpec {
  topic: string;
  topicId?: string;
  partition?: number;
  offset: bigint;
  partitionMaxBytes?: number;
}

export function fetchRequest(options: {
  partitions: FetchPartitionSpec[];
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  isolationLevel?: number;
  sessionId?: number;
  sessionEpoch?: number;
  forgotten?: { topic: string; topicId?: string; partitions: number[] }[];
}): FetchRequest {
  const byTopic = new Map<string, FetchPartitionSpec[]>();
  for (const spec of options.partitions) {
    const list = byTopic.get(spec.topic) ?? [];
    list.push(spec);
    byTopic.set(spec.topic, list);
  }
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 52_428_800,
    isolationLevel: options.isolationLevel ?? 0,
    sessionId: options.sessionId ?? 0,
    sessionEpoch: options.sessionEpoch ?? -1,
    topics: [...byTopic.values()].map((specs) => ({
      topic: specs[0]!.topic,
      topicId: specs[0]!.topicId ?? zeroUuid,
      partitions: specs.map((spec) => ({
        partition: spec.partition ?? 0,
        currentLeaderEpoch: -1,
        fetchOffset: spec.offset,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: spec.partitionMaxBytes ?? 1_048_576,
      })),
    })),
    forgottenTopicsData: (options.forgotten ?? []).map((entry) => ({
      topic: entry.topic,
      topicId: entry.topicId ?? zeroUuid,
      partitions: entry.partitions,
    })),
    rackId: '',
  } as FetchRequest;
}

/** A broker on 127.0.0.1:0 over a fresh temp dir; `stop` also removes the dir. */
export async function startTestBroker(
  settings: Readonly<Record<string, string | number | boolean>> = {},
  options: Omit<BrokerOptions, 'settings' | 'config'> = {},
): Promise<{ broker: Broker; directory: string; stop: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'gregor-broker-'));
  const broker = await Broker.start({
    logger: silentLogger,
    ...options,
    settings: { 'log.dirs': directory, listeners: 'PLAINTEXT://127.0.0.1:0', ...settings },
  }).catch(async (error: unknown) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  return {
    broker,
    directory,
    stop: async () => {
      await broker.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
