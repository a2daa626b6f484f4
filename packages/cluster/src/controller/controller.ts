/**
 * The controller: every broker runs one; the one that wins the store's election is active and
 * is the cluster's single metadata writer (KRaft's QuorumController over the metadata store).
 *
 * While active it follows the store into an image (list at R, watch from R) and handles one event
 * at a time from a serialized queue: requests (CreateTopics, CreatePartitions, DeleteTopics,
 * AlterPartition, ElectLeaders, controlled shutdown) and broker changes. An event plans against
 * the image, commits its units in fenced transactions of at most 127 operations, then waits until
 * the image shows its last commit, so the next event sees it.
 *
 * Safety never rests on lease timing: every commit carries the fence; a fenced or conflicting
 * commit, a lost lease or a store error ends the term (the node answers NOT_CONTROLLER, drops its
 * image and campaigns again). A new term starts by announcing itself (`controller` key) and
 * reconciling brokers against partitions, so work a failed controller left undone is redone.
 */
import type { Fence, MetadataStore } from '@gregor/metadata';
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type ElectLeadersRequest,
  type ElectLeadersResponse,
  systemClock,
} from '@gregor/protocol';
import type { MetadataImage } from '../image.js';
import { type ClusterLogger, silentClusterLogger } from '../logger.js';
import { MetadataListener } from '../metadata-listener.js';
import { controllerKey, encodeControllerRecord } from '../records.js';
import { type ConfigWrite, type ConfigWriteResult, planAlterConfigs } from './alter-configs.js';
import { planAlterPartition } from './alter-partition.js';
import {
  type ControlledShutdownResult,
  planBrokerReconciliation,
  planControlledShutdown,
} from './broker-changes.js';
import {
  type ControllerContext,
  type ControllerDefaults,
  type ControllerSettings,
  controllerDefaults,
} from './context.js';
import { planCreatePartitions } from './create-partitions.js';
import { planCreateTopics } from './create-topics.js';
import { planDeleteTopics } from './delete-topics.js';
import { planElectLeaders } from './elect-leaders.js';
import { EventLogger } from './event-logger.js';
import {
  type LeaderRebalanceSettings,
  leaderRebalanceDefaults,
  planLeaderRebalance,
} from './leader-rebalance.js';
import { type Batch, type Plan, packUnits } from './plan.js';

export interface ControllerOptions {
  /** This broker's node id: the candidate id in the election. */
  nodeId: number;
  /** TTL of the election lease: how long a dead controller keeps the role (default 3000). */
  sessionTtlMs?: number;
  logger?: ClusterLogger;
  defaults?: Partial<ControllerDefaults>;
  /** KIP-966 eligible leader replicas (default on, as for new Kafka 4.1 clusters). */
  eligibleLeaderReplicasEnabled?: boolean;
  topicNameProblem?: (name: string) => string | undefined;
  topicConfigsProblem?: (configs: ReadonlyMap<string, string>) => string | undefined;
  randomInt?: (bound: number) => number;
  /** New topic ids, in Kafka's base64url uuid form (the broker's generator). */
  randomTopicId: () => string;
  /** Timer for retrying a failed campaign (the broker's clock). */
  schedule?: (delayMs: number, callback: () => void) => { cancel(): void };
  /** Keys per page when listing the store. */
  pageSize?: number;
  /** Automatic preferred-leader rebalance (auto.leader.rebalance.enable); 'off' disables it. */
  leaderRebalance?: LeaderRebalanceSettings | 'off';
  /** How long a commit may take to show in the image before the term is given up. */
  imageCatchUpTimeoutMs?: number;
}

/** Raised by requests to a node that is not the active controller: answer NOT_CONTROLLER. */
export class NotControllerError extends Error {
  constructor(nodeId: number) {
    super(`node ${nodeId} is not the active controller`);
    this.name = 'NotControllerError';
  }
}

export const sessionTtlMsDefault = 3000;
export const imageCatchUpTimeoutMsDefault = 10_000;
/** Transactions of independent units in flight at once (etcd batches their fsyncs). */
export const commitsInFlightMax = 8;
/** Wait before campaigning again after the store failed a campaign. */
const campaignRetryDelayMs = 500;

/** One term as the active controller. */
class Term {
  private readonly abort = new AbortController();
  readonly ended: Promise<string>;
  private endTerm!: (reason: string) => void;
  reconcileQueued = false;
  private periodicTimer: { cancel(): void } | undefined;

  constructor(
    readonly fence: Fence,
    readonly listener: MetadataListener,
  ) {
    this.ended = new Promise((resolve) => {
      this.endTerm = resolve;
    });
    if (fence.lost.aborted) this.end('the election lease was lost');
    else
      fence.lost.addEventListener('abort', () => this.end('the election lease was lost'), {
        once: true,
      });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isOver(): boolean {
    return this.abort.signal.aborted;
  }

  end(reason: string): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort(new Error(reason));
    this.endTerm(reason);
    this.periodicTimer?.cancel();
  }

  /** The term's periodic timer (the leader rebalance), cancelled when the term ends. */
  setPeriodicTimer(timer: { cancel(): void }): void {
    if (this.isOver) timer.cancel();
    else this.periodicTimer = timer;
  }
}

export class Controller {
  private readonly settings: ControllerSettings;
  private readonly logger: ClusterLogger;
  /** The logger events plan with: partition change lines within a budget per event. */
  private readonly eventLogger: EventLogger;
  private readonly closing = new AbortController();
  private term: Term | undefined;
  /** Tail of the serialized event queue. */
  private queue: Promise<unknown> = Promise.resolve();
  private activeWaiters: (() => void)[] = [];
  private readonly running: Promise<void>;

  private constructor(
    private readonly store: MetadataStore,
    private readonly options: ControllerOptions,
  ) {
    this.logger = options.logger ?? silentClusterLogger;
    this.eventLogger = new EventLogger(this.logger);
    this.settings = {
      defaults: { ...controllerDefaults, ...options.defaults },
      eligibleLeaderReplicasEnabled: options.eligibleLeaderReplicasEnabled ?? true,
      topicNameProblem: options.topicNameProblem ?? (() => undefined),
      topicConfigsProblem: options.topicConfigsProblem ?? (() => undefined),
      randomInt: options.randomInt ?? ((bound) => Math.floor(Math.random() * bound)),
      randomTopicId: options.randomTopicId,
    };
    this.running = this.campaignLoop();
  }

  /** Starts campaigning at once; the controller is active once `whenActive` resolves. */
  static start(store: MetadataStore, options: ControllerOptions): Controller {
    return new Controller(store, options);
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  get isActive(): boolean {
    return this.term !== undefined && !this.term.isOver;
  }

  /** The fence of the current term, while active. */
  get fence(): Fence | undefined {
    return this.isActive ? this.term!.fence : undefined;
  }

  /** The controller's image, while active. */
  get image(): MetadataImage | undefined {
    return this.isActive ? this.term!.listener.image : undefined;
  }

  /** Resolves when this node is the active controller (its term began and was announced). */
  whenActive(): Promise<void> {
    if (this.isActive) return Promise.resolve();
    return new Promise((resolve) => this.activeWaiters.push(resolve));
  }

  createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    return this.submit((context) => planCreateTopics(context, request));
  }

  createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    return this.submit((context) => planCreatePartitions(context, request));
  }

  deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    return this.submit((context) => planDeleteTopics(context, request));
  }

  alterPartition(request: AlterPartitionRequest, apiVersion = 3): Promise<AlterPartitionResponse> {
    return this.submit((context) => planAlterPartition(context, request, apiVersion));
  }

  electLeaders(request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
    return this.submit((context) => planElectLeaders(context, request));
  }

  /**
   * Writes resources' whole new config override sets. Afterwards the brokers are reconciled
   * again: enabling unclean leader election elects leaders for leaderless partitions at once.
   */
  async alterConfigs(
    writes: readonly ConfigWrite[],
    options: { validateOnly: boolean } = { validateOnly: false },
  ): Promise<ConfigWriteResult[]> {
    const results = await this.submit((context) => planAlterConfigs(context, writes, options));
    const term = this.term;
    if (!options.validateOnly && term !== undefined) this.enqueueReconciliation(term);
    return results;
  }

  /** A broker's controlled shutdown: its leaderships move away and it leaves every ISR. */
  controlledShutdown(brokerId: number, brokerEpoch: bigint): Promise<ControlledShutdownResult> {
    return this.submit((context) => planControlledShutdown(context, brokerId, brokerEpoch));
  }

  /** Stops campaigning; an active term ends and the controllership is given up. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return this.running;
    this.closing.abort(new Error('the controller is closing'));
    this.term?.end('the controller is closing');
    await this.running;
  }

  // ---- Terms ----------------------------------------------------------------------------------

  private async campaignLoop(): Promise<void> {
    const ttlMs = this.options.sessionTtlMs ?? sessionTtlMsDefault;
    while (!this.closing.signal.aborted) {
      let fence: Fence;
      try {
        fence = await this.store.campaign(this.nodeId, { ttlMs, signal: this.closing.signal });
      } catch (error) {
        if (this.closing.signal.aborted) return;
        this.logger.error('campaigning for the controller failed; retrying', { error });
        await this.delay(campaignRetryDelayMs);
        continue;
      }
      const failed = await this.serveTerm(fence);
      if (failed) await this.delay(campaignRetryDelayMs);
    }
  }

  /** Serves one term until it ends; true when it failed rather than ended. */
  private async serveTerm(fence: Fence): Promise<boolean> {
    let term: Term | undefined;
    let failed = false;
    try {
      const listener = await MetadataListener.start(this.store, {
        logger: this.logger,
        pageSize: this.options.pageSize,
        schedule: this.options.schedule,
        onImage: (_image, changes) => {
          if (term !== undefined && (changes === undefined || changes.brokers.size > 0)) {
            this.enqueueReconciliation(term);
          }
        },
      });
      term = new Term(fence, listener);
      if (this.closing.signal.aborted) term.end('the controller is closing');
      this.term = term;
      await this.enqueue(term, () => this.execute(term!, this.announcement(fence)));
      if (!term.isOver) {
        this.logger.info(`Node ${this.nodeId} is the active controller`, {
          nodeId: this.nodeId,
          fenceRevision: fence.revision,
        });
        const waiters = this.activeWaiters;
        this.activeWaiters = [];
        for (const resolve of waiters) resolve();
        this.enqueueReconciliation(term);
        this.armLeaderRebalance(term);
      }
      const reason = await term.ended;
      this.logger.warn(`Node ${this.nodeId} is no longer the active controller: ${reason}`, {
        nodeId: this.nodeId,
        fenceRevision: fence.revision,
        reason,
      });
    } catch (error) {
      failed = true;
      this.logger.error('a controller term failed', { error });
      term?.end('the term failed');
    } finally {
      if (this.term === term) this.term = undefined;
      term?.listener.close();
      // Let queued events see the term is over before the next one starts.
      await this.queue.catch(() => undefined);
      await fence
        .resign()
        .catch((error: unknown) =>
          this.logger.warn('resigning the controllership failed', { error }),
        );
    }
    return failed;
  }

  private announcement(fence: Fence): Plan<void> {
    return {
      units: [
        {
          operations: [
            {
              type: 'put',
              key: controllerKey,
              value: encodeControllerRecord({
                controllerId: this.nodeId,
                fenceRevision: fence.revision,
              }),
            },
          ],
        },
      ],
      respond: () => undefined,
    };
  }

  private armLeaderRebalance(term: Term): void {
    const settings = this.options.leaderRebalance ?? leaderRebalanceDefaults;
    if (settings === 'off' || term.isOver) return;
    const schedule = this.options.schedule ?? systemClock.schedule;
    const timer = schedule(settings.intervalMs, () => {
      if (term.isOver) return;
      this.enqueue(term, () =>
        this.execute(term, planLeaderRebalance(this.context(term), settings.imbalancePercentage)),
      )
        .catch((error: unknown) => {
          if (!(error instanceof NotControllerError)) {
            this.logger.error('the preferred leader rebalance failed', { error });
          }
        })
        .finally(() => this.armLeaderRebalance(term));
    });
    term.setPeriodicTimer(timer);
  }

  private enqueueReconciliation(term: Term): void {
    if (term.reconcileQueued || term.isOver) return;
    term.reconcileQueued = true;
    this.enqueue(term, async () => {
      term.reconcileQueued = false;
      const complete = await this.execute(term, planBrokerReconciliation(this.context(term)));
      // A big cluster is reconciled over several events; the rest is queued behind requests.
      if (!complete) this.enqueueReconciliation(term);
    }).catch((error: unknown) => {
      if (!(error instanceof NotControllerError)) {
        this.logger.error('reconciling brokers failed', { error });
      }
    });
  }

  // ---- The event queue ----------------------------------------------------------------------

  private submit<Response>(
    planner: (context: ControllerContext) => Plan<Response>,
  ): Promise<Response> {
    const term = this.term;
    if (term === undefined || term.isOver)
      return Promise.reject(new NotControllerError(this.nodeId));
    return this.enqueue(term, () => this.execute(term, planner(this.context(term))));
  }

  /** Runs `task` after every earlier event, unless the term is over by then. */
  private enqueue<Result>(term: Term, task: () => Promise<Result>): Promise<Result> {
    const run = this.queue.then(() => {
      if (term.isOver) throw new NotControllerError(this.nodeId);
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private context(term: Term): ControllerContext {
    return { image: term.listener.image, settings: this.settings, logger: this.eventLogger };
  }

  /**
   * Commits a plan's units in transactions of at most 127 operations: ordered units one at a
   * time, after everything before them; runs of independent units several transactions at once.
   */
  private async execute<Response>(term: Term, plan: Plan<Response>): Promise<Response> {
    const batches = packUnits(plan.units);
    let lastRevision: bigint | undefined;
    let failed = false;
    let attempted = 0;
    const inFlight = new Set<Promise<void>>();
    const run = async (batch: Batch): Promise<void> => {
      const revision = await this.commitBatch(term, batch);
      if (revision === undefined) {
        failed = true;
        return;
      }
      if (lastRevision === undefined || revision > lastRevision) lastRevision = revision;
      for (const unit of batch.units) unit.committed?.();
    };
    for (const batch of batches) {
      if (batch.independent) {
        while (inFlight.size >= commitsInFlightMax) await Promise.race(inFlight);
      } else {
        await Promise.all(inFlight);
      }
      if (failed || term.isOver) break;
      attempted += 1;
      if (!batch.independent) {
        await run(batch);
        continue;
      }
      const running: Promise<void> = run(batch).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    await Promise.all(inFlight);
    this.eventLogger.endEvent();
    if (lastRevision !== undefined) await this.catchUp(term, lastRevision);
    return plan.respond(!failed && attempted === batches.length);
  }

  /** One transaction; its revision, or undefined when it did not commit (the term then ends). */
  private async commitBatch(term: Term, batch: Batch): Promise<bigint | undefined> {
    let result: Awaited<ReturnType<MetadataStore['commit']>>;
    try {
      result = await this.store.commit(
        term.fence,
        batch.units.flatMap((unit) => unit.operations),
      );
    } catch (error) {
      // The outcome is unknown: only a fresh term, listing the store again, knows it.
      this.logger.error('a metadata commit failed', { error });
      term.end('a metadata commit failed');
      return undefined;
    }
    if (result.committed) return result.revision;
    if (result.reason === 'fenced') {
      this.logger.warn(
        `Node ${this.nodeId}'s commit was rejected by its fence: another node is the controller`,
        { nodeId: this.nodeId, fenceRevision: term.fence.revision },
      );
      term.end('a commit was fenced: another node is the controller');
    } else {
      this.logger.error('a controller commit met a conflicting write', { key: result.key });
      term.end(`a commit conflicted on ${result.key ?? 'a key'}`);
    }
    return undefined;
  }

  /**
   * Waits until the image shows `revision`. A watch that stalls must not stall the controller:
   * past the timeout the term ends and the next one lists the store afresh.
   */
  private async catchUp(term: Term, revision: bigint): Promise<void> {
    const timeoutMs = this.options.imageCatchUpTimeoutMs ?? imageCatchUpTimeoutMsDefault;
    const schedule = this.options.schedule ?? systemClock.schedule;
    const timer = schedule(timeoutMs, () => {
      this.logger.error('the metadata image did not show a commit in time', {
        revision,
        imageRevision: term.listener.image.revision,
        timeoutMs,
      });
      term.end('the metadata image stopped following the store');
    });
    try {
      await term.listener.waitForRevision(revision, term.signal);
    } catch {
      // The term ended while the image caught up; what committed stays committed.
    } finally {
      timer.cancel();
    }
  }

  private delay(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const schedule = this.options.schedule ?? systemClock.schedule;
      const signal = this.closing.signal;
      const onClose = () => {
        timer.cancel();
        resolve();
      };
      // The listener goes with the wait: one per retry would pile up on the long-lived signal.
      const timer = schedule(delayMs, () => {
        signal.removeEventListener('abort', onClose);
        resolve();
      });
      signal.addEventListener('abort', onClose, { once: true });
    });
  }
}
