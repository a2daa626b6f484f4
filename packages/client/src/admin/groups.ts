// Consumer groups as an operator sees them: list (every broker), describe and delete (at each
// group's coordinator), committed offsets (all of a group's, or alter / delete some), lag
// (committed against end offsets) and offset resets. Altering offsets works like Java's admin:
// a commit with generation -1, which the coordinator accepts only while the group has no members.

import {
  type DeleteGroupsResponse,
  type DescribeGroupsResponse,
  deleteGroupsApi,
  describeGroupsApi,
  ErrorCode,
  type ListGroupsResponse,
  listGroupsApi,
  type OffsetDeleteResponse,
  type OffsetFetchResponse,
  offsetDeleteApi,
  offsetFetchApi,
} from '@gregor/protocol';
import { commitOffsets } from '../consumer/group-offsets.js';
import { listOffsets, type OffsetQuery, type TopicPartition } from '../consumer/list-offsets.js';
import { KafkaError } from '../errors.js';
import type { Cluster } from '../network/cluster.js';
import { coordinatorRequest } from '../network/coordinator-request.js';
import { groupByTopic } from './shared.js';

export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Empty when the broker does not say (ListGroups < v4). */
  state: string;
  /** classic / consumer / share (ListGroups v5+), else ''. */
  type: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
}

export interface GroupOffset extends TopicPartition {
  offset: bigint;
  metadata: string | null;
}

export interface PartitionLag extends TopicPartition {
  /** Null when the group has no offset for the partition. */
  committed: bigint | null;
  end: bigint;
  /** end − committed; the whole partition (end − earliest is not known here) when null. */
  lag: bigint | null;
}

/** OffsetFetch v8 moved to a list of groups (KIP-709). */
const offsetFetchGroupsVersionMin = 8;
/** ListGroups v4 filters and reports states, v5 types. */
const listGroupsStatesVersionMin = 4;
const listGroupsTypesVersionMin = 5;

function deadline(cluster: Cluster): number {
  return Date.now() + cluster.options.requestTimeoutMs;
}

/** Groups known to every broker (each broker coordinates some), sorted by id. */
export async function listGroups(
  cluster: Cluster,
  options: { states?: readonly string[]; types?: readonly string[] } = {},
): Promise<GroupListing[]> {
  const listings = new Map<string, GroupListing>();
  for (const nodeId of await cluster.brokerIds()) {
    const connection = await cluster.connectionToNode(nodeId);
    const version = connection.versions.version(listGroupsApi);
    const request = {
      statesFilter: version >= listGroupsStatesVersionMin ? [...(options.states ?? [])] : undefined,
      typesFilter: version >= listGroupsTypesVersionMin ? [...(options.types ?? [])] : undefined,
    };
    const response = await connection.request<ListGroupsResponse>(listGroupsApi, request, {
      version,
    });
    if (response.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(response.errorCode, `ListGroups at broker ${nodeId}`);
    }
    for (const group of response.groups) {
      listings.set(group.groupId, {
        groupId: group.groupId,
        protocolType: group.protocolType,
        state: group.groupState ?? '',
        type: group.groupType ?? '',
      });
    }
  }
  return [...listings.values()].sort((left, right) => left.groupId.localeCompare(right.groupId));
}

export function describeGroups(
  cluster: Cluster,
  groupIds: readonly string[],
): Promise<GroupDescription[]> {
  return Promise.all(
    groupIds.map((groupId) =>
      coordinatorRequest(
        {
          cluster,
          type: 'group',
          key: groupId,
          what: `DescribeGroups ${groupId}`,
          deadlineMs: deadline(cluster),
        },
        async (connection) => {
          const response = await connection.request<DescribeGroupsResponse>(describeGroupsApi, {
            groups: [groupId],
            includeAuthorizedOperations: false,
          });
          const group = response.groups.find((entry) => entry.groupId === groupId);
          if (group === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, groupId);
          if (group.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(group.errorCode, `DescribeGroups ${groupId}`);
          }
          return {
            groupId,
            state: group.groupState,
            protocolType: group.protocolType,
            protocol: group.protocolData,
            members: group.members.map((member) => ({
              memberId: member.memberId,
              groupInstanceId: member.groupInstanceId ?? null,
              clientId: member.clientId,
              clientHost: member.clientHost,
            })),
          };
        },
      ),
    ),
  );
}

/** Deletes groups (only empty ones can go: NON_EMPTY_GROUP otherwise). */
export async function deleteGroups(cluster: Cluster, groupIds: readonly string[]): Promise<void> {
  for (const groupId of groupIds) {
    await coordinatorRequest(
      {
        cluster,
        type: 'group',
        key: groupId,
        what: `DeleteGroups ${groupId}`,
        deadlineMs: deadline(cluster),
      },
      async (connection) => {
        const response = await connection.request<DeleteGroupsResponse>(deleteGroupsApi, {
          groupsNames: [groupId],
        });
        for (const result of response.results) {
          if (result.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(result.errorCode, `DeleteGroups ${result.groupId}`);
          }
        }
      },
    );
  }
}

/** Every committed offset of a group, sorted by topic and partition. */
export function listGroupOffsets(cluster: Cluster, groupId: string): Promise<GroupOffset[]> {
  return coordinatorRequest(
    {
      cluster,
      type: 'group',
      key: groupId,
      what: `OffsetFetch ${groupId}`,
      deadlineMs: deadline(cluster),
    },
    async (connection) => {
      const version = connection.versions.version(offsetFetchApi, 2);
      const request =
        version >= offsetFetchGroupsVersionMin
          ? {
              groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
              requireStable: true,
            }
          : { groupId, topics: null, requireStable: true };
      const response = await connection.request<OffsetFetchResponse>(offsetFetchApi, request, {
        version,
      });
      const group = version >= offsetFetchGroupsVersionMin ? response.groups?.[0] : undefined;
      const errorCode = group?.errorCode ?? response.errorCode ?? ErrorCode.NONE;
      if (errorCode !== ErrorCode.NONE) throw new KafkaError(errorCode, `OffsetFetch ${groupId}`);
      const offsets: GroupOffset[] = [];
      for (const topic of group?.topics ?? response.topics ?? []) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(partition.errorCode, `OffsetFetch ${groupId} ${topic.name}`);
          }
          if (partition.committedOffset < 0n) continue;
          offsets.push({
            topic: topic.name,
            partition: partition.partitionIndex,
            offset: partition.committedOffset,
            metadata: partition.metadata,
          });
        }
      }
      return offsets.sort(
        (left, right) => left.topic.localeCompare(right.topic) || left.partition - right.partition,
      );
    },
  );
}

/** Sets committed offsets of a group without members (Java's alterConsumerGroupOffsets). */
export function alterGroupOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }>,
): Promise<void> {
  return commitOffsets(cluster, groupId, offsets, cluster.options.requestTimeoutMs);
}

/** OffsetDelete (KIP-496): forgets the group's offsets of these partitions. */
export function deleteGroupOffsets(
  cluster: Cluster,
  groupId: string,
  partitions: readonly TopicPartition[],
): Promise<void> {
  return coordinatorRequest(
    {
      cluster,
      type: 'group',
      key: groupId,
      what: `OffsetDelete ${groupId}`,
      deadlineMs: deadline(cluster),
    },
    async (connection) => {
      const response = await connection.request<OffsetDeleteResponse>(offsetDeleteApi, {
        groupId,
        topics: [...groupByTopic(partitions)].map(([name, entries]) => ({
          name,
          partitions: entries.map((entry) => ({ partitionIndex: entry.partition })),
        })),
      });
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaError(response.errorCode, `OffsetDelete ${groupId}`);
      }
      for (const topic of response.topics) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(
              partition.errorCode,
              `OffsetDelete ${groupId} ${topic.name}-${partition.partitionIndex}`,
            );
          }
        }
      }
    },
  );
}

/** Lag per partition of `topics` (every partition): end offset − committed offset. */
export async function groupLag(
  cluster: Cluster,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const partitions: TopicPartition[] = [];
  for (const topic of topics) {
    const info = await cluster.topic(topic, cluster.options.requestTimeoutMs);
    for (const partition of info.partitions)
      partitions.push({ topic, partition: partition.partition });
  }
  const committed = new Map(
    (await listGroupOffsets(cluster, groupId)).map((entry) => [
      `${entry.partition}:${entry.topic}`,
      entry.offset,
    ]),
  );
  const ends = await listOffsets(cluster, partitions, 'latest', {
    isolationLevel: 'read_committed',
    timeoutMs: cluster.options.requestTimeoutMs,
  });
  return ends.map((end) => {
    const offset = committed.get(`${end.partition}:${end.topic}`) ?? null;
    return {
      topic: end.topic,
      partition: end.partition,
      committed: offset,
      end: end.offset,
      lag: offset === null ? null : end.offset - offset,
    };
  });
}

/** Moves a memberless group's offsets of `topic` to the earliest, latest or a time's offsets. */
export async function resetGroupOffsets(
  cluster: Cluster,
  groupId: string,
  topic: string,
  to: OffsetQuery,
): Promise<GroupOffset[]> {
  const info = await cluster.topic(topic, cluster.options.requestTimeoutMs);
  const partitions = info.partitions.map((partition) => ({
    topic,
    partition: partition.partition,
  }));
  const targets = await listOffsets(cluster, partitions, to, {
    isolationLevel: 'read_committed',
    timeoutMs: cluster.options.requestTimeoutMs,
  });
  // A timestamp past the last record answers -1: Java resets those to the end.
  const needEnd = targets.filter((target) => target.offset < 0n);
  const ends =
    needEnd.length === 0
      ? []
      : await listOffsets(cluster, needEnd, 'latest', {
          isolationLevel: 'read_committed',
          timeoutMs: cluster.options.requestTimeoutMs,
        });
  const offsets = targets.map((target) => ({
    topic,
    partition: target.partition,
    offset:
      target.offset >= 0n
        ? target.offset
        : (ends.find((end) => end.partition === target.partition)?.offset ?? 0n),
    metadata: null,
  }));
  await alterGroupOffsets(cluster, groupId, offsets);
  return offsets;
}
