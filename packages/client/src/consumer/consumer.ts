// The consumer: manual assignment or group subscription (classic or KIP-848 membership), one
// Fetch in flight per leader, records handed out through poll, an async iterator or a batch
// callback. Backpressure: the next Fetch leaves only once every record of the previous ones was
// taken, so memory is bounded by one round (fetch.max.bytes per leader). Positions are the next
// offset to hand out; a seek drops buffered records of its partition and any response fetched
// from the old position. Group rebalances happen inside poll (and between records of the
// iterator), so listeners and auto-commits run on the caller's turn.

import { defaultCompressionCodecs } from '@gregor/compression';
import {
  batchAttributes,
  decodeControlRecord,
  ErrorCode,
  type FetchRequest,
  type FetchRequestFetchTopic,
  type FetchRequestForgottenTopic,
  type FetchResponse,
  type FetchResponsePartitionData,
  fetchApi,
  iterateRecordBatches,
  type OpenedRecordBatch,
  openRecordBatch,
  type RecordHeader,
  recordsAsBuffer,
  walkRecords,
} from '@gregor/protocol';
import { ClientError, ClosedError, invalidatesMetadata, KafkaError } from '../errors.js';
import type { ConsumerGroupMetadata } from '../group-metadata.js';
import { Cluster, type ClusterOptions, sleep } from '../network/cluster.js';
import { type AssignorName, builtInAssignors, type PartitionAssignor } from './assignors.js';
import { ClassicMembership } from './classic-membership.js';
import { ConsumerProtocolMembership } from './consumer-protocol-membership.js';
import { FetchBuffer } from './fetch-buffer.js';
import { FetchSession, fetchSessionVersionMin } from './fetch-session.js';
import type { ConsumerRecord } from './fetched-record.js';
import {
  commitIdentityOf,
  type GroupMembership,
  type GroupProtocol,
  type MembershipHost,
  partitionSetKey,
  type SubscriptionSpec,
} from './group-membership.js';
import { type CommittedOffset, commitOffsets, fetchCommittedOffsets } from './group-offsets.js';
import {
  type IsolationLevel,
  listOffsets,
  type OffsetQuery,
  type PartitionOffset,
  partitionKey,
  type TopicPartition,
} from './list-offsets.js';

export type { AssignorName, PartitionAssignor } from './assignors.js';
export type { GroupProtocol } from './group-membership.js';
export type { CommittedOffset } from './group-offsets.js';
export type {
  IsolationLevel,
  OffsetQuery,
  PartitionOffset,
  TopicPartition,
} from './list-offsets.js';

export interface ConsumerOptions extends ClusterOptions {
  /** Longest time the broker holds a Fetch waiting for `minBytes`. */
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  maxPartitionBytes?: number;
  /** Where to start when there is no position or it is out of range (Java's default: latest). */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  isolationLevel?: IsolationLevel;
  /** Group whose committed offsets `commit`, `committed` and the `committed` start offset use. */
  groupId?: string;
  /** Java's group.protocol: the classic protocol or KIP-848's consumer protocol. */
  groupProtocol?: GroupProtocol;
  /** Static membership (KIP-345): a restart within the session timeout keeps the assignment. */
  groupInstanceId?: string | null;
  /** Classic protocol only (KIP-848 takes the broker's group.consumer.session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** Classic protocol only (KIP-848's interval is set by the broker). */
  heartbeatIntervalMs?: number;
  /** A caller that takes no records for this long makes the member leave the group. */
  maxPollIntervalMs?: number;
  /** Most records one `poll` returns. */
  maxPollRecords?: number;
  enableAutoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Classic protocol: assignors in preference order (names or own implementations). */
  partitionAssignors?: ReadonlyArray<AssignorName | PartitionAssignor>;
  /** KIP-848: the server-side assignor (`uniform`, `range`), null for the broker's default. */
  groupRemoteAssignor?: string | null;
  /** Java's client.rack, sent in subscriptions and fetches. */
  rackId?: string | null;
}

/** Called inside poll when the group moves partitions. */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions taken away without a revocation (fenced, evicted); defaults to onPartitionsRevoked. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface PollOptions {
  signal?: AbortSignal;
}

export interface BatchContext {
  /** Commits the positions now (the records of this batch and before). */
  commit(): Promise<void>;
  signal: AbortSignal;
}

export const consumerDefaults = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
  autoOffsetReset: 'latest',
  isolationLevel: 'read_uncommitted',
  groupProtocol: 'classic',
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3_000,
  maxPollIntervalMs: 300_000,
  maxPollRecords: 500,
  enableAutoCommit: true,
  autoCommitIntervalMs: 5_000,
  partitionAssignors: ['range', 'cooperative-sticky'],
} as const;

export type { ConsumerRecord } from './fetched-record.js';

/** `committed`: the group's committed offset, else autoOffsetReset. */
export type StartOffset = bigint | 'earliest' | 'latest' | 'committed';

interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to hand out; null until resolved from `pendingReset`. */
  position: bigint | null;
  pendingReset: 'earliest' | 'latest' | 'committed' | null;
  /** Bumped by every seek: responses fetched before it are dropped. */
  generation: number;
  /** The leader's high watermark in the last fetch response (-1 before one). */
  highWatermark: bigint;
  /** Where fetchable data ends in that response: the high watermark, or the LSO (read_committed). */
  fetchableEnd: bigint;
}

/** Fetch v4+: isolation level and aborted transactions; older versions are not used. */
const fetchVersionMin = 4;
/** Fetch v13 replaced topic names by topic ids (KIP-516). */
const fetchTopicIdVersionMin = 13;
const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

export class Consumer {
  readonly cluster: Cluster;
  private readonly settings: Required<
    Pick<
      ConsumerOptions,
      | 'maxWaitMs'
      | 'minBytes'
      | 'maxBytes'
      | 'maxPartitionBytes'
      | 'autoOffsetReset'
      | 'isolationLevel'
    >
  >;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly fetchBuffer = new FetchBuffer();
  private closed = false;
  private readonly groupId: string | undefined;
  private readonly options: ConsumerOptions;
  private membership: GroupMembership | null = null;
  private listener: RebalanceListener = {};
  private readonly paused = new Set<string>();
  private nextAutoCommitMs = 0;
  private readonly closeController = new AbortController();
  private fetchInFlight: Promise<void> | null = null;
  /** A round started when the last buffered record was handed out; the next poll awaits it. */
  private prefetched: { round: Promise<void>; changes: number } | null = null;
  /** Bumped when what a round fetches changes (seek, assign, resume): a prefetch is then stale. */
  private fetchChanges = 0;
  private maintaining: Promise<void> | null = null;
  /** Incremental fetch session per leader, tied to the Fetch version it was built for. */
  private readonly fetchSessions = new Map<number, { version: number; state: FetchSession }>();

  constructor(options: ConsumerOptions) {
    this.groupId = options.groupId;
    this.options = options;
    this.cluster = new Cluster({
      ...options,
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
    });
    this.settings = {
      maxWaitMs: options.maxWaitMs ?? consumerDefaults.maxWaitMs,
      minBytes: options.minBytes ?? consumerDefaults.minBytes,
      maxBytes: options.maxBytes ?? consumerDefaults.maxBytes,
      maxPartitionBytes: options.maxPartitionBytes ?? consumerDefaults.maxPartitionBytes,
      autoOffsetReset: options.autoOffsetReset ?? consumerDefaults.autoOffsetReset,
      isolationLevel: options.isolationLevel ?? consumerDefaults.isolationLevel,
    };
  }

  /** Replaces the assignment. Partitions without an offset start per autoOffsetReset. */
  assign(partitions: ReadonlyArray<TopicPartition & { offset?: StartOffset }>): void {
    if (this.membership !== null) {
      throw new ClientError('assign: the consumer is subscribed to a group', { retriable: false });
    }
    this.partitions.clear();
    this.fetchBuffer.clear();
    for (const { topic, partition, offset } of partitions) {
      this.fetchChanges++;
      this.partitions.set(partitionKey(topic, partition), {
        topic,
        partition,
        position: null,
        pendingReset: null,
        generation: 0,
        highWatermark: -1n,
        fetchableEnd: -1n,
      });
      this.seek({ topic, partition }, offset ?? this.defaultReset());
    }
    this.cluster.addTopics(partitions.map((partition) => partition.topic));
  }

  /**
   * Joins the group (`groupId`) for these topics, or every topic the pattern matches (whole
   * names, as Java's Pattern subscription). The join happens in the next poll.
   */
  subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener = {}): void {
    const groupId = this.requireGroupId();
    if (this.membership !== null) {
      throw new ClientError('subscribe: already subscribed (unsubscribe first)', {
        retriable: false,
      });
    }
    if (this.partitions.size > 0) {
      throw new ClientError('subscribe: partitions are assigned manually', { retriable: false });
    }
    const spec: SubscriptionSpec = topics instanceof RegExp ? { pattern: topics } : { topics };
    this.listener = listener;
    const options = this.options;
    const settings = {
      groupId,
      groupInstanceId: options.groupInstanceId ?? null,
      sessionTimeoutMs: options.sessionTimeoutMs ?? consumerDefaults.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? consumerDefaults.heartbeatIntervalMs,
      maxPollIntervalMs: options.maxPollIntervalMs ?? consumerDefaults.maxPollIntervalMs,
      rackId: options.rackId ?? null,
    };
    const host = this.membershipHost();
    if ((options.groupProtocol ?? consumerDefaults.groupProtocol) === 'consumer') {
      this.membership = new ConsumerProtocolMembership(
        host,
        settings,
        spec,
        options.groupRemoteAssignor ?? null,
      );
    } else {
      const assignors = (options.partitionAssignors ?? consumerDefaults.partitionAssignors).map(
        (assignor) => {
          if (typeof assignor !== 'string') return assignor;
          const builtIn = builtInAssignors.get(assignor);
          if (builtIn === undefined) {
            throw new ClientError(`unknown assignor ${assignor}`, { retriable: false });
          }
          return builtIn;
        },
      );
      this.membership = new ClassicMembership(host, settings, spec, assignors);
    }
    this.nextAutoCommitMs = Date.now() + this.autoCommitIntervalMs();
  }

  /** Leaves the group (committing first when auto-commit is on) and drops every partition. */
  async unsubscribe(): Promise<void> {
    const membership = this.membership;
    if (membership === null) return;
    await this.revokeOwnedOnLeave();
    this.membership = null;
    await membership.leave();
  }

  /** Member id, generation (or KIP-848 epoch) and instance id, for sendOffsetsToTransaction. */
  groupMetadata(): ConsumerGroupMetadata {
    if (this.membership !== null) return this.membership.metadata();
    return {
      groupId: this.requireGroupId(),
      generationId: -1,
      memberId: '',
      groupInstanceId: this.options.groupInstanceId ?? null,
    };
  }

  /** Stops fetching these partitions (they stay assigned; records already buffered stay). */
  pause(partitions: readonly TopicPartition[]): void {
    for (const partition of partitions) this.paused.add(partitionSetKey(partition));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const partition of partitions) this.paused.delete(partitionSetKey(partition));
    this.fetchChanges++;
  }

  pausedPartitions(): TopicPartition[] {
    return this.assignment().filter((partition) => this.paused.has(partitionSetKey(partition)));
  }

  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Moves a partition's position; the next record handed out for it is at `offset`. */
  seek(topicPartition: TopicPartition, offset: StartOffset): void {
    const state = this.partitions.get(partitionKey(topicPartition.topic, topicPartition.partition));
    if (state === undefined) {
      throw new ClientError(`${topicPartition.topic}-${topicPartition.partition} is not assigned`, {
        retriable: false,
      });
    }
    state.generation++;
    this.fetchChanges++;
    if (typeof offset === 'bigint') {
      state.position = offset;
      state.pendingReset = null;
    } else {
      state.position = null;
      state.pendingReset = offset;
    }
    this.dropBuffered(state);
  }

  /** The high watermark the last fetch of a partition reported (undefined before one). */
  highWatermark(topicPartition: TopicPartition): bigint | undefined {
    const highWatermark = this.partitions.get(
      partitionKey(topicPartition.topic, topicPartition.partition),
    )?.highWatermark;
    return highWatermark === undefined || highWatermark < 0n ? undefined : highWatermark;
  }

  /** The next offset to be handed out for a partition (undefined while being resolved). */
  position(topicPartition: TopicPartition): bigint | undefined {
    return (
      this.partitions.get(partitionKey(topicPartition.topic, topicPartition.partition))?.position ??
      undefined
    );
  }

  /**
   * Commits offsets for the group (default: the position of every assigned partition, i.e. the
   * next record to read, as Java's commitSync()).
   */
  async commit(
    offsets?: ReadonlyArray<TopicPartition & { offset: bigint; metadata?: string | null }>,
  ): Promise<void> {
    const groupId = this.requireGroupId();
    const toCommit =
      offsets ??
      [...this.partitions.values()]
        .filter((state) => state.position !== null)
        .map((state) => ({
          topic: state.topic,
          partition: state.partition,
          offset: state.position!,
        }));
    if (toCommit.length === 0) return;
    const membership = this.membership;
    const deadline = Date.now() + this.cluster.options.requestTimeoutMs;
    for (;;) {
      const identity = membership === null ? undefined : commitIdentityOf(membership.metadata());
      try {
        await commitOffsets(
          this.cluster,
          groupId,
          toCommit,
          this.cluster.options.requestTimeoutMs,
          identity,
        );
        return;
      } catch (error) {
        if (!(error instanceof KafkaError) || membership === null) throw error;
        // KIP-848: the epoch moved on under the commit; retry with the member's latest epoch.
        if (error.code === ErrorCode.STALE_MEMBER_EPOCH && Date.now() < deadline) {
          await sleep(this.cluster.options.retryBackoffMs);
          continue;
        }
        membership.commitFailed(error.code);
        throw error;
      }
    }
  }

  /** The group's committed offsets (null where it has none). */
  committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return fetchCommittedOffsets(
      this.cluster,
      this.requireGroupId(),
      partitions,
      this.cluster.options.requestTimeoutMs,
    );
  }

  /** ListOffsets for any partitions (assigned or not). */
  offsetsFor(
    partitions: readonly TopicPartition[],
    query: OffsetQuery,
  ): Promise<PartitionOffset[]> {
    return listOffsets(this.cluster, partitions, query, {
      isolationLevel: this.settings.isolationLevel,
      timeoutMs: this.cluster.options.requestTimeoutMs,
    });
  }

  /**
   * The records of the next fetch round (possibly none after maxWaitMs). Positions advance past
   * everything returned.
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    if (this.closed) throw new ClosedError('the consumer');
    options.signal?.throwIfAborted();
    await this.abortable(this.maintainGroup(), options.signal);
    if (this.fetchBuffer.isEmpty) await this.nextFetch(options.signal);
    // A close meanwhile committed the positions: nothing more may be handed out.
    if (this.closed) return [];
    const records: ConsumerRecord[] = [];
    this.fetchBuffer.take(this.options.maxPollRecords ?? consumerDefaults.maxPollRecords, records);
    this.membership?.polled();
    if (this.fetchBuffer.isEmpty) this.prefetch();
    return records;
  }

  /**
   * Records one at a time, fetching as they are taken; ends when the consumer closes or the
   * signal aborts. Taking the next record counts as polling (max.poll.interval.ms).
   */
  async *records(options: PollOptions = {}): AsyncGenerator<ConsumerRecord, void, undefined> {
    const signal = options.signal;
    const stopped = () => this.closed || signal?.aborted === true;
    const taken: ConsumerRecord[] = [];
    while (!stopped()) {
      if (this.membership !== null) {
        this.membership.polled();
        if (this.membership.needsMaintenance || Date.now() >= this.nextAutoCommitMs) {
          try {
            await this.abortable(this.maintainGroup(), signal);
          } catch (error) {
            if (stopped()) return;
            throw error;
          }
          // A close meanwhile committed the positions: nothing more may be handed out.
          if (stopped()) return;
        }
      }
      if (this.fetchBuffer.isEmpty) {
        try {
          await this.nextFetch(signal);
        } catch (error) {
          if (stopped()) return;
          throw error;
        }
        continue;
      }
      taken.length = 0;
      this.fetchBuffer.take(1, taken);
      if (this.fetchBuffer.isEmpty) this.prefetch();
      if (taken.length === 1) yield taken[0];
    }
  }

  /**
   * The batch callback API: polls until the signal aborts or the consumer closes, handing each
   * non-empty poll to `eachBatch`; with auto-commit the positions are committed on the interval
   * (and after the last batch, at close).
   */
  async run(
    eachBatch: (records: ConsumerRecord[], context: BatchContext) => void | Promise<void>,
    options: PollOptions = {},
  ): Promise<void> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    this.closeController.signal.addEventListener('abort', abort, { once: true });
    try {
      while (!controller.signal.aborted) {
        let records: ConsumerRecord[];
        try {
          records = await this.poll({ signal: controller.signal });
        } catch (error) {
          if (controller.signal.aborted) return;
          throw error;
        }
        if (records.length === 0) continue;
        await eachBatch(records, { commit: () => this.commit(), signal: controller.signal });
      }
    } finally {
      options.signal?.removeEventListener('abort', abort);
      this.closeController.signal.removeEventListener('abort', abort);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord, void, undefined> {
    return this.records();
  }

  /**
   * Closes the consumer. A group member commits its positions (auto-commit), revokes its
   * partitions through the listener, and leaves the group (static members stay, KIP-345).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeController.abort();
    try {
      const membership = this.membership;
      if (membership !== null) {
        await this.revokeOwnedOnLeave().catch(() => undefined);
        await membership.leave();
      }
    } finally {
      this.cluster.close();
    }
  }

  private autoCommitEnabled(): boolean {
    return (
      this.membership !== null &&
      (this.options.enableAutoCommit ?? consumerDefaults.enableAutoCommit)
    );
  }

  private autoCommitIntervalMs(): number {
    return this.options.autoCommitIntervalMs ?? consumerDefaults.autoCommitIntervalMs;
  }

  private async revokeOwnedOnLeave(): Promise<void> {
    const owned = this.assignment();
    if (owned.length === 0) return;
    await this.membershipHost().revokePartitions(owned);
  }

  /**
   * Group work on the caller's turn: rebalances, listeners, the interval auto-commit. Like fetch rounds, one at a time: a poll abandoned through
   * its signal leaves a join running, and the next poll waits for it instead of joining twice.
   */
  private maintainGroup(): Promise<void> {
    if (this.membership === null) return Promise.resolve();
    if (this.maintaining === null) {
      this.maintaining = this.maintainOnce().finally(() => {
        this.maintaining = null;
      });
    }
    return this.maintaining;
  }

  private async maintainOnce(): Promise<void> {
    const membership = this.membership;
    if (membership === null) return;
    await membership.maintain();
    if (this.autoCommitEnabled() && Date.now() >= this.nextAutoCommitMs) {
      this.nextAutoCommitMs = Date.now() + this.autoCommitIntervalMs();
      // Asynchronous, as Java's auto-commit in poll: a failure is retried at the next interval.
      this.commit().catch(() => undefined);
    }
  }

  private abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) return work;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      // The work goes on after the wait ends: its failure must not go unhandled.
      work.catch(() => undefined);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private addPartitions(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      if (this.partitions.has(key)) continue;
      this.fetchChanges++;
      this.partitions.set(key, {
        topic,
        partition,
        position: null,
        pendingReset: 'committed',
        generation: 0,
        highWatermark: -1n,
        fetchableEnd: -1n,
      });
    }
    this.cluster.addTopics(partitions.map((partition) => partition.topic));
  }

  private removePartitions(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const state = this.partitions.get(partitionKey(topic, partition));
      if (state === undefined) continue;
      this.partitions.delete(partitionKey(topic, partition));
      this.paused.delete(partitionSetKey({ topic, partition }));
      this.dropBuffered(state);
    }
  }

  private membershipHost(): MembershipHost {
    return {
      cluster: this.cluster,
      owned: () => this.assignment(),
      assignPartitions: async (partitions) => {
        this.addPartitions(partitions);
        await this.listener.onPartitionsAssigned?.(partitions);
      },
      revokePartitions: async (partitions) => {
        if (this.autoCommitEnabled()) {
          await this.commitPositionsOf(partitions).catch(() => undefined);
        }
        try {
          if (partitions.length > 0) await this.listener.onPartitionsRevoked?.(partitions);
        } finally {
          this.removePartitions(partitions);
        }
      },
      losePartitions: async (partitions) => {
        try {
          if (this.listener.onPartitionsLost !== undefined) {
            await this.listener.onPartitionsLost(partitions);
          } else {
            await this.listener.onPartitionsRevoked?.(partitions);
          }
        } finally {
          this.removePartitions(partitions);
        }
      },
      autoCommitOwned: async () => {
        if (this.autoCommitEnabled()) await this.commit();
      },
    };
  }

  private commitPositionsOf(partitions: readonly TopicPartition[]): Promise<void> {
    const offsets: Array<TopicPartition & { offset: bigint }> = [];
    for (const { topic, partition } of partitions) {
      const position = this.partitions.get(partitionKey(topic, partition))?.position;
      if (position !== null && position !== undefined)
        offsets.push({ topic, partition, offset: position });
    }
    return this.commit(offsets);
  }

  private requireGroupId(): string {
    if (this.groupId === undefined) {
      throw new ClientError('committed offsets need the groupId option', { retriable: false });
    }
    return this.groupId;
  }

  private defaultReset(): 'earliest' | 'latest' {
    const reset = this.settings.autoOffsetReset;
    if (reset === 'none') {
      throw new ClientError('no start offset and autoOffsetReset is none', { retriable: false });
    }
    return reset;
  }

  private dropBuffered(state: PartitionState): void {
    this.fetchBuffer.drop(state);
  }

  /**
   * Waits for the prefetched round, or fetches. A prefetched round's failure is thrown here, at
   * the caller's turn. When the prefetch brought nothing, or a seek, assign or resume came after
   * it left, a round of the current state follows (what a poll without prefetch would fetch).
   */
  private async nextFetch(signal: AbortSignal | undefined): Promise<void> {
    const prefetched = this.prefetched;
    this.prefetched = null;
    if (prefetched !== null) {
      await this.abortable(prefetched.round, signal);
      const stale = prefetched.changes !== this.fetchChanges;
      if (!stale && !this.fetchBuffer.isEmpty) return;
      signal?.throwIfAborted();
    }
    await this.abortable(this.fetchOnce(), signal);
  }

  /**
   * Everything buffered was handed out and a partition is behind its high watermark: the next
   * round leaves now, while the caller works on those records, instead of at the next poll (its
   * round trip overlaps the caller's processing; still at most one response buffered beside the
   * records in the caller's hands). A caught-up consumer does not prefetch: its next fetch
   * would wait at the broker for data, across seeks the caller may make meanwhile.
   */
  private prefetch(): void {
    if (this.closed || this.prefetched !== null || this.fetchInFlight !== null) return;
    if (!this.behindHighWatermark()) return;
    const round = this.fetchOnce();
    round.catch(() => undefined);
    this.prefetched = { round, changes: this.fetchChanges };
  }

  private behindHighWatermark(): boolean {
    for (const state of this.partitions.values()) {
      if (state.position === null || state.position >= state.fetchableEnd) continue;
      if (this.paused.size > 0 && this.paused.has(partitionSetKey(state))) continue;
      return true;
    }
    return false;
  }

  /**
   * The fetch round in flight, or a new one. A poll abandoned through its signal leaves its round
   * running; the next poll joins it instead of racing it (fetch session epochs stay ordered).
   */
  private fetchOnce(): Promise<void> {
    if (this.fetchInFlight === null) {
      this.fetchInFlight = this.fetchRound().finally(() => {
        this.fetchInFlight = null;
      });
    }
    return this.fetchInFlight;
  }

  /** Resolves pending resets, then one Fetch per leader; buffers what comes back. */
  private async fetchRound(): Promise<void> {
    if (this.partitions.size === 0) {
      await sleep(this.settings.maxWaitMs);
      return;
    }
    await this.resolveResets();
    const byLeader = new Map<number, PartitionState[]>();
    for (const state of this.partitions.values()) {
      if (state.position === null) continue;
      if (this.paused.size > 0 && this.paused.has(partitionSetKey(state))) continue;
      await this.cluster.topic(state.topic, this.cluster.options.requestTimeoutMs);
      const leader = this.cluster.leaderOf(state.topic, state.partition);
      if (leader === undefined) continue;
      const list = byLeader.get(leader) ?? [];
      list.push(state);
      byLeader.set(leader, list);
    }
    if (byLeader.size === 0) {
      await sleep(this.cluster.options.retryBackoffMs);
      return;
    }
    const outcomes = await Promise.allSettled(
      [...byLeader].map(([leader, states]) => this.fetchFrom(leader, states)),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      const error = outcome.reason;
      if (this.closed) return;
      if (error instanceof ClientError && error.retriable) {
        await this.cluster.refreshMetadata().catch(() => undefined);
        await sleep(this.cluster.options.retryBackoffMs);
        continue;
      }
      throw error;
    }
  }

  private async resolveResets(): Promise<void> {
    const fromGroup = [...this.partitions.values()].filter(
      (state) => state.pendingReset === 'committed',
    );
    if (fromGroup.length > 0) {
      const generations = fromGroup.map((state) => state.generation);
      const committed = await this.committed(fromGroup);
      fromGroup.forEach((state, index) => {
        if (state.generation !== generations[index] || state.pendingReset !== 'committed') return;
        const offset = committed[index].offset;
        if (offset === null) {
          state.pendingReset = this.defaultReset();
        } else {
          state.position = offset;
          state.pendingReset = null;
        }
      });
    }
    for (const reset of ['earliest', 'latest'] as const) {
      const states = [...this.partitions.values()].filter((state) => state.pendingReset === reset);
      if (states.length === 0) continue;
      const generations = states.map((state) => state.generation);
      const offsets = await this.offsetsFor(states, reset);
      states.forEach((state, index) => {
        if (state.generation !== generations[index] || state.pendingReset !== reset) return;
        state.position = offsets[index].offset;
        state.pendingReset = null;
      });
    }
  }

  private async fetchFrom(leader: number, states: PartitionState[]): Promise<void> {
    const connection = await this.cluster.connectionToNode(leader);
    let version = connection.versions.version(fetchApi, fetchVersionMin);
    const topicIds = new Map<string, string>();
    for (const state of states) {
      if (topicIds.has(state.topic)) continue;
      const topicId = this.cluster.cachedTopic(state.topic)?.topicId ?? zeroUuid;
      topicIds.set(state.topic, topicId);
      if (topicId === zeroUuid) version = Math.min(version, fetchTopicIdVersionMin - 1);
    }
    let session = this.fetchSessions.get(leader);
    if (session === undefined || session.version !== version) {
      session = { version, state: new FetchSession(version >= fetchSessionVersionMin) };
      this.fetchSessions.set(leader, session);
    }
    const fetched = new Map(
      states.map((state) => [
        partitionKey(state.topic, state.partition),
        { state, offset: state.position!, generation: state.generation },
      ]),
    );
    const sessionRequest = session.state.build(
      states.map((state) => ({
        topic: state.topic,
        topicId: topicIds.get(state.topic)!,
        partition: state.partition,
        fetchOffset: state.position!,
        maxBytes: this.settings.maxPartitionBytes,
      })),
    );
    const requestTopics = new Map<string, FetchRequestFetchTopic>();
    for (const entry of sessionRequest.partitions) {
      let topic = requestTopics.get(entry.topic);
      if (topic === undefined) {
        topic = { topic: entry.topic, topicId: entry.topicId, partitions: [] };
        requestTopics.set(entry.topic, topic);
      }
      topic.partitions.push({
        partition: entry.partition,
        currentLeaderEpoch: -1,
        fetchOffset: entry.fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: entry.maxBytes,
      });
    }
    const forgotten = new Map<string, FetchRequestForgottenTopic>();
    for (const entry of sessionRequest.forgotten) {
      let topic = forgotten.get(entry.topic);
      if (topic === undefined) {
        topic = { topic: entry.topic, topicId: entry.topicId, partitions: [] };
        forgotten.set(entry.topic, topic);
      }
      topic.partitions.push(entry.partition);
    }
    const request: FetchRequest = {
      replicaId: -1,
      maxWaitMs: this.settings.maxWaitMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.maxBytes,
      isolationLevel: this.settings.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: sessionRequest.sessionId,
      sessionEpoch: sessionRequest.sessionEpoch,
      topics: [...requestTopics.values()],
      forgottenTopicsData: [...forgotten.values()],
      rackId: this.options.rackId ?? '',
    };
    let response: FetchResponse;
    try {
      response = await connection.request<FetchResponse>(fetchApi, request, {
        version,
        timeoutMs: this.cluster.options.requestTimeoutMs + this.settings.maxWaitMs,
      });
    } catch (error) {
      session.state.reset();
      throw error;
    }
    const errorCode = response.errorCode ?? ErrorCode.NONE;
    // A lost session is no failure: the next round fetches in full.
    if (!session.state.onResponse(errorCode, response.sessionId ?? 0)) return;
    if (errorCode !== ErrorCode.NONE) throw new KafkaError(errorCode, 'Fetch');
    let partitionFailed = false;
    try {
      for (const topicResponse of response.responses) {
        const topic =
          topicResponse.topic !== undefined && topicResponse.topic !== ''
            ? topicResponse.topic
            : (this.cluster.topicNameById(topicResponse.topicId ?? zeroUuid) ?? '');
        for (const partitionData of topicResponse.partitions) {
          if (partitionData.errorCode !== ErrorCode.NONE) partitionFailed = true;
          const entry = fetched.get(partitionKey(topic, partitionData.partitionIndex));
          // Dropped: unassigned meanwhile, or sought elsewhere after this fetch left.
          if (entry === undefined || entry.state.generation !== entry.generation) continue;
          if (
            this.partitions.get(partitionKey(entry.state.topic, entry.state.partition)) !==
            entry.state
          )
            continue;
          // Paused after the fetch left: fetched again from the same position on resume.
          if (this.paused.size > 0 && this.paused.has(partitionSetKey(entry.state))) continue;
          this.acceptPartition(entry.state, entry.offset, partitionData);
        }
      }
    } finally {
      if (partitionFailed) session.state.reset();
    }
  }

  private acceptPartition(
    state: PartitionState,
    fetchOffset: bigint,
    data: FetchResponsePartitionData,
  ): void {
    const code = data.errorCode;
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      if (this.settings.autoOffsetReset === 'none')
        throw new KafkaError(code, `${state.topic}-${state.partition} at ${fetchOffset}`);
      state.position = null;
      state.pendingReset = this.settings.autoOffsetReset;
      state.generation++;
      return;
    }
    if (code !== ErrorCode.NONE) {
      const error = new KafkaError(code, `${state.topic}-${state.partition}`);
      if (invalidatesMetadata(code)) {
        this.cluster.refreshMetadata().catch(() => undefined);
        return;
      }
      if (error.retriable) return;
      throw error;
    }
    state.highWatermark = data.highWatermark;
    const lastStableOffset = data.lastStableOffset ?? -1n;
    state.fetchableEnd =
      this.settings.isolationLevel === 'read_committed' && lastStableOffset >= 0n
        ? lastStableOffset
        : data.highWatermark;
    const records = recordsAsBuffer(data.records);
    if (records === null || records.length === 0) return;
    const committedOnly = this.settings.isolationLevel === 'read_committed';
    const aborted = [...(data.abortedTransactions ?? [])].sort((left, right) =>
      left.firstOffset < right.firstOffset ? -1 : left.firstOffset > right.firstOffset ? 1 : 0,
    );
    const abortedProducers = new Set<bigint>();
    let nextOffset = fetchOffset;
    let queued = false;
    for (const slice of iterateRecordBatches(records)) {
      const batch = openRecordBatch(slice.batch, defaultCompressionCodecs);
      const header = batch.header;
      const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
      if (lastOffset < fetchOffset) continue;
      nextOffset = lastOffset + 1n;
      if (committedOnly) {
        while (aborted.length > 0 && aborted[0].firstOffset <= lastOffset) {
          abortedProducers.add(aborted.shift()!.producerId);
        }
      }
      if ((header.attributes & batchAttributes.control) !== 0) {
        if (isAbortMarker(batch)) abortedProducers.delete(header.producerId);
        continue;
      }
      const transactional = (header.attributes & batchAttributes.transactional) !== 0;
      if (committedOnly && transactional && abortedProducers.has(header.producerId)) continue;
      this.fetchBuffer.add(state, batch, fetchOffset);
      queued = true;
    }
    // Control batches and aborted data move the position without yielding records.
    if (queued) this.fetchBuffer.setPositionAfterLast(state, nextOffset);
    else if (nextOffset > fetchOffset) state.position = nextOffset;
  }
}

/** Whether a control batch holds an ABORT marker (its one record's key says so). */
function isAbortMarker(batch: OpenedRecordBatch): boolean {
  let abort = false;
  walkRecords(batch.header, batch.section, (fields) => {
    abort ||= decodeControlRecord(fields.key, fields.value).type === 'abort';
  });
  return abort;
}
