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
    for (const requested of request.topics) {
      // Once per topic: its cleanup.policy is the same for every partition.
      const topic = services.topics.get(requested.name);
      const deletable =
        topic !== undefined &&
        resolveTopicConfig(services.config, topic.configs).get('cleanup.policy').includes('delete');
      const partitions: DeleteRecordsPartitionResult[] = [];
      for (const partition of requested.partitions) {
        partitions.push(
          topic === undefined
            ? failed(partition.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            : await deleteRecords(services, { name: topic.name, deletable }, partition),
        );
      }
      topics.push({ name: requested.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) =>
          failed(partition.partitionIndex, errorCode),
        ),
      })),
    };
  },
};

function failed(partitionIndex: number, errorCode: number): DeleteRecordsPartitionResult {
  return { partitionIndex, lowWatermark: unknownLowWatermark, errorCode };
}

async function deleteRecords(
  services: BrokerServices,
  topic: { name: string; deletable: boolean },
  request: DeleteRecordsPartition,
): Promise<DeleteRecordsPartitionResult> {
  const { partitionIndex } = request;
  const partition = services.replicas.get(topic.name, partitionIndex);
  if (partition === undefined) {
    return failed(partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  if (!topic.deletable) return failed(partitionIndex, ErrorCode.POLICY_VIOLATION);
  const offset = request.offset === highWatermarkOffset ? partition.highWatermark : request.offset;
  try {
    const logStartOffset = await partition.deleteRecordsBefore(offset);
    return { partitionIndex, lowWatermark: logStartOffset, errorCode: ErrorCode.NONE };
  } catch (error) {
    const classified = classifyPartitionError(error);
    if (classified.unexpected) {
      services.logger.error('deleting records failed', {
        topic: topic.name,
        partition: partitionIndex,
        error,
      });
    }
    return failed(partitionIndex, classified.errorCode);
  }
}
