import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withDeadline } from './wait.js';

/**
 * A child process with captured output, line-by-line listeners and a guaranteed end: every
 * process started through here is SIGKILLed when the test process exits, even after a failure.
 */

const outputTailBytesMax = 64 * 1024;
const liveProcesses = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of liveProcesses) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + 1);
    });
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  command: string;
  arguments: readonly string[];
  environment?: Record<string, string>;
  workingDirectory?: string;
  /** Label used in error messages and output dumps. */
  label: string;
}

type LineListener = (line: string, stream: 'stdout' | 'stderr') => void;

export class ManagedProcess {
  readonly label: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private outputTail = '';
  private readonly lineListeners = new Set<LineListener>();
  private exitStatus: ExitStatus | undefined;

  constructor(options: ManagedProcessOptions) {
    installExitHook();
    this.label = options.label;
    this.child = spawn(options.command, options.arguments, {
      cwd: options.workingDirectory,
      env: { ...process.env, ...options.environment },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    liveProcesses.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.appendOutput(`[spawn error] ${error.message}\n`);
        liveProcesses.delete(this.child);
        this.exitStatus = { code: -1, signal: null };
        resolve(this.exitStatus);
      });
      this.child.once('close', (code, signal) => {
        liveProcesses.delete(this.child);
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
    this.child.stdin?.on('error', () => {});
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      if (!readable) continue;
      createInterface({ input: readable, crlfDelay: Number.POSITIVE_INFINITY }).on(
        'line',
        (line) => {
          this.appendOutput(`${line}\n`);
          for (const listener of this.lineListeners) listener(line, stream);
        },
      );
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  /** The last 64 KiB of stdout+stderr, for failure messages. */
  output(): string {
    return this.outputTail;
  }

  onLine(listener: LineListener): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /** Resolves with the first line (and its match) for which `match` returns a value. */
  waitForLine<T>(
    match: (line: string, stream: 'stdout' | 'stderr') => T | undefined,
    options: { timeoutMs: number; what: string },
  ): Promise<T> {
    let unsubscribe = () => {};
    const found = new Promise<T>((resolve, reject) => {
      unsubscribe = this.onLine((line, stream) => {
        const value = match(line, stream);
        if (value !== undefined) resolve(value);
      });
      this.exited.then((status) =>
        reject(
          new Error(
            `${this.label} exited (code ${status.code}, signal ${status.signal}) before ${options.what}\n${this.outputTail}`,
          ),
        ),
      );
    });
    return withDeadline(found, {
      timeoutMs: options.timeoutMs,
      what: `${options.what} from ${this.label}\n--- output ---\n${this.outputTail}`,
    }).finally(unsubscribe);
  }

  writeLine(line: string): void {
    if (!this.hasExited) this.child.stdin?.write(`${line}\n`);
  }

  closeInput(): void {
    this.child.stdin?.end();
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs. */
  async stop(options: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    this.signal(options.signal ?? 'SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), options.timeoutMs ?? 5_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private appendOutput(text: string): void {
    this.outputTail += text;
    if (this.outputTail.length > outputTailBytesMax) {
      this.outputTail = this.outputTail.slice(-outputTailBytesMax);
    }
  }
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with input, bounded in time (SIGKILL at the deadline). */
export async function runToCompletion(options: {
  command: string;
  arguments: readonly string[];
  input?: string | Buffer;
  timeoutMs: number;
  environment?: Record<string, string>;
  /** Keep stdin open until the process ends (clients that stop on end of input). */
  keepInputOpen?: boolean;
}): Promise<RunResult> {
  installExitHook();
  const child = spawn(options.command, options.arguments, {
    env: { ...process.env, ...options.environment },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveProcesses.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepInputOpen) child.stdin.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const status = await new Promise<ExitStatus>((resolve) => {
    child.once('error', () => resolve({ code: -1, signal: null }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  child.stdin.destroy();
  liveProcesses.delete(child);
  const result = {
    ...status,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  if (timedOut) {
    throw new Error(
      `${options.command} ${options.arguments.join(' ')} timed out after ${options.timeoutMs} ms\nstdout: ${result.stdout.slice(-4000)}\nstderr: ${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}
