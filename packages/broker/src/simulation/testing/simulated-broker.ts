/**
 * One broker of the cluster simulation: its own simulated disk (kept across crashes, which drop
 * the unsynced tails), a FileLogManager and ReplicaManager on it, a session in the simulated
 * metadata store, a MetadataListener whose deltas the broker's ReplicaRoles applies, a real
 * Controller campaigning on the same store connection, and replication as in production: the
 * broker's ReplicaFetcherManager (following every role change) fetching over the simulated
 * network from the other brokers' replication listeners (real SocketServer and Fetch handler).
 * Everything runs on the simulation's clock.
 */
import {
  Controller,
  encodeBrokerRegistration,
  localPartitionChanges,
  type MetadataImage,
  MetadataListener,
} from '@gregor/cluster';
import type { BrokerSession, MetadataStore, SimulatedMetadataStore } from '@gregor/metadata';
import type { SimulatedClock } from '@gregor/metadata/testing/simulated-clock';
import {
  defaultLogConfig,
  FileLogManager,
  type LogManager,
  type RandomSource,
  SimulatedFileSystem,
} from '@gregor/storage';
import { ReplicaRoles } from '../../cluster/replica-roles.js';
import { silentLogger } from '../../logging/logger.js';
import { type AlterPartitionSender, IsrManager } from '../../replication/isr-manager.js';
import type { Partition } from '../../replication/partition.js';
import {
  followRoleChange,
  ReplicaFetcherManager,
  type ReplicaFetchSettings,
} from '../../replication/replica-fetcher.js';
import { ReplicaManager } from '../../replication/replica-manager.js';
import type { MemoryNetwork } from '../memory-transport.js';
import {
  type ReplicationListener,
  replicationListenerName,
  replicationPort,
  startReplicationListener,
} from './replication-listener.js';

export const dataDirectory = '/data';
export const sessionTtlMs = 2_000;
export const replicaLagTimeMaxMs = 3_000;
export const minInsyncReplicas = 2;
/** Kafka's defaults but shorter backoff and socket timeout: a seed converges in fewer steps. */
const fetchSettings: Partial<ReplicaFetchSettings> = {
  waitMaxMs: 500,
  backoffMs: 200,
  socketTimeoutMs: 3_000,
};

export type BrokerState = 'down' | 'up' | 'paused';

/** What a running incarnation holds; replaced on every restart. */
interface Incarnation {
  number: number;
  store: MetadataStore;
  logs: LogManager;
  replicas: ReplicaManager;
  listener: MetadataListener;
  roles: ReplicaRoles;
  controller: Controller;
  session: BrokerSession;
  isr: IsrManager;
  fetchers: ReplicaFetcherManager;
  server: ReplicationListener;
}

export class SimulatedBroker {
  readonly fileSystem = new SimulatedFileSystem();
  state: BrokerState = 'down';
  private current: Incarnation | undefined;
  private incarnations = 0;
  /** Set while a restart waits for its old session to expire (registration is refused meanwhile). */
  starting = false;

  constructor(
    readonly id: number,
    private readonly clock: SimulatedClock,
    private readonly store: SimulatedMetadataStore,
    private readonly network: MemoryNetwork,
    private readonly randomTopicId: () => string,
    /** AlterPartition from this broker to the active controller, over the simulated network. */
    private readonly alterPartition: (from: SimulatedBroker) => AlterPartitionSender,
  ) {}

  get nodeName(): string {
    return `broker-${this.id}`;
  }

  get incarnation(): number {
    return this.current?.number ?? -1;
  }

  get image(): MetadataImage | undefined {
    return this.current?.listener.image;
  }

  get brokerEpoch(): bigint {
    return this.current?.session.brokerEpoch ?? -1n;
  }

  get controller(): Controller | undefined {
    return this.current?.controller;
  }

  get sessionLost(): boolean {
    return this.current?.session.lost.aborted ?? true;
  }

  /** The ISR manager's shrink check now (it also runs on its own timer). */
  shrinkIsr(): void {
    if (this.state === 'up') this.current?.isr.shrinkAll();
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.current?.replicas.get(topic, index);
  }

  /** Starts a new incarnation on the disk as it is; registration retries until the old lease is gone. */
  async start(previousBrokerEpoch = -1n): Promise<void> {
    this.starting = true;
    const number = ++this.incarnations;
    const store = this.store.connect(this.nodeName);
    const logs = await FileLogManager.open({
      logDirs: [dataDirectory],
      clock: this.clock,
      fileSystem: this.fileSystem,
      defaultConfig: { ...defaultLogConfig },
    });
    const replicas = new ReplicaManager({
      logs,
      nodeId: this.id,
      clock: this.clock,
      logger: silentLogger,
      fileSystem: this.fileSystem,
      logDirOf: () => dataDirectory,
      rolesFromMetadata: true,
      minInsyncReplicas: () => minInsyncReplicas,
      replicaLagTimeMaxMs: () => replicaLagTimeMaxMs,
    });
    await replicas.start([dataDirectory]);
    const session = await this.register(store, previousBrokerEpoch);
    const roles = new ReplicaRoles({
      nodeId: this.id,
      replicas,
      logger: silentLogger,
      logConfig: () => ({ ...defaultLogConfig }),
      onRoleChange: (change) => {
        if (this.current?.number === number) followRoleChange(this.current.fetchers, change);
      },
    });
    let rolesStarted = false;
    const listener = await MetadataListener.start(store, {
      schedule: (delayMs, callback) => this.clock.schedule(delayMs, callback),
      onImage: (image, changes, previous) => {
        if (!rolesStarted || this.current?.number !== number) return;
        if (changes === undefined) {
          void roles.syncAll(image).catch(() => undefined);
          return;
        }
        if (changes.topics.size > 0)
          void roles.topicsChanged(image, changes.topics).catch(() => {});
        const local = localPartitionChanges(previous, image, changes, this.id);
        if (local.leaders.length + local.followers.length + local.removed.length > 0) {
          void roles.applyChanges(previous, image, local).catch(() => undefined);
        }
      },
    });
    const controller = Controller.start(store, {
      nodeId: this.id,
      sessionTtlMs,
      logger: silentLogger,
      randomTopicId: this.randomTopicId,
      randomInt: () => 0,
      schedule: (delayMs, callback) => this.clock.schedule(delayMs, callback),
      leaderRebalance: 'off',
    });
    const isr = new IsrManager({
      replicas,
      sender: this.alterPartition(this),
      clock: this.clock,
      logger: silentLogger,
      brokerEpoch: () => session.brokerEpoch,
      topicId: (topic) => listener.image.topic(topic)?.topicId,
      replicaLagTimeMaxMs: () => replicaLagTimeMaxMs,
    });
    isr.start();
    const transport = this.network.transport(this.nodeName);
    const server = await startReplicationListener({
      host: this.nodeName,
      nodeId: this.id,
      transport,
      clock: this.clock,
      logs,
      replicas,
      image: () => listener.image,
    });
    const fetchers = new ReplicaFetcherManager({
      replicas,
      transport,
      clock: this.clock,
      logger: silentLogger,
      brokerEpoch: () => session.brokerEpoch,
      brokerAddress: (brokerId) => listener.image.brokerEndpoint(brokerId, replicationListenerName),
      settings: fetchSettings,
    });
    this.current = {
      number,
      store,
      logs,
      replicas,
      listener,
      roles,
      controller,
      session,
      isr,
      fetchers,
      server,
    };
    // A session lost while running (expired during a pause or a cut): register again.
    session.lost.addEventListener('abort', () => {
      if (this.current?.number === number && this.state === 'up') {
        void this.resume().catch(() => undefined);
      }
    });
    rolesStarted = true;
    await roles.syncAll(listener.image);
    this.state = 'up';
    this.starting = false;
  }

  private async register(
    store: MetadataStore,
    previousBrokerEpoch: bigint,
  ): Promise<BrokerSession> {
    for (;;) {
      try {
        return await store.registerBroker(
          this.id,
          encodeBrokerRegistration({
            brokerId: this.id,
            incarnationId: `incarnation-${this.id}-${this.incarnations}`,
            rack: null,
            listeners: [
              {
                name: replicationListenerName,
                host: this.nodeName,
                port: replicationPort,
                securityProtocol: 'PLAINTEXT',
              },
            ],
            // -1 after a crash (unsynced tails lost: unclean, KIP-966); the last epoch when the disk is intact.
            previousBrokerEpoch,
          }),
          { ttlMs: sessionTtlMs },
        );
      } catch {
        await new Promise<void>((resolve) => this.clock.schedule(200, resolve));
      }
    }
  }

  /** Reports a peer found dead (its endpoint refuses connections) to the store. */
  expirePeer(brokerId: number, brokerEpoch: bigint): Promise<boolean> {
    const store = this.current?.store;
    return store === undefined ? Promise.resolve(false) : store.expireBroker(brokerId, brokerEpoch);
  }

  /** Power loss: unsynced tails dropped, leases left to expire, every in-memory state gone. */
  crash(random: RandomSource): void {
    const current = this.current;
    this.current = undefined;
    this.state = 'down';
    this.fileSystem.crash({ random });
    this.store.crash(this.nodeName);
    this.network.crash(this.nodeName);
    if (current !== undefined) {
      this.stopProcesses(current);
      void current.logs.close().catch(() => undefined);
    }
  }

  /** What runs beside the logs: fetch loops, the listener, ISR checks, partitions, metadata. */
  private stopProcesses(current: Incarnation): void {
    current.isr.stop();
    void current.fetchers.stop().catch(() => undefined);
    void current.server.stop().catch(() => undefined);
    for (const partition of current.replicas.all()) partition.close();
    current.listener.close();
  }

  /**
   * The device of this broker's disk stops answering for `durationMs`: writes and syncs wait
   * (appends are not acknowledged, followers stop advancing), reads go on.
   */
  stallDisk(durationMs: number): void {
    const release = this.fileSystem.stallWrites();
    this.clock.schedule(durationMs, release);
  }

  /** SIGSTOP (or cut off from the store): nothing runs here and its keepalives stop. */
  pause(): void {
    this.state = 'paused';
    this.store.pauseKeepalives(this.nodeName, true);
  }

  /**
   * SIGCONT, or back in touch with the store. A broker whose session expired meanwhile is fenced for good: like a process that
   * lost its registration, it starts again (same disk, nothing dropped) with a new broker epoch.
   */
  async resume(): Promise<void> {
    this.store.pauseKeepalives(this.nodeName, false);
    if (this.state === 'down' || this.starting) return;
    if (!this.sessionLost) {
      this.state = 'up';
      return;
    }
    const current = this.current;
    this.current = undefined;
    this.state = 'down';
    this.store.crash(this.nodeName);
    this.network.crash(this.nodeName);
    if (current !== undefined) {
      this.stopProcesses(current);
      await current.logs.close().catch(() => undefined);
    }
    await this.start(current?.session.brokerEpoch ?? -1n);
  }
}
