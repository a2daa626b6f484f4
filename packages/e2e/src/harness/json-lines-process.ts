import { join } from 'node:path';
import { ManagedProcess, runToCompletion } from './managed-process.js';
import { pythonClientsDirectory } from './paths.js';
import { debianPython, type PythonRuntime } from './python-runtimes.js';
import { withDeadline } from './wait.js';

/**
 * A client process (python script) that reports what it did as JSON lines on stdout, one object
 * per line with an `event` field, and takes commands as lines on stdin ("stop"). The scripts exit
 * when stdin closes, so a crashed test never leaves them behind.
 */

export interface ClientEvent {
  event: string;
  [field: string]: unknown;
}

function parseEvent(line: string): ClientEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as ClientEvent;
    return typeof value.event === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The events called `name`, in order. */
export function eventsNamed(events: readonly ClientEvent[], name: string): ClientEvent[] {
  return events.filter((event) => event.event === name);
}

export class JsonLinesProcess {
  readonly events: ClientEvent[] = [];
  readonly process: ManagedProcess;
  private readonly waiters = new Set<() => void>();

  constructor(process: ManagedProcess) {
    this.process = process;
    process.onLine((line, stream) => {
      if (stream !== 'stdout') return;
      const event = parseEvent(line);
      if (!event) return;
      this.events.push(event);
      for (const wake of this.waiters) wake();
    });
  }

  eventsOf(name: string): ClientEvent[] {
    return eventsNamed(this.events, name);
  }

  /** Resolves once `predicate` holds over the events seen so far (checked on every new event). */
  async waitFor<T>(
    predicate: (events: readonly ClientEvent[]) => T | undefined | false,
    options: { timeoutMs: number; what: string },
  ): Promise<T> {
    let wake = () => {};
    const satisfied = new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = predicate(this.events);
        if (value !== undefined && value !== false) resolve(value);
      };
      wake = check;
      this.waiters.add(check);
      check();
      this.process.exited.then(() => {
        check();
        reject(
          new Error(
            `${this.process.label} exited before ${options.what}\n${this.process.output().slice(-6000)}`,
          ),
        );
      });
    });
    try {
      return await withDeadline(satisfied, {
        timeoutMs: options.timeoutMs,
        what: `${options.what} (${this.process.label})\n--- output ---\n${this.process.output().slice(-6000)}`,
      });
    } finally {
      this.waiters.delete(wake);
    }
  }

  waitForEvent(name: string, options: { timeoutMs: number }): Promise<ClientEvent> {
    return this.waitFor((events) => events.find((event) => event.event === name), {
      ...options,
      what: `event ${name}`,
    });
  }

  /** Asks the client to finish ("stop" on stdin), waits for it to exit, returns its events. */
  async finish(options: { timeoutMs: number }): Promise<ClientEvent[]> {
    this.process.writeLine('stop');
    this.process.closeInput();
    const status = await withDeadline(this.process.exited, {
      timeoutMs: options.timeoutMs,
      what: `${this.process.label} to exit after stop`,
    }).catch(async (error) => {
      await this.process.stop({ signal: 'SIGKILL' });
      throw error;
    });
    if (status.code !== 0) {
      throw new Error(
        `${this.process.label} exited with ${status.code ?? status.signal}\n${this.process.output().slice(-6000)}`,
      );
    }
    return this.events;
  }

  kill(): Promise<unknown> {
    return this.process.stop({ signal: 'SIGKILL' });
  }
}

function pythonArguments(script: string, command: string, options: object): string[] {
  return ['-u', join(pythonClientsDirectory, script), command, JSON.stringify(options)];
}

/** Starts a long-running python client (e.g. one consumer group member). */
export function spawnPythonClient(options: {
  script: string;
  command: string;
  parameters: object;
  label: string;
  /** Debian's python3 unless given. */
  python?: PythonRuntime;
}): JsonLinesProcess {
  const python = options.python ?? debianPython;
  return new JsonLinesProcess(
    new ManagedProcess({
      label: options.label,
      command: python.executable,
      arguments: pythonArguments(options.script, options.command, options.parameters),
      environment: python.environment,
    }),
  );
}

/** Runs a python client command to completion; fails on a non-zero exit; returns its events. */
export async function runPythonClient(options: {
  script: string;
  command: string;
  parameters: object;
  timeoutMs: number;
  /** Debian's python3 unless given. */
  python?: PythonRuntime;
}): Promise<ClientEvent[]> {
  const python = options.python ?? debianPython;
  const result = await runToCompletion({
    command: python.executable,
    arguments: pythonArguments(options.script, options.command, options.parameters),
    timeoutMs: options.timeoutMs,
    environment: python.environment,
    keepInputOpen: true,
  });
  if (result.code !== 0) {
    throw new Error(
      `${options.script} ${options.command} (${python.label}) exited with ${result.code ?? result.signal}\nstdout: ${result.stdout.slice(-4000)}\nstderr: ${result.stderr.slice(-6000)}`,
    );
  }
  return result.stdout
    .split('\n')
    .map(parseEvent)
    .filter((event): event is ClientEvent => event !== undefined);
}
