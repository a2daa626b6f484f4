import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimulatedMetadataStore } from '@gregor/metadata';
import { SimulatedClock } from '@gregor/metadata/testing/simulated-clock';
import { type AlterPartitionRequest, ErrorCode } from '@gregor/protocol';
import type { PartitionImage } from '../image.js';
import { MetadataListener } from '../metadata-listener.js';
import { drive, driveUntil, registerTestBroker } from '../testing/brokers.js';
import { RecordingLogger, testTopicId } from '../testing/images.js';
import { zeroTopicId } from './context.js';
import { Controller, type ControllerOptions, NotControllerError } from './controller.js';

const ttlMs = 2000;
let topicIds = 0;

function startController(
  store: SimulatedMetadataStore,
  clock: SimulatedClock,
  nodeId: number,
  logger = new RecordingLogger(),
  extra: Partial<ControllerOptions> = {},
) {
  const controller = Controller.start(store.connect(`controller-${nodeId}`), {
    ...extra,
    nodeId,
    sessionTtlMs: ttlMs,
    logger,
    schedule: (delayMs, callback) => clock.schedule(delayMs, callback),
    randomInt: () => 0,
    randomTopicId: () => testTopicId(`${nodeId}-${++topicIds}`),
  });
  return { controller, logger };
}

/** One partition on exactly these brokers, the first leading. */
const createAssigned = (name: string, brokerIds: number[]) => ({
  topics: [
    {
      name,
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds }],
      configs: [],
    },
  ],
  timeoutMs: 1000,
});

interface BrokerState {
  brokerId: number;
  brokerEpoch: bigint;
}

/** The leader's AlterPartition of one partition to `isr`, at the epochs the image shows. */
const alterIsr = (
  leader: BrokerState,
  partition: PartitionImage,
  isr: BrokerState[],
): AlterPartitionRequest => ({
  ...leader,
  topics: [
    {
      topicId: partition.topicId,
      partitions: [
        {
          partitionIndex: partition.partition,
          leaderEpoch: partition.leaderEpoch,
          partitionEpoch: partition.partitionEpoch,
          newIsrWithEpochs: isr,
          leaderRecoveryState: 0,
        },
      ],
    },
  ],
});

const createTopic = (name: string, numPartitions: number, replicationFactor: number) => ({
  topics: [{ name, numPartitions, replicationFactor, assignments: [], configs: [] }],
  timeoutMs: 30_000,
});

describe('controller on the simulated store', () => {
  test('brokers register, topics are created, a lost broker is fenced, ISR changes flow', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    const sessions = new Map<number, Awaited<ReturnType<typeof registerTestBroker>>>();
    for (const id of [1, 2, 3]) {
      sessions.set(id, await registerTestBroker(store.connect(`broker-${id}`), id, { ttlMs }));
    }
    const { controller, logger } = startController(store, clock, 1);
    await drive(clock, controller.whenActive());
    await driveUntil(clock, () => controller.image?.brokerState(3) !== undefined, {
      what: 'new registrations recorded',
    });
    const observer = await drive(clock, MetadataListener.start(store.connect('observer')));
    assert.equal(observer.image.controller?.controllerId, 1);
    assert.equal(observer.image.controller?.fenceRevision, controller.fence?.revision);

    const created = await drive(clock, controller.createTopics(createTopic('orders', 3, 3)));
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    await driveUntil(clock, () => observer.image.partitions('orders').length === 3);
    assert.deepEqual(
      observer.image
        .partitions('orders')
        .map((partition) => [partition.replicas, partition.leader]),
      [
        [[1, 2, 3], 1],
        [[2, 3, 1], 2],
        [[3, 1, 2], 3],
      ],
    );

    // Broker 2 stops heartbeating: its lease expires and the controller fences it.
    store.pauseKeepalives('broker-2', true);
    await driveUntil(
      clock,
      () => controller.image!.partitions('orders').every((partition) => !partition.isr.includes(2)),
      { what: 'broker 2 out of every ISR' },
    );
    const afterLoss = controller.image!.partitions('orders');
    assert.deepEqual(
      afterLoss.map((partition) => [partition.leader, partition.isr, partition.leaderEpoch]),
      [
        [1, [1, 3], 0],
        [3, [3, 1], 1],
        [3, [3, 1], 0],
      ],
    );
    const warnings = logger.warnings();
    assert.ok(
      warnings.includes(
        'Leader of orders-1 changed from 2 to 3 at leader epoch 1 (broker 2 lost its session)',
      ),
    );
    assert.ok(
      warnings.includes('ISR of orders-0 shrank from [1,2,3] to [1,3] (broker 2 lost its session)'),
    );

    // Broker 2 comes back with a new session; the leader of partition 0 adds it back.
    store.pauseKeepalives('broker-2', false);
    await driveUntil(clock, () => sessions.get(2)!.lost.aborted);
    const again = await drive(clock, registerTestBroker(store.connect('broker-2b'), 2, { ttlMs }));
    assert.ok(again.brokerEpoch > sessions.get(2)!.brokerEpoch);
    await driveUntil(clock, () => controller.image?.broker(2)?.brokerEpoch === again.brokerEpoch);
    const partition0 = controller.image!.partition('orders', 0)!;
    const alter = (brokerEpochOf2: bigint) =>
      controller.alterPartition(
        alterIsr({ brokerId: 1, brokerEpoch: sessions.get(1)!.brokerEpoch }, partition0, [
          { brokerId: 1, brokerEpoch: sessions.get(1)!.brokerEpoch },
          { brokerId: 3, brokerEpoch: sessions.get(3)!.brokerEpoch },
          { brokerId: 2, brokerEpoch: brokerEpochOf2 },
        ]),
      );
    const stale = await drive(clock, alter(sessions.get(2)!.brokerEpoch));
    assert.equal(stale.topics[0]!.partitions[0]!.errorCode, ErrorCode.INELIGIBLE_REPLICA);
    const expanded = await drive(clock, alter(again.brokerEpoch));
    assert.deepEqual(expanded.topics[0]!.partitions[0], {
      partitionIndex: 0,
      errorCode: ErrorCode.NONE,
      leaderId: 1,
      leaderEpoch: 0,
      isr: [1, 3, 2],
      leaderRecoveryState: 0,
      partitionEpoch: partition0.partitionEpoch + 1,
    });
    assert.ok(
      logger
        .warnings()
        .includes('ISR of orders-0 expanded from [1,3] to [1,3,2] (AlterPartition from broker 1)'),
    );

    // Controlled shutdown of broker 3: it leads nothing and is in no ISR afterwards.
    const shutdown = await drive(
      clock,
      controller.controlledShutdown(3, sessions.get(3)!.brokerEpoch),
    );
    assert.deepEqual(shutdown, { errorCode: ErrorCode.NONE, remainingPartitions: [] });
    await driveUntil(clock, () => observer.image.broker(3)?.inControlledShutdown === true);
    for (const partition of observer.image.partitions('orders')) {
      assert.notEqual(partition.leader, 3);
      assert.ok(!partition.isr.includes(3));
    }

    const deleted = await drive(
      clock,
      controller.deleteTopics({
        topics: [{ name: 'orders', topicId: zeroTopicId }],
        timeoutMs: 1000,
      }),
    );
    assert.equal(deleted.responses[0]!.errorCode, ErrorCode.NONE);
    await driveUntil(clock, () => observer.image.topic('orders') === undefined);
    assert.equal(observer.image.orphanPartitions().length, 0);

    await drive(clock, controller.close());
    assert.equal(controller.isActive, false);
    assert.equal(await store.controller(), undefined);
    await assert.rejects(controller.createTopics(createTopic('late', 1, 1)), NotControllerError);
    observer.close();
    await store.close();
  });

  test('a controller retrying its campaign keeps no listener per retry', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const { controller, logger } = startController(store, clock, 1);
      store.crash('controller-1');
      await clock.advance(500 * 15);
      await new Promise((resolve) => setImmediate(resolve));
      const retries = logger.lines.filter(
        (line) => line.message === 'campaigning for the controller failed; retrying',
      ).length;
      assert.ok(retries >= 12, `${retries} retries`);
      assert.deepEqual(warnings, []);
      await drive(clock, controller.close());
    } finally {
      process.off('warning', onWarning);
      await store.close();
    }
  });

  test('failover: a paused controller is replaced; its late commit is fenced and nothing of it shows', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    for (const id of [1, 2])
      await registerTestBroker(store.connect(`broker-${id}`), id, { ttlMs: 60_000 });
    const first = startController(store, clock, 1);
    await drive(clock, first.controller.whenActive());
    const second = startController(store, clock, 2);
    await clock.advance(3000);
    assert.equal(second.controller.isActive, false, 'the second waits while the first leads');

    store.pauseKeepalives('controller-1', true);
    await drive(clock, second.controller.whenActive());
    const firstFence = first.controller.fence!;
    assert.ok(first.controller.isActive, 'paused: the first has not heard it lost');
    assert.ok(second.controller.fence!.revision > firstFence.revision);

    const late = await drive(clock, first.controller.createTopics(createTopic('zombie', 2, 1)));
    assert.equal(late.topics[0]!.errorCode, ErrorCode.NOT_CONTROLLER);
    assert.equal(first.controller.isActive, false, 'a fenced commit ends the term');
    assert.ok(
      first.logger
        .warnings()
        .some((line) =>
          /^Node 1 is no longer the active controller: a commit was fenced/.test(line),
        ),
    );
    await clock.advance(100);
    assert.equal(second.controller.image!.topic('zombie'), undefined);
    assert.equal(second.controller.image!.orphanPartitions().length, 0);
    assert.equal(second.controller.image!.controller?.controllerId, 2);

    const made = await drive(clock, second.controller.createTopics(createTopic('real', 2, 2)));
    assert.equal(made.topics[0]!.errorCode, ErrorCode.NONE);

    // The first campaigns again once it hears; it takes over when the second steps down.
    store.pauseKeepalives('controller-1', false);
    await drive(clock, second.controller.close());
    await drive(clock, first.controller.whenActive());
    assert.equal(first.controller.image!.partitions('real').length, 2);
    assert.ok(first.controller.fence!.revision > firstFence.revision);
    await drive(clock, first.controller.close());
    await store.close();
  });

  test('enabling unclean leader election on a topic elects a leader for its offline partition', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    const one = await registerTestBroker(store.connect('broker-1'), 1, { ttlMs });
    await registerTestBroker(store.connect('broker-2'), 2, { ttlMs });
    const { controller, logger } = startController(store, clock, 1);
    await drive(clock, controller.whenActive());
    const created = await drive(clock, controller.createTopics(createAssigned('u', [1, 2])));
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const partition = controller.image!.partition('u', 0)!;
    const shrunk = await drive(
      clock,
      controller.alterPartition(
        alterIsr({ brokerId: 1, brokerEpoch: one.brokerEpoch }, partition, [
          { brokerId: 1, brokerEpoch: one.brokerEpoch },
        ]),
      ),
    );
    assert.equal(shrunk.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    store.pauseKeepalives('broker-1', true);
    await driveUntil(clock, () => controller.image!.partition('u', 0)!.leader === -1, {
      what: 'the partition offline',
    });
    const [written] = await drive(
      clock,
      controller.alterConfigs([
        {
          resource: { type: 'topic', name: 'u' },
          configs: { 'unclean.leader.election.enable': 'true' },
        },
      ]),
    );
    assert.equal(written!.errorCode, ErrorCode.NONE);
    await driveUntil(clock, () => controller.image!.partition('u', 0)!.leader === 2, {
      what: 'an unclean leader',
    });
    const elected = controller.image!.partition('u', 0)!;
    assert.deepEqual([elected.isr, elected.leaderRecoveryState], [[2], 1]);
    assert.ok(
      logger
        .warnings()
        .some((line) => line.startsWith('Unclean leader election for u-0: leader -1 -> 2')),
    );
    await drive(clock, controller.close());
    await store.close();
  });

  test('after a failover the preferred leader gets its leadership back (auto rebalance)', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    const first = await registerTestBroker(store.connect('broker-1'), 1, { ttlMs });
    const two = await registerTestBroker(store.connect('broker-2'), 2, { ttlMs });
    const { controller, logger } = startController(store, clock, 9, new RecordingLogger(), {
      leaderRebalance: { intervalMs: 1000, imbalancePercentage: 10 },
    });
    await drive(clock, controller.whenActive());
    await drive(clock, controller.createTopics(createAssigned('r', [1, 2])));
    store.pauseKeepalives('broker-1', true);
    await driveUntil(clock, () => controller.image!.partition('r', 0)?.leader === 2, {
      what: 'failover',
    });
    store.pauseKeepalives('broker-1', false);
    await driveUntil(clock, () => first.lost.aborted);
    const back = await drive(clock, registerTestBroker(store.connect('broker-1b'), 1, { ttlMs }));
    await driveUntil(clock, () => controller.image!.broker(1)?.brokerEpoch === back.brokerEpoch);
    const partition = controller.image!.partition('r', 0)!;
    const expanded = await drive(
      clock,
      controller.alterPartition(
        alterIsr({ brokerId: 2, brokerEpoch: two.brokerEpoch }, partition, [
          { brokerId: 2, brokerEpoch: two.brokerEpoch },
          { brokerId: 1, brokerEpoch: back.brokerEpoch },
        ]),
      ),
    );
    assert.equal(expanded.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    await driveUntil(clock, () => controller.image!.partition('r', 0)?.leader === 1, {
      what: 'the preferred leader back',
      limitMs: 5000,
    });
    assert.ok(
      logger
        .warnings()
        .some(
          (line) =>
            line.startsWith('Leader of r-0 changed from 2 to 1') &&
            line.endsWith('(preferred leader rebalance)'),
        ),
    );
    await drive(clock, controller.close());
    await store.close();
  });

  test('a big creation cut short by a failed commit: nothing shows, the next term deletes what was written', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    await registerTestBroker(store.connect('broker-1'), 1, { ttlMs: 60_000 });
    const { controller, logger } = startController(store, clock, 1);
    await drive(clock, controller.whenActive());
    const firstFence = controller.fence!.revision;
    store.failNextCommit('controller-1', { applied: false });
    const answer = await drive(clock, controller.createTopics(createTopic('big', 1000, 1)));
    assert.equal(answer.topics[0]!.errorCode, ErrorCode.NOT_CONTROLLER);
    assert.ok(logger.lines.some((line) => line.message === 'a metadata commit failed'));
    await drive(clock, controller.whenActive());
    assert.ok(controller.fence!.revision > firstFence, 'a new term');
    await driveUntil(clock, () => controller.image!.orphanPartitions().length === 0, {
      what: 'orphans deleted',
    });
    assert.equal(controller.image!.topic('big'), undefined);
    const listed = await store.list('partitions/');
    assert.deepEqual(listed.entries, []);
    const again = await drive(clock, controller.createTopics(createTopic('big', 1000, 1)));
    assert.equal(again.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(controller.image!.partitions('big').length, 1000);
    await drive(clock, controller.close());
    await store.close();
  });

  test("a broker's loss in a big cluster: the first partition change lines one by one, then one summary", async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    await registerTestBroker(store.connect('broker-1'), 1, { ttlMs });
    await registerTestBroker(store.connect('broker-2'), 2, { ttlMs: 60_000 });
    const { controller, logger } = startController(store, clock, 9);
    await drive(clock, controller.whenActive());
    const created = await drive(clock, controller.createTopics(createTopic('many', 300, 2)));
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const ledBy1 = controller.image!.partitions('many').filter((entry) => entry.leader === 1);
    assert.ok(ledBy1.length > 0 && ledBy1.length < 300);
    store.pauseKeepalives('broker-1', true);
    await driveUntil(
      clock,
      () => controller.image!.partitions('many').every((entry) => !entry.isr.includes(1)),
      { what: 'broker 1 out of every ISR' },
    );
    // A leader change and an ISR shrink where broker 1 led, an ISR shrink elsewhere.
    const changeLines = 2 * ledBy1.length + (300 - ledBy1.length);
    const reason = 'broker 1 lost its session';
    const oneByOne = logger
      .warnings()
      .filter((line) => /^(Leader|ISR) of many-/.test(line) && line.endsWith(`(${reason})`));
    assert.equal(oneByOne.length, 100);
    const summaries = logger.lines.filter((line) =>
      line.message.includes('more partition changes (leader or ISR) of this controller event'),
    );
    assert.deepEqual(
      summaries.map((line) => line.fields),
      [{ skipped: changeLines - 100, reasons: { [reason]: changeLines - 100 } }],
    );
    store.pauseKeepalives('broker-1', false);
    await drive(clock, controller.close());
    await store.close();
  });

  test('requests before the controller is active are refused with NotControllerError', async () => {
    const clock = new SimulatedClock();
    const store = new SimulatedMetadataStore(clock);
    const holder = await store.campaign(9, { ttlMs: 60_000 });
    const { controller } = startController(store, clock, 1);
    await clock.advance(100);
    await assert.rejects(controller.createTopics(createTopic('t', 1, 1)), NotControllerError);
    await holder.resign();
    await drive(clock, controller.whenActive());
    await drive(clock, controller.close());
    await store.close();
  });
});
