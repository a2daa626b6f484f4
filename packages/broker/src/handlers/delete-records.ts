/**
 * DeleteRecords (key 21), v0-2: moves a partition's log start offset forward; whole segments below
 * it are removed by storage in the background. Offset -1 means the high watermark. An offset below
 * zero (other than -1) or above the high watermark is OFFSET_OUT_OF_RANGE; an offset at or below
 * the current log start offset changes nothing. Compacted-only topics refuse (POLICY_VIOLATION),
 * as Kafka does. The answer's low watermark is the log start offset afterwards.
 */
import {
  ApiKey,
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { resolveTopicConfig } from '../config/index.js';
import type { BrokerServices } from '../services.js';
import { classifyPartitionError } from './partition-errors.js';
import type { ApiHandler } from './types.js';

type DeleteRecordsPartition = DeleteRecordsRequest['topics'][number]['partitions'][number];
type DeleteRecordsPartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number];

/** DeleteRecordsRequest.HIGH_WATERMARK. */
const highWatermarkOffset = -1n;
const unknownLowWatermark = -1n;

export const deleteRecordsHandler: ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse> = {
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const { services } = context;
    const topics: DeleteRecordsResponse['topics'] = [];
    for (const topic of request.topics) {
      const partitions: DeleteRecordsPartitionResult[] = [];
      for (const partition of topic.partitions) {
        partitions.push(await deleteRecords(services, topic.name, partition));
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          lowWatermark: unknownLowWatermark,
          errorCode,
        })),
      })),
    };
  },
};

async function deleteRecords(
  services: BrokerServices,
  topicName: string,
  request: DeleteRecordsPartition,
): Promise<DeleteRecordsPartitionResult> {
  const { partitionIndex } = request;
  const failed = (errorCode: number) => ({
    partitionIndex,
    lowWatermark: unknownLowWatermark,
    errorCode,
  });
  const topic = services.topics.get(topicName);
  const log = services.logs.getLog(topicName, partitionIndex);
  if (topic === undefined || log === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const policies = resolveTopicConfig(services.config, topic.configs).get('cleanup.policy');
  if (!policies.includes('delete')) return failed(ErrorCode.POLICY_VIOLATION);
  const highWatermark = log.highWatermark;
  const offset = request.offset === highWatermarkOffset ? highWatermark : request.offset;
  if (offset < 0n || offset > highWatermark) return failed(ErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    const logStartOffset =
      offset > log.logStartOffset ? await log.deleteRecordsBefore(offset) : log.logStartOffset;
    return { partitionIndex, lowWatermark: logStartOffset, errorCode: ErrorCode.NONE };
  } catch (error) {
    const classified = classifyPartitionError(error);
    if (classified.unexpected) {
      services.logger.error('deleting records failed', {
        topic: topicName,
        partition: partitionIndex,
        error,
      });
    }
    return failed(classified.errorCode);
  }
}
