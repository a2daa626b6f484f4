import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertKafkaJars, javaClasspath, javaDirectory, startJava } from './java.js';
import { type ExitStatus, type ManagedProcess, runToCompletion } from './managed-process.js';
import { pathExists, removeDirectory } from './temporary-directory.js';
import { waitUntil } from './wait.js';

/**
 * Kafka Connect in distributed mode (`ConnectDistributed`, one JVM per worker, driven through its
 * REST API) and MirrorMaker 2 in dedicated mode (`MirrorMaker`), from Kafka's own jars.
 *
 * The registry serves connect-file and connect-mirror up to 4.3.1 while the runtime is 4.4.0,
 * which moved `AppInfoParser` and `Exit` to `org.apache.kafka.common.utils.internals`: the 4.3.1
 * connectors' `version()` and MirrorMaker's `main` fail with NoClassDefFoundError. The two classes
 * under java/compat delegate the old names to the new ones; they are compiled here once per
 * source content into java/compat-classes (git-ignored) and put before Kafka's jars.
 */

const compatibilitySourceDirectory = join(javaDirectory, 'compat');
const compatibilityBuildDirectory = join(javaDirectory, 'compat-classes');
const compileTimeoutMs = 120_000;

/** The compiled compatibility classes' directory, compiled with javac on first use. */
export async function connectCompatibilityClasses(): Promise<string> {
  await assertKafkaJars();
  const sources = (await readdir(compatibilitySourceDirectory, { recursive: true }))
    .filter((path) => path.endsWith('.java'))
    .sort();
  const hash = createHash('sha256');
  for (const source of sources) {
    hash.update(source).update(await readFile(join(compatibilitySourceDirectory, source)));
  }
  const target = join(compatibilityBuildDirectory, hash.digest('hex').slice(0, 16));
  const completeMarker = '.complete';
  if (await pathExists(join(target, completeMarker))) return target;
  await mkdir(compatibilityBuildDirectory, { recursive: true });
  // Two test files may compile at once: each in its own staging directory, the first rename wins.
  const staging = await mkdtemp(join(compatibilityBuildDirectory, '.staging-'));
  try {
    const compiled = await runToCompletion({
      command: 'javac',
      arguments: [
        '-nowarn',
        '-d',
        staging,
        '-cp',
        javaClasspath,
        ...sources.map((source) => join(compatibilitySourceDirectory, source)),
      ],
      timeoutMs: compileTimeoutMs,
    });
    if (compiled.code !== 0) {
      throw new Error(`javac failed (${compiled.code}):\n${compiled.stdout}\n${compiled.stderr}`);
    }
    await writeFile(join(staging, completeMarker), '');
    await rename(staging, target).catch(async (error: unknown) => {
      if (!(await pathExists(join(target, completeMarker)))) throw error;
    });
  } finally {
    await removeDirectory(staging);
  }
  return target;
}

function propertiesText(settings: Readonly<Record<string, string>>): string {
  return `${Object.entries(settings)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n')}\n`;
}

export interface RestAnswer<T> {
  status: number;
  body: T;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  type: string;
}

export interface ConnectWorkerOptions {
  bootstrap: string;
  groupId: string;
  /** The config, offset and status topics are `<prefix>-configs`, `-offsets`, `-status`. */
  storageTopicPrefix: string;
  restPort: number;
  /** Where the worker's properties file is written. */
  directory: string;
  /** Extra or overriding worker settings. */
  settings?: Readonly<Record<string, string>>;
  heapMb?: number;
  label: string;
}

const restRequestTimeoutMs = 30_000;

/** One distributed Connect worker with its REST listener on loopback. */
export class ConnectWorker {
  private constructor(
    readonly restPort: number,
    private readonly process: ManagedProcess,
  ) {}

  /** Connect's name for this worker in statuses: the advertised REST host and port. */
  get workerId(): string {
    return `127.0.0.1:${this.restPort}`;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.restPort}`;
  }

  get hasExited(): boolean {
    return this.process.hasExited;
  }

  output(): string {
    return this.process.output();
  }

  /** Starts the JVM; `waitUntilHealthy` tells when it has joined the cluster. */
  static async start(options: ConnectWorkerOptions): Promise<ConnectWorker> {
    const classes = await connectCompatibilityClasses();
    const settings: Record<string, string> = {
      'bootstrap.servers': options.bootstrap,
      'group.id': options.groupId,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'config.storage.topic': `${options.storageTopicPrefix}-configs`,
      'offset.storage.topic': `${options.storageTopicPrefix}-offsets`,
      'status.storage.topic': `${options.storageTopicPrefix}-status`,
      'config.storage.replication.factor': '1',
      'offset.storage.replication.factor': '1',
      'status.storage.replication.factor': '1',
      listeners: `http://127.0.0.1:${options.restPort}`,
      // Workers forward requests to the leader at its advertised REST address.
      'rest.advertised.host.name': '127.0.0.1',
      'rest.advertised.port': String(options.restPort),
      // Every plugin in Kafka's jars has a ServiceLoader manifest: no class-path scan at start-up.
      'plugin.discovery': 'service_load',
      ...options.settings,
    };
    const propertiesPath = join(options.directory, `${options.label}.properties`);
    await writeFile(propertiesPath, propertiesText(settings));
    const process = startJava({
      main: 'org.apache.kafka.connect.cli.ConnectDistributed',
      arguments: [propertiesPath],
      heapMb: options.heapMb ?? 256,
      classpathBefore: [classes],
      label: options.label,
    });
    return new ConnectWorker(options.restPort, process);
  }

  /** GET /health (KIP-1017) answers 200 once the worker has joined its group and read its configs. */
  async waitUntilHealthy(options: { timeoutMs: number }): Promise<void> {
    await waitUntil(
      async () => {
        if (this.process.hasExited) {
          throw new Error(`${this.process.label} exited:\n${this.process.output()}`);
        }
        const answer = await this.rest<{ status?: string }>('GET', '/health');
        return answer.status === 200 && answer.body.status === 'healthy';
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 250,
        what: () =>
          `Connect worker ${this.workerId} to be healthy\n--- output ---\n${this.process.output()}`,
      },
    );
  }

  async rest<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
    const response = await fetch(`${this.restUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(restRequestTimeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // Jetty's HTML error pages: keep the text for the failure message.
    }
    return { status: response.status, body: parsed as T } satisfies RestAnswer<T>;
  }

  /** POST /connectors, failing with Connect's answer unless it is 201 Created. */
  async createConnector(name: string, config: Readonly<Record<string, string>>): Promise<void> {
    const answer = await this.rest('POST', '/connectors', { name, config });
    if (answer.status !== 201) {
      throw new Error(`POST /connectors ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  }

  async connectorStatus(name: string): Promise<RestAnswer<ConnectorStatus>> {
    return this.rest<ConnectorStatus>('GET', `/connectors/${encodeURIComponent(name)}/status`);
  }

  /** Stops the worker (SIGTERM: it leaves the group and commits its tasks' offsets). */
  stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<ExitStatus> {
    return this.process.stop({ signal, timeoutMs: 30_000 });
  }
}

export interface MirrorMakerOptions {
  /** Cluster alias → bootstrap servers. */
  clusters: Readonly<Record<string, string>>;
  /** Where mm2.properties is written. */
  directory: string;
  settings: Readonly<Record<string, string>>;
  /** `--clusters`: run only the herders whose target is one of these. */
  targetClusters?: readonly string[];
  heapMb?: number;
  label?: string;
}

/** MirrorMaker 2 in dedicated mode (`connect-mirror-maker.sh mm2.properties`). */
export async function startMirrorMaker(options: MirrorMakerOptions): Promise<ManagedProcess> {
  const classes = await connectCompatibilityClasses();
  const settings: Record<string, string> = {
    clusters: Object.keys(options.clusters).join(','),
    ...Object.fromEntries(
      Object.entries(options.clusters).map(([alias, bootstrap]) => [
        `${alias}.bootstrap.servers`,
        bootstrap,
      ]),
    ),
    ...options.settings,
  };
  const propertiesPath = join(options.directory, 'mm2.properties');
  await mkdir(options.directory, { recursive: true });
  await writeFile(propertiesPath, propertiesText(settings));
  return startJava({
    main: 'org.apache.kafka.connect.mirror.MirrorMaker',
    arguments: [
      propertiesPath,
      ...(options.targetClusters ? ['--clusters', ...options.targetClusters] : []),
    ],
    heapMb: options.heapMb ?? 256,
    classpathBefore: [classes],
    label: options.label ?? 'mirror-maker',
  });
}
