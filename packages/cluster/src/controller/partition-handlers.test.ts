import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AlterPartitionRequest, ErrorCode } from '@gregor/protocol';
import {
  LeaderRecoveryState,
  newPartitionRegistration,
  noLeader,
  type PartitionRegistration,
} from '../partition-registration.js';
import {
  clusterImage,
  commitPlan,
  RecordingLogger,
  testContext,
  testTopicId,
} from '../testing/images.js';
import { planAlterPartition } from './alter-partition.js';
import {
  planBrokerReconciliation,
  planControlledShutdown,
  reconcileChangesMax,
} from './broker-changes.js';
import { planElectLeaders } from './elect-leaders.js';
import { planLeaderRebalance } from './leader-rebalance.js';

const partitionOf = (
  replicas: number[],
  fields: Partial<PartitionRegistration> = {},
): PartitionRegistration => ({
  ...newPartitionRegistration(replicas),
  ...fields,
});

describe('controller AlterPartition', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4, inControlledShutdown: true }],
    topics: [
      {
        name: 't',
        partitions: [
          partitionOf([1, 2, 3], { leaderEpoch: 5, partitionEpoch: 9 }),
          partitionOf([1, 2, 4], { isr: [1], leaderEpoch: 5, partitionEpoch: 9 }),
          partitionOf([1, 2, 5], { isr: [1], leaderEpoch: 5, partitionEpoch: 9 }),
        ],
      },
    ],
  });
  const epochOf = (brokerId: number) => image.broker(brokerId)?.brokerEpoch ?? -1n;

  function request(
    partitions: {
      partitionIndex?: number;
      leaderEpoch?: number;
      partitionEpoch?: number;
      isr: number[];
      brokerEpochs?: Record<number, bigint>;
      leaderRecoveryState?: number;
    }[],
    from = { brokerId: 1, brokerEpoch: epochOf(1) },
  ): AlterPartitionRequest {
    return {
      ...from,
      topics: [
        {
          topicId: testTopicId('t'),
          partitions: partitions.map((partition) => ({
            partitionIndex: partition.partitionIndex ?? 0,
            leaderEpoch: partition.leaderEpoch ?? 5,
            partitionEpoch: partition.partitionEpoch ?? 9,
            newIsrWithEpochs: partition.isr.map((brokerId) => ({
              brokerId,
              brokerEpoch: partition.brokerEpochs?.[brokerId] ?? epochOf(brokerId),
            })),
            leaderRecoveryState: partition.leaderRecoveryState ?? 0,
          })),
        },
      ],
    };
  }

  test('a shrink commits, bumps only the partition epoch, answers the new state and logs WARN', () => {
    const logger = new RecordingLogger();
    const plan = planAlterPartition(testContext(image, {}, logger), request([{ isr: [1, 2] }]));
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(response.topics[0]!.partitions, [
      {
        partitionIndex: 0,
        errorCode: 0,
        leaderId: 1,
        leaderEpoch: 5,
        isr: [1, 2],
        leaderRecoveryState: 0,
        partitionEpoch: 10,
      },
    ]);
    assert.deepEqual(next.partition('t', 0)?.isr, [1, 2]);
    assert.deepEqual(logger.warnings(), [
      'ISR of t-0 shrank from [1,2,3] to [1,2] (AlterPartition from broker 1)',
    ]);
  });

  test('the ISR already committed: success without a write (idempotent)', () => {
    const plan = planAlterPartition(testContext(image), request([{ isr: [1, 2, 3] }]));
    assert.equal(plan.units.length, 0);
    assert.deepEqual(plan.respond(true).topics[0]!.partitions[0], {
      partitionIndex: 0,
      errorCode: 0,
      leaderId: 1,
      leaderEpoch: 5,
      isr: [1, 2, 3],
      leaderRecoveryState: 0,
      partitionEpoch: 9,
    });
  });

  test("epochs, leadership and ISR shape are checked in Kafka's order", () => {
    const cases = [
      { isr: [1, 2], leaderEpoch: 6 },
      { isr: [1, 2], partitionEpoch: 10 },
      { isr: [1, 2], leaderEpoch: 4 },
      { isr: [1, 2], partitionEpoch: 8 },
      { isr: [2, 3] },
      { isr: [1, 9] },
      { isr: [1, 1] },
      { isr: [1, 2], leaderRecoveryState: LeaderRecoveryState.recovering },
      { partitionIndex: 7, isr: [1] },
    ];
    assert.deepEqual(
      cases.map((partition) => {
        const plan = planAlterPartition(testContext(image), request([partition]));
        assert.equal(plan.units.length, 0);
        return plan.respond(true).topics[0]!.partitions[0]!.errorCode;
      }),
      [
        ErrorCode.NOT_CONTROLLER,
        ErrorCode.NOT_CONTROLLER,
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.INVALID_UPDATE_VERSION,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    );
  });

  test('a request from a broker that is not the leader: INVALID_REQUEST', () => {
    const plan = planAlterPartition(
      testContext(image),
      request([{ isr: [1, 2] }], { brokerId: 2, brokerEpoch: epochOf(2) }),
    );
    assert.equal(plan.respond(true).topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_REQUEST);
  });

  test('a stale broker epoch refuses the whole request', () => {
    const plan = planAlterPartition(
      testContext(image),
      request([{ isr: [1, 2] }], { brokerId: 1, brokerEpoch: 5n }),
    );
    assert.deepEqual(plan.respond(true), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.STALE_BROKER_EPOCH,
      topics: [],
    });
  });

  test('expanding onto a broker shutting down, unregistered or at another epoch: INELIGIBLE_REPLICA', () => {
    const cases: {
      partitionIndex: number;
      isr: number[];
      brokerEpochs?: Record<number, bigint>;
    }[] = [
      { partitionIndex: 1, isr: [1, 4] },
      { partitionIndex: 2, isr: [1, 5], brokerEpochs: { 5: -1n } },
      { partitionIndex: 1, isr: [1, 2], brokerEpochs: { 2: 1n } },
    ];
    assert.deepEqual(
      cases.map(
        (partition) =>
          planAlterPartition(testContext(image), request([partition])).respond(true).topics[0]!
            .partitions[0]!.errorCode,
      ),
      [ErrorCode.INELIGIBLE_REPLICA, ErrorCode.INELIGIBLE_REPLICA, ErrorCode.INELIGIBLE_REPLICA],
    );
    const version1 = planAlterPartition(
      testContext(image),
      request([{ partitionIndex: 1, isr: [1, 4] }]),
      1,
    );
    assert.equal(
      version1.respond(true).topics[0]!.partitions[0]!.errorCode,
      ErrorCode.OPERATION_NOT_ATTEMPTED,
    );
  });

  test('an expansion onto a live broker commits and logs WARN; epoch -1 skips the epoch check', () => {
    const logger = new RecordingLogger();
    const plan = planAlterPartition(
      testContext(image, {}, logger),
      request([{ partitionIndex: 1, isr: [1, 2], brokerEpochs: { 2: -1n } }]),
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.equal(response.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(next.partition('t', 1)?.isr, [1, 2]);
    assert.deepEqual(logger.warnings(), [
      'ISR of t-1 expanded from [1] to [1,2] (AlterPartition from broker 1)',
    ]);
  });

  test('an unknown topic id: UNKNOWN_TOPIC_ID', () => {
    const unknown = request([{ isr: [1] }]);
    unknown.topics[0]!.topicId = testTopicId('ghost');
    assert.equal(
      planAlterPartition(testContext(image), unknown).respond(true).topics[0]!.partitions[0]!
        .errorCode,
      ErrorCode.UNKNOWN_TOPIC_ID,
    );
  });

  test('a partition named twice in one request: the repeat is INVALID_REQUEST', () => {
    const plan = planAlterPartition(testContext(image), request([{ isr: [1, 2] }, { isr: [1] }]));
    assert.equal(plan.units.length, 1);
    const { response } = commitPlan(image, plan);
    assert.deepEqual(
      response.topics[0]!.partitions.map((partition) => partition.errorCode),
      [ErrorCode.NONE, ErrorCode.INVALID_REQUEST],
    );
  });

  test('a change not committed (controller change) answers NOT_CONTROLLER', () => {
    const plan = planAlterPartition(testContext(image), request([{ isr: [1, 2] }]));
    assert.equal(plan.respond(false).topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_CONTROLLER);
  });
});

describe('controller ElectLeaders', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    topics: [
      {
        name: 'p',
        partitions: [
          partitionOf([1, 2, 3], { leader: 2 }),
          partitionOf([1, 2, 3]),
          partitionOf([1, 2, 3], { leader: 2, isr: [2, 3] }),
        ],
      },
      {
        name: 'u',
        partitions: [
          partitionOf([4, 2], { leader: noLeader, isr: [4] }),
          partitionOf([4, 5], { leader: noLeader, isr: [4] }),
          partitionOf([1, 2]),
        ],
      },
    ],
  });

  test('preferred: replicas[0] takes over when in sync; otherwise not needed or not available', () => {
    const logger = new RecordingLogger();
    const plan = planElectLeaders(testContext(image, {}, logger), {
      electionType: 0,
      topicPartitions: [{ topic: 'p', partitions: [0, 1, 2, 9] }],
      timeoutMs: 1000,
    });
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(
      response.replicaElectionResults[0]!.partitionResult.map((result) => [
        result.partitionId,
        result.errorCode,
      ]),
      [
        [0, ErrorCode.NONE],
        [1, ErrorCode.ELECTION_NOT_NEEDED],
        [2, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE],
        [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    assert.equal(next.partition('p', 0)?.leader, 1);
    assert.equal(next.partition('p', 0)?.leaderEpoch, 1);
    assert.deepEqual(logger.warnings(), [
      'Leader of p-0 changed from 2 to 1 at leader epoch 1 (preferred leader election requested)',
    ]);
  });

  test('every partition (null): results that needed no election are left out', () => {
    const plan = planElectLeaders(testContext(image), {
      electionType: 0,
      topicPartitions: null,
      timeoutMs: 1000,
    });
    const response = plan.respond(true);
    assert.deepEqual(
      response.replicaElectionResults.map((topic) => [
        topic.topic,
        topic.partitionResult.map((result) => result.partitionId),
      ]),
      [
        ['p', [0, 2]],
        ['u', [0, 1]],
      ],
    );
  });

  test('unclean: a live out-of-sync replica leads a leaderless partition, RECOVERING, logged WARN', () => {
    const logger = new RecordingLogger();
    const plan = planElectLeaders(testContext(image, {}, logger), {
      electionType: 1,
      topicPartitions: [{ topic: 'u', partitions: [0, 1, 2] }],
      timeoutMs: 1000,
    });
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(
      response.replicaElectionResults[0]!.partitionResult.map((result) => result.errorCode),
      [ErrorCode.NONE, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, ErrorCode.ELECTION_NOT_NEEDED],
    );
    const elected = next.partition('u', 0)!;
    assert.deepEqual([elected.leader, elected.isr, elected.leaderRecoveryState], [2, [2], 1]);
    assert.deepEqual(logger.warnings(), [
      'Unclean leader election for u-0: leader -1 -> 2, ISR [4] -> [2] (records not on the new leader are lost) (unclean leader election requested)',
    ]);
  });

  test('an unknown election type: INVALID_REQUEST', () => {
    const plan = planElectLeaders(testContext(image), {
      electionType: 7,
      topicPartitions: null,
      timeoutMs: 1000,
    });
    assert.equal(plan.respond(true).errorCode, ErrorCode.INVALID_REQUEST);
  });
});

describe('controller broker reconciliation', () => {
  test('a broker that lost its session leaves every ISR and its leaderships move (WARN lines)', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }],
      topics: [
        {
          name: 'r',
          partitions: [
            [3, 1, 2],
            [1, 3],
            [2, 1],
          ],
        },
      ],
    });
    const logger = new RecordingLogger();
    const { image: next } = commitPlan(
      image,
      planBrokerReconciliation(testContext(image, {}, logger)),
    );
    assert.deepEqual(
      next
        .partitions('r')
        .map((partition) => [partition.leader, partition.isr, partition.leaderEpoch]),
      [
        [1, [1, 2], 1],
        [1, [1], 0],
        [2, [2, 1], 0],
      ],
    );
    assert.deepEqual(logger.warnings(), [
      'Leader of r-0 changed from 3 to 1 at leader epoch 1 (broker 3 lost its session)',
      'ISR of r-0 shrank from [3,1,2] to [1,2] (broker 3 lost its session)',
      'ISR of r-1 shrank from [1,3] to [1] (broker 3 lost its session)',
    ]);
    const again = planBrokerReconciliation(testContext(next));
    assert.equal(again.units.length, 0, 'reconciling twice changes nothing');
  });

  test('a broker leading more partitions than one event plans is fenced over several events', () => {
    const partitionCount = 2 * reconcileChangesMax + 10;
    let image = clusterImage({
      brokers: [{ id: 2 }],
      topics: [
        {
          name: 'many',
          partitions: Array.from({ length: partitionCount }, () => [1, 2]),
        },
      ],
    });
    const plannedPerEvent: number[] = [];
    for (let events = 0; events < 10; events++) {
      const plan = planBrokerReconciliation(testContext(image));
      plannedPerEvent.push(plan.units.length);
      const committed = commitPlan(image, plan);
      image = committed.image;
      if (committed.response) break;
    }
    assert.deepEqual(plannedPerEvent, [reconcileChangesMax, reconcileChangesMax, 10]);
    for (const partition of image.partitions('many')) {
      assert.deepEqual([partition.leader, partition.isr], [2, [2]]);
    }
  });

  test('the last ISR member gone, ELR off: leaderless, ISR kept; it leads again when back', () => {
    const image = clusterImage({
      brokers: [{ id: 2 }],
      topics: [{ name: 'o', partitions: [partitionOf([1, 2], { isr: [1] })] }],
    });
    const settings = { eligibleLeaderReplicasEnabled: false };
    const offline = commitPlan(image, planBrokerReconciliation(testContext(image, settings))).image;
    assert.deepEqual(
      [offline.partition('o', 0)!.leader, offline.partition('o', 0)!.isr],
      [noLeader, [1]],
    );
    const back = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }],
      topics: [{ name: 'o', partitions: [offline.partition('o', 0)!] }],
    });
    const online = commitPlan(back, planBrokerReconciliation(testContext(back, settings))).image;
    assert.deepEqual([online.partition('o', 0)!.leader, online.partition('o', 0)!.isr], [1, [1]]);
  });

  test('unclean.leader.election.enable on the topic: an out-of-sync live replica takes over', () => {
    const image = clusterImage({
      brokers: [{ id: 2 }],
      topics: [
        {
          name: 'x',
          configs: { 'unclean.leader.election.enable': 'true' },
          partitions: [partitionOf([1, 2], { isr: [1] })],
        },
      ],
    });
    const logger = new RecordingLogger();
    const next = commitPlan(image, planBrokerReconciliation(testContext(image, {}, logger))).image;
    assert.deepEqual([next.partition('x', 0)!.leader, next.partition('x', 0)!.isr], [2, [2]]);
    assert.match(logger.warnings()[0]!, /^Unclean leader election for x-0: leader 1 -> 2/);
  });

  test('ELR: below min.insync the replica leaving the ISR stays eligible', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 3 }],
      topics: [
        {
          name: 'e',
          configs: { 'min.insync.replicas': '2' },
          partitions: [partitionOf([1, 2, 3], { isr: [1, 2] })],
        },
      ],
    });
    const shrunk = commitPlan(image, planBrokerReconciliation(testContext(image))).image.partition(
      'e',
      0,
    )!;
    assert.deepEqual([shrunk.leader, shrunk.isr, shrunk.elr], [1, [1], [2]]);
  });

  test('a new registration is recorded; an unclean restart leaves the ELR before it may lead', () => {
    const topics = [
      {
        name: 'k',
        configs: { 'min.insync.replicas': '2' },
        partitions: [
          partitionOf([1, 2], { isr: [], elr: [1, 2], leader: noLeader, lastKnownElr: [] }),
        ],
      },
    ];
    // Broker 1 comes back at epoch 500; its last recorded session had epoch 101, but it says its
    // last clean shutdown was at epoch 50: an unclean shutdown.
    const base = clusterImage({ brokers: [{ id: 1, epoch: 101n }], topics });
    const restarted = clusterImage({
      brokers: [{ id: 1, epoch: 500n, previousBrokerEpoch: 50n, recorded: false }],
      topics,
    });
    const withOldState = commitPlan(restarted, {
      units: [
        {
          operations: [
            {
              type: 'put',
              key: 'broker-states/1',
              value: Buffer.from(
                JSON.stringify({
                  v: 1,
                  brokerEpoch: base.broker(1)!.brokerEpoch.toString(),
                  inControlledShutdown: false,
                }),
              ),
            },
          ],
        },
      ],
      respond: () => undefined,
    }).image;
    const logger = new RecordingLogger();
    const { image: next, transactionSizes } = commitPlan(
      withOldState,
      planBrokerReconciliation(testContext(withOldState, {}, logger)),
    );
    const partition = next.partition('k', 0)!;
    assert.deepEqual([partition.leader, partition.isr, partition.elr], [noLeader, [], [2]]);
    assert.equal(next.brokerState(1)?.value.brokerEpoch, 500n);
    assert.deepEqual(transactionSizes, [1, 1]);
    assert.ok(
      logger.lines.some((line) => line.message === 'Broker 1 restarted after an unclean shutdown'),
    );
    // Reconciling again: broker 1 is no longer new, so the last known leader rule may apply.
    const settled = commitPlan(next, planBrokerReconciliation(testContext(next))).image.partition(
      'k',
      0,
    )!;
    assert.deepEqual([settled.leader, settled.isr, settled.elr], [noLeader, [], [2]]);
  });
});

describe('controller controlled shutdown', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    topics: [{ name: 's', partitions: [[1, 2, 3], [2, 1, 3], [1]] }],
  });

  test('marks the broker, moves its leaderships away and takes it out of every ISR', () => {
    const logger = new RecordingLogger();
    const plan = planControlledShutdown(
      testContext(image, {}, logger),
      1,
      image.broker(1)!.brokerEpoch,
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(response, { errorCode: ErrorCode.NONE, remainingPartitions: [] });
    assert.equal(next.broker(1)?.inControlledShutdown, true);
    assert.deepEqual(
      next
        .partitions('s')
        .map((partition) => [
          partition.leader,
          partition.isr,
          partition.elr,
          partition.leaderEpoch,
        ]),
      [
        [2, [2, 3], [], 1],
        [2, [2, 3], [], 0],
        // Its only replica: leaderless (as in KRaft); with ELR the ISR empties and the broker
        // stays eligible, to lead again once it is back.
        [noLeader, [], [1], 1],
      ],
    );
    assert.equal(plan.units[0]!.operations[0]!.key, 'broker-states/1');
    assert.ok(
      logger
        .warnings()
        .includes(
          'Leader of s-0 changed from 1 to 2 at leader epoch 1 (broker 1 is shutting down)',
        ),
    );
    // The broker stays registered but is not active: reconciliation leaves it out too.
    assert.equal(planBrokerReconciliation(testContext(next)).units.length, 0);
  });

  test('a stale broker epoch: STALE_BROKER_EPOCH; not committed: NOT_CONTROLLER with what it still leads', () => {
    assert.equal(
      planControlledShutdown(testContext(image), 1, 1n).respond(true).errorCode,
      ErrorCode.STALE_BROKER_EPOCH,
    );
    const plan = planControlledShutdown(testContext(image), 1, image.broker(1)!.brokerEpoch);
    assert.deepEqual(plan.respond(false), {
      errorCode: ErrorCode.NOT_CONTROLLER,
      remainingPartitions: [
        { topicName: 's', partitionIndex: 0 },
        { topicName: 's', partitionIndex: 2 },
      ],
    });
  });
});

describe('controller preferred leader rebalance', () => {
  test('a broker leading too few of its preferred partitions gets them back when in sync', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
      topics: [
        {
          name: 'b',
          partitions: [
            partitionOf([1, 2], { leader: 2 }),
            partitionOf([1, 2], { leader: 2, isr: [2] }),
            partitionOf([1, 3], { leader: 3 }),
            partitionOf([2, 1]),
            partitionOf([3, 1], { leader: 1 }),
          ],
        },
      ],
    });
    const logger = new RecordingLogger();
    const { image: next, response } = commitPlan(
      image,
      planLeaderRebalance(testContext(image, {}, logger), 10),
    );
    assert.equal(response, 3);
    assert.deepEqual(
      next.partitions('b').map((partition) => partition.leader),
      [1, 2, 1, 2, 3],
    );
    assert.ok(
      logger
        .warnings()
        .includes(
          'Leader of b-0 changed from 2 to 1 at leader epoch 1 (preferred leader rebalance)',
        ),
    );
  });

  test('at or below the imbalance percentage, or with the preferred broker away, nothing moves', () => {
    const partitions = Array.from({ length: 10 }, (_, index) =>
      partitionOf([1, 2], index === 0 ? { leader: 2 } : {}),
    );
    const balanced = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }],
      topics: [{ name: 'q', partitions }],
    });
    assert.equal(planLeaderRebalance(testContext(balanced), 10).units.length, 0);
    assert.equal(planLeaderRebalance(testContext(balanced), 9).units.length, 1);
    const away = clusterImage({ brokers: [{ id: 2 }], topics: [{ name: 'q', partitions }] });
    assert.equal(planLeaderRebalance(testContext(away), 0).units.length, 0);
  });
});

describe('controller reconciliation of a big cluster', () => {
  test('changes are planned in bounded events; the registrations are recorded in the last', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2, recorded: false }],
      topics: [{ name: 'big', partitions: Array.from({ length: 25 }, () => [3, 1, 2]) }],
    });
    const first = planBrokerReconciliation(testContext(image), 10);
    assert.equal(first.units.length, 10);
    const afterFirst = commitPlan(image, first);
    assert.equal(afterFirst.response, false);
    const second = commitPlan(
      afterFirst.image,
      planBrokerReconciliation(testContext(afterFirst.image), 10),
    );
    assert.equal(second.response, false);
    const third = commitPlan(second.image, planBrokerReconciliation(testContext(second.image), 10));
    assert.equal(third.response, true);
    assert.equal(third.image.brokerState(2)?.value.brokerEpoch, image.broker(2)!.brokerEpoch);
    assert.ok(
      third.image
        .partitions('big')
        .every((partition) => partition.leader === 1 && !partition.isr.includes(3)),
    );
  });
});
