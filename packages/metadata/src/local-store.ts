/**
 * LocalMetadataStore: the embedded store of a single node (no etcd), with etcd's semantics in one
 * process (revisions, leases on the injected clock, one controller, fenced commits) and durable on
 * storage's injected FileSystem, so a node restarts with its metadata.
 *
 * Durability: each committed revision is appended to `metadata.log` (metadata-log.ts); appends are
 * grouped and one datasync covers them. A commit resolves, and readers and watchers see its
 * revision, only once it is durable. When the log passes `logBytesMax` a snapshot of the durable
 * state replaces it (snapshot written atomically first, then the log truncated; records at or
 * below the snapshot's revision are skipped on replay, so a crash between the two is harmless).
 *
 * Leases die with the process that held them: on open, keys still on a lease (a broker
 * registration, the election key) are deleted in one new revision, so a restart registers and
 * campaigns afresh with larger revisions (broker epoch, controller epoch).
 */
import { join } from 'node:path';
import type { FileHandle, FileSystem } from '@gregor/storage';
import { MemoryMetadataClient } from './memory-client.js';
import { type Change, MemoryState } from './memory-state.js';
import {
  decodeRecords,
  decodeSnapshot,
  encodeRecord,
  encodeSnapshot,
  type LogRecord,
} from './metadata-log.js';
import type { MetadataClock, MetadataStore, Revision } from './store.js';

const logFileName = 'metadata.log';
const snapshotFileName = 'metadata.snapshot';
/** Past this size the log is folded into a snapshot. */
const logBytesMaxDefault = 16 * 1024 * 1024;
/** Revisions of history kept in memory for lagging watchers and lists at a past revision. */
const historyRevisionsMax = 10_000n;

export interface LocalMetadataStoreOptions {
  fileSystem: FileSystem;
  /** Directory of the store's files (created if missing). */
  directory: string;
  clock: MetadataClock;
  logBytesMax?: number;
}

export class LocalMetadataStore extends MemoryMetadataClient {
  private durableRevision: Revision;
  private pending: LogRecord[] = [];
  private flushing: Promise<void> | undefined;
  private readonly waiters: {
    revision: Revision;
    resolve: () => void;
    reject: (error: unknown) => void;
  }[] = [];
  private failure: unknown;
  private logBytes: number;

  private constructor(
    state: MemoryState,
    clock: MetadataClock,
    private readonly fileSystem: FileSystem,
    private readonly directory: string,
    private log: FileHandle,
    logBytes: number,
    private readonly logBytesMax: number,
  ) {
    const visible = { revision: state.revision };
    const visibleListeners = new Set<() => void>();
    super(state, {
      clock,
      visibleRevision: () => visible.revision,
      durable: (revision) => this.waitDurable(revision),
      onVisible: (listener) => {
        visibleListeners.add(listener);
        return () => visibleListeners.delete(listener);
      },
    });
    this.visibleListeners = visibleListeners;
    this.durableRevision = state.revision;
    this.visible = visible;
    this.logBytes = logBytes;
    state.onChange((revision, changes) => this.append(revision, changes));
  }

  private readonly visible: { revision: Revision };
  private readonly visibleListeners: Set<() => void>;

  static async open(options: LocalMetadataStoreOptions): Promise<LocalMetadataStore> {
    const { fileSystem, directory } = options;
    await fileSystem.makeDirectory(directory);
    const state = new MemoryState(options.clock);
    const snapshotData = await fileSystem.readFile(join(directory, snapshotFileName));
    if (snapshotData !== null) {
      const snapshot = decodeSnapshot(snapshotData);
      state.restore(snapshot.revision, snapshot.entries);
    }
    const logPath = join(directory, logFileName);
    const log = await fileSystem.openFile(logPath, { create: true });
    const size = await log.sizeBytes();
    const data = Buffer.alloc(size);
    if (size > 0) await log.read(data, 0, size, 0);
    const { records, validBytes } = decodeRecords(data);
    for (const record of records) {
      if (record.revision > state.revision) state.applyChanges(record.changes, record.revision);
    }
    if (validBytes < size) {
      // A torn append: the commit never resolved, so nobody relied on it.
      await log.truncate(validBytes);
      await log.datasync();
    }
    await fileSystem.syncDirectory(directory);
    const store = new LocalMetadataStore(
      state,
      options.clock,
      fileSystem,
      directory,
      log,
      validBytes,
      options.logBytesMax ?? logBytesMaxDefault,
    );
    const orphans = state.leasedKeys();
    if (orphans.length > 0) {
      const revision = state.applyChanges(orphans.sort().map((key) => ({ type: 'delete', key })));
      await store.waitDurable(revision);
    }
    return store;
  }

  /**
   * Another client of this store (e.g. the broker's and the controller's parts of one process),
   * closed on its own; its commits are durable before they resolve, as this store's are.
   */
  client(): MetadataStore {
    return new MemoryMetadataClient(this.state, {
      clock: this.clock,
      visibleRevision: () => this.visible.revision,
      durable: (revision) => this.waitDurable(revision),
      onVisible: (listener) => {
        this.visibleListeners.add(listener);
        return () => this.visibleListeners.delete(listener);
      },
    });
  }

  /** Forgets history before `revision` (tests; the store compacts on its own past 20,000). */
  compact(revision: Revision): void {
    this.state.compact(revision);
  }

  /** Revokes the lease holding `key` at once (tests: a holder whose lease ended unknown to it). */
  expireLeaseOf(key: string): void {
    const leaseId = this.state.leaseOf(key);
    if (leaseId === 0) throw new Error(`no lease holds ${key}`);
    this.state.revokeLease(leaseId);
  }

  /** The revision readers see: the last one made durable. */
  get revision(): Revision {
    return this.visible.revision;
  }

  private append(revision: Revision, changes: Change[]): void {
    this.pending.push({ revision, changes });
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.failure === undefined) {
        const batch = this.pending;
        this.pending = [];
        const buffers = batch.map(encodeRecord);
        let bytes = 0;
        for (const buffer of buffers) bytes += buffer.length;
        await this.log.writev(buffers, this.logBytes);
        await this.log.datasync();
        this.logBytes += bytes;
        this.markDurable(batch[batch.length - 1].revision);
        if (this.logBytes > this.logBytesMax && this.pending.length === 0) await this.fold();
      }
    } catch (error) {
      // A failed write leaves the log's tail unknown: nothing more is acknowledged.
      this.failure = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    } finally {
      this.flushing = undefined;
    }
  }

  private markDurable(revision: Revision): void {
    this.durableRevision = revision;
    this.visible.revision = revision;
    const state = this.state;
    if (state.revision - state.compactRevision > 2n * historyRevisionsMax) {
      state.compact(revision - historyRevisionsMax);
    }
    const ready = this.waiters.filter((waiter) => waiter.revision <= revision);
    for (const waiter of ready) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    for (const listener of [...this.visibleListeners]) listener();
  }

  /** Replaces the log by a snapshot of the (fully durable) state. */
  private async fold(): Promise<void> {
    const snapshot = encodeSnapshot(this.durableRevision, this.state.snapshot());
    await this.fileSystem.writeFileAtomic(join(this.directory, snapshotFileName), snapshot);
    await this.log.truncate(0);
    this.logBytes = 0;
    await this.log.datasync();
  }

  private waitDurable(revision: Revision): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (revision <= this.durableRevision) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  override async close(): Promise<void> {
    await super.close();
    while (this.flushing !== undefined) await this.flushing;
    this.state.dispose();
    await this.log.close();
  }
}
