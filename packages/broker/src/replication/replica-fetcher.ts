/**
 * The follower side of replication (Kafka's ReplicaFetcherManager / AbstractFetcherThread): one
 * fetch loop per leader broker, over one connection opened through the injected transport. Each
 * round sends one Fetch (v15: topic ids, ReplicaState with this broker's id and epoch) for every
 * partition this broker follows on that leader, at FetchOffset = local LEO, with
 * CurrentLeaderEpoch and LastFetchedEpoch (the epoch of the local log's last entry), and then:
 * - records: appended with `appendAsFollower` (the leader's offsets, epochs and CRCs kept), then
 *   follower HW = min(leader HW, own LEO);
 * - DivergingEpoch: truncation by KIP-279's rule (below), producer state rolled back; the next
 *   round fetches with the new LastFetchedEpoch, so a truncation in several steps converges;
 * - FENCED_LEADER_EPOCH: this broker's view is older than the leader's; the partition stops
 *   fetching until the metadata gives it a new leader or epoch (`follow` again);
 * - UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_*: the leader lags behind the
 *   metadata (a new leader applies the election a few ms after its followers did); the partition
 *   retries after 20 ms, doubling up to replica.fetch.backoff.ms: waiting the whole backoff at once
 *   would hold every acks=all produce on the new leader for a second after each failover;
 *   other partition errors wait replica.fetch.backoff.ms;
 * - OFFSET_OUT_OF_RANGE: the leader's log starts after ours ends; ours restarts at the leader's
 *   log start (ListOffsets earliest).
 * A response is applied only if the partition still follows the same leader at the same epoch:
 * a role change during a round drops that partition's part of the answer.
 */
import {
  ApiKey,
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  type ListOffsetsResponse,
} from '@gregor/protocol';
import { type Clock, sleepOn } from '../clock.js';
import type { RoleChange } from '../cluster/replica-roles.js';
import type { BrokerConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import { PeerConnection } from '../server/peer-connection.js';
import type { Transport } from '../server/transport.js';
import type { Partition } from './partition.js';
import type { ReplicaManager } from './replica-manager.js';
import { type LeaderEpoch, leaderEpoch } from './types.js';

/** Kafka's replica.fetch.* and replica.socket.timeout.ms, with Kafka's defaults. */
export interface ReplicaFetchSettings {
  /** replica.fetch.max.bytes: per partition (a larger first batch is still returned). */
  fetchMaxBytes: number;
  /** replica.fetch.response.max.bytes */
  responseMaxBytes: number;
  /** replica.fetch.wait.max.ms */
  waitMaxMs: number;
  /** replica.fetch.min.bytes */
  minBytes: number;
  /** replica.fetch.backoff.ms: after an error, before the next try. */
  backoffMs: number;
  /** replica.socket.timeout.ms: connect and request deadline (beyond waitMaxMs). */
  socketTimeoutMs: number;
}

export const defaultReplicaFetchSettings: ReplicaFetchSettings = {
  fetchMaxBytes: 1_048_576,
  responseMaxBytes: 10_485_760,
  waitMaxMs: 500,
  minBytes: 1,
  backoffMs: 1_000,
  socketTimeoutMs: 30_000,
};

/** The fetcher settings from the broker configuration (`replica.fetch.*`). */
export function replicaFetchSettingsFrom(config: BrokerConfig): ReplicaFetchSettings {
  const get = (name: Parameters<BrokerConfig['get']>[0]) => Number(config.get(name));
  return {
    fetchMaxBytes: get('replica.fetch.max.bytes'),
    responseMaxBytes: get('replica.fetch.response.max.bytes'),
    waitMaxMs: get('replica.fetch.wait.max.ms'),
    minBytes: get('replica.fetch.min.bytes'),
    backoffMs: get('replica.fetch.backoff.ms'),
    socketTimeoutMs: get('replica.socket.timeout.ms'),
  };
}

/** Fetch v15: the first with ReplicaState (KIP-903); topic ids since v13. */
const fetchVersion = 15;
const listOffsetsVersion = 7;
const earliestTimestamp = -2n;

export interface ReplicaFetcherOptions {
  replicas: ReplicaManager;
  transport: Transport;
  clock: Clock;
  logger: Logger;
  /** This broker's epoch (its registration), sent in ReplicaState; -1 unknown. */
  brokerEpoch: () => bigint;
  /** A fetch from this leader failed (connection broken or refused): it may be dead. */
  onLeaderUnreachable?: (leaderId: number) => void;
  /** Where a leader broker listens (its replication listener); undefined: unknown yet. */
  brokerAddress: (brokerId: number) => { host: string; port: number } | undefined;
  settings?: Partial<ReplicaFetchSettings>;
}

/** One followed partition, as the metadata last described it. */
export interface FollowTarget {
  topic: string;
  topicId: string;
  partition: number;
  leaderId: number;
  leaderEpoch: LeaderEpoch;
}

interface FetchState extends FollowTarget {
  /** Monotonic ms before which this partition is not fetched (backoff after an error). */
  delayedUntilMs: number;
  /** Fenced: the leader has a newer epoch than ours; waits for new metadata. */
  fenced: boolean;
  /** Consecutive answers saying the leader lags behind the metadata (sets the retry delay). */
  leaderLagRetries: number;
}

/** First retry after the leader answered that it lags behind the metadata; doubles from here. */
const leaderLagRetryMs = 20;
const leaderLagErrors: ReadonlySet<number> = new Set([
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
]);

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, LeaderFetcher>();
  private readonly leaderOf = new Map<string, number>();
  readonly settings: ReplicaFetchSettings;

  constructor(private readonly options: ReplicaFetcherOptions) {
    this.settings = { ...defaultReplicaFetchSettings, ...options.settings };
  }

  /** Follows `target.leaderId` for this partition (again, with a new epoch or leader). */
  follow(target: FollowTarget): void {
    const partitionKey = key(target.topic, target.partition);
    const previousLeader = this.leaderOf.get(partitionKey);
    if (previousLeader !== undefined && previousLeader !== target.leaderId) {
      this.fetchers.get(previousLeader)?.remove(partitionKey);
    }
    this.leaderOf.set(partitionKey, target.leaderId);
    let fetcher = this.fetchers.get(target.leaderId);
    if (fetcher === undefined) {
      fetcher = new LeaderFetcher(target.leaderId, this.options, this.settings);
      this.fetchers.set(target.leaderId, fetcher);
      fetcher.start();
    }
    fetcher.add(partitionKey, { ...target, delayedUntilMs: 0, fenced: false, leaderLagRetries: 0 });
  }

  /** Stops fetching this partition (it leads now, or is gone). */
  unfollow(topic: string, partition: number): void {
    const partitionKey = key(topic, partition);
    const leader = this.leaderOf.get(partitionKey);
    if (leader === undefined) return;
    this.leaderOf.delete(partitionKey);
    this.fetchers.get(leader)?.remove(partitionKey);
  }

  /** The partitions followed, per leader (tests, diagnostics). */
  followed(): Map<number, string[]> {
    const result = new Map<number, string[]>();
    for (const [leader, fetcher] of this.fetchers) result.set(leader, fetcher.partitionKeys());
    return result;
  }

  /** Waits for every fetch loop to end. */
  async stop(): Promise<void> {
    const fetchers = [...this.fetchers.values()];
    this.fetchers.clear();
    this.leaderOf.clear();
    await Promise.all(fetchers.map((fetcher) => fetcher.stop()));
  }
}

/** The fetch loop towards one leader broker. */
class LeaderFetcher {
  private readonly partitions = new Map<string, FetchState>();
  private connection: PeerConnection | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  /** Wakes an idle loop when a partition is added. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly leaderId: number,
    private readonly options: ReplicaFetcherOptions,
    private readonly settings: ReplicaFetchSettings,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  add(partitionKey: string, state: FetchState): void {
    this.partitions.set(partitionKey, state);
    this.wake?.();
  }

  remove(partitionKey: string): void {
    this.partitions.delete(partitionKey);
  }

  partitionKeys(): string[] {
    return [...this.partitions.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connection?.close();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { clock, logger } = this.options;
    while (!this.stopped) {
      const ready = this.readyPartitions();
      if (ready.length === 0) {
        await this.idle();
        continue;
      }
      try {
        const connection = await this.connect();
        await this.fetchOnce(connection, ready);
      } catch (error) {
        if (this.stopped) break;
        this.options.onLeaderUnreachable?.(this.leaderId);
        logger.warn('replica fetch from the leader failed', {
          leaderId: this.leaderId,
          error,
          backoffMs: this.settings.backoffMs,
        });
        this.connection?.close();
        this.connection = undefined;
        await sleepOn(clock, this.settings.backoffMs);
      }
    }
    this.connection?.close();
  }

  private readyPartitions(): FetchState[] {
    const nowMs = this.options.clock.monotonicMs();
    return [...this.partitions.values()].filter(
      (state) => !state.fenced && state.delayedUntilMs <= nowMs,
    );
  }

  /** Sleeps until a partition is added or the earliest backoff ends. */
  private idle(): Promise<void> {
    const nowMs = this.options.clock.monotonicMs();
    let waitMs = this.settings.backoffMs;
    for (const state of this.partitions.values()) {
      if (!state.fenced && state.delayedUntilMs > nowMs) {
        waitMs = Math.min(waitMs, state.delayedUntilMs - nowMs);
      }
    }
    return new Promise((resolve) => {
      const timer = this.options.clock.schedule(Math.max(1, waitMs), () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async connect(): Promise<PeerConnection> {
    if (this.connection !== undefined && !this.connection.isBroken) return this.connection;
    const address = this.options.brokerAddress(this.leaderId);
    if (address === undefined) throw new Error(`no address known for broker ${this.leaderId}`);
    this.connection = await PeerConnection.open({
      transport: this.options.transport,
      clock: this.options.clock,
      host: address.host,
      port: address.port,
      clientId: `replica-fetcher-${this.options.replicas.localReplicaId}`,
      timeoutMs: this.settings.socketTimeoutMs,
    });
    return this.connection;
  }

  /** The local partition if it still follows this state's leader at this state's epoch. */
  private currentFollower(state: FetchState): Partition | undefined {
    if (this.partitions.get(key(state.topic, state.partition)) !== state) return undefined;
    const partition = this.options.replicas.get(state.topic, state.partition);
    if (partition === undefined || partition.isLeader) return undefined;
    if (partition.leaderEpoch !== state.leaderEpoch) return undefined;
    return partition;
  }

  private async fetchOnce(connection: PeerConnection, ready: FetchState[]): Promise<void> {
    const byTopicId = new Map<string, FetchState[]>();
    const sent = new Map<string, FetchState>();
    for (const state of ready) {
      const partition = this.currentFollower(state);
      if (partition === undefined) continue;
      const list = byTopicId.get(state.topicId) ?? [];
      list.push(state);
      byTopicId.set(state.topicId, list);
      sent.set(`${state.topicId}/${state.partition}`, state);
    }
    if (sent.size === 0) return;
    const localId = this.options.replicas.localReplicaId;
    const request: FetchRequest = {
      replicaState: { replicaId: localId, replicaEpoch: this.options.brokerEpoch() },
      maxWaitMs: this.settings.waitMaxMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.responseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopicId].map(([topicId, states]) => ({
        topicId,
        partitions: states.map((state) => {
          const log = this.options.replicas.get(state.topic, state.partition)!.log;
          return {
            partition: state.partition,
            currentLeaderEpoch: state.leaderEpoch,
            fetchOffset: log.logEndOffset,
            lastFetchedEpoch: log.latestLeaderEpoch() ?? -1,
            logStartOffset: log.logStartOffset,
            partitionMaxBytes: this.settings.fetchMaxBytes,
          };
        }),
      })),
      forgottenTopicsData: [],
      rackId: '',
    };
    const response = await connection.request<FetchResponse>(
      ApiKey.Fetch,
      fetchVersion,
      request,
      this.settings.waitMaxMs + this.settings.socketTimeoutMs,
    );
    if (response.errorCode !== undefined && response.errorCode !== ErrorCode.NONE) {
      throw new Error(`fetch failed with error ${response.errorCode}`);
    }
    for (const topic of response.responses) {
      for (const data of topic.partitions) {
        const state = sent.get(`${topic.topicId}/${data.partitionIndex}`);
        if (state === undefined || this.stopped) continue;
        await this.applyPartition(connection, state, data);
      }
    }
  }

  private async applyPartition(
    connection: PeerConnection,
    state: FetchState,
    data: FetchResponse['responses'][number]['partitions'][number],
  ): Promise<void> {
    const partition = this.currentFollower(state);
    if (partition === undefined) return;
    const { logger, clock } = this.options;
    const context = { topic: state.topic, partition: state.partition, leaderId: this.leaderId };
    switch (data.errorCode) {
      case ErrorCode.NONE:
        state.leaderLagRetries = 0;
        break;
      case ErrorCode.FENCED_LEADER_EPOCH:
        logger.warn('replica fetch fenced: the leader has a newer epoch', {
          ...context,
          leaderEpoch: state.leaderEpoch,
        });
        state.fenced = true;
        return;
      case ErrorCode.OFFSET_OUT_OF_RANGE:
        await this.restartAtLeaderLogStart(connection, state, partition);
        return;
      default: {
        const lagging = leaderLagErrors.has(data.errorCode);
        const delayMs = lagging
          ? Math.min(this.settings.backoffMs, leaderLagRetryMs * 2 ** state.leaderLagRetries)
          : this.settings.backoffMs;
        if (!lagging || state.leaderLagRetries === 0) {
          logger.info('replica fetch partition error; backing off', {
            ...context,
            errorCode: data.errorCode,
            delayMs,
          });
        }
        if (lagging) state.leaderLagRetries = Math.min(state.leaderLagRetries + 1, 16);
        state.delayedUntilMs = clock.monotonicMs() + delayMs;
        return;
      }
    }
    const diverging = data.divergingEpoch;
    if (diverging !== undefined && diverging.epoch >= 0 && diverging.endOffset >= 0n) {
      await this.truncateOnDivergence(partition, diverging.epoch, diverging.endOffset);
      return;
    }
    const records = data.records;
    const bytes =
      records === null || records === undefined
        ? Buffer.alloc(0)
        : Array.isArray(records)
          ? Buffer.concat(records)
          : (records as Buffer);
    if (bytes.length > 0) await partition.appendAsFollower(bytes);
    partition.updateFollowerHighWatermark(data.highWatermark);
  }

  /**
   * KIP-279: the leader's log ends `leaderEpoch` at `leaderEndOffset`. With our own end of that
   * epoch (the largest local epoch ≤ it): same epoch → truncate to the lower of both ends; a
   * lower local epoch → truncate to its end (the next fetch carries that epoch and converges);
   * none → to the lower of the leader's end and our LEO.
   */
  private async truncateOnDivergence(
    partition: Partition,
    leaderEpoch: number,
    leaderEndOffset: bigint,
  ): Promise<void> {
    const local = partition.log.endOffsetForEpoch(leaderEpoch);
    const logEnd = partition.log.logEndOffset;
    let target: bigint;
    if (local.leaderEpoch < 0 || local.endOffset < 0n) {
      target = leaderEndOffset < logEnd ? leaderEndOffset : logEnd;
    } else if (local.leaderEpoch === leaderEpoch) {
      target = leaderEndOffset < local.endOffset ? leaderEndOffset : local.endOffset;
    } else {
      target = local.endOffset;
    }
    if (target > logEnd) target = logEnd;
    this.options.logger.warn('follower log diverged from the leader: truncating', {
      topic: partition.topic,
      partition: partition.index,
      leaderId: this.leaderId,
      leaderDivergingEpoch: leaderEpoch,
      leaderEndOffset: String(leaderEndOffset),
      logEndOffset: String(logEnd),
      truncateTo: String(target),
    });
    await partition.truncateTo(target);
  }

  private async restartAtLeaderLogStart(
    connection: PeerConnection,
    state: FetchState,
    partition: Partition,
  ): Promise<void> {
    const response = await connection.request<ListOffsetsResponse>(
      ApiKey.ListOffsets,
      listOffsetsVersion,
      {
        replicaId: this.options.replicas.localReplicaId,
        isolationLevel: 0,
        topics: [
          {
            name: state.topic,
            partitions: [
              {
                partitionIndex: state.partition,
                currentLeaderEpoch: state.leaderEpoch,
                timestamp: earliestTimestamp,
              },
            ],
          },
        ],
      },
      this.settings.socketTimeoutMs,
    );
    const answer = response.topics[0]?.partitions[0];
    if (this.currentFollower(state) !== partition) return;
    if (
      answer === undefined ||
      answer.errorCode !== ErrorCode.NONE ||
      answer.offset === undefined
    ) {
      state.delayedUntilMs = this.options.clock.monotonicMs() + this.settings.backoffMs;
      return;
    }
    const leaderStart = answer.offset;
    const logEnd = partition.log.logEndOffset;
    this.options.logger.warn('follower out of the leader log range: restarting at its log start', {
      topic: state.topic,
      partition: state.partition,
      leaderId: this.leaderId,
      leaderLogStartOffset: String(leaderStart),
      logEndOffset: String(logEnd),
    });
    if (leaderStart > logEnd) await partition.truncateFullyAndStartAt(leaderStart);
    else state.delayedUntilMs = this.options.clock.monotonicMs() + this.settings.backoffMs;
  }
}

/** A follower fetches from its leader; a leader, an offline or a removed partition does not. */
export function followRoleChange(fetchers: ReplicaFetcherManager, change: RoleChange): void {
  if (change.role === 'follower' && change.leaderId >= 0) {
    fetchers.follow({
      topic: change.topic,
      topicId: change.topicId,
      partition: change.partition,
      leaderId: change.leaderId,
      leaderEpoch: leaderEpoch(change.leaderEpoch),
    });
  } else {
    fetchers.unfollow(change.topic, change.partition);
  }
}
