/**
 * Incremental fetch sessions (KIP-227). A session remembers, per partition, the fetch position the
 * client last sent and the HW / LSO / log start offset we last told it, so an incremental request
 * names only what changed and the response carries only partitions with news.
 *
 * The cache is bounded (`max.incremental.fetch.session.cache.slots`). When it is full, a new
 * session takes the slot of the least recently used session idle for at least
 * `min.incremental.fetch.session.eviction.ms`; if none qualifies, the client gets no session
 * (session id 0) and keeps sending full fetches, which is always correct.
 */
import type { Clock } from '../clock.js';

/** Session epochs with special meaning (KIP-227). */
export const fetchSessionEpoch = { initial: 0, final: -1 } as const;

export interface SessionPartition {
  /** Topic name; empty when the topic id is unknown to us. */
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  /** Follower fetches (v12+): the epoch of the last batch the follower holds; -1 none. */
  lastFetchedEpoch: number;
  /** What the client was last told; -1n before the first response. */
  sentHighWatermark: bigint;
  sentLastStableOffset: bigint;
  sentLogStartOffset: bigint;
}

export class FetchSession {
  readonly id: number;
  /** Sessions created by v13+ requests key partitions by topic id, older ones by name. */
  readonly usesTopicIds: boolean;
  /** The epoch the next incremental request must carry. */
  nextEpoch = 1;
  lastUsedMs: number;
  /** Insertion-ordered: the order partitions are read and returned in. */
  readonly partitions = new Map<string, SessionPartition>();
  /** A request of this session is being served (sessions are not shared between requests). */
  busy = false;

  constructor(id: number, usesTopicIds: boolean, nowMs: number) {
    this.id = id;
    this.usesTopicIds = usesTopicIds;
    this.lastUsedMs = nowMs;
  }
}

export function sessionPartitionKey(topicOrId: string, partition: number): string {
  return `${topicOrId}\u0000${partition}`;
}

export interface FetchSessionCacheOptions {
  clock: Clock;
  slotsMax: () => number;
  evictionMsMin: () => number;
  random?: () => number;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private readonly options: FetchSessionCacheOptions;

  constructor(options: FetchSessionCacheOptions) {
    this.options = options;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }

  /** A new session, or undefined when the cache is full of recently used sessions. */
  create(usesTopicIds: boolean): FetchSession | undefined {
    const nowMs = this.options.clock.monotonicMs();
    if (this.sessions.size >= this.options.slotsMax()) {
      if (!this.evictOne(nowMs)) return undefined;
    }
    const session = new FetchSession(this.newId(), usesTopicIds, nowMs);
    this.sessions.set(session.id, session);
    return session;
  }

  /** Marks a session used (moves it to the back of the eviction order). */
  touch(session: FetchSession): void {
    session.lastUsedMs = this.options.clock.monotonicMs();
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
  }

  private evictOne(nowMs: number): boolean {
    // Map iteration order is least recently touched first.
    for (const session of this.sessions.values()) {
      if (session.busy) continue;
      if (nowMs - session.lastUsedMs < this.options.evictionMsMin()) return false;
      this.sessions.delete(session.id);
      return true;
    }
    return false;
  }

  private newId(): number {
    const random = this.options.random ?? Math.random;
    for (;;) {
      const id = 1 + Math.floor(random() * 0x7ffffffe);
      if (!this.sessions.has(id)) return id;
    }
  }
}
