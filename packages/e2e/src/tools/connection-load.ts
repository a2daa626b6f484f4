/**
 * The parent side of the bench load generators (connection-load-worker.ts, group-load-worker.ts):
 * forks one worker process and sends it one command at a time, each answered by one reply.
 * Every worker is killed when the parent exits.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ConnectionLoadCommand, ConnectionLoadReply } from './connection-load-worker.js';

const liveWorkers = new Set<ChildProcess>();
let exitHookInstalled = false;

interface Tagged {
  type: string;
}

export class WorkerProcess<Command extends Tagged, Reply extends Tagged> {
  private readonly child: ChildProcess;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  /**
   * Forks `modulePath` (a compiled worker). `niceness` > 0 lowers its CPU priority (a generator
   * standing in for other hosts).
   */
  static start<Command extends Tagged, Reply extends Tagged>(
    modulePath: string,
    options: { niceness?: number } = {},
  ): WorkerProcess<Command, Reply> {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const child of liveWorkers) child.kill('SIGKILL');
      });
    }
    const child = fork(modulePath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    liveWorkers.add(child);
    child.once('exit', () => liveWorkers.delete(child));
    if (options.niceness !== undefined && child.pid !== undefined) {
      setPriority(child.pid, options.niceness);
    }
    return new WorkerProcess<Command, Reply>(child);
  }

  /** Sends `command` after the previous one was answered; rejects on another reply or an exit. */
  run<Type extends Reply['type']>(
    command: Command,
    expected: Type,
  ): Promise<Extract<Reply, { type: Type }>> {
    const next = this.queue.then(
      () =>
        new Promise<Extract<Reply, { type: Type }>>((resolve, reject) => {
          const onExit = () => reject(new Error(`worker exited during ${command.type}`));
          this.child.once('exit', onExit);
          this.child.once('message', (reply: Reply) => {
            this.child.off('exit', onExit);
            if (reply.type === expected) resolve(reply as Extract<Reply, { type: Type }>);
            else reject(new Error(`worker: ${command.type} → ${JSON.stringify(reply)}`));
          });
          this.child.send(command);
        }),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

const connectionWorkerPath = fileURLToPath(new URL('./connection-load-worker.js', import.meta.url));

export type ConnectionLoad = WorkerProcess<ConnectionLoadCommand, ConnectionLoadReply>;

export const ConnectionLoad = {
  start: (options: { niceness?: number } = {}): ConnectionLoad =>
    WorkerProcess.start<ConnectionLoadCommand, ConnectionLoadReply>(connectionWorkerPath, options),
};

/**
 * Soft limit on open files of this process (children inherit it). Node cannot raise it itself,
 * so a bench that needs more re-runs itself under `ulimit -n` (see reexecWithOpenFilesLimit).
 */
export function openFilesLimit(): { soft: number; hard: number } {
  const result = spawnSync('bash', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' });
  const [soft, hard] = result.stdout.trim().split('\n');
  const parse = (text: string | undefined) =>
    text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  return { soft: parse(soft), hard: parse(hard) };
}

/**
 * When this process may open fewer than `wanted` files, runs the same script again with the soft
 * limit raised (up to the hard limit) and exits with its status; returns otherwise.
 */
export function reexecWithOpenFilesLimit(wanted: number): void {
  const { soft, hard } = openFilesLimit();
  if (soft >= wanted || process.env.GREGOR_OPEN_FILES_RAISED === '1') return;
  const limit = Number.isFinite(hard) ? Math.min(wanted, hard) : wanted;
  const quoted = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]
    .map((part) => `'${part.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const result = spawnSync('bash', ['-c', `ulimit -n ${limit} && exec ${quoted}`], {
    stdio: 'inherit',
    env: { ...process.env, GREGOR_OPEN_FILES_RAISED: '1' },
  });
  process.exit(result.status ?? 1);
}
