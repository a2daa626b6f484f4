// The basic consumer: manual assignment, one Fetch in flight per leader, records handed out
// through an async iterator. Backpressure: the next Fetch leaves only once every record of the
// previous ones was taken, so memory is bounded by one round (fetch.max.bytes per leader).
// Positions are the next offset to hand out; a seek drops buffered records of its partition and
// any response fetched from the old position. Group membership comes later.

import { defaultCompressionCodecs } from '@gregor/compression';
import {
  batchAttributes,
  decodeControlRecord,
  decodeRecordBatches,
  ErrorCode,
  type FetchRequest,
  type FetchRequestFetchTopic,
  type FetchResponse,
  type FetchResponsePartitionData,
  fetchApi,
  type RecordHeader,
  recordsAsBuffer,
} from '@gregor/protocol';
import { ClientError, ClosedError, invalidatesMetadata, KafkaError } from '../errors.js';
import { Cluster, type ClusterOptions, sleep } from '../network/cluster.js';
import { type CommittedOffset, commitOffsets, fetchCommittedOffsets } from './group-offsets.js';
import {
  type IsolationLevel,
  listOffsets,
  type OffsetQuery,
  type PartitionOffset,
  partitionKey,
  type TopicPartition,
} from './list-offsets.js';

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
}

export const consumerDefaults = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
  autoOffsetReset: 'latest',
  isolationLevel: 'read_uncommitted',
} as const;

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

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
  /**
   * Where the position goes once the record at `lastBufferedOffset` is handed out: past control
   * batches and aborted data that followed it in the same fetch (the position never stops on a
   * transaction marker, as in Java's consumer).
   */
  lastBufferedOffset: bigint;
  positionAfterBuffered: bigint;
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
  private buffered: ConsumerRecord[] = [];
  private bufferedIndex = 0;
  private closed = false;
  private readonly groupId: string | undefined;

  constructor(options: ConsumerOptions) {
    this.groupId = options.groupId;
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
    this.partitions.clear();
    this.buffered = [];
    this.bufferedIndex = 0;
    for (const { topic, partition, offset } of partitions) {
      this.partitions.set(partitionKey(topic, partition), {
        topic,
        partition,
        position: null,
        pendingReset: null,
        generation: 0,
        lastBufferedOffset: -1n,
        positionAfterBuffered: -1n,
      });
      this.seek({ topic, partition }, offset ?? this.defaultReset());
    }
    this.cluster.addTopics(partitions.map((partition) => partition.topic));
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
    state.lastBufferedOffset = -1n;
    if (typeof offset === 'bigint') {
      state.position = offset;
      state.pendingReset = null;
    } else {
      state.position = null;
      state.pendingReset = offset;
    }
    this.dropBuffered(state);
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
    await commitOffsets(this.cluster, groupId, toCommit, this.cluster.options.requestTimeoutMs);
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
  async poll(): Promise<ConsumerRecord[]> {
    if (this.closed) throw new ClosedError('the consumer');
    if (this.bufferedIndex >= this.buffered.length) await this.fetchRound();
    const records = this.buffered.slice(this.bufferedIndex);
    this.buffered = [];
    this.bufferedIndex = 0;
    for (const record of records) this.advance(record);
    return records;
  }

  /** Records one at a time, fetching as they are taken; ends when the consumer closes. */
  async *records(): AsyncGenerator<ConsumerRecord, void, undefined> {
    while (!this.closed) {
      if (this.bufferedIndex >= this.buffered.length) {
        this.buffered = [];
        this.bufferedIndex = 0;
        try {
          await this.fetchRound();
        } catch (error) {
          if (this.closed) return;
          throw error;
        }
        continue;
      }
      const record = this.buffered[this.bufferedIndex++];
      this.advance(record);
      yield record;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord, void, undefined> {
    return this.records();
  }

  close(): void {
    this.closed = true;
    this.cluster.close();
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

  private advance(record: ConsumerRecord): void {
    const state = this.partitions.get(partitionKey(record.topic, record.partition));
    if (state === undefined) return;
    state.position =
      record.offset === state.lastBufferedOffset ? state.positionAfterBuffered : record.offset + 1n;
  }

  private dropBuffered(state: PartitionState): void {
    const kept = this.buffered
      .slice(this.bufferedIndex)
      .filter((record) => record.topic !== state.topic || record.partition !== state.partition);
    this.buffered = kept;
    this.bufferedIndex = 0;
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
    const topics = new Map<string, PartitionState[]>();
    for (const state of states) {
      const list = topics.get(state.topic) ?? [];
      list.push(state);
      topics.set(state.topic, list);
    }
    const topicIds = new Map<string, string>();
    for (const topic of topics.keys()) {
      const topicId = this.cluster.cachedTopic(topic)?.topicId ?? zeroUuid;
      topicIds.set(topic, topicId);
      if (topicId === zeroUuid) version = Math.min(version, fetchTopicIdVersionMin - 1);
    }
    const fetched = states.map((state) => ({
      state,
      offset: state.position!,
      generation: state.generation,
    }));
    const requestTopics: FetchRequestFetchTopic[] = [...topics].map(([topic, list]) => ({
      topic,
      topicId: topicIds.get(topic),
      partitions: list.map((state) => ({
        partition: state.partition,
        currentLeaderEpoch: -1,
        fetchOffset: state.position!,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: this.settings.maxPartitionBytes,
      })),
    }));
    const request: FetchRequest = {
      replicaId: -1,
      maxWaitMs: this.settings.maxWaitMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.maxBytes,
      isolationLevel: this.settings.isolationLevel === 'read_committed' ? 1 : 0,
      // Session id 0 with epoch -1: a full fetch that creates no session (KIP-227).
      sessionId: 0,
      sessionEpoch: -1,
      topics: requestTopics,
      forgottenTopicsData: [],
      rackId: '',
    };
    const response = await connection.request<FetchResponse>(fetchApi, request, {
      version,
      timeoutMs: this.cluster.options.requestTimeoutMs + this.settings.maxWaitMs,
    });
    if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(response.errorCode, 'Fetch');
    }
    for (const topicResponse of response.responses) {
      const topic =
        topicResponse.topic !== undefined && topicResponse.topic !== ''
          ? topicResponse.topic
          : this.cluster.topicNameById(topicResponse.topicId ?? zeroUuid);
      for (const partitionData of topicResponse.partitions) {
        const entry = fetched.find(
          (candidate) =>
            candidate.state.topic === topic &&
            candidate.state.partition === partitionData.partitionIndex,
        );
        // Dropped: unassigned meanwhile, or sought elsewhere after this fetch left.
        if (entry === undefined || entry.state.generation !== entry.generation) continue;
        if (
          this.partitions.get(partitionKey(entry.state.topic, entry.state.partition)) !==
          entry.state
        )
          continue;
        this.acceptPartition(entry.state, entry.offset, partitionData);
      }
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
    const records = recordsAsBuffer(data.records);
    if (records === null || records.length === 0) return;
    const committedOnly = this.settings.isolationLevel === 'read_committed';
    const aborted = [...(data.abortedTransactions ?? [])].sort((left, right) =>
      left.firstOffset < right.firstOffset ? -1 : left.firstOffset > right.firstOffset ? 1 : 0,
    );
    const abortedProducers = new Set<bigint>();
    let nextOffset = fetchOffset;
    let lastBufferedOffset = -1n;
    for (const batch of decodeRecordBatches(records, defaultCompressionCodecs)) {
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
        const marker = batch.records[0];
        if (
          marker !== undefined &&
          decodeControlRecord(marker.key, marker.value).type === 'abort'
        ) {
          abortedProducers.delete(header.producerId);
        }
        continue;
      }
      const transactional = (header.attributes & batchAttributes.transactional) !== 0;
      if (committedOnly && transactional && abortedProducers.has(header.producerId)) continue;
      for (const record of batch.records) {
        if (record.offset < fetchOffset) continue;
        lastBufferedOffset = record.offset;
        this.buffered.push({
          topic: state.topic,
          partition: state.partition,
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key,
          value: record.value,
          headers: record.headers,
        });
      }
    }
    // Control batches and aborted data move the position without yielding records.
    if (lastBufferedOffset < 0n) {
      if (nextOffset > fetchOffset) state.position = nextOffset;
      return;
    }
    state.lastBufferedOffset = lastBufferedOffset;
    state.positionAfterBuffered = nextOffset;
  }
}
