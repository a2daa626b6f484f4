/**
 * Consumer-group load generator for `npm run bench -- scale-groups` (forked through
 * WorkerProcess): raw protocol over a few sockets, so thousands of groups or hundreds of members
 * cost the generator little. Speaks only versions Apache Kafka 4.x serves too (JoinGroup v5,
 * SyncGroup v3, Heartbeat v3, OffsetCommit v8, OffsetFetch v7), so the same run measures both.
 */
import { connect, type Socket } from 'node:net';
import {
  ApiKey,
  decodeConsumerProtocolAssignmentBytes,
  decodeResponseFrame,
  ErrorCode,
  encodeConsumerProtocolAssignmentBytes,
  encodeConsumerProtocolSubscriptionBytes,
  encodeRequestFrame,
  type FindCoordinatorResponse,
  FrameDecoder,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
} from '@gregor/protocol';
import { serveWorkerCommands } from './worker-commands.js';

export type GroupLoadCommand =
  | {
      type: 'commit';
      host: string;
      port: number;
      /** Groups `group-<first>` .. `group-<first + count - 1>`, each committing `offset`. */
      first: number;
      count: number;
      offset: number;
      topic: string;
      connections: number;
      inFlightPerConnection: number;
    }
  | {
      type: 'check-commits';
      host: string;
      port: number;
      first: number;
      count: number;
      topic: string;
    }
  | {
      type: 'join';
      host: string;
      port: number;
      groupId: string;
      topic: string;
      partitions: number;
      members: number;
    }
  | { type: 'status' }
  | { type: 'leave' };

export type GroupLoadReply =
  | { type: 'committed'; elapsedMs: number; commits: number; errors: number }
  | { type: 'commits-checked'; committed: Record<string, number> }
  | { type: 'joining' }
  | {
      type: 'status';
      generationMin: number;
      generationMax: number;
      /** Members in the middle of a join or sync. */
      rejoining: number;
      assignedPartitions: number;
    }
  | { type: 'left' }
  | { type: 'error'; message: string };

const clientId = 'scale-groups';
/** Coordinator errors a consumer retries after a backoff. */
const retriable = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
]);

/** One socket with pipelined requests answered in order. */
class Channel {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder({ frameSizeBytesMax: 1 << 30 });
  private readonly waiting: {
    apiKey: number;
    apiVersion: number;
    resolve: (body: unknown) => void;
    reject: (error: Error) => void;
  }[] = [];
  private nextCorrelationId = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== null; frame = this.decoder.next()) {
        const request = this.waiting.shift();
        if (request === undefined) continue;
        const decoded = decodeResponseFrame(request.apiKey, request.apiVersion, frame);
        if (decoded.ok) request.resolve(decoded.value.body);
        else request.reject(decoded.error);
      }
    });
    const failAll = (error: Error) => {
      for (const request of this.waiting.splice(0)) request.reject(error);
    };
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed')));
  }

  static open(host: string, port: number): Promise<Channel> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Channel(socket));
      });
    });
  }

  request<T>(apiKey: number, apiVersion: number, body: unknown): Promise<T> {
    const correlationId = this.nextCorrelationId++;
    const frames = encodeRequestFrame(
      { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId },
      body,
    );
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        apiKey,
        apiVersion,
        resolve: resolve as (body: unknown) => void,
        reject,
      });
      for (const frame of frames) this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Asks for `groupId`'s coordinator until one is named, as every client does before its first
 * group request: Apache Kafka creates `__consumer_offsets` on the first FindCoordinator and
 * answers group requests with NOT_COORDINATOR until then. Every group maps to the one broker.
 */
async function awaitCoordinator(channel: Channel, groupId: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const response = await channel.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 3, {
      key: groupId,
      keyType: 0,
    });
    if (response.errorCode === ErrorCode.NONE) return;
    if (performance.now() > deadline) {
      throw new Error(`no coordinator for ${groupId}: error ${response.errorCode}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function openChannels(host: string, port: number, count: number): Promise<Channel[]> {
  return Promise.all(Array.from({ length: count }, () => Channel.open(host, port)));
}

async function commitMany(
  command: Extract<GroupLoadCommand, { type: 'commit' }>,
): Promise<GroupLoadReply> {
  const channels = await openChannels(command.host, command.port, command.connections);
  await awaitCoordinator(channels[0]!, `group-${command.first}`);
  let next = 0;
  let errors = 0;
  const startedAtMs = performance.now();
  const lane = async (channel: Channel) => {
    while (next < command.count) {
      const group = command.first + next;
      next += 1;
      const response = await channel.request<OffsetCommitResponse>(ApiKey.OffsetCommit, 8, {
        groupId: `group-${group}`,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: command.topic,
            partitions: [
              {
                partitionIndex: group % 4,
                committedOffset: BigInt(command.offset),
                committedLeaderEpoch: -1,
                committedMetadata: null,
              },
            ],
          },
        ],
      });
      if (response.topics[0]?.partitions[0]?.errorCode !== ErrorCode.NONE) errors += 1;
    }
  };
  await Promise.all(
    channels.flatMap((channel) =>
      Array.from({ length: command.inFlightPerConnection }, () => lane(channel)),
    ),
  );
  const elapsedMs = performance.now() - startedAtMs;
  for (const channel of channels) channel.close();
  return { type: 'committed', elapsedMs, commits: command.count, errors };
}

/** The committed offset of each group in the range (a content check of what was committed). */
async function checkCommits(
  command: Extract<GroupLoadCommand, { type: 'check-commits' }>,
): Promise<GroupLoadReply> {
  const [channel] = await openChannels(command.host, command.port, 1);
  const committed: Record<string, number> = {};
  for (let group = command.first; group < command.first + command.count; group++) {
    const response = await channel!.request<OffsetFetchResponse>(ApiKey.OffsetFetch, 7, {
      groupId: `group-${group}`,
      topics: [{ name: command.topic, partitionIndexes: [group % 4] }],
      requireStable: false,
    });
    committed[`group-${group}`] = Number(
      response.topics?.[0]?.partitions[0]?.committedOffset ?? -2,
    );
  }
  channel!.close();
  return { type: 'commits-checked', committed };
}

/** A classic-protocol member: join (with the KIP-394 member-id round trip), sync, heartbeat. */
class Member {
  memberId = '';
  generation = -1;
  assignedPartitions = 0;
  rejoining = false;
  private readonly channel: Channel;
  private readonly groupId: string;
  private readonly topic: string;
  private readonly partitions: number;
  private readonly metadata: Buffer;
  private stopped = false;

  constructor(channel: Channel, groupId: string, topic: string, partitions: number) {
    this.channel = channel;
    this.groupId = groupId;
    this.topic = topic;
    this.partitions = partitions;
    this.metadata = encodeConsumerProtocolSubscriptionBytes(1, {
      topics: [topic],
      userData: null,
      ownedPartitions: [],
    });
  }

  /** Joins and syncs until it holds an assignment of a generation. */
  async joinAndSync(): Promise<void> {
    this.rejoining = true;
    try {
      await this.joinAndSyncOnce();
    } finally {
      this.rejoining = false;
    }
  }

  private async joinAndSyncOnce(): Promise<void> {
    for (;;) {
      const joined = await this.channel.request<JoinGroupResponse>(ApiKey.JoinGroup, 5, {
        groupId: this.groupId,
        sessionTimeoutMs: 45_000,
        rebalanceTimeoutMs: 120_000,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: this.metadata }],
      });
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        continue;
      }
      if (retriable.has(joined.errorCode)) {
        // A real consumer finds the coordinator again and retries after its backoff.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE) {
        throw new Error(`JoinGroup error ${joined.errorCode}`);
      }
      this.memberId = joined.memberId;
      const assignments =
        joined.leader === joined.memberId ? this.assign(joined.members.map((m) => m.memberId)) : [];
      const synced = await this.channel.request<SyncGroupResponse>(ApiKey.SyncGroup, 3, {
        groupId: this.groupId,
        generationId: joined.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        assignments,
      });
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || retriable.has(synced.errorCode)) {
        continue;
      }
      if (synced.errorCode !== ErrorCode.NONE)
        throw new Error(`SyncGroup error ${synced.errorCode}`);
      const assignment = decodeConsumerProtocolAssignmentBytes(synced.assignment);
      this.assignedPartitions = assignment.ok
        ? assignment.value.value.assignedPartitions.reduce(
            (sum, entry) => sum + entry.partitions.length,
            0,
          )
        : 0;
      this.generation = joined.generationId;
      return;
    }
  }

  /** Round-robin of the topic's partitions over the members, as the leader computes it. */
  private assign(memberIds: string[]): { memberId: string; assignment: Buffer }[] {
    const sorted = memberIds.slice().sort();
    const owned = new Map<string, number[]>(sorted.map((id) => [id, []]));
    for (let partition = 0; partition < this.partitions; partition++) {
      owned.get(sorted[partition % sorted.length]!)!.push(partition);
    }
    return sorted.map((memberId) => ({
      memberId,
      assignment: encodeConsumerProtocolAssignmentBytes(1, {
        assignedPartitions: [{ topic: this.topic, partitions: owned.get(memberId)! }],
        userData: null,
      }),
    }));
  }

  /** Heartbeats every `intervalMs`; rejoins when the group rebalances. */
  async heartbeatLoop(intervalMs: number): Promise<void> {
    while (!this.stopped) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (this.stopped) return;
      const response = await this.channel.request<HeartbeatResponse>(ApiKey.Heartbeat, 3, {
        groupId: this.groupId,
        generationId: this.generation,
        memberId: this.memberId,
        groupInstanceId: null,
      });
      if (response.errorCode === ErrorCode.NONE) continue;
      await this.joinAndSync();
    }
  }

  async leave(): Promise<void> {
    this.stopped = true;
    await this.channel
      .request(ApiKey.LeaveGroup, 3, {
        groupId: this.groupId,
        members: [{ memberId: this.memberId, groupInstanceId: null }],
      })
      .catch(() => {});
  }
}

let members: Member[] = [];
let channels: Channel[] = [];

async function join(command: Extract<GroupLoadCommand, { type: 'join' }>): Promise<GroupLoadReply> {
  // One connection per member, as real consumers have: a JoinGroup is answered only when the
  // rebalance completes, and responses on a connection keep request order, so members sharing a
  // connection would not see the heartbeats that tell them to rejoin.
  channels = await openChannels(command.host, command.port, command.members);
  await awaitCoordinator(channels[0]!, command.groupId);
  members = channels.map(
    (channel) => new Member(channel, command.groupId, command.topic, command.partitions),
  );
  // Each member heartbeats as soon as it holds a generation, as a real consumer does, so it
  // rejoins when later members make the group rebalance.
  for (const member of members) {
    void member.joinAndSync().then(() => member.heartbeatLoop(200));
  }
  return { type: 'joining' };
}

function status(): GroupLoadReply {
  const generations = members.map((member) => member.generation);
  return {
    type: 'status',
    generationMin: Math.min(...generations),
    generationMax: Math.max(...generations),
    rejoining: members.filter((member) => member.rejoining).length,
    assignedPartitions: members.reduce((sum, member) => sum + member.assignedPartitions, 0),
  };
}

async function run(command: GroupLoadCommand): Promise<GroupLoadReply> {
  switch (command.type) {
    case 'commit':
      return commitMany(command);
    case 'check-commits':
      return checkCommits(command);
    case 'join':
      return join(command);
    case 'status':
      return status();
    case 'leave':
      await Promise.all(members.map((member) => member.leave()));
      for (const channel of channels) channel.close();
      members = [];
      channels = [];
      return { type: 'left' };
  }
}

serveWorkerCommands<GroupLoadCommand>(run);
