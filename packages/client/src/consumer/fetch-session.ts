// One incremental fetch session per broker (KIP-227). The first request is a full fetch with
// session id 0 and epoch 0, which asks the broker to create a session; later requests carry only
// partitions whose fetch offset or size changed, plus the partitions to forget, and the broker
// answers only partitions with news. Any doubt (session errors, a failed request, a partition
// error) resets to a full fetch: the session then restarts from what the client sends.

import { ErrorCode } from '@gregor/protocol';

/** Fetch v7 introduced sessions. */
export const fetchSessionVersionMin = 7;
const initialEpoch = 0;
/** Session id 0 with epoch -1: a full fetch that creates no session. */
const sessionlessEpoch = -1;
const epochMax = 0x7fffffff;

export interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: bigint;
  maxBytes: number;
}

export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  /** Partitions to send (all of them on a full fetch, the changed ones otherwise). */
  partitions: SessionPartition[];
  forgotten: Array<{ topic: string; topicId: string; partition: number }>;
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class FetchSession {
  private sessionId = 0;
  private epoch = initialEpoch;
  /** What the broker's session holds, as last sent. */
  private sent = new Map<string, SessionPartition>();
  private pending: Map<string, SessionPartition> | null = null;

  constructor(private readonly enabled: boolean) {}

  /** The request for the partitions to fetch now (remember it until `onResponse`/`reset`). */
  build(partitions: readonly SessionPartition[]): SessionRequest {
    const wanted = new Map(partitions.map((entry) => [keyOf(entry.topic, entry.partition), entry]));
    this.pending = wanted;
    if (!this.enabled) {
      return {
        sessionId: 0,
        sessionEpoch: sessionlessEpoch,
        partitions: [...partitions],
        forgotten: [],
      };
    }
    if (this.sessionId === 0) {
      return {
        sessionId: 0,
        sessionEpoch: initialEpoch,
        partitions: [...partitions],
        forgotten: [],
      };
    }
    const changed = partitions.filter((entry) => {
      const before = this.sent.get(keyOf(entry.topic, entry.partition));
      return (
        before === undefined ||
        before.fetchOffset !== entry.fetchOffset ||
        before.maxBytes !== entry.maxBytes ||
        before.topicId !== entry.topicId
      );
    });
    const forgotten = [...this.sent]
      .filter(([key]) => !wanted.has(key))
      .map(([, entry]) => ({
        topic: entry.topic,
        topicId: entry.topicId,
        partition: entry.partition,
      }));
    return { sessionId: this.sessionId, sessionEpoch: this.epoch, partitions: changed, forgotten };
  }

  /** The response's top-level error code and session id; false means the session was reset. */
  onResponse(errorCode: number, sessionId: number): boolean {
    const pending = this.pending ?? new Map();
    this.pending = null;
    if (!this.enabled) return true;
    if (
      errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND ||
      errorCode === ErrorCode.INVALID_FETCH_SESSION_EPOCH
    ) {
      this.reset();
      return false;
    }
    if (errorCode !== ErrorCode.NONE) {
      this.reset();
      return true;
    }
    if (this.sessionId === 0) {
      // The broker may decline (session id 0): keep sending full fetches asking for one.
      this.sessionId = sessionId;
      this.epoch = sessionId === 0 ? initialEpoch : 1;
    } else {
      this.epoch = this.epoch >= epochMax ? 1 : this.epoch + 1;
    }
    this.sent = pending;
    return true;
  }

  /** After a failed request or a partition error: the next fetch is full. */
  reset(): void {
    this.sessionId = 0;
    this.epoch = initialEpoch;
    this.sent = new Map();
    this.pending = null;
  }

  get id(): number {
    return this.sessionId;
  }
}
