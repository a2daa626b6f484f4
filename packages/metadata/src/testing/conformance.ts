/**
 * The conformance suite every MetadataStore implementation passes (local, etcd, simulated), as
 * NATS runs one store suite against its memory and file stores. Each test gets a fresh, empty
 * store from the harness and asserts exact contents and revisions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  brokerKey,
  CompactedError,
  commitOperationsMax,
  DuplicateBrokerError,
  type Fence,
  type KeyValue,
  type MetadataStore,
  type Operation,
  producerIdKey,
  type Revision,
  type WatchEvent,
} from '../store.js';

/** One empty store, shared by the clients a test opens on it. */
export interface ConformanceCluster {
  /** A new client of this store (a separate connection / node where the store has them). */
  connect(): Promise<MetadataStore>;
  /**
   * Ends the lease that holds `key` without telling its holder, as a process paused past its TTL
   * experiences it: the holder learns only from its next keepalive.
   */
  expireLeaseOf(key: string): Promise<void>;
  /** Lets `durationMs` of the store's time pass (simulated or real). */
  sleep(durationMs: number): Promise<void>;
  /** Compacts history before `revision`; absent where the store never compacts. */
  compact?: (revision: Revision) => Promise<void>;
  /** A lease TTL short enough for tests and long enough not to expire by accident. */
  ttlMs: number;
  dispose(): Promise<void>;
}

export interface ConformanceHarness {
  name: string;
  start(): Promise<ConformanceCluster>;
}

const text = (value: string): Buffer => Buffer.from(value);

/** Polls `condition` in the store's time until it holds or `deadlineMs` of that time passed. */
async function waitFor(
  cluster: ConformanceCluster,
  what: string,
  condition: () => boolean,
  deadlineMs = 10_000,
): Promise<void> {
  const stepMs = 10;
  for (let waitedMs = 0; !condition(); waitedMs += stepMs) {
    if (waitedMs > deadlineMs) assert.fail(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await cluster.sleep(stepMs);
  }
}

function puts(entries: Record<string, string>): Operation[] {
  return Object.entries(entries).map(([key, value]) => ({ type: 'put', key, value: text(value) }));
}

async function committed(
  store: MetadataStore,
  fence: Fence,
  operations: Operation[],
): Promise<Revision> {
  const result = await store.commit(fence, operations);
  if (!result.committed) assert.fail(`commit failed: ${result.reason} ${result.key ?? ''}`);
  return result.revision;
}

function summary(entries: KeyValue[]): [string, string][] {
  return entries.map((entry) => [entry.key, entry.value.toString()]);
}

type EventSummary = [type: string, key: string, value: string, modRevision: Revision];
function eventSummary(event: WatchEvent): EventSummary {
  return event.type === 'put'
    ? ['put', event.key, event.value.toString(), event.modRevision]
    : ['delete', event.key, '', event.modRevision];
}

export function runConformance(harness: ConformanceHarness): void {
  describe(`${harness.name} conforms to the metadata store contract`, () => {
    const withCluster =
      (body: (cluster: ConformanceCluster, store: MetadataStore) => Promise<void>) =>
      async (): Promise<void> => {
        const cluster = await harness.start();
        const store = await cluster.connect();
        try {
          await body(cluster, store);
        } finally {
          await store.close();
          await cluster.dispose();
        }
      };

    it(
      'orders revisions and lists at a past revision',
      withCluster(async (cluster, store) => {
        const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
        const first = await committed(store, fence, puts({ 'topics/a': 'a1' }));
        const second = await committed(store, fence, puts({ 'topics/a': 'a2', 'topics/b': 'b1' }));
        const third = await committed(store, fence, [{ type: 'delete', key: 'topics/a' }]);
        assert.ok(first < second && second < third, `${first} < ${second} < ${third}`);
        assert.equal(second, first + 1n, 'one revision per commit, whatever its size');

        const now = await store.list('topics/');
        assert.ok(now.revision >= third);
        assert.deepEqual(summary(now.entries), [['topics/b', 'b1']]);
        assert.equal(now.entries[0].createRevision, second);
        assert.equal(now.entries[0].modRevision, second);

        const atFirst = await store.list('topics/', { revision: first });
        assert.equal(atFirst.revision, first);
        assert.deepEqual(summary(atFirst.entries), [['topics/a', 'a1']]);
        const atSecond = await store.list('topics/', { revision: second });
        assert.deepEqual(summary(atSecond.entries), [
          ['topics/a', 'a2'],
          ['topics/b', 'b1'],
        ]);
        assert.equal(atSecond.entries[0].createRevision, first);
        assert.equal(atSecond.entries[0].modRevision, second);
      }),
    );

    it(
      'watch from a revision sees every later change once, in order',
      withCluster(async (cluster, store) => {
        const other = await cluster.connect();
        try {
          const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
          const start = (await store.list('w/')).revision;
          const seen: EventSummary[] = [];
          let lastBatchRevision = start;
          const watch = other.watch(
            'w/',
            start,
            (events, revision) => {
              assert.ok(revision >= lastBatchRevision, 'batch revisions never go back');
              lastBatchRevision = revision;
              for (const event of events) seen.push(eventSummary(event));
            },
            () => assert.fail('no compaction expected'),
          );
          const expected: EventSummary[] = [];
          let middle = 0n;
          for (let index = 0; index < 20; index++) {
            const key = `w/${index % 4}`;
            const operations: Operation[] =
              index % 5 === 4
                ? [{ type: 'delete', key }]
                : [
                    { type: 'put', key, value: text(`v${index}`) },
                    { type: 'put', key: `elsewhere/${index}`, value: text('x') },
                  ];
            const revision = await committed(store, fence, operations);
            if (index === 9) middle = revision;
            expected.push(
              operations[0].type === 'put'
                ? ['put', key, `v${index}`, revision]
                : ['delete', key, '', revision],
            );
          }
          await waitFor(cluster, '20 watch events', () => seen.length >= expected.length);
          await cluster.sleep(50);
          assert.deepEqual(seen, expected);
          watch.close();

          // A second watch from the middle replays exactly the later half.
          const replayed: EventSummary[] = [];
          const replay = other.watch(
            'w/',
            middle,
            (events) => {
              for (const event of events) replayed.push(eventSummary(event));
            },
            () => assert.fail('no compaction expected'),
          );
          await waitFor(cluster, 'the replay', () => replayed.length >= 10);
          await cluster.sleep(50);
          assert.deepEqual(replayed, expected.slice(10));
          replay.close();
        } finally {
          await other.close();
        }
      }),
    );

    it(
      'lists more keys than a page, all at one revision',
      withCluster(async (cluster, store) => {
        const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
        const expected: [string, string][] = [];
        for (let batch = 0; batch < 3; batch++) {
          const operations: Operation[] = [];
          for (let index = 0; index < 100; index++) {
            const key = `p/${String(batch * 100 + index).padStart(4, '0')}`;
            operations.push({ type: 'put', key, value: text(`value-${key}`) });
            expected.push([key, `value-${key}`]);
          }
          await committed(store, fence, operations);
        }
        const listed = await store.list('p/', { pageSize: 64 });
        assert.deepEqual(summary(listed.entries), expected);
        // Changes after the revision do not show in a list at it, whatever the page boundaries.
        await committed(store, fence, [
          { type: 'delete', key: 'p/0000' },
          { type: 'put', key: 'p/0150', value: text('changed') },
          { type: 'put', key: 'p/9999', value: text('late') },
        ]);
        const again = await store.list('p/', { pageSize: 64, revision: listed.revision });
        assert.deepEqual(summary(again.entries), expected);
        const latest = await store.list('p/', { pageSize: 7 });
        assert.equal(latest.entries.length, 300);
        assert.equal(latest.entries[0].key, 'p/0001');
        assert.equal(latest.entries[149].value.toString(), 'changed');
        assert.equal(latest.entries[299].key, 'p/9999');
      }),
    );

    it(
      'commits atomically iff every expectation holds',
      withCluster(async (cluster, store) => {
        const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
        const created = await committed(store, fence, [
          { type: 'put', key: 'c/x', value: text('x1'), expectedModRevision: 0n },
          { type: 'put', key: 'c/y', value: text('y1'), expectedModRevision: 0n },
        ]);
        const conflict = await store.commit(fence, [
          { type: 'put', key: 'c/z', value: text('z1') },
          { type: 'put', key: 'c/x', value: text('x2'), expectedModRevision: 0n },
        ]);
        assert.deepEqual(conflict, { committed: false, reason: 'conflict', key: 'c/x' });
        const stale = await store.commit(fence, [
          { type: 'delete', key: 'c/y', expectedModRevision: created - 1n },
        ]);
        assert.deepEqual(stale, { committed: false, reason: 'conflict', key: 'c/y' });
        const afterConflicts = await store.list('c/');
        assert.deepEqual(summary(afterConflicts.entries), [
          ['c/x', 'x1'],
          ['c/y', 'y1'],
        ]);
        const updated = await committed(store, fence, [
          { type: 'put', key: 'c/x', value: text('x2'), expectedModRevision: created },
          { type: 'delete', key: 'c/y', expectedModRevision: created },
        ]);
        const final = await store.list('c/');
        assert.deepEqual(summary(final.entries), [['c/x', 'x2']]);
        assert.equal(final.entries[0].modRevision, updated);
        assert.equal(final.entries[0].createRevision, created);
      }),
    );

    it(
      `accepts ${commitOperationsMax} operations and rejects more with a clear error`,
      withCluster(async (cluster, store) => {
        const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
        const operations = (count: number): Operation[] =>
          Array.from({ length: count }, (_, index) => ({
            type: 'put',
            key: `big/${String(index).padStart(3, '0')}`,
            value: text(String(index)),
          }));
        await assert.rejects(store.commit(fence, operations(commitOperationsMax + 1)), {
          name: 'RangeError',
          message: /at most 127 operations/,
        });
        assert.equal((await store.list('big/')).entries.length, 0);
        await committed(store, fence, operations(commitOperationsMax));
        assert.equal((await store.list('big/')).entries.length, commitOperationsMax);
      }),
    );

    it(
      "rejects an old controller's commit after a new election (fencing, not timing)",
      withCluster(async (cluster, store) => {
        const other = await cluster.connect();
        try {
          const old = await store.campaign(1, { ttlMs: cluster.ttlMs });
          await committed(store, old, puts({ 'f/owner': 'one' }));
          assert.deepEqual(await store.controller(), { controllerId: 1, revision: old.revision });

          const campaigning = other.campaign(2, { ttlMs: cluster.ttlMs });
          // The old controller pauses past its lease: the store ends it; it does not know yet.
          await cluster.expireLeaseOf(await electionKeyOf(store, old.revision));
          const current = await campaigning;
          assert.ok(current.revision > old.revision, 'the new fence is newer');

          const zombie = await store.commit(old, puts({ 'f/owner': 'one-again' }));
          assert.deepEqual(zombie, { committed: false, reason: 'fenced' });
          await committed(other, current, puts({ 'f/owner': 'two' }));
          assert.deepEqual(summary((await store.list('f/')).entries), [['f/owner', 'two']]);
          assert.deepEqual(await other.controller(), {
            controllerId: 2,
            revision: current.revision,
          });
          await waitFor(cluster, 'the old fence to learn it is lost', () => old.lost.aborted);
          await current.resign();
          assert.equal(await other.controller(), undefined);
        } finally {
          await other.close();
        }
      }),
    );

    it(
      'campaign blocks a second candidate until the first resigns or its lease ends',
      withCluster(async (cluster, store) => {
        const second = await cluster.connect();
        const third = await cluster.connect();
        try {
          const first = await store.campaign(1, { ttlMs: cluster.ttlMs });
          let secondFence: Fence | undefined;
          const secondCampaign = second.campaign(2, { ttlMs: cluster.ttlMs }).then((fence) => {
            secondFence = fence;
            return fence;
          });
          // Longer than a TTL: the first controller's keepalives hold it.
          await cluster.sleep(cluster.ttlMs * 1.25);
          assert.equal(secondFence, undefined, 'the second candidate still waits');
          assert.equal((await second.controller())?.controllerId, 1);

          const aborter = new AbortController();
          const abandoned = third.campaign(4, { ttlMs: cluster.ttlMs, signal: aborter.signal });
          aborter.abort(new Error('gave up'));
          await assert.rejects(abandoned, { message: 'gave up' });

          await first.resign();
          assert.equal(first.lost.aborted, true);
          const elected = await secondCampaign;
          assert.equal(elected.controllerId, 2);
          assert.ok(elected.revision > first.revision);

          let thirdFence: Fence | undefined;
          const thirdCampaign = third.campaign(3, { ttlMs: cluster.ttlMs }).then((fence) => {
            thirdFence = fence;
            return fence;
          });
          await cluster.sleep(50);
          assert.equal(thirdFence, undefined);
          await cluster.expireLeaseOf(await electionKeyOf(second, elected.revision));
          const last = await thirdCampaign;
          assert.equal(last.controllerId, 3);
          assert.deepEqual(await store.controller(), { controllerId: 3, revision: last.revision });
          await last.resign();
        } finally {
          await second.close();
          await third.close();
        }
      }),
    );

    it(
      'broker epochs increase across re-registration; a live registration is not replaced',
      withCluster(async (cluster, store) => {
        const first = await store.registerBroker(7, text('endpoint-a'), { ttlMs: cluster.ttlMs });
        assert.equal(first.brokerId, 7);
        await assert.rejects(
          store.registerBroker(7, text('endpoint-b'), { ttlMs: cluster.ttlMs }),
          DuplicateBrokerError,
        );
        const listed = await store.list('brokers/');
        assert.deepEqual(summary(listed.entries), [[brokerKey(7), 'endpoint-a']]);
        assert.equal(listed.entries[0].createRevision, first.brokerEpoch);
        await first.close();
        assert.equal(first.lost.aborted, true);
        assert.deepEqual((await store.list('brokers/')).entries, []);
        const second = await store.registerBroker(7, text('endpoint-b'), { ttlMs: cluster.ttlMs });
        assert.ok(second.brokerEpoch > first.brokerEpoch, 'a new registration, a newer epoch');
        const relisted = await store.list('brokers/');
        assert.deepEqual(summary(relisted.entries), [[brokerKey(7), 'endpoint-b']]);
        assert.equal(relisted.entries[0].createRevision, second.brokerEpoch);
        await second.close();
      }),
    );

    it(
      'aborts lost when the lease ends and removes the registration',
      withCluster(async (cluster, store) => {
        const watcher = await cluster.connect();
        try {
          const session = await store.registerBroker(3, text('b3'), { ttlMs: cluster.ttlMs });
          const events: EventSummary[] = [];
          const watch = watcher.watch(
            'brokers/',
            session.brokerEpoch - 1n,
            (batch) => {
              for (const event of batch) events.push(eventSummary(event));
            },
            () => assert.fail('no compaction expected'),
          );
          await cluster.expireLeaseOf(brokerKey(3));
          await waitFor(cluster, 'the session to learn its loss', () => session.lost.aborted);
          await waitFor(cluster, 'the delete event', () => events.length >= 2);
          assert.deepEqual(
            events.map(([type, key, value]) => [type, key, value]),
            [
              ['put', brokerKey(3), 'b3'],
              ['delete', brokerKey(3), ''],
            ],
          );
          assert.deepEqual((await store.list('brokers/')).entries, []);
          watch.close();
          const again = await store.registerBroker(3, text('b3'), { ttlMs: cluster.ttlMs });
          assert.ok(again.brokerEpoch > session.brokerEpoch);
          await again.close();
        } finally {
          await watcher.close();
        }
      }),
    );

    it(
      "expireBroker ends a dead broker's registration and candidacy at once, never a newer registration",
      withCluster(async (cluster, store) => {
        const dead = await cluster.connect();
        const peer = await cluster.connect();
        try {
          const session = await dead.registerBroker(5, text('b5'), { ttlMs: cluster.ttlMs });
          const fence = await dead.campaign(5, { ttlMs: cluster.ttlMs });
          const other = await peer.registerBroker(6, text('b6'), { ttlMs: cluster.ttlMs });
          let successor: Fence | undefined;
          const campaigning = peer.campaign(6, { ttlMs: cluster.ttlMs }).then((elected) => {
            successor = elected;
            return elected;
          });
          await cluster.sleep(50);
          assert.equal(successor, undefined, 'broker 5 still leads');

          assert.equal(await store.expireBroker(5, session.brokerEpoch - 1n), false, 'wrong epoch');
          assert.equal((await store.list('brokers/')).entries.length, 2);
          assert.equal(await store.expireBroker(5, session.brokerEpoch), true);
          assert.deepEqual(summary((await store.list('brokers/')).entries), [[brokerKey(6), 'b6']]);
          const elected = await campaigning;
          assert.equal(elected.controllerId, 6, 'the next candidate is elected without a TTL');
          assert.deepEqual(await dead.commit(fence, puts({ 'f/x': '5' })), {
            committed: false,
            reason: 'fenced',
          });
          await waitFor(cluster, 'broker 5 to learn its loss', () => session.lost.aborted);
          await waitFor(cluster, 'the old fence to learn its loss', () => fence.lost.aborted);

          // Broker 5 back with a new registration: a late report of the old one touches nothing.
          const again = await dead.registerBroker(5, text('b5 again'), { ttlMs: cluster.ttlMs });
          assert.equal(await store.expireBroker(5, session.brokerEpoch), false);
          assert.equal(await store.expireBroker(9, 1n), false, 'never registered');
          assert.deepEqual(summary((await store.list('brokers/')).entries), [
            [brokerKey(5), 'b5 again'],
            [brokerKey(6), 'b6'],
          ]);
          assert.equal((await store.controller())?.controllerId, 6);
          assert.equal(again.lost.aborted, false);
          assert.equal(other.lost.aborted, false);
          await elected.resign();
        } finally {
          await dead.close();
          await peer.close();
        }
      }),
    );

    it(
      'producer-id blocks never overlap under concurrent allocators; a watch sees each once, in order',
      withCluster(async (cluster, store) => {
        const clients = [store, await cluster.connect(), await cluster.connect()];
        const watcher = await cluster.connect();
        try {
          const seen: [value: string, modRevision: Revision][] = [];
          const watch = watcher.watch(
            producerIdKey,
            (await watcher.list(producerIdKey)).revision,
            (events) => {
              for (const event of events) {
                if (event.type === 'put') seen.push([event.value.toString(), event.modRevision]);
              }
            },
            () => assert.fail('no compaction expected'),
          );
          const blocks = await Promise.all(
            clients.flatMap((client) =>
              Array.from({ length: 8 }, () => client.allocateProducerIds(1000)),
            ),
          );
          const firsts = blocks.map((block) => block.firstProducerId).sort(compareBigInt);
          assert.deepEqual(
            firsts,
            Array.from({ length: 24 }, (_, index) => BigInt(index) * 1000n),
          );
          for (const block of blocks) assert.equal(block.size, 1000);
          // Concurrent writers from three clients, one ordered history.
          await waitFor(cluster, '24 allocations watched', () => seen.length >= 24);
          assert.deepEqual(
            seen.map(([value]) => value),
            Array.from({ length: 24 }, (_, index) => String((index + 1) * 1000)),
          );
          for (let index = 1; index < seen.length; index++) {
            assert.ok(seen[index][1] > seen[index - 1][1]);
          }
          watch.close();
        } finally {
          await clients[1].close();
          await clients[2].close();
          await watcher.close();
        }
      }),
    );

    it('resets a watch behind the compaction point and refuses to list there', async (context) => {
      const cluster = await harness.start();
      const store = await cluster.connect();
      try {
        if (cluster.compact === undefined) {
          context.skip('this store never compacts');
          return;
        }
        const fence = await store.campaign(1, { ttlMs: cluster.ttlMs });
        const old = await committed(store, fence, puts({ 'k/a': '1' }));
        await committed(store, fence, puts({ 'k/a': '2' }));
        const latest = await committed(store, fence, puts({ 'k/b': '1' }));
        await cluster.compact(latest);
        await assert.rejects(store.list('k/', { revision: old }), CompactedError);
        let reset: Revision | undefined;
        const events: WatchEvent[] = [];
        const watch = store.watch(
          'k/',
          old,
          (batch) => events.push(...batch),
          (compactRevision) => {
            reset = compactRevision;
          },
        );
        await waitFor(cluster, 'the reset', () => reset !== undefined);
        assert.equal(reset, latest);
        assert.deepEqual(events, []);
        watch.close();
        // The recovery the contract asks for: re-list, then watch from the list's revision.
        const relisted = await store.list('k/');
        assert.deepEqual(summary(relisted.entries), [
          ['k/a', '2'],
          ['k/b', '1'],
        ]);
        const after: EventSummary[] = [];
        const rewatch = store.watch(
          'k/',
          relisted.revision,
          (batch) => {
            for (const event of batch) after.push(eventSummary(event));
          },
          () => assert.fail('no second reset'),
        );
        const next = await committed(store, fence, puts({ 'k/c': '1' }));
        await waitFor(cluster, 'the event after the reset', () => after.length >= 1);
        assert.deepEqual(after, [['put', 'k/c', '1', next]]);
        rewatch.close();
      } finally {
        await store.close();
        await cluster.dispose();
      }
    });
  });
}

/** The election key a fence stands on: the one created at its revision. */
async function electionKeyOf(store: MetadataStore, revision: Revision): Promise<string> {
  const { entries } = await store.list('election/');
  const entry = entries.find((candidate) => candidate.createRevision === revision);
  assert.ok(entry !== undefined, `no election key created at ${revision}`);
  return entry.key;
}

function compareBigInt(left: bigint, right: bigint): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
