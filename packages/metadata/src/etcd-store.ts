/**
 * EtcdMetadataStore: the metadata store on etcd 3.4+ through the `etcd3` npm package (≥ 1.1.2,
 * which fixes a campaign that could elect two leaders). CLUSTER.md §2:
 * - brokers register on a lease kept alive every TTL/3 by etcd3; `lost` is aborted when a
 *   keepalive reply says the lease is gone (etcd3 also gives up after 2×TTL without replies);
 * - the controller is elected with etcd3's election recipe; the fence is the create revision of
 *   the candidate key, compared in every commit's transaction;
 * - lists are paginated at one revision (grpc-js receives at most 4 MiB per response);
 * - watches run on the raw stream (etcd-watch.ts) so compaction reaches `onReset`.
 * Every key is stored under the namespace given at construction (default `gregor/`).
 */
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  noop,
  retry,
} from 'cockatiel';
import {
  Etcd3,
  GRPCResourceExhastedError,
  type ICompare,
  type IRequestOp,
  isRecoverableError,
} from 'etcd3';
import { EtcdWatch } from './etcd-watch.js';
import {
  type BrokerSession,
  brokerKey,
  type CommitResult,
  CompactedError,
  type ControllerInfo,
  checkBlockSize,
  checkCommitSize,
  checkDistinctKeys,
  DuplicateBrokerError,
  type Fence,
  type KeyValue,
  listPageSizeDefault,
  type MetadataStore,
  type Operation,
  producerIdKey,
  type Revision,
  type WatchEvent,
  type WatchHandle,
} from './store.js';

const electionName = 'controller';
const grpcKeepaliveMs = 10_000;
const grpcKeepaliveTimeoutMs = 5000;
const compactProbeWaitMs = 5000;
/** How long `close` waits for etcd to revoke the leases it still holds. */
const closeWaitMs = 2000;

export interface EtcdMetadataStoreOptions {
  /** `host:port` or `http://host:port`, one per etcd member. */
  endpoints: string[];
  /** Prefix of every key this store reads and writes. */
  namespace?: string;
  dialTimeoutMs?: number;
}

/**
 * Options from the broker's `--metadata etcd://HOST:PORT[,HOST:PORT...][/NAMESPACE]`; the
 * namespace defaults to `gregor/` (several clusters may share one etcd under different ones).
 */
export function etcdOptionsFromUrl(url: string): EtcdMetadataStoreOptions {
  const match = /^etcd:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (match === null)
    throw new RangeError(`not an etcd URL (etcd://host:port[,host:port...]): ${url}`);
  const endpoints = match[1].split(',');
  for (const endpoint of endpoints) {
    if (!/^[^:,\s]+:\d{1,5}$/.test(endpoint)) {
      throw new RangeError(`bad etcd endpoint "${endpoint}" in ${url}: expected host:port`);
    }
  }
  const path = match[2] ?? '';
  const namespace = path === '' ? 'gregor/' : path.endsWith('/') ? path : `${path}/`;
  return { endpoints, namespace };
}

/** etcd leases have whole seconds (and etcd raises very short ones to its minimum). */
function ttlSeconds(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`bad lease TTL ${ttlMs} ms`);
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index] < 0xff) {
      end[index]++;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]); // every key
}

class EtcdFence implements Fence {
  private readonly lostController = new AbortController();
  readonly lost = this.lostController.signal;

  constructor(
    readonly controllerId: number,
    readonly revision: Revision,
    /** Full key (namespace included) whose create revision is the fence. */
    readonly key: Buffer,
    readonly store: EtcdMetadataStore,
    private readonly resignCampaign: () => Promise<void>,
  ) {}

  markLost(reason: unknown): void {
    if (!this.lostController.signal.aborted) this.lostController.abort(reason);
  }

  async resign(): Promise<void> {
    this.markLost(new Error('resigned'));
    await this.resignCampaign();
  }
}

export class EtcdMetadataStore implements MetadataStore {
  private readonly client: Etcd3;
  private readonly namespace: Buffer;
  private readonly watches = new Set<WatchHandle>();
  /** Revokes what this client still holds (sessions, campaigns), for `close`. */
  private readonly held = new Set<() => Promise<void>>();
  private closed = false;

  constructor(options: EtcdMetadataStoreOptions) {
    const hosts = options.endpoints.map((endpoint) =>
      endpoint.includes('://') ? endpoint : `http://${endpoint}`,
    );
    if (hosts.length === 0) throw new RangeError('no etcd endpoint given');
    // etcd3's default opens a per-host circuit for 5 s after 3 failures: with one member, an etcd
    // restart then fails every call (keepalives included, so leases were reported lost) for 5 s.
    // A circuit only helps to skip a dead member when there are others; a response too large
    // to receive fails the same way on every retry.
    const transient = handleWhen(
      (error) => isRecoverableError(error) && !(error instanceof GRPCResourceExhastedError),
    );
    this.client = new Etcd3({
      hosts,
      dialTimeout: options.dialTimeoutMs ?? 5000,
      // HTTP/2 pings find a half-open connection (a cut network) so that watches re-establish;
      // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
      grpcOptions: {
        'grpc.keepalive_time_ms': grpcKeepaliveMs,
        'grpc.keepalive_timeout_ms': grpcKeepaliveTimeoutMs,
        'grpc.keepalive_permit_without_calls': 1,
      },
      faultHandling: {
        host: () =>
          hosts.length > 1
            ? circuitBreaker(transient, {
                halfOpenAfter: 1000,
                breaker: new ConsecutiveBreaker(3),
              })
            : noop,
        global: retry(transient, {
          maxAttempts: 2,
          backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
        }),
      },
    });
    this.namespace = Buffer.from(options.namespace ?? 'gregor/');
  }

  private full(key: string): Buffer {
    return Buffer.concat([this.namespace, Buffer.from(key)]);
  }

  async registerBroker(
    brokerId: number,
    value: Buffer,
    options: { ttlMs: number },
  ): Promise<BrokerSession> {
    const key = this.full(brokerKey(brokerId));
    const lease = this.client.lease(ttlSeconds(options.ttlMs));
    const lost = new AbortController();
    lease.on('lost', (error) => {
      if (!lost.signal.aborted) lost.abort(error);
    });
    try {
      const leaseId = await lease.grant();
      const result = await this.client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value, lease: leaseId } }],
      });
      if (!result.succeeded) throw new DuplicateBrokerError(brokerId);
      const close = async (): Promise<void> => {
        this.held.delete(close);
        if (!lost.signal.aborted) lost.abort(new Error('session closed'));
        if (!lease.revoked()) await lease.revoke().catch(() => undefined);
      };
      this.held.add(close);
      return { brokerId, brokerEpoch: BigInt(result.header.revision), lost: lost.signal, close };
    } catch (error) {
      await lease.revoke().catch(() => undefined);
      throw error;
    }
  }

  async campaign(
    candidateId: number,
    options: { ttlMs: number; signal?: AbortSignal },
  ): Promise<Fence> {
    options.signal?.throwIfAborted();
    const election = this.client
      .namespace(this.namespace)
      .election(electionName, ttlSeconds(options.ttlMs));
    const campaign = election.campaign(String(candidateId));
    const resign = async (): Promise<void> => {
      this.held.delete(resign);
      await campaign.resign();
    };
    this.held.add(resign);
    let fence: EtcdFence | undefined;
    const failed = new Promise<never>((_, reject) => {
      campaign.on('error', (error) => {
        fence?.markLost(error);
        reject(error);
      });
    });
    failed.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      options.signal?.addEventListener('abort', () => reject(options.signal?.reason), {
        once: true,
      });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([campaign.wait(), failed, aborted]);
      const key = Buffer.from(await campaign.getCampaignKey());
      const found = await this.client.kv.range({ key });
      const kv = found.kvs[0];
      if (kv === undefined) throw new Error('the election lease ended while being elected');
      fence = new EtcdFence(candidateId, BigInt(kv.create_revision), key, this, resign);
      return fence;
    } catch (error) {
      await resign().catch(() => undefined);
      throw error;
    }
  }

  async expireBroker(brokerId: number, brokerEpoch: bigint): Promise<boolean> {
    const key = this.full(brokerKey(brokerId));
    const found = await this.client.kv.range({ key });
    const registration = found.kvs[0];
    if (registration === undefined || BigInt(registration.create_revision) !== brokerEpoch) {
      return false;
    }
    // At the same revision, this id's candidacies are the dead process's: a restarted one
    // campaigns only after it registered, which it cannot while this registration exists.
    const election = this.full(`election/${electionName}/`);
    const candidates = await this.client.kv.range({
      key: election,
      range_end: prefixEnd(election),
      revision: found.header.revision,
    });
    const leases = [
      registration.lease,
      ...candidates.kvs
        .filter((kv) => kv.value.toString() === String(brokerId))
        .map((kv) => kv.lease),
    ].filter((lease) => lease !== '0');
    // A lease that ended meanwhile is "not found": nothing left to end.
    await Promise.all(
      leases.map((lease) =>
        this.client.leaseClient.leaseRevoke({ ID: lease }).catch((error: unknown) => {
          if (!/not found/i.test(String(error))) throw error;
        }),
      ),
    );
    return true;
  }

  async controller(): Promise<ControllerInfo | undefined> {
    const key = this.full(`election/${electionName}/`);
    const result = await this.client.kv.range({
      key,
      range_end: prefixEnd(key),
      sort_target: 'Create',
      sort_order: 'Ascend',
      limit: 1,
    });
    const leader = result.kvs[0];
    if (leader === undefined) return undefined;
    return {
      controllerId: Number(leader.value.toString()),
      revision: BigInt(leader.create_revision),
    };
  }

  async list(
    prefix: string,
    options: { revision?: Revision; pageSize?: number } = {},
  ): Promise<{ entries: KeyValue[]; revision: Revision }> {
    const pageSize = options.pageSize ?? listPageSizeDefault;
    const start = this.full(prefix);
    const end = prefixEnd(start);
    const entries: KeyValue[] = [];
    let revision = options.revision;
    let from = start;
    for (;;) {
      let page: Awaited<ReturnType<Etcd3['kv']['range']>>;
      try {
        page = await this.client.kv.range({
          key: from,
          range_end: end,
          limit: pageSize,
          revision: revision === undefined ? 0 : revision.toString(),
        });
      } catch (error) {
        if (revision !== undefined && /compacted/.test(String(error))) {
          throw new CompactedError(revision, await this.compactRevisionAfter(revision));
        }
        throw error;
      }
      revision ??= BigInt(page.header.revision);
      for (const kv of page.kvs) {
        entries.push({
          key: kv.key.subarray(this.namespace.length).toString(),
          value: kv.value,
          createRevision: BigInt(kv.create_revision),
          modRevision: BigInt(kv.mod_revision),
        });
      }
      if (!page.more || page.kvs.length === 0) break;
      from = Buffer.concat([page.kvs[page.kvs.length - 1].key, Buffer.from([0])]);
    }
    return { entries, revision };
  }

  /**
   * etcd's range error names no revision; a watch from there is cancelled with it. Should the
   * watch not answer in time, the requested revision is the best known bound.
   */
  private compactRevisionAfter(revision: Revision): Promise<Revision> {
    return new Promise((resolve) => {
      const finish = (compactRevision: Revision): void => {
        clearTimeout(timer);
        probe.close();
        resolve(compactRevision);
      };
      const probe = new EtcdWatch({
        client: this.client,
        key: this.namespace,
        rangeEnd: prefixEnd(this.namespace),
        namespaceLength: this.namespace.length,
        fromRevision: revision - 1n,
        onEvents: () => finish(revision),
        onReset: finish,
      });
      const timer = setTimeout(() => finish(revision), compactProbeWaitMs);
    });
  }

  watch(
    prefix: string,
    fromRevision: Revision,
    onEvents: (events: WatchEvent[], revision: Revision) => void,
    onReset: (compactRevision: Revision) => void,
  ): WatchHandle {
    if (this.closed) throw new Error('the metadata store is closed');
    const key = this.full(prefix);
    const watch = new EtcdWatch({
      client: this.client,
      key,
      rangeEnd: prefixEnd(key),
      namespaceLength: this.namespace.length,
      fromRevision,
      onEvents,
      onReset: (compactRevision) => {
        this.watches.delete(handle);
        onReset(compactRevision);
      },
    });
    const handle: WatchHandle = {
      close: () => {
        this.watches.delete(handle);
        watch.close();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async commit(fence: Fence, operations: Operation[]): Promise<CommitResult> {
    checkCommitSize(operations);
    checkDistinctKeys(operations);
    if (!(fence instanceof EtcdFence) || fence.store !== this) {
      throw new TypeError('the fence was not handed out by this store');
    }
    const compare: ICompare[] = [
      {
        key: fence.key,
        target: 'Create',
        result: 'Equal',
        create_revision: fence.revision.toString(),
      },
    ];
    const failure: IRequestOp[] = [{ request_range: { key: fence.key } }];
    const expected: Operation[] = [];
    for (const operation of operations) {
      if (operation.expectedModRevision === undefined) continue;
      const key = this.full(operation.key);
      compare.push({
        key,
        target: 'Mod',
        result: 'Equal',
        mod_revision: operation.expectedModRevision.toString(),
      });
      failure.push({ request_range: { key, keys_only: true } });
      expected.push(operation);
    }
    const success: IRequestOp[] = operations.map((operation) =>
      operation.type === 'put'
        ? { request_put: { key: this.full(operation.key), value: operation.value } }
        : { request_delete_range: { key: this.full(operation.key) } },
    );
    const result = await this.client.kv.txn({ compare, success, failure });
    if (result.succeeded) return { committed: true, revision: BigInt(result.header.revision) };
    const fenceKey = result.responses[0].response_range.kvs[0];
    if (fenceKey === undefined || BigInt(fenceKey.create_revision) !== fence.revision) {
      return { committed: false, reason: 'fenced' };
    }
    for (let index = 0; index < expected.length; index++) {
      const actual = result.responses[index + 1].response_range.kvs[0];
      const modRevision = actual === undefined ? 0n : BigInt(actual.mod_revision);
      if (modRevision !== expected[index].expectedModRevision) {
        return { committed: false, reason: 'conflict', key: expected[index].key };
      }
    }
    return { committed: false, reason: 'conflict' };
  }

  async allocateProducerIds(blockSize: number): Promise<{ firstProducerId: bigint; size: number }> {
    checkBlockSize(blockSize);
    const key = this.full(producerIdKey);
    for (;;) {
      const current = (await this.client.kv.range({ key })).kvs[0];
      const firstProducerId = current === undefined ? 0n : BigInt(current.value.toString());
      const next = firstProducerId + BigInt(blockSize);
      const result = await this.client.kv.txn({
        compare: [
          { key, target: 'Mod', result: 'Equal', mod_revision: current?.mod_revision ?? '0' },
        ],
        success: [{ request_put: { key, value: Buffer.from(next.toString()) } }],
      });
      if (result.succeeded) return { firstProducerId, size: blockSize };
    }
  }

  /** Compacts etcd's history before `revision` (tests; production relies on auto-compaction). */
  async compact(revision: Revision): Promise<void> {
    await this.client.kv.compact({ revision: revision.toString(), physical: true });
  }

  /** Revokes the lease holding `key` (tests: a holder whose lease ended without its knowing). */
  async revokeLeaseOf(key: string): Promise<void> {
    const found = (await this.client.kv.range({ key: this.full(key) })).kvs[0];
    if (found === undefined || found.lease === '0') throw new Error(`no lease holds ${key}`);
    await this.client.leaseClient.leaseRevoke({ ID: found.lease });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.close();
    const revoking = Promise.allSettled([...this.held].map((release) => release()));
    // An unreachable etcd must not hold up the exit: the leases then expire after their TTL.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      revoking,
      new Promise((resolve) => {
        timer = setTimeout(resolve, closeWaitMs);
      }),
    ]);
    clearTimeout(timer);
    this.client.close();
  }
}
