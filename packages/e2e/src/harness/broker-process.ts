import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ExitStatus, ManagedProcess } from './managed-process.js';
import { cliMainPath } from './paths.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';

/**
 * A real broker process started from the CLI (`gregor broker --listen 127.0.0.1:0 --data-dir D`).
 * Port 0 the first time; the bound port is read from the ready line and reused on restart so
 * clients that cached the address reconnect to the same broker.
 */

export interface BrokerProcessOptions {
  /** Data directory to use; a fresh temporary one (removed by `dispose`) when absent. */
  dataDirectory?: string;
  port?: number;
  host?: string;
  extraArguments?: readonly string[];
  environment?: Record<string, string>;
  readyTimeoutMs?: number;
  label?: string;
}

export interface ListenAddress {
  host: string;
  port: number;
}

const readyTimeoutMsDefault = 20_000;
const addressPattern = /(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:]+\]):(\d{1,5})\b/;

/** Reads the bound address from the broker's ready line (JSON log line, logfmt or plain text). */
export function parseReadyLine(line: string): ListenAddress | undefined {
  if (!/\bready\b/i.test(line)) return undefined;
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const fields = JSON.parse(trimmed) as Record<string, unknown>;
      const port = Number(fields.port);
      if (Number.isInteger(port) && port > 0) {
        return { host: typeof fields.host === 'string' ? fields.host : '127.0.0.1', port };
      }
    } catch {
      // not JSON after all: fall through to the text forms
    }
  }
  const address = addressPattern.exec(trimmed);
  if (address) return { host: address[1].replace(/^\[|\]$/g, ''), port: Number(address[2]) };
  const portField = /\bport[=:"\s]+(\d{1,5})\b/i.exec(trimmed);
  if (portField) return { host: '127.0.0.1', port: Number(portField[1]) };
  return undefined;
}

/** The bound listener from the broker's JSON "broker started" log line, if this is it. */
export function parseListenerLogLine(line: string): ListenAddress | undefined {
  if (!line.startsWith('{') || !line.includes('"listener"')) return undefined;
  try {
    const fields = JSON.parse(line) as { listener?: unknown };
    if (typeof fields.listener !== 'string') return undefined;
    const match = addressPattern.exec(fields.listener);
    return match ? { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) } : undefined;
  } catch {
    return undefined;
  }
}

export class BrokerProcess {
  readonly dataDirectory: string;
  readonly host: string;
  private readonly options: BrokerProcessOptions;
  private readonly ownsDataDirectory: boolean;
  private process: ManagedProcess | undefined;
  private boundPort: number;
  private startCount = 0;
  /** Milliseconds from spawn to the ready line, for the last start. */
  lastReadyMs = 0;

  private constructor(
    options: BrokerProcessOptions,
    dataDirectory: string,
    ownsDataDirectory: boolean,
  ) {
    this.options = options;
    this.dataDirectory = dataDirectory;
    this.ownsDataDirectory = ownsDataDirectory;
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
  }

  static async start(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
    const dataDirectory = options.dataDirectory ?? (await makeTemporaryDirectory('broker'));
    const broker = new BrokerProcess(options, dataDirectory, options.dataDirectory === undefined);
    try {
      await broker.launch();
    } catch (error) {
      await broker.dispose();
      throw error;
    }
    return broker;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `host:port`, the bootstrap server string every client takes. */
  get bootstrap(): string {
    return `${this.host}:${this.boundPort}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get isRunning(): boolean {
    return this.process !== undefined && !this.process.hasExited;
  }

  /** Calls `listener` with each line the current run prints; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void {
    if (!this.process) throw new Error('broker not started');
    return this.process.onLine((line) => listener(line));
  }

  /** Captured broker output of the current (or last) run. */
  output(): string {
    return this.process?.output() ?? '';
  }

  /** Resident set size from /proc, in bytes. */
  async residentSetBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!match) throw new Error('no VmRSS in /proc status');
    return Number(match[1]) * 1024;
  }

  /**
   * Kills the broker with `signal` and waits for it to exit (SIGKILL after `timeoutMs`, 10 s by
   * default, for SIGTERM).
   */
  async kill(
    signal: 'SIGKILL' | 'SIGTERM',
    options: { timeoutMs?: number } = {},
  ): Promise<ExitStatus> {
    if (!this.process) throw new Error('broker not started');
    return this.process.stop({ signal, timeoutMs: options.timeoutMs ?? 10_000 });
  }

  /** CPU time (user + system) the broker process used so far, in seconds (/proc/PID/stat). */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const clockTicksPerSecond = 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  }

  /** Open file descriptors of the broker process (/proc/PID/fd). */
  async openFileDescriptorCount(): Promise<number> {
    return (await readdir(`/proc/${this.pid}/fd`)).length;
  }

  /** Starts the broker again on the same data directory and port (it must be stopped). */
  async restart(): Promise<void> {
    if (this.isRunning) throw new Error('restart: broker still running; kill it first');
    this.earlierOutput += this.output();
    await this.launch();
  }

  /** Stops the broker (SIGTERM, then SIGKILL) and removes a data directory it created. */
  async dispose(): Promise<void> {
    if (this.isRunning) await this.kill('SIGTERM');
    await this.keepLogIfAsked();
    if (this.ownsDataDirectory) await removeDirectory(this.dataDirectory);
  }

  /** Output of the incarnations before the last restart (kept logs show every incarnation). */
  private earlierOutput = '';

  /** With GREGOR_E2E_LOG_DIRECTORY set, the broker's output is kept there for inspection. */
  private async keepLogIfAsked(): Promise<void> {
    const directory = process.env.GREGOR_E2E_LOG_DIRECTORY;
    if (!directory) return;
    await mkdir(directory, { recursive: true });
    const name = `${(this.options.label ?? 'broker').replace(/[^\w-]+/g, '_')}-${process.pid}-${Date.now()}.log`;
    await writeFile(join(directory, name), this.earlierOutput + this.output());
  }

  private async launch(): Promise<void> {
    this.startCount += 1;
    const startedAtMs = performance.now();
    const managed = new ManagedProcess({
      label: `${this.options.label ?? 'broker'}#${this.startCount}`,
      command: process.execPath,
      arguments: [
        // Node's own flags for profiling a broker (`--cpu-prof` is refused in NODE_OPTIONS).
        ...(process.env.GREGOR_E2E_BROKER_NODE_ARGUMENTS?.split(' ').filter(Boolean) ?? []),
        cliMainPath,
        'broker',
        '--listen',
        `${this.host}:${this.boundPort}`,
        '--data-dir',
        this.dataDirectory,
        ...(this.options.extraArguments ?? []),
      ],
      environment: this.options.environment,
    });
    this.process = managed;
    // The ready line names the advertised address; the bound one is in the "broker started" log
    // line. They differ when advertised.listeners is set (e.g. behind the recording proxy).
    let boundAddress: ListenAddress | undefined;
    const stopWatching = managed.onLine((line) => {
      boundAddress = parseListenerLogLine(line) ?? boundAddress;
    });
    const readyAddress = await managed.waitForLine((line) => parseReadyLine(line), {
      timeoutMs: this.options.readyTimeoutMs ?? readyTimeoutMsDefault,
      what: 'the broker ready line',
    });
    stopWatching();
    this.lastReadyMs = performance.now() - startedAtMs;
    this.boundPort = (boundAddress ?? readyAddress).port;
  }
}
