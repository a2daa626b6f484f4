import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { it } from 'node:test';
import { systemClock } from '../clock.js';
import { silentLogger } from '../logging/logger.js';
import { nodeTransport } from '../server/node-transport.js';
import { PeerDeathDetector } from './peer-death-detector.js';

interface Peer {
  brokerEpoch: bigint;
  host: string;
  port: number;
}

function listen(): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not bound');
  return address.port;
}

/** A loopback port nobody listens on: bound, then closed (connects are refused). */
async function closedPort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function detectorWith(peers: Map<number, Peer>, probeIntervalMs = 50) {
  const reports: [number, bigint][] = [];
  const detector = new PeerDeathDetector({
    transport: nodeTransport,
    clock: systemClock,
    logger: silentLogger,
    nodeId: 1,
    peer: (brokerId) => peers.get(brokerId),
    report: async (brokerId, brokerEpoch) => {
      reports.push([brokerId, brokerEpoch]);
      return true;
    },
    probeIntervalMs,
  });
  return { detector, reports };
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('reports a peer whose endpoint refuses connections twice, once, with the epoch it saw', async () => {
  const port = await closedPort();
  const peers = new Map<number, Peer>([[2, { brokerEpoch: 17n, host: '127.0.0.1', port }]]);
  const { detector, reports } = detectorWith(peers);
  detector.suspect(2);
  detector.suspect(2);
  await waitFor(() => reports.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(reports, [[2, 17n]]);
  detector.close();
});

it('leaves a listening peer, itself and unknown peers alone', async () => {
  const server = await listen();
  try {
    const dead = await closedPort();
    const peers = new Map<number, Peer>([
      [1, { brokerEpoch: 3n, host: '127.0.0.1', port: dead }],
      [2, { brokerEpoch: 5n, host: '127.0.0.1', port: portOf(server) }],
    ]);
    const { detector, reports } = detectorWith(peers);
    let accepted = 0;
    server.on('connection', () => accepted++);
    detector.suspect(1);
    detector.suspect(2);
    detector.suspect(9);
    await waitFor(() => accepted === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(reports, []);
    assert.equal(accepted, 2, 'two probes of the live peer, none after it answered twice');
    detector.close();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

it('reports a peer still accepting at the first probe once it refuses twice (a dying process)', async () => {
  const server = await listen();
  const port = portOf(server);
  const peers = new Map<number, Peer>([[2, { brokerEpoch: 9n, host: '127.0.0.1', port }]]);
  const { detector, reports } = detectorWith(peers);
  server.once('connection', () => server.close());
  detector.suspect(2);
  await waitFor(() => reports.length > 0);
  assert.deepEqual(reports, [[2, 9n]]);
  detector.close();
});

it('does not report a peer that registered again between its probes', async () => {
  const port = await closedPort();
  const peers = new Map<number, Peer>([[2, { brokerEpoch: 17n, host: '127.0.0.1', port }]]);
  const { detector, reports } = detectorWith(peers, 300);
  detector.suspect(2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  // The restarted process's registration (refused until it listens: still not the old epoch).
  peers.set(2, { brokerEpoch: 40n, host: '127.0.0.1', port });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(reports, []);
  detector.suspect(2);
  await waitFor(() => reports.length > 0, 3_000);
  assert.deepEqual(reports, [[2, 40n]]);
  detector.close();
});

it('a closed inbound connection a follower fetched on makes that follower a suspect', async () => {
  const port = await closedPort();
  const peers = new Map<number, Peer>([[3, { brokerEpoch: 8n, host: '127.0.0.1', port }]]);
  const { detector, reports } = detectorWith(peers);
  detector.followerFetches(41, 3);
  detector.connectionClosed(40);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(reports, [], 'a connection no follower fetched on');
  detector.connectionClosed(41);
  await waitFor(() => reports.length > 0);
  assert.deepEqual(reports, [[3, 8n]]);
  detector.close();
});
