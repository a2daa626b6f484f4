/**
 * OffsetCommit (key 8), v0-v9. The commit is durable (fsync of `__consumer_offsets`) before the
 * response. v0 has no generation (a standalone commit), v1 a per-partition commit timestamp,
 * v2-v4 a retention time, v7+ group.instance.id, v9 a KIP-848 member epoch.
 */
import { ApiKey, type OffsetCommitRequest, type OffsetCommitResponse } from '@gregor/protocol';
import { partitionErrors } from '../group/index.js';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

function allWith(request: OffsetCommitRequest, errorCode: number): OffsetCommitResponse {
  return { throttleTimeMs: 0, topics: partitionErrors(request.topics, errorCode) };
}

export const offsetCommitHandler: ApiHandler<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return allWith(request, lookup.errorCode);
    const topics = await lookup.coordinator.commitOffsets({
      apiVersion: context.apiVersion,
      groupId: request.groupId,
      generationIdOrMemberEpoch: request.generationIdOrMemberEpoch ?? -1,
      memberId: request.memberId ?? '',
      groupInstanceId: request.groupInstanceId ?? null,
      retentionTimeMs: request.retentionTimeMs ?? -1n,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          committedOffset: partition.committedOffset,
          committedLeaderEpoch: partition.committedLeaderEpoch ?? -1,
          commitTimestampMs: partition.commitTimestamp ?? -1n,
          committedMetadata: partition.committedMetadata,
        })),
      })),
    });
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return allWith(request, errorCode);
  },
};
