/**
 * A MetadataStore over a MemoryState: what one node sees of the in-process store. The local store
 * is one such client with a durable log; the simulation gives each simulated node its own client
 * with its own faults (paused keepalives, delayed watch events, failing commits).
 *
 * As with etcd, a holder learns that its lease is gone only from a keepalive answer: while its
 * keepalives are paused it still believes it leads, and only the fence in the commit stops it.
 */
import { electionPrefix, type FenceCheck, type MemoryState } from './memory-state.js';
import {
  type BrokerSession,
  brokerKey,
  type CommitResult,
  type ControllerInfo,
  checkBlockSize,
  checkCommitSize,
  checkDistinctKeys,
  DuplicateBrokerError,
  type Fence,
  type KeyValue,
  type MetadataClock,
  type MetadataStore,
  type Operation,
  producerIdKey,
  type Revision,
  type WatchEvent,
  type WatchHandle,
} from './store.js';

/** Faults the simulator injects into one node's view of the store. */
export class NodeFaults {
  /** While set, the node's keepalives are not sent (a paused process): its leases expire. */
  keepalivesPaused = false;
  /** Extra delay before watch events reach this node. */
  watchDelayMs = 0;
  /** Pending failures of this node's next commits: `applied` = the reply is lost after applying. */
  readonly commitFailures: { applied: boolean }[] = [];
  /** The node's process is gone: no keepalives, no deliveries, every call fails. */
  crashed = false;
}

export interface MemoryClientOptions {
  clock: MetadataClock;
  faults?: NodeFaults;
  /** Newest revision readers may see (the local store: the last one made durable). */
  visibleRevision?: () => Revision;
  /** Calls the listener whenever the visible revision moves; default: on every change. */
  onVisible?: (listener: () => void) => () => void;
  /** Resolves once `revision` is durable (the local store's fsync); default: at once. */
  durable?: (revision: Revision) => Promise<void>;
}

class MemoryFence implements Fence {
  readonly lost: AbortSignal;
  constructor(
    readonly controllerId: number,
    readonly revision: Revision,
    readonly check: FenceCheck,
    readonly state: MemoryState,
    private readonly holder: LeaseHolder,
  ) {
    this.lost = holder.lost.signal;
  }

  async resign(): Promise<void> {
    await this.holder.release();
  }
}

class MemoryBrokerSession implements BrokerSession {
  readonly lost: AbortSignal;
  constructor(
    readonly brokerId: number,
    readonly brokerEpoch: bigint,
    private readonly holder: LeaseHolder,
  ) {
    this.lost = holder.lost.signal;
  }

  async close(): Promise<void> {
    await this.holder.release();
  }
}

/** Keeps one lease alive every TTL/3 and reports its loss when a keepalive is refused. */
class LeaseHolder {
  readonly lost = new AbortController();
  private timer: { cancel(): void } | undefined;
  private stopped = false;

  constructor(
    readonly leaseId: number,
    private readonly ttlMs: number,
    private readonly state: MemoryState,
    private readonly clock: MetadataClock,
    private readonly faults: NodeFaults,
    private readonly onStop: (holder: LeaseHolder) => void,
    private readonly durable: (revision: Revision) => Promise<void>,
  ) {
    this.arm();
  }

  private arm(): void {
    this.timer = this.clock.schedule(Math.max(1, Math.floor(this.ttlMs / 3)), () => {
      if (this.stopped) return;
      if (this.faults.crashed) return;
      if (!this.faults.keepalivesPaused && !this.state.keepAlive(this.leaseId)) {
        this.stop();
        this.lost.abort(new Error(`lease ${this.leaseId} expired`));
        return;
      }
      this.arm();
    });
  }

  /** Stops the keepalives without revoking (the client closes: the lease runs out). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.onStop(this);
  }

  /** Revokes the lease, deleting its keys, and reports it lost; resolves once that is durable. */
  async release(): Promise<void> {
    this.stop();
    const revision = this.state.revokeLease(this.leaseId);
    if (!this.lost.signal.aborted) this.lost.abort(new Error(`lease ${this.leaseId} revoked`));
    await this.durable(revision);
  }
}

interface Watcher {
  prefix: string;
  delivered: Revision;
  closed: boolean;
  timer: { cancel(): void } | undefined;
  onEvents: (events: WatchEvent[], revision: Revision) => void;
  onReset: (compactRevision: Revision) => void;
}

export class MemoryMetadataClient implements MetadataStore {
  protected readonly clock: MetadataClock;
  protected readonly faults: NodeFaults;
  private readonly visibleRevision: () => Revision;
  private readonly durable: (revision: Revision) => Promise<void>;
  private readonly holders = new Set<LeaseHolder>();
  private readonly watchers = new Set<Watcher>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    protected readonly state: MemoryState,
    options: MemoryClientOptions,
  ) {
    this.clock = options.clock;
    this.faults = options.faults ?? new NodeFaults();
    this.visibleRevision = options.visibleRevision ?? (() => state.revision);
    this.durable = options.durable ?? (async () => {});
    const onVisible = options.onVisible ?? ((listener) => state.onChange(listener));
    this.unsubscribe = onVisible(() => this.scheduleDeliveries());
  }

  async registerBroker(
    brokerId: number,
    value: Buffer,
    options: { ttlMs: number },
  ): Promise<BrokerSession> {
    this.checkOpen();
    const key = brokerKey(brokerId);
    if (this.state.get(key) !== undefined) throw new DuplicateBrokerError(brokerId);
    const holder = this.holdLease(options.ttlMs);
    const result = this.state.apply([{ type: 'put', key, value, expectedModRevision: 0n }], {
      leaseId: holder.leaseId,
    });
    if (!result.committed) throw new DuplicateBrokerError(brokerId);
    await this.durable(result.revision);
    return new MemoryBrokerSession(brokerId, result.revision, holder);
  }

  async campaign(
    candidateId: number,
    options: { ttlMs: number; signal?: AbortSignal },
  ): Promise<Fence> {
    this.checkOpen();
    options.signal?.throwIfAborted();
    const holder = this.holdLease(options.ttlMs);
    const key = `${electionPrefix}${holder.leaseId.toString(16)}`;
    const result = this.state.apply(
      [{ type: 'put', key, value: Buffer.from(String(candidateId)), expectedModRevision: 0n }],
      { leaseId: holder.leaseId },
    );
    if (!result.committed) throw new Error(`election key ${key} exists already`);
    const myRevision = result.revision;
    await this.durable(myRevision);
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown): void => {
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        holder.lost.signal.removeEventListener('abort', onLost);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (this.state.get(key)?.createRevision !== myRevision) return; // lost: onLost reports it
        const ahead = this.state
          .list(electionPrefix)
          .some((entry) => entry.createRevision < myRevision);
        if (!ahead) finish();
      };
      const onAbort = (): void => {
        finish(options.signal?.reason);
        void holder.release().catch(() => undefined);
      };
      const onLost = (): void => finish(holder.lost.signal.reason);
      const unsubscribe = this.state.onChange(check);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      holder.lost.signal.addEventListener('abort', onLost, { once: true });
      if (options.signal?.aborted === true) onAbort();
      else check();
    });
    return new MemoryFence(
      candidateId,
      myRevision,
      { key, createRevision: myRevision },
      this.state,
      holder,
    );
  }

  async expireBroker(brokerId: number, brokerEpoch: bigint): Promise<boolean> {
    this.checkOpen();
    const key = brokerKey(brokerId);
    if (this.state.get(key)?.createRevision !== brokerEpoch) return false;
    // Candidacies of this id are the dead process's: a restarted one campaigns only after it
    // registered, which it cannot while this registration exists.
    const leases = [
      this.state.leaseOf(key),
      ...this.state
        .list(electionPrefix)
        .filter((entry) => entry.value.toString() === String(brokerId))
        .map((entry) => this.state.leaseOf(entry.key)),
    ];
    let revision = this.state.revision;
    for (const leaseId of leases) {
      if (leaseId > 0) revision = this.state.revokeLease(leaseId);
    }
    await this.durable(revision);
    return true;
  }

  async controller(): Promise<ControllerInfo | undefined> {
    this.checkOpen();
    let leader: KeyValue | undefined;
    for (const entry of this.state.list(electionPrefix)) {
      if (leader === undefined || entry.createRevision < leader.createRevision) leader = entry;
    }
    if (leader === undefined) return undefined;
    return { controllerId: Number(leader.value.toString()), revision: leader.createRevision };
  }

  async list(
    prefix: string,
    options: { revision?: Revision; pageSize?: number } = {},
  ): Promise<{ entries: KeyValue[]; revision: Revision }> {
    this.checkOpen();
    const revision = options.revision ?? this.visibleRevision();
    return { entries: this.state.list(prefix, revision), revision };
  }

  watch(
    prefix: string,
    fromRevision: Revision,
    onEvents: (events: WatchEvent[], revision: Revision) => void,
    onReset: (compactRevision: Revision) => void,
  ): WatchHandle {
    this.checkOpen();
    const watcher: Watcher = {
      prefix,
      delivered: fromRevision,
      closed: false,
      timer: undefined,
      onEvents,
      onReset,
    };
    this.watchers.add(watcher);
    this.scheduleDelivery(watcher);
    return {
      close: () => {
        watcher.closed = true;
        watcher.timer?.cancel();
        this.watchers.delete(watcher);
      },
    };
  }

  async commit(fence: Fence, operations: Operation[]): Promise<CommitResult> {
    this.checkOpen();
    checkCommitSize(operations);
    checkDistinctKeys(operations);
    if (!(fence instanceof MemoryFence) || fence.state !== this.state) {
      throw new TypeError('the fence was not handed out by this store');
    }
    const failure = this.faults.commitFailures.shift();
    if (failure !== undefined && !failure.applied) throw new Error('simulated commit failure');
    const result = this.state.apply(operations, { fence: fence.check });
    if (result.committed) await this.durable(result.revision);
    if (failure?.applied === true) throw new Error('simulated commit failure after applying');
    return result;
  }

  async allocateProducerIds(blockSize: number): Promise<{ firstProducerId: bigint; size: number }> {
    this.checkOpen();
    checkBlockSize(blockSize);
    for (;;) {
      const current = this.state.get(producerIdKey);
      const firstProducerId = current === undefined ? 0n : BigInt(current.value.toString());
      const next = firstProducerId + BigInt(blockSize);
      const result = this.state.apply([
        {
          type: 'put',
          key: producerIdKey,
          value: Buffer.from(next.toString()),
          expectedModRevision: current?.modRevision ?? 0n,
        },
      ]);
      if (result.committed) {
        await this.durable(result.revision);
        return { firstProducerId, size: blockSize };
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    if (this.faults.crashed) {
      // A dead process revokes nothing: its leases run out.
      for (const holder of [...this.holders]) holder.stop();
    } else {
      await Promise.allSettled([...this.holders].map((holder) => holder.release()));
    }
    for (const watcher of this.watchers) {
      watcher.closed = true;
      watcher.timer?.cancel();
    }
    this.watchers.clear();
  }

  /** Delivers pending watch events again (after the visible revision moved). */
  private scheduleDeliveries(): void {
    for (const watcher of this.watchers) this.scheduleDelivery(watcher);
  }

  private scheduleDelivery(watcher: Watcher): void {
    if (watcher.closed || watcher.timer !== undefined) return;
    watcher.timer = this.clock.schedule(this.faults.watchDelayMs, () => {
      watcher.timer = undefined;
      this.deliver(watcher);
    });
  }

  private deliver(watcher: Watcher): void {
    if (watcher.closed || this.faults.crashed) return;
    const visible = this.visibleRevision();
    if (visible <= watcher.delivered) return;
    const pending = this.state.eventsAfter(watcher.prefix, watcher.delivered);
    if ('compactRevision' in pending) {
      watcher.closed = true;
      this.watchers.delete(watcher);
      watcher.onReset(pending.compactRevision);
      return;
    }
    const events = pending.events.filter((event) => event.modRevision <= visible);
    watcher.delivered = visible;
    if (events.length > 0) watcher.onEvents(events, visible);
  }

  private holdLease(ttlMs: number): LeaseHolder {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`bad lease TTL ${ttlMs} ms`);
    const holder = new LeaseHolder(
      this.state.grantLease(ttlMs),
      ttlMs,
      this.state,
      this.clock,
      this.faults,
      (stopped) => this.holders.delete(stopped),
      this.durable,
    );
    this.holders.add(holder);
    return holder;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the metadata store is closed');
    if (this.faults.crashed) throw new Error('the node crashed');
  }
}
