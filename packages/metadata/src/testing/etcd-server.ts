/**
 * A real etcd (Debian's etcd-server, installed by scripts/setup-etcd.sh) on free loopback ports
 * with a temporary data dir, for tests and benchmarks. Auto-compaction is on (CLUSTER.md: it is
 * off by default and etcd turns read-only at its quota). `stop()` kills it and removes the data;
 * a process exit kills it too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const readyDeadlineMs = 15_000;
const startAttempts = 3;

export interface EtcdServerOptions {
  /** Revisions kept by auto-compaction (revision mode, checked every 5 minutes by etcd). */
  autoCompactionRevisions?: number;
  /** Extra command-line flags. */
  extraArguments?: string[];
}

export class EtcdServer {
  private exited: Promise<void> = Promise.resolve();
  private process: ChildProcess | undefined;
  private readonly output = { text: '' };

  private constructor(
    readonly clientPort: number,
    private readonly peerPort: number,
    readonly dataDirectory: string,
    private readonly options: EtcdServerOptions,
  ) {}

  /** `127.0.0.1:port`, as `--metadata etcd://…` and EtcdMetadataStore take it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get pid(): number {
    return this.process?.pid ?? -1;
  }

  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    let lastError: unknown;
    // A free port found now may be taken before etcd binds it; another pair is tried then.
    for (let attempt = 0; attempt < startAttempts; attempt++) {
      try {
        return await EtcdServer.startOnce(options);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private static async startOnce(options: EtcdServerOptions): Promise<EtcdServer> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const dataDirectory = await mkdtemp(join(tmpdir(), 'gregor-etcd-'));
    const server = new EtcdServer(clientPort, peerPort, dataDirectory, options);
    try {
      await server.launch();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Kills etcd (SIGKILL) and starts it again on the same ports and data. */
  async restart(): Promise<void> {
    this.process?.kill('SIGKILL');
    await this.exited;
    await this.launch();
  }

  private async launch(): Promise<void> {
    const { clientPort, peerPort, dataDirectory, options } = this;
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const child = spawn(
      'etcd',
      [
        '--name=gregor-test',
        `--data-dir=${dataDirectory}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=gregor-test=${peerUrl}`,
        '--auto-compaction-mode=revision',
        `--auto-compaction-retention=${options.autoCompactionRevisions ?? 10_000}`,
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=error',
        ...(options.extraArguments ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.output.text = (this.output.text + chunk).slice(-4000);
    });
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    this.process = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        this.output.text += `\n${String(error)} (is etcd installed? scripts/setup-etcd.sh)`;
        resolve();
      });
    });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + readyDeadlineMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (Date.now() < deadline) {
      if (exited) throw new Error(`etcd exited before it was ready: ${this.output.text}`);
      try {
        const response = await fetch(`http://${this.endpoint}/health`, {
          signal: AbortSignal.timeout(1000),
        });
        const body = (await response.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`etcd not ready within ${readyDeadlineMs} ms: ${this.output.text}`);
  }

  /** Sends a signal (SIGSTOP/SIGCONT to pause etcd itself). */
  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.process !== undefined) {
      if (this.process.exitCode === null && this.process.signalCode === null) {
        this.process.kill('SIGKILL');
      }
      await this.exited;
    }
    await rm(this.dataDirectory, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
