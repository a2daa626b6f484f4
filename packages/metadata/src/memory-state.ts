/**
 * The revisioned key-value state behind LocalMetadataStore and SimulatedMetadataStore: etcd's
 * data model in one process. One revision per committed transaction, MVCC history kept back to
 * the compaction point (lists at an old revision undo later changes), leases whose expiry deletes
 * their keys in one revision, and the election as etcd's recipe (the candidate key with the lowest
 * create revision under `election/controller/` leads).
 *
 * Everything here is synchronous: callers decide when results and watch events are delivered
 * (after an fsync for the local store, through the simulated scheduler for the simulation).
 */
import {
  CompactedError,
  type KeyValue,
  type MetadataClock,
  type Operation,
  type Revision,
  type WatchEvent,
} from './store.js';

export const electionPrefix = 'election/controller/';

export interface SnapshotEntry extends KeyValue {
  leased: boolean;
}

/** Marks a key whose lease belonged to a process that is gone (the local store's restart). */
export const deadLeaseId = -1;

interface StoredKey {
  value: Buffer;
  createRevision: Revision;
  modRevision: Revision;
  /** 0 = no lease. */
  leaseId: number;
}

/** One effect of a committed transaction (what the local store's log records). */
export type Change =
  | { type: 'put'; key: string; value: Buffer; leaseId: number }
  | { type: 'delete'; key: string };

interface HistoryEntry {
  revision: Revision;
  events: WatchEvent[];
  /** Each changed key's state before this revision (undefined = absent), to list at old revisions. */
  previous: Map<string, StoredKey | undefined>;
}

interface Lease {
  id: number;
  ttlMs: number;
  deadlineMs: number;
  keys: Set<string>;
  timer: { cancel(): void } | undefined;
}

export type ApplyResult =
  | { committed: true; revision: Revision }
  | { committed: false; reason: 'fenced' | 'conflict'; key?: string };

export interface FenceCheck {
  key: string;
  createRevision: Revision;
}

export class MemoryState {
  private currentRevision: Revision = 1n;
  private compacted: Revision = 0n;
  private readonly keys = new Map<string, StoredKey>();
  private history: HistoryEntry[] = [];
  private readonly leases = new Map<number, Lease>();
  private nextLeaseId = 1;
  private readonly changeListeners = new Set<(revision: Revision, changes: Change[]) => void>();

  constructor(private readonly clock: MetadataClock) {}

  get revision(): Revision {
    return this.currentRevision;
  }

  get compactRevision(): Revision {
    return this.compacted;
  }

  /** Called synchronously after every committed revision (watch pumps, election waits, the log). */
  onChange(listener: (revision: Revision, changes: Change[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  get(key: string): KeyValue | undefined {
    const stored = this.keys.get(key);
    return stored === undefined ? undefined : toKeyValue(key, stored);
  }

  leaseOf(key: string): number {
    return this.keys.get(key)?.leaseId ?? 0;
  }

  /** Keys under the prefix at `revision` (default: now), sorted. */
  list(prefix: string, revision?: Revision): KeyValue[] {
    const at = revision ?? this.currentRevision;
    if (at < this.compacted) throw new CompactedError(at, this.compacted);
    if (at > this.currentRevision) {
      throw new RangeError(`revision ${at} is in the future (current ${this.currentRevision})`);
    }
    const view = new Map<string, StoredKey | undefined>();
    for (const [key, stored] of this.keys) if (key.startsWith(prefix)) view.set(key, stored);
    for (let index = this.history.length - 1; index >= 0; index--) {
      const entry = this.history[index];
      if (entry.revision <= at) break;
      for (const [key, before] of entry.previous) if (key.startsWith(prefix)) view.set(key, before);
    }
    const entries: KeyValue[] = [];
    for (const [key, stored] of view)
      if (stored !== undefined) entries.push(toKeyValue(key, stored));
    entries.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
    return entries;
  }

  /** Events under the prefix with revision in (afterRevision, now], or the compaction point. */
  eventsAfter(
    prefix: string,
    afterRevision: Revision,
  ): { events: WatchEvent[]; revision: Revision } | { compactRevision: Revision } {
    if (afterRevision + 1n < this.compacted) return { compactRevision: this.compacted };
    const events: WatchEvent[] = [];
    let index = this.history.length;
    while (index > 0 && this.history[index - 1].revision > afterRevision) index--;
    for (; index < this.history.length; index++) {
      for (const event of this.history[index].events) {
        if (event.key.startsWith(prefix)) events.push(event);
      }
    }
    return { events, revision: this.currentRevision };
  }

  /** Checks the fence and every expectation, then applies all operations as one revision. */
  apply(
    operations: readonly Operation[],
    options: { fence?: FenceCheck; leaseId?: number } = {},
  ): ApplyResult {
    const { fence } = options;
    if (fence !== undefined && this.keys.get(fence.key)?.createRevision !== fence.createRevision) {
      return { committed: false, reason: 'fenced' };
    }
    for (const operation of operations) {
      if (operation.expectedModRevision === undefined) continue;
      const actual = this.keys.get(operation.key)?.modRevision ?? 0n;
      if (actual !== operation.expectedModRevision) {
        return { committed: false, reason: 'conflict', key: operation.key };
      }
    }
    const leaseId = options.leaseId ?? 0;
    if (leaseId !== 0 && !this.leases.has(leaseId)) {
      throw new Error(`lease ${leaseId} not found`);
    }
    const changes: Change[] = operations.map((operation) =>
      operation.type === 'put'
        ? { type: 'put', key: operation.key, value: operation.value, leaseId }
        : { type: 'delete', key: operation.key },
    );
    const revision = this.applyChanges(changes);
    return { committed: true, revision };
  }

  /**
   * Applies effects as the next revision (also used to replay the local store's log); deletes of
   * absent keys are dropped, and nothing at all changes no revision, as in etcd.
   */
  applyChanges(changes: readonly Change[], revision?: Revision): Revision {
    const effective = changes.filter(
      (change) => change.type === 'put' || this.keys.has(change.key),
    );
    if (effective.length === 0) return this.currentRevision;
    const next = revision ?? this.currentRevision + 1n;
    if (next <= this.currentRevision) {
      throw new Error(`revision ${next} is not after ${this.currentRevision}`);
    }
    const entry: HistoryEntry = { revision: next, events: [], previous: new Map() };
    for (const change of effective) {
      const before = this.keys.get(change.key);
      if (!entry.previous.has(change.key)) entry.previous.set(change.key, before);
      if (before !== undefined && before.leaseId !== 0) {
        this.leases.get(before.leaseId)?.keys.delete(change.key);
      }
      if (change.type === 'put') {
        const stored: StoredKey = {
          value: change.value,
          createRevision: before?.createRevision ?? next,
          modRevision: next,
          leaseId: change.leaseId,
        };
        this.keys.set(change.key, stored);
        if (change.leaseId !== 0) this.leases.get(change.leaseId)?.keys.add(change.key);
        entry.events.push({
          type: 'put',
          key: change.key,
          value: change.value,
          createRevision: stored.createRevision,
          modRevision: next,
        });
      } else {
        this.keys.delete(change.key);
        entry.events.push({ type: 'delete', key: change.key, modRevision: next });
      }
    }
    this.currentRevision = next;
    this.history.push(entry);
    for (const listener of [...this.changeListeners]) listener(next, effective);
    return next;
  }

  /** Forgets history before `revision` (etcd compaction): older lists and watches are refused. */
  compact(revision: Revision): void {
    if (revision > this.currentRevision) {
      throw new RangeError(`cannot compact beyond ${this.currentRevision}`);
    }
    if (revision <= this.compacted) return;
    this.compacted = revision;
    let drop = 0;
    // The entry at the compaction revision stays: a watch may still start there (as in etcd).
    while (drop < this.history.length && this.history[drop].revision < revision) drop++;
    this.history = this.history.slice(drop);
  }

  /**
   * Restores state loaded from a snapshot (local store start). Leased keys keep a mark only: their
   * leases died with the process that held them.
   */
  restore(revision: Revision, entries: readonly SnapshotEntry[]): void {
    this.keys.clear();
    this.history = [];
    for (const entry of entries) {
      this.keys.set(entry.key, {
        value: entry.value,
        createRevision: entry.createRevision,
        modRevision: entry.modRevision,
        leaseId: entry.leased ? deadLeaseId : 0,
      });
    }
    this.currentRevision = revision;
    this.compacted = revision;
  }

  /** Every key with its revisions and whether a lease holds it (the local store's snapshot). */
  snapshot(): SnapshotEntry[] {
    return [...this.keys].map(([key, stored]) => ({
      ...toKeyValue(key, stored),
      leased: stored.leaseId !== 0,
    }));
  }

  grantLease(ttlMs: number): number {
    const id = this.nextLeaseId++;
    const lease: Lease = {
      id,
      ttlMs,
      deadlineMs: this.clock.monotonicMs() + ttlMs,
      keys: new Set(),
      timer: undefined,
    };
    this.leases.set(id, lease);
    this.armExpiry(lease);
    return id;
  }

  /** Renews the lease to a full TTL; false when it expired or was revoked (the holder lost it). */
  keepAlive(leaseId: number): boolean {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return false;
    lease.deadlineMs = this.clock.monotonicMs() + lease.ttlMs;
    return true;
  }

  leaseAlive(leaseId: number): boolean {
    return this.leases.has(leaseId);
  }

  /** Deletes the lease and, in one revision, every key attached to it. */
  /** Returns the revision that deleted the keys (the current one when there were none). */
  revokeLease(leaseId: number): Revision {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return this.currentRevision;
    lease.timer?.cancel();
    this.leases.delete(leaseId);
    return this.applyChanges([...lease.keys].sort().map((key) => ({ type: 'delete', key })));
  }

  /** Keys attached to any lease (the local store deletes them on start: their holders died). */
  leasedKeys(): string[] {
    return [...this.keys].filter(([, stored]) => stored.leaseId !== 0).map(([key]) => key);
  }

  private armExpiry(lease: Lease): void {
    const delayMs = Math.max(0, lease.deadlineMs - this.clock.monotonicMs());
    lease.timer = this.clock.schedule(delayMs, () => {
      if (this.leases.get(lease.id) !== lease) return;
      if (this.clock.monotonicMs() >= lease.deadlineMs) {
        this.revokeLease(lease.id);
      } else {
        this.armExpiry(lease);
      }
    });
  }

  /** Cancels every lease timer (the store closes; keys stay). */
  dispose(): void {
    for (const lease of this.leases.values()) lease.timer?.cancel();
    this.changeListeners.clear();
  }
}

function toKeyValue(key: string, stored: StoredKey): KeyValue {
  return {
    key,
    value: stored.value,
    createRevision: stored.createRevision,
    modRevision: stored.modRevision,
  };
}
