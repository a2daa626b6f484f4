/**
 * A cluster of real broker processes on loopback, sharing one real etcd (packages/metadata's
 * testing harness): `gregor broker --node-id N --metadata etcd://...` per broker. etcd runs with a
 * 500 ms election timeout, so leases as short as 1 s are granted as asked (etcd's minimum TTL is
 * 1.5 × the election timeout). A killed broker is found by its peers' refused connections and
 * replaced at once; a paused one (SIGSTOP) only when its lease (`broker.session.timeout.ms`, the
 * broker's default unless `sessionTimeoutMs` is given) runs out.
 * Internal topics take Kafka's defaults: `__consumer_offsets` and `__transaction_state` at RF 3
 * (min.insync 2).
 */
import { EtcdServer } from '@gregor/metadata/testing/etcd-server';
import { BrokerProcess } from './broker-process.js';
import { describedController, type FaultableCluster, partitionLeader } from './cluster-queries.js';

export interface BrokerClusterOptions {
  brokers: number;
  /** Racks per broker index (`--override broker.rack=R`). */
  racks?: readonly string[];
  /** Lease TTL of registrations and controller campaigns (broker.session.timeout.ms); default: the broker's. */
  sessionTimeoutMs?: number;
  extraArguments?: readonly string[];
  /** How long each broker may take to print its ready line (BrokerProcess's default otherwise). */
  readyTimeoutMs?: number;
}

export class BrokerCluster implements FaultableCluster {
  private constructor(
    readonly etcd: EtcdServer,
    /** By node id - 1 (node ids are 1..n). */
    readonly brokers: BrokerProcess[],
  ) {}

  static async start(options: BrokerClusterOptions): Promise<BrokerCluster> {
    const etcd = await EtcdServer.start({
      extraArguments: ['--election-timeout=500', '--heartbeat-interval=50'],
    });
    const cluster = new BrokerCluster(etcd, []);
    try {
      const started = await Promise.all(
        Array.from({ length: options.brokers }, (_, index) =>
          BrokerProcess.start({
            label: `cluster-broker-${index + 1}`,
            readyTimeoutMs: options.readyTimeoutMs,
            extraArguments: [
              '--node-id',
              String(index + 1),
              '--metadata',
              `etcd://${etcd.endpoint.replace(/^https?:\/\//, '')}`,
              ...(options.sessionTimeoutMs === undefined
                ? []
                : ['--override', `broker.session.timeout.ms=${options.sessionTimeoutMs}`]),
              ...(options.racks?.[index] === undefined
                ? []
                : ['--override', `broker.rack=${options.racks[index]}`]),
              ...(options.extraArguments ?? []),
            ],
          }),
        ),
      );
      cluster.brokers.push(...started);
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  broker(nodeId: number): BrokerProcess {
    const broker = this.brokers[nodeId - 1];
    if (broker === undefined) throw new Error(`no broker ${nodeId}`);
    return broker;
  }

  /** Every running broker's `host:port`, comma-separated (a bootstrap list). */
  get bootstrap(): string {
    return this.brokers
      .filter((broker) => broker.isRunning)
      .map((broker) => broker.bootstrap)
      .join(',');
  }

  private readonly paused = new Set<number>();

  /** Running and not stopped: brokers that can answer requests. */
  private get answering(): string[] {
    return this.brokers
      .filter((broker, index) => broker.isRunning && !this.paused.has(index + 1))
      .map((broker) => broker.bootstrap);
  }

  get bootstraps(): string[] {
    return this.brokers.map((broker) => broker.bootstrap);
  }

  /** The active controller's node id as a running broker sees it (-1 while there is none). */
  controller(): Promise<number> {
    return describedController(this.answering);
  }

  /** The leader of one partition as a running broker's Metadata has it (-1 while offline). */
  leaderOf(topic: string, partition: number): Promise<number> {
    return partitionLeader(this.answering, topic, partition);
  }

  kill(nodeId: number, signal: 'SIGKILL' | 'SIGTERM') {
    this.paused.delete(nodeId);
    return this.broker(nodeId).kill(signal);
  }

  restart(nodeId: number): Promise<void> {
    return this.broker(nodeId).restart();
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing and renews no lease. */
  pause(nodeId: number): void {
    const pid = this.broker(nodeId).pid;
    if (pid === undefined) throw new Error(`pause: broker ${nodeId} is not running`);
    process.kill(pid, 'SIGSTOP');
    this.paused.add(nodeId);
  }

  resume(nodeId: number): void {
    const pid = this.broker(nodeId).pid;
    if (pid === undefined) throw new Error(`resume: broker ${nodeId} is not running`);
    process.kill(pid, 'SIGCONT');
    this.paused.delete(nodeId);
  }

  async dispose(): Promise<void> {
    for (const nodeId of [...this.paused]) this.resume(nodeId);
    await Promise.all(this.brokers.map((broker) => broker.dispose().catch(() => undefined)));
    await this.etcd.stop();
  }
}
