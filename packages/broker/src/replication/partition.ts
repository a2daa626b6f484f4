/**
 * One topic-partition on this broker (Kafka's cluster/Partition.scala, Redpanda's partition): the
 * log, its producer state, the leader epoch, the replica set and ISR with each follower's fetch
 * state, the high watermark and the last stable offset. Handlers and the internal-topic writers
 * append and read only through it, so these values change in one place.
 *
 * - Appends as leader stamp the current leader epoch; `acks=all` checks the ISR against
 *   min.insync.replicas first, then parks until the HW covers the batch (immediate with one
 *   replica once the append is durable).
 * - HW = min LEO over the leader, the maximal ISR and any caught-up replica outside it; it never
 *   decreases and does not move while |ISR| < min(min.insync.replicas, replicas) (Kafka ≥ 3.7).
 * - Reads: consumers up to the HW (read_uncommitted) or LSO (read_committed), replicas up to LEO.
 * - Requests carrying a current leader epoch are fenced: older → FENCED_LEADER_EPOCH, newer →
 *   UNKNOWN_LEADER_EPOCH (KIP-320).
 * The storage log keeps the HW value (read bounds, long-poll wake-ups); only this class sets it.
 */
import { ErrorCode, type ValidatedBatch } from '@gregor/protocol';
import type {
  AppendResult,
  EpochEndOffset,
  PartitionLog,
  ReadResult,
  TimestampOffset,
} from '@gregor/storage';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type {
  DescribedProducer,
  PartitionProducers,
  TransactionMarker,
} from '../producer/partition-producers.js';
import type { AbortedTransactionEntry } from '../producer/producer-state.js';
import type { ProducerStateManager } from '../producer/producer-state-manager.js';
import { PartitionError } from './errors.js';
import {
  type LeaderEpoch,
  leaderEpoch,
  type ReadIsolation,
  type ReplicaId,
  type RequiredAcks,
} from './types.js';

/** What the leader knows of one follower (Kafka's Replica.scala). */
export interface FollowerState {
  logEndOffset: bigint;
  /** Monotonic ms; -Infinity: never caught up. */
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  /** The leader's LEO at the follower's previous fetch. */
  lastFetchLeaderLogEndOffset: bigint;
  /** The follower broker's epoch from its fetch (KIP-903 ReplicaState); -1 unknown. */
  brokerEpoch: bigint;
}

export interface PartitionOptions {
  log: PartitionLog;
  localReplicaId: ReplicaId;
  /** Producer state store of the broker; undefined: no idempotence/transaction checks. */
  producers: ProducerStateManager | undefined;
  clock: Clock;
  logger: Logger;
  /** min.insync.replicas of the topic (read when the ISR is smaller than the replica set). */
  minInsyncReplicas: () => number;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs: () => number;
  /** Told after a follower's fetch was recorded (the ISR manager checks for an expansion). */
  onFollowerFetch?: (partition: Partition, id: ReplicaId) => void;
  /**
   * Whether a replica's broker is registered (cluster mode: in the metadata image). A recently
   * caught-up replica outside the ISR holds the HW back only while it lives (Kafka's
   * isReplicaIsrEligible): a dead one would stall every acks=all produce for replica.lag.time.max.ms.
   * Default: every replica lives.
   */
  replicaRegistered?: (id: ReplicaId) => boolean;
}

export interface LeaderState {
  leaderEpoch: LeaderEpoch;
  replicas: readonly ReplicaId[];
  isr: readonly ReplicaId[];
  /** The controller's partition epoch of this state (AlterPartition sends it); -1 unknown. */
  partitionEpoch?: number;
}

export interface LeaderAppendOptions {
  requiredAcks: RequiredAcks;
  /** The batches' headers: batches with a producer id go through the producer checks. */
  batches?: readonly ValidatedBatch[];
  /** The topic's min.insync.replicas when the caller has it (else `options.minInsyncReplicas`). */
  minInsyncReplicas?: number;
  /** How long acks=all waits for the HW (REQUEST_TIMED_OUT after). */
  timeoutMs?: number;
}

export interface PartitionReadOptions {
  isolation: ReadIsolation;
  maxBytes: number;
  minOneBatch?: boolean;
}

export interface PartitionReadResult extends ReadResult {
  /** read_committed only: aborted transactions overlapping the returned range. */
  abortedTransactions: AbortedTransactionEntry[] | null;
}

/** The offsets a fetch response reports, taken before the read. */
export interface PartitionOffsets {
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
}

interface ParkedProduce {
  requiredOffset: bigint;
  minInsyncReplicas: number;
  resolve: (errorCode: number) => void;
  timer: TimerHandle | null;
}

const defaultProduceTimeoutMs = 30_000;

function unknownFollower(): FollowerState {
  return {
    logEndOffset: -1n,
    lastCaughtUpTimeMs: Number.NEGATIVE_INFINITY,
    lastFetchTimeMs: Number.NEGATIVE_INFINITY,
    lastFetchLeaderLogEndOffset: -1n,
    brokerEpoch: -1n,
  };
}

export class Partition {
  readonly topic: string;
  readonly index: number;
  readonly log: PartitionLog;
  private role: 'leader' | 'follower';
  private epoch: LeaderEpoch;
  private currentPartitionEpoch = -1;
  private replicaSet: ReplicaId[];
  /** Committed by the controller. */
  private committedIsr: Set<ReplicaId>;
  /** Committed ISR plus additions in flight (Kafka's maximal ISR). */
  private pendingIsr: Set<ReplicaId>;
  private readonly followers = new Map<ReplicaId, FollowerState>();
  private parked: ParkedProduce[] = [];
  /** This partition's producer state (idempotence, transactions, LSO, aborted index). */
  private producerState: PartitionProducers | undefined;
  /** Start offset of the current leader epoch (ListOffsets waits for the HW to pass it). */
  private epochStartOffset: bigint;
  /**
   * End of the completed local appends: the leader's own contribution to the HW. Not the LEO,
   * which also counts batches the OS accepted whose acks=all append still waits for its
   * fdatasync: consumers never see a record before its producer's acks are met.
   */
  private appendedEnd: bigint;

  constructor(private readonly options: PartitionOptions) {
    this.log = options.log;
    this.topic = options.log.topic;
    this.index = options.log.partition;
    this.producerState = options.producers?.forLog(options.log);
    this.role = 'leader';
    this.epoch = leaderEpoch(options.log.latestLeaderEpoch() ?? 0);
    this.replicaSet = [options.localReplicaId];
    this.committedIsr = new Set(this.replicaSet);
    this.pendingIsr = new Set(this.replicaSet);
    this.epochStartOffset = this.log.logEndOffset;
    this.appendedEnd = this.log.logEndOffset;
  }

  // ---------------------------------------------------------------- state

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get leaderEpoch(): LeaderEpoch {
    return this.epoch;
  }

  /** The controller's partition epoch of the ISR this leader holds (-1 unknown). */
  get partitionEpoch(): number {
    return this.currentPartitionEpoch;
  }

  get replicas(): readonly ReplicaId[] {
    return this.replicaSet;
  }

  get isr(): ReadonlySet<ReplicaId> {
    return this.committedIsr;
  }

  /** The committed ISR plus additions not yet committed. */
  get maximalIsr(): ReadonlySet<ReplicaId> {
    return this.pendingIsr;
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  get logEndOffset(): bigint {
    return this.log.logEndOffset;
  }

  get logStartOffset(): bigint {
    return this.log.logStartOffset;
  }

  /** Kafka's LSO: below the first offset of any ongoing transaction, never above the HW. */
  get lastStableOffset(): bigint {
    return this.producerState?.lastStableOffset() ?? this.log.highWatermark;
  }

  follower(id: ReplicaId): Readonly<FollowerState> | undefined {
    return this.followers.get(id);
  }

  offsets(): PartitionOffsets {
    return {
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset,
      logStartOffset: this.logStartOffset,
      logEndOffset: this.logEndOffset,
    };
  }

  /** KIP-320: the error for a request's current leader epoch (-1: not given). */
  leaderEpochError(currentLeaderEpoch: number): number {
    if (currentLeaderEpoch < 0 || currentLeaderEpoch === this.epoch) return ErrorCode.NONE;
    return currentLeaderEpoch > this.epoch
      ? ErrorCode.UNKNOWN_LEADER_EPOCH
      : ErrorCode.FENCED_LEADER_EPOCH;
  }

  /** Throws the fencing error of `leaderEpochError` (none for -1). */
  checkLeaderEpoch(currentLeaderEpoch: number): void {
    const errorCode = this.leaderEpochError(currentLeaderEpoch);
    if (errorCode !== ErrorCode.NONE) {
      throw new PartitionError(
        errorCode,
        `leader epoch ${currentLeaderEpoch} does not match ${this.topic}-${this.index}'s ${this.epoch}`,
      );
    }
  }

  /** The broker's producer state store, built after the partitions (start-up order). */
  setProducers(producers: ProducerStateManager): void {
    this.producerState = producers.forLog(this.log);
  }

  // ---------------------------------------------------------------- roles

  /**
   * Becomes (or stays) leader at `state.leaderEpoch`: records the epoch's start at the LEO in the
   * epoch cache before any write (KIP-101), resets follower state, then recomputes the HW.
   */
  async makeLeader(state: LeaderState): Promise<void> {
    const latest = this.log.latestLeaderEpoch();
    if (latest === undefined || state.leaderEpoch > latest) {
      await this.log.beginLeaderEpoch(state.leaderEpoch);
    }
    const newLeadership = this.role !== 'leader' || state.leaderEpoch !== this.epoch;
    if (newLeadership) {
      this.epochStartOffset = this.log.logEndOffset;
      this.options.logger.warn('partition leadership: this broker leads', {
        topic: this.topic,
        partition: this.index,
        previousRole: this.role,
        previousLeaderEpoch: this.epoch,
        leaderEpoch: state.leaderEpoch,
        isr: [...state.isr],
      });
    }
    const previous = newLeadership ? new Map<ReplicaId, FollowerState>() : new Map(this.followers);
    // The same leadership again (a new partition epoch from the metadata): an expansion still in
    // flight keeps counting for the HW, or the HW could pass records the new member lacks.
    const additionsInFlight = newLeadership
      ? []
      : [...this.pendingIsr].filter((id) => !this.committedIsr.has(id) && !state.isr.includes(id));
    this.role = 'leader';
    this.epoch = state.leaderEpoch;
    this.currentPartitionEpoch = state.partitionEpoch ?? -1;
    this.setReplicas(state.replicas, state.isr);
    for (const id of additionsInFlight) {
      if (this.replicaSet.includes(id)) this.pendingIsr.add(id);
    }
    // A new epoch starts every follower afresh; the same epoch again keeps what fetches told us.
    // An ISR member starts caught up now (Kafka's resetReplicaState): it gets
    // replica.lag.time.max.ms to fetch before the shrink check may drop it.
    this.followers.clear();
    const nowMs = this.options.clock.monotonicMs();
    for (const id of this.replicaSet) {
      if (id === this.options.localReplicaId) continue;
      const follower = previous.get(id) ?? unknownFollower();
      if (this.committedIsr.has(id) && !previous.has(id)) follower.lastCaughtUpTimeMs = nowMs;
      this.followers.set(id, follower);
    }
    this.maybeIncrementHighWatermark();
  }

  /** Becomes a follower: parked acks=all produces end with NOT_LEADER_OR_FOLLOWER. */
  makeFollower(state: { leaderEpoch: LeaderEpoch; replicas: readonly ReplicaId[] }): void {
    if (this.role !== 'follower' || state.leaderEpoch !== this.epoch) {
      this.options.logger.warn('partition leadership: this broker follows', {
        topic: this.topic,
        partition: this.index,
        previousRole: this.role,
        previousLeaderEpoch: this.epoch,
        leaderEpoch: state.leaderEpoch,
      });
    }
    this.role = 'follower';
    this.epoch = state.leaderEpoch;
    this.setReplicas(state.replicas, []);
    this.followers.clear();
    this.completeParked(() => ErrorCode.NOT_LEADER_OR_FOLLOWER, true);
  }

  /** The controller committed a new ISR (AlterPartition answered). */
  updateIsr(
    isr: readonly ReplicaId[],
    pendingAdditions: readonly ReplicaId[] = [],
    partitionEpoch?: number,
  ): void {
    if (partitionEpoch !== undefined) this.currentPartitionEpoch = partitionEpoch;
    const before = [...this.committedIsr];
    const changed = before.length !== isr.length || isr.some((id) => !this.committedIsr.has(id));
    if (changed) {
      // WARN, not INFO: an unnoticed shrink is how acknowledged data ends up on one disk.
      const kind =
        isr.length < before.length ? 'shrink' : isr.length > before.length ? 'expand' : 'change';
      this.options.logger.warn(`ISR ${kind}`, {
        topic: this.topic,
        partition: this.index,
        leaderEpoch: this.epoch,
        previousIsr: before,
        isr: [...isr],
      });
    }
    this.committedIsr = new Set(isr);
    this.pendingIsr = new Set([...isr, ...pendingAdditions]);
    this.maybeIncrementHighWatermark();
  }

  private setReplicas(replicas: readonly ReplicaId[], isr: readonly ReplicaId[]): void {
    this.replicaSet = [...replicas];
    this.committedIsr = new Set(isr);
    this.pendingIsr = new Set(isr);
  }

  // ---------------------------------------------------------------- leader appends

  /**
   * Appends as leader. The log append starts synchronously (the caller's request order is the
   * append order). Rejects with PartitionError / ProducerStateError / storage errors.
   */
  appendAsLeader(records: Buffer, options: LeaderAppendOptions): Promise<AppendResult> {
    if (this.role !== 'leader') {
      return Promise.reject(
        new PartitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `not the leader of ${this.name}`),
      );
    }
    const minInsyncReplicas = options.minInsyncReplicas ?? this.options.minInsyncReplicas();
    if (options.requiredAcks === -1 && this.committedIsr.size < minInsyncReplicas) {
      return Promise.reject(
        new PartitionError(
          ErrorCode.NOT_ENOUGH_REPLICAS,
          `min.insync.replicas is ${minInsyncReplicas}; ${this.name} has ${this.committedIsr.size} in-sync replica(s)`,
        ),
      );
    }
    const appendOptions = {
      durability: options.requiredAcks === -1 ? 'fsync' : 'write',
      leaderEpoch: this.epoch,
    } as const;
    const producerState = this.producerState;
    const appended =
      producerState !== undefined && options.batches !== undefined
        ? producerState.append(records, options.batches, appendOptions)
        : this.log.append(records, appendOptions);
    return appended.then((result) => {
      const end = result.lastOffset + 1n;
      this.appended(end);
      // The common cases answer without another promise: acks 0/1, or a HW already past the end.
      if (options.requiredAcks !== -1) return result;
      if (
        this.leadsAt(appendOptions.leaderEpoch) &&
        this.highWatermark >= end &&
        this.completionError(minInsyncReplicas) === ErrorCode.NONE
      ) {
        return result;
      }
      return this.waitForHighWatermark(end, {
        minInsyncReplicas,
        leaderEpoch: appendOptions.leaderEpoch,
        timeoutMs: options.timeoutMs ?? defaultProduceTimeoutMs,
      }).then((errorCode) => {
        if (errorCode !== ErrorCode.NONE) {
          throw new PartitionError(errorCode, `acks=all produce to ${this.name} not completed`);
        }
        return result;
      });
    });
  }

  /**
   * Writes a transaction marker through the producer state (which checks its epochs); returns an
   * error code. The marker is durable and below the HW when this resolves with NONE.
   */
  async writeMarker(marker: TransactionMarker): Promise<number> {
    const producerState = this.producerState;
    if (producerState === undefined) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (this.role !== 'leader') return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const markerEpoch = this.epoch;
    const written = await producerState.writeMarker(marker, markerEpoch);
    if (written.errorCode !== ErrorCode.NONE) return written.errorCode;
    this.appended(written.endOffset);
    await written.indexed;
    return this.waitForHighWatermark(written.endOffset, {
      minInsyncReplicas: 1,
      leaderEpoch: markerEpoch,
      timeoutMs: defaultProduceTimeoutMs,
    });
  }

  private appended(endOffset: bigint): void {
    if (endOffset > this.appendedEnd) this.appendedEnd = endOffset;
    this.maybeIncrementHighWatermark();
  }

  /**
   * Parks until HW ≥ `requiredOffset`; NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND or a timeout.
   * Leadership lost (or a new epoch begun) while the append was on its way to disk: makeFollower
   * completed the parked produces before this one parked, so it answers NOT_LEADER_OR_FOLLOWER
   * now instead of holding the client until its timeout (seen after a SIGSTOP that froze the
   * leader in the middle of an fsync, and in a controlled shutdown). That check comes before the
   * HW's: in between, this broker may have followed, truncated the batch away and led again with
   * a HW past its offsets, which now hold other records (parked there, it was acknowledged at an
   * offset it never kept: acked records lost in the 24-fault run at c953672).
   */
  private waitForHighWatermark(
    requiredOffset: bigint,
    options: { minInsyncReplicas: number; leaderEpoch: LeaderEpoch; timeoutMs: number },
  ): Promise<number> {
    if (!this.leadsAt(options.leaderEpoch)) {
      return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    if (this.highWatermark >= requiredOffset) {
      return Promise.resolve(this.completionError(options.minInsyncReplicas));
    }
    return new Promise((resolve) => {
      const parked: ParkedProduce = {
        requiredOffset,
        minInsyncReplicas: options.minInsyncReplicas,
        resolve,
        timer: null,
      };
      parked.timer = this.options.clock.schedule(options.timeoutMs, () => {
        this.parked = this.parked.filter((other) => other !== parked);
        resolve(ErrorCode.REQUEST_TIMED_OUT);
      });
      this.parked.push(parked);
    });
  }

  /** Whether this broker still leads at `epoch` (a write of that epoch is still this log's). */
  private leadsAt(epoch: LeaderEpoch): boolean {
    return this.role === 'leader' && this.epoch === epoch;
  }

  /** Kafka's DelayedProduce completion: the data is in, but was the ISR large enough? */
  private completionError(minInsyncReplicas: number): number {
    return this.pendingIsr.size < minInsyncReplicas
      ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
      : ErrorCode.NONE;
  }

  private completeParked(errorOf: (parked: ParkedProduce) => number | null, all = false): void {
    if (this.parked.length === 0) return;
    const waiting: ParkedProduce[] = [];
    for (const parked of this.parked) {
      const errorCode = all || this.highWatermark >= parked.requiredOffset ? errorOf(parked) : null;
      if (errorCode === null) {
        waiting.push(parked);
        continue;
      }
      parked.timer?.cancel();
      parked.resolve(errorCode);
    }
    this.parked = waiting;
  }

  // ---------------------------------------------------------------- high watermark

  /** Lowest LEO among the replicas the HW must wait for; null while the strict rule holds it. */
  private highWatermarkCandidate(): bigint | null {
    const replicationFactor = this.replicaSet.length;
    if (replicationFactor > 1) {
      const effectiveMinIsr = Math.min(this.options.minInsyncReplicas(), replicationFactor);
      if (this.committedIsr.size < effectiveMinIsr) return null;
    }
    const logEnd = this.log.logEndOffset;
    let candidate = this.appendedEnd < logEnd ? this.appendedEnd : logEnd;
    if (this.followers.size === 0) return candidate;
    const nowMs = this.options.clock.monotonicMs();
    for (const [id, follower] of this.followers) {
      const counted =
        this.pendingIsr.has(id) ||
        (this.isCaughtUp(follower, nowMs) && (this.options.replicaRegistered?.(id) ?? true));
      if (counted && follower.logEndOffset < candidate) candidate = follower.logEndOffset;
    }
    return candidate;
  }

  /** Recomputes the HW as leader; returns whether it moved. */
  maybeIncrementHighWatermark(): boolean {
    if (this.role !== 'leader') return false;
    const candidate = this.highWatermarkCandidate();
    if (candidate === null || candidate <= this.log.highWatermark) return false;
    this.log.setHighWatermark(candidate);
    this.completeParked((parked) => this.completionError(parked.minInsyncReplicas));
    return true;
  }

  /**
   * Sets the HW restored at start-up (checkpoint). It is bounded by the log (storage caps it at the
   * LEO); `asSoleLeader` (a single node) then recomputes it as leader, so a sole replica's HW
   * becomes its LEO. In cluster mode the role is not known yet and the HW stays as restored.
   */
  restoreHighWatermark(offset: bigint, options: { asSoleLeader: boolean }): void {
    const bounded = offset < this.log.logStartOffset ? this.log.logStartOffset : offset;
    this.log.setHighWatermark(bounded);
    if (options.asSoleLeader) this.maybeIncrementHighWatermark();
  }

  /** Follower: HW = min(leader's HW, own LEO), never backwards. */
  updateFollowerHighWatermark(leaderHighWatermark: bigint): void {
    const end = this.log.logEndOffset;
    const bounded = leaderHighWatermark < end ? leaderHighWatermark : end;
    if (bounded > this.log.highWatermark) this.log.setHighWatermark(bounded);
  }

  private isCaughtUp(follower: FollowerState, nowMs: number): boolean {
    return (
      follower.logEndOffset >= this.log.logEndOffset ||
      nowMs - follower.lastCaughtUpTimeMs <= this.options.replicaLagTimeMaxMs()
    );
  }

  // ---------------------------------------------------------------- follower bookkeeping

  /**
   * A follower fetched at `fetchOffset` (its LEO). lastCaughtUpTime follows Kafka: this fetch's
   * time when it reached the leader's LEO, else the previous fetch's time when this fetch reached
   * the LEO the leader had then. Recomputes the HW.
   */
  updateFollowerFetchState(id: ReplicaId, fetchOffset: bigint, brokerEpoch = -1n): void {
    const follower = this.followers.get(id);
    if (follower === undefined) return;
    follower.brokerEpoch = brokerEpoch;
    const nowMs = this.options.clock.monotonicMs();
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, nowMs);
    } else if (fetchOffset >= follower.lastFetchLeaderLogEndOffset) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, follower.lastFetchTimeMs);
    }
    follower.logEndOffset = fetchOffset;
    follower.lastFetchLeaderLogEndOffset = leaderEnd;
    follower.lastFetchTimeMs = nowMs;
    this.maybeIncrementHighWatermark();
    this.options.onFollowerFetch?.(this, id);
  }

  /** Followers out of sync for longer than replica.lag.time.max.ms (ISR shrink candidates). */
  outOfSyncReplicas(): ReplicaId[] {
    const nowMs = this.options.clock.monotonicMs();
    const result: ReplicaId[] = [];
    for (const id of this.committedIsr) {
      const follower = this.followers.get(id);
      if (follower !== undefined && !this.isCaughtUp(follower, nowMs)) result.push(id);
    }
    return result;
  }

  /**
   * Whether `id` may join the ISR: its LEO reached the HW and the current epoch's start (so it
   * holds everything this leader may have acknowledged).
   */
  isIsrEligible(id: ReplicaId): boolean {
    const follower = this.followers.get(id);
    return (
      follower !== undefined &&
      follower.logEndOffset >= this.highWatermark &&
      follower.logEndOffset >= this.epochStartOffset
    );
  }

  // ---------------------------------------------------------------- follower appends

  /** Appends fetched batches keeping the leader's offsets and epochs; producer state follows. */
  async appendAsFollower(records: Buffer): Promise<AppendResult> {
    const from = this.log.logEndOffset;
    const result = await this.log.appendAsFollower(records, { durability: 'write' });
    this.appendedEnd = this.log.logEndOffset;
    await this.producerState?.replay(from, this.log.logEndOffset);
    return result;
  }

  /**
   * Drops every batch from `offset` on (divergence, KIP-101/279) and rolls the producer state back
   * to the new log end (Kafka's truncateAndReload). Truncating below the HW is an unclean election.
   */
  async truncateTo(offset: bigint): Promise<void> {
    if (offset < this.highWatermark) {
      this.options.logger.warn('truncating below the high watermark', {
        topic: this.topic,
        partition: this.index,
        offset: String(offset),
        highWatermark: String(this.highWatermark),
      });
    }
    await this.log.truncateTo(offset);
    this.appendedEnd = this.log.logEndOffset;
    await this.producerState?.load();
  }

  /** Empties the log and restarts it at `offset` (a follower below the leader's log start). */
  async truncateFullyAndStartAt(offset: bigint): Promise<void> {
    await this.log.truncateFullyAndStartAt(offset);
    this.appendedEnd = this.log.logEndOffset;
    await this.producerState?.load();
  }

  // ---------------------------------------------------------------- reads

  /** Consumers and admin calls are served by the leader only (no KIP-392 follower reads yet). */
  requireLeader(): void {
    if (this.role !== 'leader') {
      throw new PartitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `not the leader of ${this.name}`);
    }
  }

  /**
   * Reads from `offset`: consumers up to the HW (uncommitted) or LSO (committed), replicas up to
   * the LEO. Throws OFFSET_OUT_OF_RANGE outside [log start, LEO].
   */
  async read(offset: bigint, options: PartitionReadOptions): Promise<PartitionReadResult> {
    if (options.isolation !== 'replica') this.requireLeader();
    if (offset < this.log.logStartOffset || offset > this.log.logEndOffset) {
      throw new PartitionError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside [${this.log.logStartOffset}, ${this.log.logEndOffset}] of ${this.name}`,
      );
    }
    const bound = this.readBound(options.isolation);
    const committed = options.isolation === 'committed';
    const empty = { buffers: [], sizeBytes: 0, abortedTransactions: committed ? [] : null };
    if (offset >= bound || (options.maxBytes <= 0 && options.minOneBatch !== true)) return empty;
    const read = await this.log.read(offset, {
      maxBytes: Math.max(0, options.maxBytes),
      maxOffset: bound,
      minOneBatch: options.minOneBatch ?? false,
    });
    let abortedTransactions: AbortedTransactionEntry[] | null = committed ? [] : null;
    if (committed && read.sizeBytes > 0) {
      abortedTransactions = this.producerState?.abortedTransactions(offset, bound) ?? [];
    }
    return { buffers: read.buffers, sizeBytes: read.sizeBytes, abortedTransactions };
  }

  readBound(isolation: ReadIsolation): bigint {
    if (isolation === 'replica') return this.log.logEndOffset;
    return isolation === 'committed' ? this.lastStableOffset : this.log.highWatermark;
  }

  /** Long poll: resolves true once the read bound passes `offset`, false on timeout or abort. */
  waitForData(
    offset: bigint,
    options: { isolation: ReadIsolation; timeoutMs: number; signal?: AbortSignal },
  ): Promise<boolean> {
    // Consumers wait on the HW in both modes: the LSO moves only when something is appended.
    return this.log.waitForData(offset, {
      bound: options.isolation === 'replica' ? 'logEnd' : 'highWatermark',
      timeoutMs: options.timeoutMs,
      ...(options.signal && { signal: options.signal }),
    });
  }

  /**
   * ListOffsets' upper bound: the LSO or HW. A new leader answers OFFSET_NOT_AVAILABLE until its
   * HW reaches the start of its epoch (it may not know the committed end before).
   */
  listOffsetsBound(isolation: 'committed' | 'uncommitted'): bigint {
    this.requireLeader();
    if (this.highWatermark < this.epochStartOffset) {
      throw new PartitionError(
        ErrorCode.OFFSET_NOT_AVAILABLE,
        `${this.name}'s high watermark has not reached its leader epoch's start`,
      );
    }
    return isolation === 'committed' ? this.lastStableOffset : this.highWatermark;
  }

  /**
   * A follower's fetch with the epoch of the last batch it holds (Fetch v12+): when this log's end
   * for that epoch is a lower epoch or below the fetch offset, the follower diverged and must
   * truncate to the returned end before fetching on (KIP-595, Kafka's Partition.fetchRecords).
   * An epoch older than everything in the epoch cache throws OFFSET_OUT_OF_RANGE (the follower
   * restarts from the log start).
   */
  divergingEpoch(
    fetchOffset: bigint,
    lastFetchedEpoch: number,
  ): { epoch: number; endOffset: bigint } | null {
    if (lastFetchedEpoch < 0) return null;
    const end = this.log.endOffsetForEpoch(lastFetchedEpoch);
    if (end.leaderEpoch < 0 || end.endOffset < 0n) {
      throw new PartitionError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `epoch ${lastFetchedEpoch} is older than ${this.name}'s log`,
      );
    }
    if (end.leaderEpoch < lastFetchedEpoch || end.endOffset < fetchOffset) {
      return { epoch: end.leaderEpoch, endOffset: end.endOffset };
    }
    return null;
  }

  /** ListOffsets by timestamp (the caller bounds the answer by `listOffsetsBound`). */
  offsetForTimestamp(timestampMs: bigint): Promise<TimestampOffset | null> {
    return this.log.offsetForTimestamp(timestampMs);
  }

  /**
   * OffsetForLeaderEpoch (KIP-101/279): the end of `epoch` in this log. Consumers (replica id -1)
   * ask the leader only; a follower may be asked by another replica.
   */
  endOffsetForEpoch(
    epoch: number,
    currentLeaderEpoch: number,
    options: { fromReplica?: boolean } = {},
  ): EpochEndOffset {
    this.checkLeaderEpoch(currentLeaderEpoch);
    if (options.fromReplica !== true) this.requireLeader();
    return this.log.endOffsetForEpoch(epoch);
  }

  /** DeleteRecords: up to the HW; returns the new log start offset. */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    this.requireLeader();
    if (offset < 0n || offset > this.highWatermark) {
      throw new PartitionError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is beyond ${this.name}'s high watermark ${this.highWatermark}`,
      );
    }
    return offset > this.log.logStartOffset
      ? this.log.deleteRecordsBefore(offset)
      : this.log.logStartOffset;
  }

  describeProducers(): DescribedProducer[] {
    return this.producerState?.describe() ?? [];
  }

  /** Ends parked produces (the partition is deleted or the broker stops). */
  close(): void {
    this.completeParked(() => ErrorCode.NOT_LEADER_OR_FOLLOWER, true);
  }

  private get name(): string {
    return `${this.topic}-${this.index}`;
  }
}
