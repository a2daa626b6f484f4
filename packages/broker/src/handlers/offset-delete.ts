/**
 * OffsetDelete (key 47), v0 (KIP-496): deletes committed offsets of partitions the group does not
 * consume any more; GROUP_SUBSCRIBED_TO_TOPIC for topics an active member still subscribes to.
 */
import { ApiKey, type OffsetDeleteRequest, type OffsetDeleteResponse } from '@gregor/protocol';
import { groupCoordinator } from './group-support.js';
import type { ApiHandler } from './types.js';

export const offsetDeleteHandler: ApiHandler<OffsetDeleteRequest, OffsetDeleteResponse> = {
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, context) {
    const lookup = groupCoordinator(context);
    if (!lookup.ok) return { errorCode: lookup.errorCode, throttleTimeMs: 0, topics: [] };
    const result = await lookup.coordinator.deleteOffsets(
      request.groupId,
      request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => partition.partitionIndex),
      })),
    );
    return { errorCode: result.errorCode, throttleTimeMs: 0, topics: result.topics };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, throttleTimeMs: 0, topics: [] };
  },
};
