/**
 * This broker as a member of a cluster whose metadata lives in a MetadataStore (etcd): it follows
 * the store into a MetadataImage (list at R, watch from R + 1, re-list after compaction) and
 * applies each delta to the ReplicaManager, registers on a lease (re-registering with a new broker
 * epoch when the lease is lost), is a controller candidate (the winner runs packages/cluster's
 * Controller until its fence is lost), and routes controller-only requests (ControllerChannel).
 *
 * Start order (Broker.start): `open` (image loaded, local partitions created and given their
 * roles) → the listeners bind → `register` (the endpoints need the bound ports) → ready.
 * Stop order: `controlledShutdown` (leaderships move away) → the server stops → `close` (lease
 * revoked, controllership given up).
 */
import { randomUUID } from 'node:crypto';
import {
  type BrokerEndpoint,
  Controller,
  type ControllerDefaults,
  encodeBrokerRegistration,
  localPartitionChanges,
  type MetadataImage,
  MetadataListener,
} from '@gregor/cluster';
import type { BrokerSession, MetadataStore } from '@gregor/metadata';
// The store module only: the package index would load the etcd client at every start.
import { DuplicateBrokerError } from '@gregor/metadata/store';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { LogConfig } from '@gregor/storage';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { randomTopicId } from '../topics/topic-id.js';
import { topicNameProblem } from '../topics/topic-names.js';
import { ControllerChannel } from './controller-channel.js';
import { ReplicaRoles, type RoleChange } from './replica-roles.js';

export interface ClusterNodeOptions {
  store: MetadataStore;
  nodeId: number;
  rack: string | null;
  clock: Clock;
  logger: Logger;
  /** Lease TTL of the registration and of the controller election. */
  sessionTtlMs: number;
  controllerDefaults: ControllerDefaults;
  topicConfigsProblem: (configs: ReadonlyMap<string, string>) => string | undefined;
  logConfig: (overrides: Readonly<Record<string, string>>) => LogConfig;
  /** The broker epoch of this broker's last clean shutdown, -1n if none (KIP-966). */
  previousBrokerEpoch: bigint;
  /** The listener whose endpoints forwarded requests use (the inter-broker listener). */
  interBrokerListenerName: string;
  onRoleChange?: (change: RoleChange) => void;
}

/** How long a new registration retries while the previous session's lease has not expired. */
const registrationWaitTtls = 3;
const registrationRetryMs = 250;
/** How long a controlled shutdown waits for this broker's leaderships to move away. */
const controlledShutdownWaitMs = 10_000;

export class ClusterNode {
  readonly channel: ControllerChannel;
  private roles: ReplicaRoles | undefined;
  private readonly incarnationId = randomUUID();
  private listener: MetadataListener | undefined;
  private controller: Controller | undefined;
  private session: BrokerSession | undefined;
  private endpoints: BrokerEndpoint[] = [];
  private closing = false;
  private imageWaiters: { test: (image: MetadataImage) => boolean; resolve: () => void }[] = [];

  private constructor(private readonly options: ClusterNodeOptions) {
    this.channel = new ControllerChannel({
      nodeId: options.nodeId,
      controller: () => this.controller,
      image: () => this.image,
      listenerName: options.interBrokerListenerName,
      clock: options.clock,
      logger: options.logger.child({ component: 'controller-channel' }),
    });
  }

  /** Loads the image and follows the store (before the logs load: they need topic configs). */
  static async open(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    node.listener = await MetadataListener.start(options.store, {
      logger: options.logger.child({ component: 'metadata-listener' }),
      schedule: (delayMs, callback) => options.clock.schedule(delayMs, callback),
      onImage: (image, changes, previous) => {
        const roles = node.roles;
        if (roles !== undefined && changes === undefined) {
          void roles.syncAll(image).catch(() => undefined);
        } else if (roles !== undefined && changes !== undefined) {
          if (changes.topics.size > 0) {
            void roles.topicsChanged(image, changes.topics).catch(() => undefined);
          }
          const local = localPartitionChanges(previous, image, changes, options.nodeId);
          if (local.leaders.length + local.followers.length + local.removed.length > 0) {
            void roles.applyChanges(previous, image, local).catch(() => undefined);
          }
        }
        node.wakeImageWaiters(image);
      },
    });
    return node;
  }

  /**
   * Gives every partition with a replica here its log and role from the current image, then
   * applies every later delta; logs of partitions the image does not place here are deleted.
   */
  async startRoles(replicas: ReplicaManager): Promise<void> {
    const roles = new ReplicaRoles({
      nodeId: this.options.nodeId,
      replicas,
      logger: this.options.logger.child({ component: 'replica-roles' }),
      logConfig: this.options.logConfig,
      onRoleChange: this.options.onRoleChange,
    });
    this.roles = roles;
    // Reads the image when it runs: deltas that arrive meanwhile queue behind it.
    await roles.syncAll(this.image);
  }

  get image(): MetadataImage {
    return this.listener?.image ?? (undefined as never);
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  get brokerEpoch(): bigint {
    return this.session?.brokerEpoch ?? -1n;
  }

  get controllerId(): number {
    return this.channel.controllerId;
  }

  /**
   * The controller id told to clients (Metadata, DescribeCluster): the active controller when
   * known, else this broker, which forwards controller requests once one is elected. Kafka's KRaft
   * brokers answer a live broker too; -1 makes kafkajs's admin fail with "Broker -1 not found".
   */
  get advertisedControllerId(): number {
    const controllerId = this.channel.controllerId;
    return controllerId === -1 ? this.options.nodeId : controllerId;
  }

  /** The active controller on this broker, if it is. */
  get localController(): Controller | undefined {
    return this.controller?.isActive === true ? this.controller : undefined;
  }

  /**
   * Registers with `endpoints` (bound ports), waits until the image shows the registration, and
   * starts campaigning for the controllership.
   */
  async register(endpoints: BrokerEndpoint[]): Promise<void> {
    this.endpoints = endpoints;
    await this.registerOnce(this.options.previousBrokerEpoch);
    this.controller = Controller.start(this.options.store, {
      nodeId: this.options.nodeId,
      sessionTtlMs: this.options.sessionTtlMs,
      logger: this.options.logger.child({ component: 'controller' }),
      defaults: this.options.controllerDefaults,
      topicNameProblem,
      topicConfigsProblem: this.options.topicConfigsProblem,
      randomTopicId: () => randomTopicId(),
      schedule: (delayMs, callback) => this.options.clock.schedule(delayMs, callback),
    });
  }

  /** Resolves when the image satisfies `test`, or false after `timeoutMs`. */
  waitForImage(test: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (test(this.image)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        test,
        resolve: () => {
          timer.cancel();
          resolve(true);
        },
      };
      const timer = this.options.clock.schedule(timeoutMs, () => {
        this.imageWaiters = this.imageWaiters.filter((entry) => entry !== waiter);
        resolve(false);
      });
      this.imageWaiters.push(waiter);
    });
  }

  /**
   * Controlled shutdown: asks the controller to move this broker's leaderships away and take it
   * out of every ISR, then waits (bounded) until the image shows this broker leads nothing.
   */
  async controlledShutdown(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    const { logger, nodeId } = this.options;
    const started = this.options.clock.monotonicMs();
    try {
      const response = await this.channel.send<{ errorCode: number }>({
        apiKey: ApiKey.ControlledShutdown,
        apiVersion: 3,
        request: { brokerId: nodeId, brokerEpoch: session.brokerEpoch },
        local: async (controller) => {
          const result = await controller.controlledShutdown(nodeId, session.brokerEpoch);
          return { errorCode: result.errorCode };
        },
        forwarded: false,
        timeoutMs: controlledShutdownWaitMs,
      });
      if (response.errorCode !== ErrorCode.NONE) {
        logger.warn('the controller refused the controlled shutdown', {
          errorCode: response.errorCode,
        });
      }
    } catch (error) {
      logger.warn('controlled shutdown request failed; stopping anyway', { error });
      return;
    }
    const remainingMs = controlledShutdownWaitMs - (this.options.clock.monotonicMs() - started);
    const moved = await this.waitForImage(
      (image) => leaderships(image, nodeId) === 0,
      Math.max(0, remainingMs),
    );
    logger.info('controlled shutdown done', {
      leadershipsLeft: leaderships(this.image, nodeId),
      moved,
      durationMs: Math.round(this.options.clock.monotonicMs() - started),
    });
  }

  /** Gives up the controllership, revokes the lease and stops following the store. */
  async close(): Promise<void> {
    this.closing = true;
    this.channel.close();
    await this.controller?.close().catch(() => undefined);
    await this.session?.close().catch(() => undefined);
    this.listener?.close();
    for (const waiter of this.imageWaiters.splice(0)) waiter.resolve();
  }

  private async registerOnce(previousBrokerEpoch: bigint): Promise<void> {
    const { store, nodeId, rack, sessionTtlMs, logger, clock } = this.options;
    const value = encodeBrokerRegistration({
      brokerId: nodeId,
      incarnationId: this.incarnationId,
      rack,
      listeners: this.endpoints,
      previousBrokerEpoch,
    });
    const deadlineMs = clock.monotonicMs() + registrationWaitTtls * sessionTtlMs;
    let session: BrokerSession;
    for (;;) {
      try {
        session = await store.registerBroker(nodeId, value, { ttlMs: sessionTtlMs });
        break;
      } catch (error) {
        if (!(error instanceof DuplicateBrokerError) || clock.monotonicMs() >= deadlineMs)
          throw error;
        await new Promise<void>((resolve) => clock.schedule(registrationRetryMs, resolve));
      }
    }
    this.session = session;
    logger.info('registered with the cluster', {
      brokerEpoch: session.brokerEpoch,
      previousBrokerEpoch,
    });
    session.lost.addEventListener('abort', () => this.onSessionLost(session), { once: true });
    await this.waitForImage(
      (image) => image.broker(nodeId)?.brokerEpoch === session.brokerEpoch,
      sessionTtlMs * registrationWaitTtls,
    );
  }

  /** A lost lease (keepalive refused, e.g. after a long pause): register again, a new epoch. */
  private onSessionLost(session: BrokerSession): void {
    if (this.closing || this.session !== session) return;
    this.options.logger.warn('the broker registration lease was lost; registering again', {
      brokerEpoch: session.brokerEpoch,
    });
    const retry = (): void => {
      if (this.closing) return;
      this.registerOnce(session.brokerEpoch).catch((error: unknown) => {
        this.options.logger.error('registering again failed; retrying', { error });
        this.options.clock.schedule(registrationRetryMs, retry);
      });
    };
    retry();
  }

  private wakeImageWaiters(image: MetadataImage): void {
    if (this.imageWaiters.length === 0) return;
    const ready = this.imageWaiters.filter((waiter) => waiter.test(image));
    if (ready.length === 0) return;
    this.imageWaiters = this.imageWaiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }
}

function leaderships(image: MetadataImage, nodeId: number): number {
  let count = 0;
  for (const topic of image.topics()) {
    for (const partition of image.partitions(topic.name)) if (partition.leader === nodeId) count++;
  }
  return count;
}
