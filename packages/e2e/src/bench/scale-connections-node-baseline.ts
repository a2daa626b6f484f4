import { type ChildProcess, fork } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { reexecWithOpenFilesLimit } from '../tools/connection-load.js';

/**
 * `npm run bench -- scale-connections-node-baseline [--connections N]`: what node:net itself does
 * with a connection storm, without any of Gregor, to tell the broker's limits from Node's:
 * - accepts per event-loop turn while the loop has other work (libuv ≥ 1.45 accepts one
 *   connection per poll of the listening socket), and the accept rate of an idle server;
 * - the longest event-loop turn when N idle connections (paused on connect, then read, half-open
 *   as the broker's) are half-closed by their clients at once: every EOF is read in one poll phase.
 * The clients run in a child process (this file, forked with the argument `client`).
 */

const { values: options, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { connections: { type: 'string', default: '10000' }, port: { type: 'string' } },
  allowPositionals: true,
});
const connectionCount = Number(options.connections);

if (positionals[0] === 'client') {
  runClient(Number(options.port));
} else {
  reexecWithOpenFilesLimit(2 * connectionCount + 1_000);
  const loadAtStart = loadavg()[0]!;
  const idle = await acceptStorm(0);
  console.log(
    `${connectionCount} clients connecting at once, idle node:net server: ${Math.round(idle.acceptsPerSecond).toLocaleString('en-US')} accepts/s, at most ${idle.acceptsPerTurnMax} per turn`,
  );
  const busy = await acceptStorm(0.1);
  console.log(
    `the same, 0.1 ms of work per turn per accepted connection: ${Math.round(busy.acceptsPerSecond).toLocaleString('en-US')} accepts/s, at most ${busy.acceptsPerTurnMax} per turn`,
  );
  const closing = await halfCloseStorm();
  console.log(
    `${connectionCount} idle connections half-closed at once: all closed in ${Math.round(closing.elapsedMs)} ms, longest event-loop turn ${closing.longestTurnMs.toFixed(1)} ms`,
  );
  console.log(
    `machine load average (1 min): ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`,
  );
}

/** The child: opens the connections, reports 'open', ends them all on 'end', exits on 'exit'. */
function runClient(port: number): void {
  const sockets: Socket[] = [];
  let connected = 0;
  for (let index = 0; index < connectionCount; index++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('connect', () => {
      connected += 1;
      if (connected === connectionCount) process.send?.('open');
    });
    sockets.push(socket);
  }
  process.on('message', (message) => {
    if (message === 'end') for (const socket of sockets) socket.end();
    else process.exit(0);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function startClients(port: number): ChildProcess {
  return fork(process.argv[1]!, [
    'client',
    '--port',
    String(port),
    '--connections',
    String(connectionCount),
  ]);
}

function whenMessage(child: ChildProcess, wanted: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${wanted}' in ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.on('message', (message) => {
      if (message !== wanted) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Accepts counted per check phase; `workPerAcceptMs` of busy CPU per accepted connection per turn. */
async function acceptStorm(
  workPerAcceptMs: number,
): Promise<{ acceptsPerSecond: number; acceptsPerTurnMax: number }> {
  const sockets: Socket[] = [];
  let acceptedInTurn = 0;
  let acceptsPerTurnMax = 0;
  let running = true;
  let firstAtMs = 0;
  let lastAtMs = 0;
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
    lastAtMs = performance.now();
    if (firstAtMs === 0) firstAtMs = lastAtMs;
    acceptedInTurn += 1;
  });
  const turn = () => {
    acceptsPerTurnMax = Math.max(acceptsPerTurnMax, acceptedInTurn);
    const busyUntilMs = performance.now() + acceptedInTurn * workPerAcceptMs;
    while (performance.now() < busyUntilMs) {}
    acceptedInTurn = 0;
    if (running) setImmediate(turn);
  };
  setImmediate(turn);
  const child = startClients(await listen(server));
  try {
    await whenMessage(child, 'open', 120_000);
    while (sockets.length < connectionCount)
      await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    running = false;
    child.send('exit');
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  return { acceptsPerSecond: connectionCount / ((lastAtMs - firstAtMs) / 1000), acceptsPerTurnMax };
}

async function halfCloseStorm(): Promise<{ elapsedMs: number; longestTurnMs: number }> {
  let closed = 0;
  let allClosed: () => void = () => {};
  const everyoneClosed = new Promise<void>((resolve) => {
    allClosed = resolve;
  });
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', () => {});
    // As the broker: the tear-down after the client's FIN is deferred to a later turn.
    socket.on('end', () => setImmediate(() => socket.end()));
    socket.on('close', () => {
      closed += 1;
      if (closed === connectionCount) allClosed();
    });
    socket.resume();
  });
  const child = startClients(await listen(server));
  try {
    await whenMessage(child, 'open', 120_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    let longestTurnMs = 0;
    let previousMs = performance.now();
    let running = true;
    const turn = () => {
      const nowMs = performance.now();
      longestTurnMs = Math.max(longestTurnMs, nowMs - previousMs);
      previousMs = nowMs;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    const startedMs = performance.now();
    child.send('end');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      everyoneClosed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('connections not closed in 120 s')), 120_000);
      }),
    ]);
    clearTimeout(timer);
    running = false;
    return { elapsedMs: performance.now() - startedMs, longestTurnMs };
  } finally {
    child.send('exit');
    await new Promise((resolve) => server.close(resolve));
  }
}
