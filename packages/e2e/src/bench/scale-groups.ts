import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BrokerProcess } from '../harness/broker-process.js';
import { newKafkajs } from '../harness/kafkajs-client.js';
import { ReferenceKafka } from '../harness/reference-kafka.js';
import { withDeadline } from '../harness/wait.js';
import { WorkerProcess } from '../tools/connection-load.js';
import type { GroupLoadCommand, GroupLoadReply } from '../tools/group-load-worker.js';
import { benchDirectory } from '../tools/rdkafka-performance.js';

/**
 * `npm run bench -- scale-groups [--groups 10000] [--members 500] [--no-kafka]`: consumer groups
 * at scale on one broker, against Apache Kafka 4.4 (reference-kafka.ts) in the same run.
 * - N groups (default 10,000) each committing an offset (OffsetCommit v8, no members: the
 *   "simple" commits admin tools and assign()-mode consumers make), twice: commits per second for
 *   new groups and for existing ones, and the broker's RSS growth per group; a sample of groups
 *   read back with OffsetFetch must hold exactly the offsets committed last;
 * - one classic group of M members (default 500) over a few raw-protocol generator processes:
 *   time for all of them to join and hold an assignment, then time for all of them to hold the
 *   next generation after one more member joins (members heartbeat every 200 ms).
 * group.initial.rebalance.delay.ms is 0 on both brokers (Kafka's default waits 3 s for a first
 * join). Results: a table on stdout and .bench/scale-groups.json.
 */

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    groups: { type: 'string', default: '10000' },
    members: { type: 'string', default: '500' },
    'no-kafka': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const groupCount = Number(options.groups);
const memberCount = Number(options.members);
const workerCount = 2;
const stepTimeoutMs = 300_000;
const commitTopic = 'scale-groups-commits';
const memberTopic = 'scale-groups-members';
const memberPartitions = 1000;

const workerPath = fileURLToPath(new URL('../tools/group-load-worker.js', import.meta.url));
type GroupLoad = WorkerProcess<GroupLoadCommand, GroupLoadReply>;
const step = <T>(promise: Promise<T>, what: string) =>
  withDeadline(promise, { timeoutMs: stepTimeoutMs, what });

interface Target {
  name: string;
  host: string;
  port: number;
  residentBytes: () => Promise<number>;
}

interface Figures {
  newGroupCommitsPerSecond: number;
  existingGroupCommitsPerSecond: number;
  commitErrors: number;
  residentGrowthPerGroupBytes: number;
  offsetsReadBackExact: boolean;
  joinMs: number;
  rebalanceMs: number;
  /** Generations the rebalance went through (1: one round). */
  rebalanceGenerations: number;
}

async function residentOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * 1024;
}

async function createTopics(bootstrap: string): Promise<void> {
  const admin = newKafkajs({ bootstrap, clientId: 'scale-groups-admin' }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: commitTopic, numPartitions: 4 },
        { topic: memberTopic, numPartitions: memberPartitions },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

async function measure(target: Target): Promise<Figures> {
  const workers: GroupLoad[] = Array.from({ length: workerCount }, () =>
    WorkerProcess.start<GroupLoadCommand, GroupLoadReply>(workerPath, { niceness: 5 }),
  );
  try {
    const address = { host: target.host, port: target.port };
    const perWorker = Math.ceil(groupCount / workerCount);
    const commitRound = (offset: number) =>
      step(
        Promise.all(
          workers.map((worker, index) =>
            worker.run(
              {
                type: 'commit',
                ...address,
                first: index * perWorker,
                count: perWorker,
                offset,
                topic: commitTopic,
                connections: 4,
                inFlightPerConnection: 16,
              },
              'committed',
            ),
          ),
        ),
        `${target.name}: committing ${groupCount} groups`,
      );
    const rate = (replies: Extract<GroupLoadReply, { type: 'committed' }>[]) =>
      replies.reduce((sum, reply) => sum + reply.commits, 0) /
      (Math.max(...replies.map((reply) => reply.elapsedMs)) / 1000);
    const residentBefore = await target.residentBytes();
    const first = await commitRound(1);
    const second = await commitRound(2);
    const residentAfter = await target.residentBytes();
    const sampleCount = Math.min(200, perWorker);
    const checked = await workers[0]!.run(
      { type: 'check-commits', ...address, first: 0, count: sampleCount, topic: commitTopic },
      'commits-checked',
    );
    const offsetsReadBackExact = Object.values(checked.committed).every((offset) => offset === 2);
    console.log(
      `${target.name}: commits/s ${rate(first).toFixed(0)} new, ${rate(second).toFixed(0)} existing (errors ${[...first, ...second].reduce((sum, reply) => sum + reply.errors, 0)}); RSS ${(residentBefore / 1e6).toFixed(0)} → ${(residentAfter / 1e6).toFixed(0)} MB`,
    );

    const perMemberWorker = Math.ceil(memberCount / workerCount);
    const joinRequest = (members: number): GroupLoadCommand => ({
      type: 'join',
      ...address,
      groupId: 'scale-group-500',
      topic: memberTopic,
      partitions: memberPartitions,
      members,
    });
    /**
     * Polls until every member everywhere holds the same generation above `generationAbove`,
     * none is rejoining, and their assignments cover the topic: the group is stable.
     */
    const untilStable = async (loads: GroupLoad[], generationAbove: number, what: string) => {
      const deadline = performance.now() + stepTimeoutMs;
      for (;;) {
        const statuses = await Promise.all(
          loads.map((load) => load.run({ type: 'status' }, 'status')),
        );
        const generation = statuses[0]!.generationMax;
        const stable =
          generation > generationAbove &&
          statuses.every(
            (status) =>
              status.generationMin === generation &&
              status.generationMax === generation &&
              status.rejoining === 0,
          ) &&
          statuses.reduce((sum, status) => sum + status.assignedPartitions, 0) === memberPartitions;
        if (stable) return generation;
        if (performance.now() > deadline) {
          throw new Error(
            `${target.name}: ${what} did not settle in ${stepTimeoutMs} ms; last status ${JSON.stringify(statuses)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const joinStartedAtMs = performance.now();
    await Promise.all(workers.map((worker) => worker.run(joinRequest(perMemberWorker), 'joining')));
    const generation = await untilStable(workers, 0, `${memberCount} members joining`);
    const joinMs = performance.now() - joinStartedAtMs;
    console.log(
      `${target.name}: ${memberCount} members joined in ${joinMs.toFixed(0)} ms (generation ${generation})`,
    );
    // One more member joins: every member must rejoin and sync the next generation.
    const extra = WorkerProcess.start<GroupLoadCommand, GroupLoadReply>(workerPath);
    const rebalanceStartedAtMs = performance.now();
    await extra.run(joinRequest(1), 'joining');
    const rebalancedGeneration = await untilStable(
      [...workers, extra],
      generation,
      `the rebalance to ${memberCount + 1} members`,
    );
    const rebalanceMs = performance.now() - rebalanceStartedAtMs;
    console.log(
      `${target.name}: rebalanced to ${memberCount + 1} members in ${rebalanceMs.toFixed(0)} ms (generation ${rebalancedGeneration})`,
    );
    await Promise.all([...workers, extra].map((worker) => worker.run({ type: 'leave' }, 'left')));
    extra.stop();
    return {
      newGroupCommitsPerSecond: rate(first),
      existingGroupCommitsPerSecond: rate(second),
      commitErrors: [...first, ...second].reduce((sum, reply) => sum + reply.errors, 0),
      residentGrowthPerGroupBytes: (residentAfter - residentBefore) / groupCount,
      offsetsReadBackExact,
      joinMs,
      rebalanceMs,
      rebalanceGenerations: rebalancedGeneration - generation,
    };
  } finally {
    for (const worker of workers) worker.stop();
  }
}

const loadAtStart = loadavg()[0]!;
const results: Record<string, Figures> = {};

const broker = await BrokerProcess.start({
  label: 'scale-groups',
  extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
});
try {
  await createTopics(broker.bootstrap);
  results.gregor = await measure({
    name: 'Gregor',
    host: broker.host,
    port: broker.port,
    residentBytes: () => broker.residentSetBytes(),
  });
} finally {
  await broker.dispose();
}

if (!options['no-kafka']) {
  // reference-kafka.ts's settings (group.initial.rebalance.delay.ms=0), Kafka's script JVM flags, 512 MB heap.
  const kafka = await ReferenceKafka.start({ heapMb: 512, jvmFlags: 'kafka' });
  try {
    await createTopics(kafka.bootstrap);
    const [host, port] = kafka.bootstrap.split(':');
    results.kafka = await measure({
      name: 'Apache Kafka',
      host: host!,
      port: Number(port),
      residentBytes: () => residentOf(kafka.pid!),
    });
  } finally {
    await kafka.stop();
  }
}

const rows: [string, (figures: Figures) => string][] = [
  [`${groupCount} new groups committing, commits/s`, (f) => f.newGroupCommitsPerSecond.toFixed(0)],
  [
    `the same groups committing again, commits/s`,
    (f) => f.existingGroupCommitsPerSecond.toFixed(0),
  ],
  ['commit errors', (f) => String(f.commitErrors)],
  ['RSS growth per group, bytes', (f) => f.residentGrowthPerGroupBytes.toFixed(0)],
  ['offsets read back exactly (200 groups)', (f) => String(f.offsetsReadBackExact)],
  [`${memberCount} members join and sync, ms`, (f) => f.joinMs.toFixed(0)],
  [`rebalance to ${memberCount + 1} members, ms`, (f) => f.rebalanceMs.toFixed(0)],
  ['generations the rebalance took', (f) => String(f.rebalanceGenerations)],
];
console.log(`| measure | ${Object.keys(results).join(' | ')} |`);
for (const [label, value] of rows) {
  console.log(`| ${label} | ${Object.values(results).map(value).join(' | ')} |`);
}
const loadAtEnd = loadavg()[0]!;
console.log(
  `machine load average (1 min): ${loadAtStart.toFixed(1)} at start, ${loadAtEnd.toFixed(1)} at end`,
);
await mkdir(benchDirectory, { recursive: true });
await writeFile(
  join(benchDirectory, 'scale-groups.json'),
  `${JSON.stringify({ at: new Date().toISOString(), groupCount, memberCount, loadAtStart, loadAtEnd, results }, null, 2)}\n`,
);
