/**
 * The metadata store: the one place a cluster's brokers, topics, partitions, configs and
 * producer-id blocks live (CLUSTER.md §2). Three implementations share this contract and one
 * conformance suite (testing/conformance.ts): LocalMetadataStore (embedded, one process),
 * EtcdMetadataStore (etcd 3.4+) and SimulatedMetadataStore (deterministic, simulated time).
 *
 * Safety never comes from lease timing: a paused process may still believe it holds a lease or
 * leads. Every controller write carries its Fence and is rejected once another candidate won.
 */
import type { Clock } from '@gregor/protocol';

/** Revision of the store: totally ordered, increases with every committed change (etcd's revision). */
export type Revision = bigint;

export interface KeyValue {
  key: string;
  value: Buffer;
  /** Revision of the put that created the key (since its last delete). */
  createRevision: Revision;
  /** Revision of the last put of the key. */
  modRevision: Revision;
}

export type WatchEvent =
  | { type: 'put'; key: string; value: Buffer; createRevision: Revision; modRevision: Revision }
  | { type: 'delete'; key: string; modRevision: Revision };

/** A broker's registration (key `brokers/<id>`), alive while its lease lives. */
export interface BrokerSession {
  readonly brokerId: number;
  /** Create revision of the registration key: a new registration always has a larger one. */
  readonly brokerEpoch: bigint;
  /** Aborted when the lease is known lost (keepalive refused, or revoked); never from timing. */
  readonly lost: AbortSignal;
  /** Revokes the lease, deleting the registration (controlled shutdown). Idempotent. */
  close(): Promise<void>;
}

/** Proof of controllership, checked by every commit. */
export interface Fence {
  readonly controllerId: number;
  /** Create revision of this candidate's election key: the controller epoch. */
  readonly revision: Revision;
  /** Aborted when the election lease is known lost. A commit may still be fenced before that. */
  readonly lost: AbortSignal;
  /** Gives up controllership (deletes the election key, revokes its lease). Idempotent. */
  resign(): Promise<void>;
}

export type Operation =
  | {
      type: 'put';
      key: string;
      value: Buffer;
      /** The key's modRevision must equal this; 0n = the key must not exist. */
      expectedModRevision?: Revision;
    }
  | { type: 'delete'; key: string; expectedModRevision?: Revision };

export type CommitResult =
  | { committed: true; revision: Revision }
  | {
      committed: false;
      /** `fenced`: the fence is no longer the current controller; `conflict`: an expectation failed. */
      reason: 'fenced' | 'conflict';
      /** The first key whose expectation failed (conflict only). */
      key?: string;
    };

export interface ControllerInfo {
  controllerId: number;
  revision: Revision;
}

export interface WatchHandle {
  close(): void;
}

export interface MetadataStore {
  /**
   * Puts `brokers/<brokerId>` = value on a new lease of `ttlMs` kept alive every ttlMs/3. Rejects
   * with DuplicateBrokerError while that id is registered already (an older session, perhaps of a
   * killed process, whose lease has not expired yet), as KRaft answers DUPLICATE_BROKER_REGISTRATION:
   * retry after up to ttlMs.
   */
  registerBroker(
    brokerId: number,
    value: Buffer,
    options: { ttlMs: number },
  ): Promise<BrokerSession>;
  /**
   * Resolves once this candidate is the controller; other candidates wait (etcd election) until
   * the controller resigns or its lease expires. Rejects with the signal's reason when aborted.
   */
  campaign(candidateId: number, options: { ttlMs: number; signal?: AbortSignal }): Promise<Fence>;
  /**
   * Ends the registration of a broker found dead (its endpoint refuses connections: no process
   * listens there) without waiting for its lease: revokes the lease of `brokers/<brokerId>` if
   * that key is still the registration of `brokerEpoch`, and the leases of that broker's
   * controller candidacies, so a dead controller is replaced at once. A newer registration (the
   * broker restarted) is left alone: false. A live broker whose lease was revoked learns it from
   * its next keepalive (`lost`) and registers again with a new epoch.
   */
  expireBroker(brokerId: number, brokerEpoch: bigint): Promise<boolean>;
  /** Current controller, if any (id + fence revision), without campaigning. */
  controller(): Promise<ControllerInfo | undefined>;
  /**
   * Every key under `prefix` at one revision (the latest, or `revision`), sorted by key, read in
   * pages of at most `pageSize` keys (etcd's gRPC client receives at most 4 MiB per response).
   * Rejects with CompactedError when `revision` was compacted away.
   */
  list(
    prefix: string,
    options?: { revision?: Revision; pageSize?: number },
  ): Promise<{ entries: KeyValue[]; revision: Revision }>;
  /**
   * Ordered change events under `prefix` with revision > `fromRevision`, each exactly once, in
   * batches of one or more revisions (`revision` = the last revision the batch covers). When that
   * history was compacted, `onReset(compactRevision)` is called once and the watch ends: re-list
   * and watch again from the list's revision.
   */
  watch(
    prefix: string,
    fromRevision: Revision,
    onEvents: (events: WatchEvent[], revision: Revision) => void,
    onReset: (compactRevision: Revision) => void,
  ): WatchHandle;
  /**
   * Atomic and fenced: applies every operation iff the fence is current and every expectation
   * holds. At most `commitOperationsMax` operations (etcd caps a txn at 128, one is the fence);
   * more throw a RangeError without touching the store. A commit that rejects with an error (not a
   * result) may have been applied (etcd: the connection broke after sending it); a retry with
   * expectations then answers `conflict`: re-read before deciding.
   */
  commit(fence: Fence, operations: Operation[]): Promise<CommitResult>;
  /**
   * Reserves the next `blockSize` producer ids (key `producer-ids/next`, compare-and-set):
   * blocks from concurrent allocators, on any node, never overlap.
   */
  allocateProducerIds(blockSize: number): Promise<{ firstProducerId: bigint; size: number }>;
  /**
   * Revokes the sessions and fences this client handed out that are still held (a clean exit frees
   * the broker id and the controllership at once), then closes its watches, timers and
   * connections. A process that dies without closing leaves its leases to expire after their TTL.
   */
  close(): Promise<void>;
}

/** etcd rejects a txn of more than 128 operations; every commit spends one on the fence. */
export const commitOperationsMax = 127;

/** Default page size of `list`: 1,000 partition records are about 250 KB, far below 4 MiB. */
export const listPageSizeDefault = 1000;

export const brokerKeyPrefix = 'brokers/';
export const producerIdKey = 'producer-ids/next';

export function brokerKey(brokerId: number): string {
  return `${brokerKeyPrefix}${brokerId}`;
}

/** `list` at a revision older than the compaction point. */
export class CompactedError extends Error {
  constructor(
    readonly requestedRevision: Revision,
    readonly compactRevision: Revision,
  ) {
    super(`revision ${requestedRevision} was compacted (compacted up to ${compactRevision})`);
    this.name = 'CompactedError';
  }
}

export class DuplicateBrokerError extends Error {
  constructor(readonly brokerId: number) {
    super(`broker ${brokerId} is registered already (its previous lease has not expired)`);
    this.name = 'DuplicateBrokerError';
  }
}

export function checkBlockSize(blockSize: number): void {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) {
    throw new RangeError(`producer-id block size must be a positive integer, got ${blockSize}`);
  }
}

/** Throws when a commit exceeds the operation limit (a caller's error: split the batch). */
export function checkCommitSize(operations: readonly Operation[]): void {
  if (operations.length > commitOperationsMax) {
    throw new RangeError(
      `a metadata commit holds at most ${commitOperationsMax} operations (one more is the fence), got ${operations.length}: split it`,
    );
  }
}

/** Each key at most once per commit: etcd rejects a txn that puts the same key twice. */
export function checkDistinctKeys(operations: readonly Operation[]): void {
  const seen = new Set<string>();
  for (const operation of operations) {
    if (seen.has(operation.key)) {
      throw new RangeError(`a metadata commit touches key ${operation.key} twice`);
    }
    seen.add(operation.key);
  }
}

/** Time as the store sees it: the shared Clock (@gregor/protocol) without wall time. */
export type MetadataClock = Pick<Clock, 'monotonicMs' | 'schedule'>;
