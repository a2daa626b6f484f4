/**
 * The parent side of connection-load-worker.ts: forks one generator process and sends it one
 * command at a time. Every worker is killed when the parent exits.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ConnectionLoadCommand, ConnectionLoadReply } from './connection-load-worker.js';

const workerPath = fileURLToPath(new URL('./connection-load-worker.js', import.meta.url));
const liveWorkers = new Set<ChildProcess>();
let exitHookInstalled = false;

export class ConnectionLoad {
  private readonly child: ChildProcess;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  /** `niceness` > 0 lowers the worker's CPU priority (a generator standing in for other hosts). */
  static start(options: { niceness?: number } = {}): ConnectionLoad {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const child of liveWorkers) child.kill('SIGKILL');
      });
    }
    const child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    liveWorkers.add(child);
    child.once('exit', () => liveWorkers.delete(child));
    if (options.niceness !== undefined && child.pid !== undefined) {
      setPriority(child.pid, options.niceness);
    }
    return new ConnectionLoad(child);
  }

  /** Sends `command` after the previous one was answered; rejects on an error reply or exit. */
  run<Type extends ConnectionLoadReply['type']>(
    command: ConnectionLoadCommand,
    expected: Type,
  ): Promise<Extract<ConnectionLoadReply, { type: Type }>> {
    const next = this.queue.then(
      () =>
        new Promise<Extract<ConnectionLoadReply, { type: Type }>>((resolve, reject) => {
          const onExit = () => reject(new Error(`load worker exited during ${command.type}`));
          this.child.once('exit', onExit);
          this.child.once('message', (reply: ConnectionLoadReply) => {
            this.child.off('exit', onExit);
            if (reply.type === expected)
              resolve(reply as Extract<ConnectionLoadReply, { type: Type }>);
            else reject(new Error(`load worker: ${command.type} → ${JSON.stringify(reply)}`));
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
