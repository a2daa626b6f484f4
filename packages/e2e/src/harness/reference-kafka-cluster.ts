/**
 * Apache Kafka itself as a three-node KRaft cluster on loopback: three combined broker+controller
 * nodes (static `controller.quorum.voters`), each formatted with the same cluster id, each its own
 * JVM. The peer of BrokerCluster for the fault run and the cluster benchmarks.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describedController, type FaultableCluster, partitionLeader } from './cluster-queries.js';
import { assertKafkaJars, runJava, startJava } from './java.js';
import type { ManagedProcess } from './managed-process.js';
import { freeLoopbackPort } from './reference-kafka.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';

export interface ReferenceKafkaClusterOptions {
  nodes?: number;
  heapMb?: number;
  /** Extra `server.properties` lines for every node. */
  settings?: Record<string, string>;
}

interface KafkaNode {
  nodeId: number;
  port: number;
  propertiesPath: string;
  process: ManagedProcess | undefined;
}

export class ReferenceKafkaCluster implements FaultableCluster {
  private readonly paused = new Set<number>();

  private constructor(
    private readonly directory: string,
    private readonly nodes: KafkaNode[],
    private readonly heapMb: number,
  ) {}

  get bootstraps(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  get bootstrap(): string {
    return this.bootstraps.join(',');
  }

  private get answering(): string[] {
    return this.nodes
      .filter((node) => node.process !== undefined && !this.paused.has(node.nodeId))
      .map((node) => `127.0.0.1:${node.port}`);
  }

  static async start(options: ReferenceKafkaClusterOptions = {}): Promise<ReferenceKafkaCluster> {
    await assertKafkaJars();
    const count = options.nodes ?? 3;
    const directory = await makeTemporaryDirectory('apache-kafka-cluster');
    const ports = await Promise.all(Array.from({ length: count * 2 }, () => freeLoopbackPort()));
    const voters = Array.from(
      { length: count },
      (_, index) => `${index + 1}@127.0.0.1:${ports[count + index]}`,
    ).join(',');
    const nodes: KafkaNode[] = [];
    for (let index = 0; index < count; index++) {
      const nodeId = index + 1;
      const settings: Record<string, string> = {
        'process.roles': 'broker,controller',
        'node.id': String(nodeId),
        'controller.quorum.voters': voters,
        listeners: `PLAINTEXT://127.0.0.1:${ports[index]},CONTROLLER://127.0.0.1:${ports[count + index]}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${ports[index]}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'log.dirs': join(directory, `node-${nodeId}`, 'data'),
        'offsets.topic.replication.factor': String(Math.min(3, count)),
        'offsets.topic.num.partitions': '10',
        'transaction.state.log.replication.factor': String(Math.min(3, count)),
        'transaction.state.log.min.isr': String(Math.min(2, count)),
        'transaction.state.log.num.partitions': '10',
        'share.coordinator.state.topic.replication.factor': String(Math.min(3, count)),
        'share.coordinator.state.topic.min.isr': String(Math.min(2, count)),
        'group.initial.rebalance.delay.ms': '0',
        'num.partitions': '1',
        ...options.settings,
      };
      const propertiesPath = join(directory, `node-${nodeId}.properties`);
      await writeFile(
        propertiesPath,
        `${Object.entries(settings)
          .map(([name, value]) => `${name}=${value}`)
          .join('\n')}\n`,
      );
      nodes.push({ nodeId, port: ports[index]!, propertiesPath, process: undefined });
    }
    const cluster = new ReferenceKafkaCluster(directory, nodes, options.heapMb ?? 512);
    try {
      await Promise.all(
        nodes.map(async (node) => {
          const format = await runJava({
            main: 'kafka.tools.StorageTool',
            arguments: ['format', '-t', 'gregorReferenceKafka0', '-c', node.propertiesPath],
            timeoutMs: 90_000,
          });
          if (format.code !== 0) {
            throw new Error(`kafka-storage format failed (${format.code}):\n${format.stderr}`);
          }
        }),
      );
      await Promise.all(nodes.map((node) => cluster.restart(node.nodeId)));
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  private node(nodeId: number): KafkaNode {
    const node = this.nodes[nodeId - 1];
    if (node === undefined) throw new Error(`no Kafka node ${nodeId}`);
    return node;
  }

  controller(): Promise<number> {
    return describedController(this.answering);
  }

  leaderOf(topic: string, partition: number): Promise<number> {
    return partitionLeader(this.answering, topic, partition);
  }

  /** Starts a stopped node on its data (formatted once, at cluster start). */
  async restart(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    if (node.process !== undefined) throw new Error(`restart: Kafka node ${nodeId} still running`);
    const process = startJava({
      main: 'kafka.Kafka',
      arguments: [node.propertiesPath],
      heapMb: this.heapMb,
      label: `apache-kafka-${nodeId}`,
      systemProperties: { 'kafka.logs.dir': join(this.directory, `node-${nodeId}`, 'logs') },
      environment: { GREGOR_JAVA_LOG_LEVEL: 'INFO' },
    });
    node.process = process;
    await process.waitForLine((line) => (/Kafka Server started/.test(line) ? true : undefined), {
      timeoutMs: 120_000,
      what: `Apache Kafka node ${nodeId} to start`,
    });
  }

  async kill(nodeId: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<unknown> {
    const node = this.node(nodeId);
    this.paused.delete(nodeId);
    const process = node.process;
    node.process = undefined;
    return process?.stop({ signal, timeoutMs: 30_000 });
  }

  pause(nodeId: number): void {
    const pid = this.node(nodeId).process?.pid;
    if (pid === undefined) throw new Error(`pause: Kafka node ${nodeId} is not running`);
    process.kill(pid, 'SIGSTOP');
    this.paused.add(nodeId);
  }

  resume(nodeId: number): void {
    const pid = this.node(nodeId).process?.pid;
    if (pid === undefined) throw new Error(`resume: Kafka node ${nodeId} is not running`);
    process.kill(pid, 'SIGCONT');
    this.paused.delete(nodeId);
  }

  async dispose(): Promise<void> {
    for (const nodeId of [...this.paused]) this.resume(nodeId);
    await Promise.all(
      this.nodes.map((node) =>
        node.process?.stop({ signal: 'SIGKILL', timeoutMs: 10_000 }).catch(() => undefined),
      ),
    );
    await removeDirectory(this.directory);
  }
}
