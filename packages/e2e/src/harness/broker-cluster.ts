/**
 * A cluster of real broker processes on loopback, sharing one real etcd (packages/metadata's
 * testing harness): `gregor broker --node-id N --metadata etcd://...` per broker. etcd runs with a
 * 500 ms election timeout, so leases of `broker.session.timeout.ms` = 1000 are granted as 1 s and a
 * dead broker or controller is replaced about a second after its death.
 */
import { EtcdServer } from '@gregor/metadata/testing/etcd-server';
import { BrokerProcess } from './broker-process.js';

export interface BrokerClusterOptions {
  brokers: number;
  /** Racks per broker index (`--override broker.rack=R`). */
  racks?: readonly string[];
  /** Lease TTL of registrations and controller campaigns (broker.session.timeout.ms). */
  sessionTimeoutMs?: number;
  extraArguments?: readonly string[];
}

export class BrokerCluster {
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
            extraArguments: [
              '--node-id',
              String(index + 1),
              '--metadata',
              `etcd://${etcd.endpoint.replace(/^https?:\/\//, '')}`,
              '--override',
              `broker.session.timeout.ms=${options.sessionTimeoutMs ?? 1000}`,
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

  async dispose(): Promise<void> {
    await Promise.all(this.brokers.map((broker) => broker.dispose().catch(() => undefined)));
    await this.etcd.stop();
  }
}
