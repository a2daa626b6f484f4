/**
 * DescribeLogDirs (key 35), v0-4: for each configured log dir, the size in bytes of every partition
 * it holds (all topics, or those asked for), and (v4+) the file system's total and usable bytes.
 * No future (reassignment) replicas exist, so offsetLag is 0 and isFutureKey false.
 */
import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  ApiKey,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  ErrorCode,
} from '@gregor/protocol';
import type { PartitionLog } from '@gregor/storage';
import type { BrokerServices } from '../services.js';
import type { ApiHandler } from './types.js';

type LogDirResult = DescribeLogDirsResponse['results'][number];
type LogDirTopic = LogDirResult['topics'][number];

/** Kafka's "unknown" volume size. */
const unknownBytes = -1n;

export const describeLogDirsHandler: ApiHandler<DescribeLogDirsRequest, DescribeLogDirsResponse> = {
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, context) {
    const { services } = context;
    const wanted = wantedPartitions(request);
    const logDirs = services.config.logDirs.map((logDir) => resolve(logDir));
    const byDir = new Map<string, Map<string, LogDirTopic>>(
      logDirs.map((logDir) => [logDir, new Map()]),
    );
    for (const log of services.logs.allLogs()) {
      if (wanted !== null && !wanted.get(log.topic)?.has(log.partition)) continue;
      const topics = byDir.get(logDirOf(log, logDirs[0]));
      if (topics === undefined) continue;
      let topic = topics.get(log.topic);
      if (topic === undefined) {
        topic = { name: log.topic, partitions: [] };
        topics.set(log.topic, topic);
      }
      topic.partitions.push({
        partitionIndex: log.partition,
        partitionSize: BigInt(log.sizeBytes),
        offsetLag: 0n,
        isFutureKey: false,
      });
    }
    const results: LogDirResult[] = [];
    for (const [logDir, topics] of byDir) {
      const space = await volumeSpace(logDir, services);
      results.push({
        errorCode: ErrorCode.NONE,
        logDir,
        topics: [...topics.values()].map((topic) => ({
          ...topic,
          partitions: topic.partitions.sort(
            (left, right) => left.partitionIndex - right.partitionIndex,
          ),
        })),
        totalBytes: space.totalBytes,
        usableBytes: space.usableBytes,
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
};

/** topic -> partitions asked for, or null for everything. */
function wantedPartitions(request: DescribeLogDirsRequest): Map<string, Set<number>> | null {
  if (request.topics === null) return null;
  const wanted = new Map<string, Set<number>>();
  for (const topic of request.topics) {
    const partitions = wanted.get(topic.topic) ?? new Set<number>();
    for (const partition of topic.partitions) partitions.add(partition);
    wanted.set(topic.topic, partitions);
  }
  return wanted;
}

/** File logs live in `<log dir>/<topic>-<partition>`; memory logs are counted in the first dir. */
function logDirOf(log: PartitionLog, firstLogDir: string): string {
  const directory = (log as Partial<{ directory: string }>).directory;
  return typeof directory === 'string' ? resolve(dirname(directory)) : firstLogDir;
}

async function volumeSpace(
  logDir: string,
  services: BrokerServices,
): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  try {
    const stats = await statfs(logDir, { bigint: true });
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  } catch (error) {
    services.logger.warn('cannot read log dir volume size', { logDir, error });
    return { totalBytes: unknownBytes, usableBytes: unknownBytes };
  }
}
