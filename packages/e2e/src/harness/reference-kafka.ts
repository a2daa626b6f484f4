import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { assertKafkaJars, runJava, startJava } from './java.js';
import type { ManagedProcess } from './managed-process.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';

/**
 * Apache Kafka itself (the same jars the tests use), one combined broker+controller node in KRaft
 * mode on loopback: the reference the Java tests, the TypeScript client and the benchmarks run
 * against beside Gregor.
 */

export interface ReferenceKafkaOptions {
  /** Extra `server.properties` lines (`name=value`). */
  settings?: Record<string, string>;
  heapMb?: number;
  /** JVM flags (see `JavaLaunch.jvmFlags`); 'kafka' also sets -Xms to the heap, as kafka-server-start.sh does. */
  jvmFlags?: 'test' | 'kafka';
  readyTimeoutMs?: number;
  /**
   * More client listeners beside PLAINTEXT (which stays the inter-broker one): listener name →
   * security protocol, e.g. `{ SASL_SSL: 'SASL_SSL', MTLS: 'SSL' }`. Each gets a free port
   * (`listenerBootstrap(name)`); their settings (keystores, JAAS) go in `settings`.
   */
  listeners?: Record<string, 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'>;
  /** Extra `kafka-storage format` arguments, e.g. `--add-scram` credentials. */
  formatArguments?: string[];
}

/** A free loopback port (bound then released; good enough for a test on this machine). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ReferenceKafka {
  private constructor(
    readonly directory: string,
    readonly port: number,
    private readonly process: ManagedProcess,
    private readonly listenerPorts: ReadonlyMap<string, number>,
  ) {}

  /** `127.0.0.1:port` of a listener named in `options.listeners`. */
  listenerBootstrap(name: string): string {
    const port = this.listenerPorts.get(name);
    if (port === undefined) throw new Error(`no listener ${name}`);
    return `127.0.0.1:${port}`;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  output(): string {
    return this.process.output();
  }

  static async start(options: ReferenceKafkaOptions = {}): Promise<ReferenceKafka> {
    await assertKafkaJars();
    const directory = await makeTemporaryDirectory('apache-kafka');
    try {
      const port = await freeLoopbackPort();
      const controllerPort = await freeLoopbackPort();
      const listenerPorts = new Map<string, number>();
      for (const name of Object.keys(options.listeners ?? {}))
        listenerPorts.set(name, await freeLoopbackPort());
      const extraListeners = [...listenerPorts].map(([name, at]) => `,${name}://127.0.0.1:${at}`);
      const protocolMap = Object.entries(options.listeners ?? {}).map(
        ([name, protocol]) => `,${name}:${protocol}`,
      );
      const settings: Record<string, string> = {
        'process.roles': 'broker,controller',
        'node.id': '1',
        'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${extraListeners.join('')}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}${extraListeners.join('')}`,
        'listener.security.protocol.map': `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${protocolMap.join('')}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'log.dirs': join(directory, 'data'),
        'offsets.topic.replication.factor': '1',
        'offsets.topic.num.partitions': '10',
        'transaction.state.log.replication.factor': '1',
        'transaction.state.log.min.isr': '1',
        'transaction.state.log.num.partitions': '10',
        'share.coordinator.state.topic.replication.factor': '1',
        'share.coordinator.state.topic.min.isr': '1',
        'group.initial.rebalance.delay.ms': '0',
        'num.partitions': '1',
        ...options.settings,
      };
      const propertiesPath = join(directory, 'server.properties');
      await writeFile(
        propertiesPath,
        `${Object.entries(settings)
          .map(([name, value]) => `${name}=${value}`)
          .join('\n')}\n`,
      );
      const format = await runJava({
        main: 'kafka.tools.StorageTool',
        arguments: [
          'format',
          '-t',
          'gregorReferenceKafka0',
          '-c',
          propertiesPath,
          ...(options.formatArguments ?? []),
        ],
        timeoutMs: 60_000,
      });
      if (format.code !== 0) {
        throw new Error(
          `kafka-storage format failed (${format.code}):\n${format.stdout}\n${format.stderr}`,
        );
      }
      const process = startJava({
        main: 'kafka.Kafka',
        arguments: [propertiesPath],
        heapMb: options.heapMb ?? 1024,
        jvmFlags: options.jvmFlags,
        initialHeapMb: options.jvmFlags === 'kafka' ? (options.heapMb ?? 1024) : undefined,
        label: 'apache-kafka',
        systemProperties: { 'kafka.logs.dir': join(directory, 'logs') },
        environment: { GREGOR_JAVA_LOG_LEVEL: 'INFO' },
      });
      await process.waitForLine((line) => (/Kafka Server started/.test(line) ? true : undefined), {
        timeoutMs: options.readyTimeoutMs ?? 90_000,
        what: 'Apache Kafka to start',
      });
      return new ReferenceKafka(directory, port, process, listenerPorts);
    } catch (error) {
      await removeDirectory(directory);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.process.stop({ signal: 'SIGTERM', timeoutMs: 20_000 });
    await removeDirectory(this.directory);
  }
}
