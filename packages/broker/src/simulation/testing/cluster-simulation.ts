/**
 * A seeded whole-cluster simulation in one process: 3–5 SimulatedBrokers (real ReplicaManager,
 * Partition, ReplicaRoles, FileLogManager on a simulated disk, MetadataListener and Controller on
 * the SimulatedMetadataStore, ReplicaFetcherManager fetching over a MemoryNetwork from the other
 * brokers' SocketServer and Fetch handler), one SimulatedClock, and a PRNG that picks every next
 * step: an acks=all produce, time passing (short or long), an ISR check, or a fault (crash with
 * unsynced tails dropped, restart, pause past the lease, network partition and heal, message
 * loss and delay, a stalled disk). The invariants are checked after every step
 * (testing/invariants.ts); a run ends with everything healed and every replica caught up, then
 * every acked record is looked for on every replica.
 *
 * Each broker's real IsrManager shrinks and expands its ISRs; its AlterPartition travels over the
 * simulated links to the active Controller (`alterPartitionSender`). The produce is a stand-in:
 * `appendAsLeader` on the leader's Partition, acked when it resolves.
 */
import type { MetadataImage } from '@gregor/cluster';
import { MetadataListener } from '@gregor/cluster';
import { drive, driveUntil } from '@gregor/cluster/testing/brokers';
import { SimulatedMetadataStore } from '@gregor/metadata';
import { SimulatedClock } from '@gregor/metadata/testing/simulated-clock';
import { type AlterPartitionResponse, ErrorCode, encodeRecordBatch } from '@gregor/protocol';
import { seededRandom } from '@gregor/storage/testing/batches';
import type { AlterPartitionSender } from '../../replication/isr-manager.js';
import { leaderEpoch } from '../../replication/types.js';
import { MemoryNetwork } from '../memory-transport.js';
import { InvariantChecker, type ReplicaView, readReplica } from './invariants.js';
import { SimulatedBroker } from './simulated-broker.js';

export const topicName = 'simulated';
const partitionCount = 2;
const replicationFactor = 3;

export interface SimulationOptions {
  steps: number;
  /** Also hold followers to their own HW (InvariantChecker); default true. */
  strict?: boolean;
  /** Stop at the first violated invariant (default true). */
  stopAtViolation?: boolean;
}

export interface SimulationResult {
  seed: number;
  brokerCount: number;
  steps: string[];
  violations: string[];
  ackedCount: number;
  faultCount: number;
  /** Whether the cluster caught up completely after healing. */
  converged: boolean;
}

interface Link {
  lossRate: number;
  delayMs: number;
}

export class ClusterSimulation {
  readonly clock = new SimulatedClock();
  readonly store = new SimulatedMetadataStore(this.clock);
  readonly random: () => number;
  readonly network: MemoryNetwork;
  readonly brokers: SimulatedBroker[] = [];
  readonly checker: InvariantChecker;
  readonly steps: string[] = [];
  private observer: MetadataListener | undefined;
  /** Brokers cut off from every other broker and from the metadata store. */
  private readonly isolated = new Set<number>();
  private readonly links = new Map<string, Link>();
  private readonly altersInFlight = new Set<string>();
  private produced = 0;
  private healing = false;
  faultCount = 0;
  private topicIds = 0;

  constructor(
    readonly seed: number,
    strict = true,
  ) {
    this.checker = new InvariantChecker(strict);
    this.random = seededRandom(seed);
    this.network = new MemoryNetwork({ clock: this.clock, random: this.random });
    const brokerCount = 3 + (seed % 3);
    for (let id = 1; id <= brokerCount; id++) {
      this.brokers.push(
        new SimulatedBroker(
          id,
          this.clock,
          this.store,
          this.network,
          () => this.topicId(),
          (broker) => this.alterPartitionSender(broker),
        ),
      );
    }
  }

  private topicId(): string {
    const id = Buffer.alloc(16);
    id.writeUInt32BE(this.seed >>> 0, 0);
    id.writeUInt32BE(++this.topicIds, 12);
    return id.toString('base64url');
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length)];
  }

  private chance(probability: number): boolean {
    return this.random() < probability;
  }

  private log(step: string): void {
    // Healing repeats the same rounds every 100 ms: keep one line of each.
    const last = this.steps[this.steps.length - 1];
    if (last !== undefined && last.slice(last.indexOf(' ') + 1) === step) return;
    this.steps.push(`t=${this.clock.monotonicMs()} ${step}`);
  }

  /** Brokers up, the topic created and every replica holding its role. */
  async setUp(): Promise<void> {
    this.observer = await MetadataListener.start(this.store.connect('observer'), {
      schedule: (delayMs, callback) => this.clock.schedule(delayMs, callback),
      onImage: (image) => this.observeImage(image),
    });
    await drive(this.clock, Promise.all(this.brokers.map((broker) => broker.start())));
    await driveUntil(this.clock, () => this.activeController() !== undefined, {
      what: 'a controller',
    });
    const created = await drive(
      this.clock,
      this.activeController()!.createTopics({
        topics: [
          {
            name: topicName,
            numPartitions: partitionCount,
            replicationFactor,
            assignments: [],
            configs: [{ name: 'min.insync.replicas', value: '2' }],
          },
        ],
        timeoutMs: 30_000,
      }),
    );
    const errorCode = created.topics[0]?.errorCode;
    if (errorCode !== ErrorCode.NONE) throw new Error(`topic creation failed: ${errorCode}`);
    await driveUntil(this.clock, () => this.allRolesApplied(), { what: 'roles applied' });
  }

  private observeImage(image: MetadataImage): void {
    for (const partition of image.partitions(topicName)) {
      this.checker.leaderElected(partition.partition, partition.leader, partition.leaderEpoch);
    }
  }

  private activeController() {
    for (const broker of this.brokers) {
      if (broker.state === 'up' && broker.controller?.isActive === true) return broker.controller;
    }
    return undefined;
  }

  private allRolesApplied(): boolean {
    const image = this.observer?.image;
    if (image === undefined) return false;
    const partitions = image.partitions(topicName);
    if (partitions.length !== partitionCount) return false;
    return partitions.every((partition) =>
      partition.replicas.every((id) => {
        const local = this.broker(id)?.partition(topicName, partition.partition);
        return local !== undefined && local.leaderEpoch === partition.leaderEpoch;
      }),
    );
  }

  broker(id: number): SimulatedBroker | undefined {
    return this.brokers.find((broker) => broker.id === id);
  }

  // ------------------------------------------------------------------ network

  private linkKey(from: number, to: number): string {
    return `${from}->${to}`;
  }

  private reachable(from: number, to: number): boolean {
    if (from === to) return true;
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    return this.links.get(this.linkKey(from, to))?.lossRate !== 1;
  }

  /** Delivers `deliver` over from→to after the link's delay, unless the message is lost. */
  private send(from: number, to: number, deliver: () => void): void {
    if (!this.reachable(from, to)) return;
    const link = this.links.get(this.linkKey(from, to)) ?? { lossRate: 0, delayMs: 0 };
    if (from !== to && this.chance(link.lossRate)) return;
    const delayMs = link.delayMs > 0 ? Math.floor(this.random() * link.delayMs) + 1 : 1;
    this.clock.schedule(delayMs, () => {
      if (this.reachable(from, to)) deliver();
    });
  }

  /**
   * The brokers' MemoryNetwork after a fault changed: a pair is cut while either is isolated or
   * paused (a stopped process answers nothing) or their link loses everything; otherwise it
   * carries the link's delay and loss (a lost chunk resets the connection).
   */
  private applyNetwork(): void {
    for (const from of this.brokers) {
      for (const to of this.brokers) {
        if (from.id >= to.id) continue;
        const link = this.links.get(this.linkKey(from.id, to.id)) ?? { lossRate: 0, delayMs: 0 };
        const cut =
          !this.reachable(from.id, to.id) || from.state === 'paused' || to.state === 'paused';
        if (cut) this.network.partition(from.nodeName, to.nodeName);
        else this.network.heal(from.nodeName, to.nodeName);
        this.network.setLink(from.nodeName, to.nodeName, link);
      }
    }
  }

  private running(id: number): SimulatedBroker | undefined {
    const broker = this.broker(id);
    return broker?.state === 'up' ? broker : undefined;
  }

  // ------------------------------------------------------------------ steps

  async step(): Promise<void> {
    const roll = this.random();
    if (roll < 0.25) this.produce();
    else if (roll < 0.55) {
      // The fetchers run on their own: short steps let produces and faults land between fetches.
      const durationMs = 1 + Math.floor(this.random() * 50);
      this.log(`advance ${durationMs} ms`);
      await this.clock.advance(durationMs);
    } else if (roll < 0.63) this.isrRound();
    else if (roll < 0.88) {
      const durationMs = 1 + Math.floor(this.random() * 400);
      this.log(`advance ${durationMs} ms`);
      await this.clock.advance(durationMs);
    } else await this.fault();
    await this.clock.advance(1);
    await this.checkInvariants();
  }

  private produce(): void {
    const index = Math.floor(this.random() * partitionCount);
    const leaders = this.brokers.filter(
      (broker) => broker.state === 'up' && broker.partition(topicName, index)?.isLeader === true,
    );
    const broker = this.pick(leaders);
    if (broker === undefined) {
      this.log(`produce ${index}: no leader`);
      return;
    }
    const partition = broker.partition(topicName, index)!;
    const value = `v${++this.produced}`;
    const epoch = partition.leaderEpoch;
    const incarnation = broker.incarnation;
    this.log(`produce ${value} to ${index} at broker ${broker.id} epoch ${epoch}`);
    partition
      .appendAsLeader(
        encodeRecordBatch({
          records: [{ key: null, value: Buffer.from(value), timestamp: 1_000n }],
        }),
        { requiredAcks: -1, timeoutMs: 5_000 },
      )
      .then(
        (result) => {
          // An answer from a process that died meanwhile never reached the producer.
          if (broker.incarnation !== incarnation || broker.state === 'down') return;
          this.log(`acked ${value} at ${index}:${result.baseOffset} by broker ${broker.id}`);
          this.checker.acknowledged({
            partition: index,
            offset: result.baseOffset,
            value,
            leaderEpoch: epoch,
            brokerId: broker.id,
          });
        },
        () => undefined,
      );
  }

  /** Every running broker's ISR manager checks for lagging followers now. */
  private isrRound(): void {
    if (!this.healing) this.log('isr round');
    for (const broker of this.brokers) broker.shrinkIsr();
  }

  /**
   * The broker's IsrManager sends AlterPartition here: it travels to the active controller it can
   * reach and back over the simulated links; a lost message fails the call after 2 s.
   */
  private alterPartitionSender(broker: SimulatedBroker): AlterPartitionSender {
    return {
      send: (request) =>
        new Promise<AlterPartitionResponse>((resolve, reject) => {
          const timeout = this.clock.schedule(2_000, () => reject(new Error('request timed out')));
          const controllerBroker = this.brokers.find(
            (other) =>
              other.state === 'up' &&
              other.controller?.isActive === true &&
              this.reachable(broker.id, other.id) &&
              !(this.isolated.has(broker.id) && other.id !== broker.id),
          );
          // A paused broker's timers are frozen too: its ISR manager sends nothing.
          if (controllerBroker === undefined || broker.state !== 'up') return;
          const changes = request.topics
            .flatMap((topic) => topic.partitions)
            .map(
              (partition) =>
                `${partition.partitionIndex}→[${(partition.newIsrWithEpochs ?? []).map((member) => member.brokerId)}]`,
            );
          this.log(`broker ${broker.id} alters ISR ${changes}`);
          this.send(broker.id, controllerBroker.id, () => {
            // The controller's process may have died while the request travelled.
            const controller = controllerBroker.controller;
            if (controller === undefined || controllerBroker.state !== 'up') return;
            controller
              .alterPartition(request)
              .then((response) => {
                this.send(controllerBroker.id, broker.id, () => {
                  timeout.cancel();
                  const answers = response.topics
                    .flatMap((topic) => topic.partitions)
                    .map(
                      (partition) =>
                        `${partition.partitionIndex}: ${partition.errorCode} [${partition.isr}]`,
                    );
                  this.log(`broker ${broker.id} ISR answer ${answers}`);
                  resolve(response);
                });
              })
              .catch(() => undefined);
          });
        }),
    };
  }

  /**
   * A crashed process's endpoint refuses connections: a peer's PeerDeathDetector reports it after
   * two refusals 100 ms apart (unless it is back by then) and the store ends its registration
   * without waiting for the lease (MetadataStore.expireBroker, by the epoch the peer saw).
   */
  private reportRefusals(crashed: SimulatedBroker): void {
    const reporter = this.pick(
      this.brokers.filter(
        (other) => other !== crashed && other.state === 'up' && !this.isolated.has(other.id),
      ),
    );
    const brokerEpoch = reporter?.image?.broker(crashed.id)?.brokerEpoch;
    if (reporter === undefined || brokerEpoch === undefined) return;
    this.clock.schedule(100, () => {
      if (crashed.state !== 'down' || crashed.starting || reporter.state !== 'up') return;
      reporter
        .expirePeer(crashed.id, brokerEpoch)
        .then((expired) =>
          this.log(`broker ${reporter.id} reports broker ${crashed.id} dead: expired ${expired}`),
        )
        .catch(() => undefined);
    });
  }

  private async fault(): Promise<void> {
    this.faultCount++;
    const broker = this.pick(this.brokers)!;
    const roll = this.random();
    // One broker at a time is down, paused or isolated (RF 3 keeps a majority); links fail freely.
    const faulty = this.brokers.filter(
      (other) => other.state !== 'up' || other.starting || this.isolated.has(other.id),
    );
    const mayFail = faulty.length === 0;
    if (roll < 0.2) {
      if (broker.state === 'down') {
        if (!broker.starting) {
          this.log(`restart broker ${broker.id}`);
          void broker.start().catch((error: unknown) => this.log(`restart failed: ${error}`));
        }
      } else if (mayFail) {
        this.log(`crash broker ${broker.id}`);
        broker.crash(this.random);
        this.reportRefusals(broker);
      }
    } else if (roll < 0.35) {
      if (broker.state === 'paused') {
        this.log(`resume broker ${broker.id}`);
        void broker.resume().catch((error: unknown) => this.log(`resume failed: ${error}`));
      } else if (broker.state === 'up' && mayFail) {
        this.log(`pause broker ${broker.id}`);
        broker.pause();
      }
    } else if (roll < 0.55) {
      if (this.isolated.has(broker.id)) {
        this.log(`heal broker ${broker.id}`);
        this.isolated.delete(broker.id);
        if (broker.state === 'up') {
          void broker.resume().catch((error: unknown) => this.log(`rejoin failed: ${error}`));
        }
      } else if (mayFail) {
        this.log(`isolate broker ${broker.id}`);
        this.isolated.add(broker.id);
        this.store.pauseKeepalives(broker.nodeName, true);
      }
    } else if (roll < 0.62) {
      const durationMs = 100 + Math.floor(this.random() * 3_000);
      this.log(`stall the disk of broker ${broker.id} for ${durationMs} ms`);
      broker.stallDisk(durationMs);
    } else if (roll < 0.8) {
      const other = this.pick(this.brokers.filter((candidate) => candidate !== broker))!;
      const link = {
        lossRate: this.chance(0.3) ? 1 : Math.floor(this.random() * 4) / 10,
        delayMs: Math.floor(this.random() * 300),
      };
      this.log(`link ${broker.id}<->${other.id} loss ${link.lossRate} delay ${link.delayMs} ms`);
      this.links.set(this.linkKey(broker.id, other.id), link);
      this.links.set(this.linkKey(other.id, broker.id), link);
    } else {
      this.log('links healed');
      this.links.clear();
    }
    this.applyNetwork();
  }

  // ------------------------------------------------------------------ invariants

  private async views(index: number): Promise<{ views: ReplicaView[]; leader?: ReplicaView }> {
    const views: ReplicaView[] = [];
    let leader: ReplicaView | undefined;
    const known = this.observer?.image.partition(topicName, index);
    for (const broker of this.brokers) {
      if (broker.state === 'down') continue;
      const partition = broker.partition(topicName, index);
      if (partition === undefined) continue;
      const view = await readReplica(broker.id, partition);
      views.push(view);
      if (
        known !== undefined &&
        known.leader === broker.id &&
        partition.isLeader &&
        partition.leaderEpoch === leaderEpoch(known.leaderEpoch) &&
        broker.state === 'up'
      ) {
        leader = view;
      }
    }
    return leader === undefined ? { views } : { views, leader };
  }

  async checkInvariants(): Promise<void> {
    for (let index = 0; index < partitionCount; index++) {
      const { views, leader } = await this.views(index);
      this.checker.check(index, views, leader);
    }
  }

  /** Heals every fault, then drives fetches and ISR rounds until every replica caught up. */
  async healAndConverge(limitMs: number): Promise<boolean> {
    this.log('heal everything');
    this.healing = true;
    this.links.clear();
    this.isolated.clear();
    for (const broker of this.brokers) {
      if (broker.state !== 'down') void broker.resume().catch(() => undefined);
      else if (broker.state === 'down' && !broker.starting) {
        void broker.start().catch(() => undefined);
      }
    }
    this.applyNetwork();
    for (let elapsedMs = 0; elapsedMs < limitMs; elapsedMs += 100) {
      this.isrRound();
      await this.clock.advance(100);
      if (this.converged()) {
        await this.checkInvariants();
        for (let index = 0; index < partitionCount; index++) {
          for (const view of (await this.views(index)).views) {
            this.checker.checkComplete(index, view);
          }
        }
        return true;
      }
    }
    await this.checkInvariants();
    this.logStatus();
    return false;
  }

  /** Where every broker and partition stands (the end of a run that did not converge). */
  private logStatus(): void {
    const image = this.observer?.image;
    for (const broker of this.brokers) {
      const registered = image?.broker(broker.id);
      const partitions = [0, 1].map((index) => {
        const partition = broker.partition(topicName, index);
        return partition === undefined
          ? '-'
          : `${partition.isLeader ? 'L' : 'F'}@${partition.leaderEpoch} leo ${partition.logEndOffset} hw ${partition.highWatermark} isr [${[...partition.isr]}]`;
      });
      this.log(
        `status broker ${broker.id}: ${broker.state}${broker.starting ? ' starting' : ''} session ${broker.sessionLost ? 'lost' : `epoch ${broker.brokerEpoch}`}, registered ${registered?.brokerEpoch ?? 'no'}; ${partitions.join('; ')}`,
      );
    }
    for (const known of image?.partitions(topicName) ?? []) {
      this.log(
        `status partition ${known.partition}: leader ${known.leader}@${known.leaderEpoch} isr [${known.isr}] replicas [${known.replicas}]`,
      );
    }
  }

  private converged(): boolean {
    const image = this.observer?.image;
    if (image === undefined || !this.allRolesApplied()) return false;
    return image.partitions(topicName).every((known) => {
      const leader = this.running(known.leader)?.partition(topicName, known.partition);
      if (leader === undefined || !leader.isLeader) return false;
      if (leader.highWatermark !== leader.logEndOffset) return false;
      if (leader.isr.size !== known.replicas.length) return false;
      // Same LEO and HW: a follower learns the HW from a fetch answered without divergence.
      return known.replicas.every((id) => {
        const replica = this.running(id)?.partition(topicName, known.partition);
        return (
          replica?.logEndOffset === leader.logEndOffset &&
          replica.highWatermark === leader.highWatermark
        );
      });
    });
  }

  async close(): Promise<void> {
    this.observer?.close();
    for (const broker of this.brokers) if (broker.state !== 'down') broker.crash(this.random);
    await this.clock.advance(10_000);
  }
}

/** Runs one seed: set-up, `steps` random steps with the invariants after each, heal, converge. */
export async function runSimulation(
  seed: number,
  options: SimulationOptions,
): Promise<SimulationResult> {
  const simulation = new ClusterSimulation(seed, options.strict ?? true);
  let converged = false;
  try {
    await simulation.setUp();
    for (let step = 0; step < options.steps; step++) {
      await simulation.step();
      if (simulation.checker.violations.length > 0 && options.stopAtViolation !== false) break;
    }
    if (simulation.checker.violations.length === 0) {
      converged = await simulation.healAndConverge(60_000);
    }
  } finally {
    await simulation.close();
  }
  return {
    seed,
    brokerCount: simulation.brokers.length,
    steps: simulation.steps,
    violations: simulation.checker.violations,
    ackedCount: simulation.checker.acked.length,
    faultCount: simulation.faultCount,
    converged,
  };
}

/** A failing seed's report: the violations, the replay command and the last steps. */
export function describeFailure(result: SimulationResult, lastSteps = 60): string {
  return [
    `seed ${result.seed} (${result.brokerCount} brokers): ${result.violations.join('; ')}${result.converged ? '' : ' [did not converge]'}`,
    `replay: GREGOR_SIM_SEED=${result.seed} node --test packages/broker/dist/simulation/cluster-simulation.test.js`,
    ...result.steps.slice(-lastSteps),
  ].join('\n');
}
