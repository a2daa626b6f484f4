import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CreateTopicsRequest, ErrorCode } from '@gregor/protocol';
import { placeReplicas } from '../placement.js';
import {
  clusterImage,
  commitPlan,
  RecordingLogger,
  testContext,
  testTopicId,
} from '../testing/images.js';
import { planAlterConfigs } from './alter-configs.js';
import { planBrokerReconciliation } from './broker-changes.js';
import { zeroTopicId } from './context.js';
import { planCreatePartitions } from './create-partitions.js';
import { planCreateTopics } from './create-topics.js';
import { planDeleteTopics } from './delete-topics.js';

type CreatableTopic = CreateTopicsRequest['topics'][number];

const creatable = (name: string, fields: Partial<CreatableTopic> = {}): CreatableTopic => ({
  name,
  numPartitions: 1,
  replicationFactor: 1,
  assignments: [],
  configs: [],
  ...fields,
});

const createRequest = (topics: CreatableTopic[], validateOnly = false): CreateTopicsRequest => ({
  topics,
  timeoutMs: 30_000,
  validateOnly,
});

const threeBrokers = clusterImage({ brokers: [{ id: 1 }, { id: 2 }, { id: 3 }] });

describe('controller CreateTopics', () => {
  test('places RF 3 with Kafka placement; every replica in sync, the first leading, epochs 0', () => {
    const context = testContext(threeBrokers, { randomInt: () => 1 });
    const plan = planCreateTopics(
      context,
      createRequest([creatable('orders', { numPartitions: 6, replicationFactor: 3 })]),
    );
    const { image, response, transactionSizes } = commitPlan(threeBrokers, plan);
    const expected = placeReplicas({
      brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
      partitionCount: 6,
      replicationFactor: 3,
      fixedStartIndex: 1,
    });
    assert.deepEqual(
      image
        .partitions('orders')
        .map((partition) => [partition.replicas, partition.isr, partition.leader]),
      expected.map((replicas) => [replicas, replicas, replicas[0]]),
    );
    assert.ok(
      image.partitions('orders').every((p) => p.leaderEpoch === 0 && p.partitionEpoch === 0),
    );
    assert.deepEqual(transactionSizes, [6, 1]);
    assert.deepEqual(response.topics, [
      {
        name: 'orders',
        topicId: testTopicId('new1'),
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: 0,
        numPartitions: 6,
        replicationFactor: 3,
        configs: [],
      },
    ]);
    assert.equal(image.topic('orders')?.topicId, testTopicId('new1'));
  });

  test('-1 takes num.partitions and default.replication.factor; configs are stored', () => {
    const context = testContext(threeBrokers);
    context.settings.defaults.numPartitions = 3;
    context.settings.defaults.defaultReplicationFactor = 2;
    const plan = planCreateTopics(
      context,
      createRequest([
        creatable('events', {
          numPartitions: -1,
          replicationFactor: -1,
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        }),
      ]),
    );
    const { image, response } = commitPlan(threeBrokers, plan);
    assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      image.partitions('events').map((partition) => partition.replicas.length),
      [2, 2, 2],
    );
    assert.deepEqual(image.topic('events')?.configs, { 'min.insync.replicas': '2' });
  });

  test('RF above the active brokers: INVALID_REPLICATION_FACTOR (a broker shutting down does not count)', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }, { id: 3, inControlledShutdown: true }],
    });
    const plan = planCreateTopics(
      testContext(image),
      createRequest([creatable('t', { replicationFactor: 3 })]),
    );
    assert.equal(plan.units.length, 0);
    const [result] = plan.respond(true).topics;
    assert.equal(result!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
    assert.equal(result!.errorMessage, 'Replication factor: 3 larger than available brokers: 2.');
  });

  test("each topic is checked on its own with Kafka's errors", () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }],
      topics: [{ name: 'exists', partitions: [[1]] }],
    });
    const context = testContext(image, {
      topicNameProblem: (name) =>
        name.includes('!') ? `Topic name "${name}" is illegal` : undefined,
    });
    const plan = planCreateTopics(
      context,
      createRequest([
        creatable('exists'),
        creatable('twice'),
        creatable('twice'),
        creatable('bad!'),
        creatable('zero-partitions', { numPartitions: 0 }),
        creatable('zero-replicas', { replicationFactor: 0 }),
        creatable('min-isr', { configs: [{ name: 'min.insync.replicas', value: '0' }] }),
        creatable('null-config', { configs: [{ name: 'retention.ms', value: null }] }),
        creatable('unclean', {
          configs: [{ name: 'unclean.leader.election.enable', value: 'maybe' }],
        }),
        creatable('good', { replicationFactor: 2 }),
      ]),
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(
      response.topics.map((topic) => [topic.name, topic.errorCode, topic.errorMessage]),
      [
        ['exists', ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'exists' already exists."],
        ['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
        ['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
        ['bad!', ErrorCode.INVALID_TOPIC_EXCEPTION, 'Topic name "bad!" is illegal'],
        [
          'zero-partitions',
          ErrorCode.INVALID_PARTITIONS,
          'Number of partitions was set to an invalid non-positive value.',
        ],
        [
          'zero-replicas',
          ErrorCode.INVALID_REPLICATION_FACTOR,
          'Replication factor must be larger than 0, or -1 to use the default value.',
        ],
        [
          'min-isr',
          ErrorCode.INVALID_CONFIG,
          'Invalid value 0 for configuration min.insync.replicas: Value must be at least 1',
        ],
        [
          'null-config',
          ErrorCode.INVALID_CONFIG,
          'Null value not supported for topic configs: retention.ms',
        ],
        [
          'unclean',
          ErrorCode.INVALID_CONFIG,
          'Invalid value maybe for configuration unclean.leader.election.enable: Expected value to be either true or false',
        ],
        ['good', ErrorCode.NONE, null],
      ],
    );
    assert.deepEqual(
      next.topics().map((topic) => topic.name),
      ['exists', 'good'],
    );
  });

  test('validateOnly checks and writes nothing', () => {
    const plan = planCreateTopics(
      testContext(threeBrokers),
      createRequest([creatable('v', { numPartitions: 4 })], true),
    );
    assert.equal(plan.units.length, 0);
    const [result] = plan.respond(true).topics;
    assert.equal(result!.errorCode, ErrorCode.NONE);
    assert.equal(result!.topicId, zeroTopicId);
    assert.equal(result!.numPartitions, 4);
  });

  test('manual assignments: ISR = active replicas; Kafka refuses bad ones', () => {
    const image = clusterImage({
      brokers: [{ id: 1 }, { id: 2 }, { id: 3, inControlledShutdown: true }],
    });
    const assignment = (partitionIndex: number, brokerIds: number[]) => ({
      partitionIndex,
      brokerIds,
    });
    const plan = planCreateTopics(
      testContext(image),
      createRequest([
        creatable('manual', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(1, [3, 1]), assignment(0, [2, 3])],
        }),
        creatable('with-rf', { numPartitions: -1, assignments: [assignment(0, [1])] }),
        creatable('unknown-broker', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(0, [1, 9])],
        }),
        creatable('repeated', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(0, [1, 1])],
        }),
        creatable('gap', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(1, [1])],
        }),
        creatable('uneven', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(0, [1]), assignment(1, [1, 2])],
        }),
        creatable('all-down', {
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [assignment(0, [3])],
        }),
      ]),
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(
      response.topics.map((topic) => [topic.name, topic.errorCode]),
      [
        ['manual', ErrorCode.NONE],
        ['with-rf', ErrorCode.INVALID_REQUEST],
        ['unknown-broker', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['repeated', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['gap', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['uneven', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['all-down', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ],
    );
    assert.deepEqual(
      next
        .partitions('manual')
        .map((partition) => [partition.replicas, partition.isr, partition.leader]),
      [
        [[2, 3], [2], 2],
        [[3, 1], [1], 1],
      ],
    );
  });

  test('a big topic is written in transactions of at most 127 operations, its key last', () => {
    const plan = planCreateTopics(
      testContext(threeBrokers),
      createRequest([creatable('big', { numPartitions: 300 })]),
    );
    const { image, transactionSizes } = commitPlan(threeBrokers, plan);
    assert.deepEqual(transactionSizes, [127, 127, 46, 1]);
    assert.equal(image.partitions('big').length, 300);
    const lastUnit = plan.units.at(-1)!;
    assert.equal(lastUnit.operations[0]!.key, 'topics/big');
  });

  test('a creation cut short by a controller change stays invisible; the next controller deletes its records', () => {
    const logger = new RecordingLogger();
    const plan = planCreateTopics(
      testContext(threeBrokers, {}, logger),
      createRequest([creatable('cut', { numPartitions: 200 })]),
    );
    const firstTransaction = { units: plan.units.slice(0, 127), respond: plan.respond };
    const { image } = commitPlan(threeBrokers, firstTransaction);
    assert.equal(plan.respond(false).topics[0]!.errorCode, ErrorCode.NOT_CONTROLLER);
    assert.equal(image.topic('cut'), undefined);
    assert.equal(image.orphanPartitions().length, 127);
    const cleanup = commitPlan(image, planBrokerReconciliation(testContext(image)));
    assert.equal(cleanup.image.orphanPartitions().length, 0);
    assert.deepEqual(cleanup.transactionSizes, [127]);
  });

  test('more than 10,000 partitions in one request: POLICY_VIOLATION for every topic', () => {
    const plan = planCreateTopics(
      testContext(threeBrokers),
      createRequest([
        creatable('a', { numPartitions: 6000 }),
        creatable('b', { numPartitions: 4001 }),
      ]),
    );
    assert.equal(plan.units.length, 0);
    assert.deepEqual(
      plan.respond(true).topics.map((topic) => topic.errorCode),
      [ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION],
    );
  });
});

describe('controller CreatePartitions', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
    topics: [
      {
        name: 'grow',
        partitions: [
          [1, 2],
          [2, 3],
        ],
        configs: { 'cleanup.policy': 'compact' },
      },
    ],
  });

  test('adds partitions after the existing ones with the same RF; the count moves last', () => {
    const plan = planCreatePartitions(testContext(image, { randomInt: () => 0 }), {
      topics: [{ name: 'grow', count: 5, assignments: null }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(response.results, [
      { name: 'grow', errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    assert.deepEqual(
      next.partitions('grow').map((partition) => partition.replicas),
      [
        [1, 2],
        [2, 3],
        ...placeReplicas({
          brokers: [{ id: 1 }, { id: 2 }, { id: 3 }],
          partitionCount: 3,
          replicationFactor: 2,
          fixedStartIndex: 0,
          startPartitionId: 2,
        }),
      ],
    );
    assert.deepEqual(next.topic('grow')?.configs, { 'cleanup.policy': 'compact' });
    assert.equal(plan.units.at(-1)!.operations[0]!.key, 'topics/grow');
  });

  test("Kafka's errors: same count, fewer, unknown topic, assignments not matching, repeats", () => {
    const cases = [
      { name: 'grow', count: 2, assignments: null },
      { name: 'grow', count: 1, assignments: null },
      { name: 'missing', count: 3, assignments: null },
      { name: 'grow', count: 4, assignments: [{ brokerIds: [1, 2] }] },
      { name: 'grow', count: 3, assignments: [{ brokerIds: [1] }] },
    ];
    const answers = cases.map((topic) => {
      const plan = planCreatePartitions(testContext(image), {
        topics: [topic],
        timeoutMs: 1000,
        validateOnly: false,
      });
      assert.equal(plan.units.length, 0);
      const [result] = plan.respond(true).results;
      return [result!.errorCode, result!.errorMessage];
    });
    assert.deepEqual(answers, [
      [ErrorCode.INVALID_PARTITIONS, 'Topic already has 2 partition(s).'],
      [
        ErrorCode.INVALID_PARTITIONS,
        'The topic grow currently has 2 partition(s); 1 would not be an increase.',
      ],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.',
      ],
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).',
      ],
    ]);
    const repeated = planCreatePartitions(testContext(image), {
      topics: [cases[0]!, cases[1]!],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.deepEqual(
      repeated.respond(true).results.map((result) => result.errorCode),
      [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
    );
  });
});

describe('controller DeleteTopics', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }],
    topics: [
      { name: 'a', partitions: [[1], [1]] },
      { name: 'b', partitions: [[1]] },
    ],
  });

  test('by name (v0-5) and by id (v6+): the topic key first, then its partitions', () => {
    const plan = planDeleteTopics(testContext(image), {
      topics: [
        { name: null, topicId: testTopicId('b') },
        { name: 'a', topicId: zeroTopicId },
        { name: 'a', topicId: zeroTopicId },
        { name: 'nope', topicId: zeroTopicId },
        { name: null, topicId: testTopicId('zzz') },
      ],
      timeoutMs: 1000,
    });
    assert.deepEqual(
      plan.units.map((unit) =>
        unit.operations.map((operation) => `${operation.type} ${operation.key}`),
      ),
      [
        ['delete topics/b'],
        [`delete partitions/${testTopicId('b')}/0`],
        ['delete topics/a'],
        [`delete partitions/${testTopicId('a')}/0`],
        [`delete partitions/${testTopicId('a')}/1`],
      ],
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(
      response.responses.map((result) => [result.name, result.errorCode]),
      [
        ['b', ErrorCode.NONE],
        ['a', ErrorCode.NONE],
        ['a', ErrorCode.INVALID_REQUEST],
        ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        [null, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    assert.equal(next.topicCount(), 0);
    assert.equal(next.orphanPartitions().length, 0);
  });

  test('topic names of DeleteTopics v0-5', () => {
    const plan = planDeleteTopics(testContext(image), { topicNames: ['b'], timeoutMs: 1000 });
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(response.responses, [
      { name: 'b', topicId: testTopicId('b'), errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    assert.deepEqual(
      next.topics().map((topic) => topic.name),
      ['a'],
    );
  });
});

describe('controller config writes', () => {
  const image = clusterImage({
    brokers: [{ id: 1 }],
    topics: [{ name: 'c', partitions: [[1]], configs: { 'retention.ms': '5' } }],
  });

  test('topic overrides, cluster defaults and one broker: each resource its own key', () => {
    const plan = planAlterConfigs(
      testContext(image),
      [
        { resource: { type: 'topic', name: 'c' }, configs: { 'min.insync.replicas': '2' } },
        { resource: { type: 'cluster' }, configs: { 'unclean.leader.election.enable': 'true' } },
        { resource: { type: 'broker', brokerId: 1 }, configs: { 'log.cleaner.threads': '2' } },
      ],
      { validateOnly: false },
    );
    const { image: next, response } = commitPlan(image, plan);
    assert.deepEqual(response, [
      { errorCode: ErrorCode.NONE, errorMessage: null },
      { errorCode: ErrorCode.NONE, errorMessage: null },
      { errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    assert.deepEqual(next.topic('c')?.configs, { 'min.insync.replicas': '2' });
    assert.equal(next.topic('c')?.partitionCount, 1);
    assert.equal(next.topicConfigValue('c', 'unclean.leader.election.enable'), 'true');
    assert.deepEqual(next.brokerConfigs(1), { 'log.cleaner.threads': '2' });
  });

  test('unknown topics, bad values, repeats and validateOnly', () => {
    const context = testContext(image, {
      topicConfigsProblem: (configs) =>
        configs.has('bogus') ? 'Unknown topic config name: bogus' : undefined,
    });
    const plan = planAlterConfigs(
      context,
      [
        { resource: { type: 'topic', name: 'nope' }, configs: {} },
        { resource: { type: 'topic', name: 'c' }, configs: { 'min.insync.replicas': 'two' } },
        { resource: { type: 'topic', name: 'c' }, configs: { bogus: '1' } },
        { resource: { type: 'cluster' }, configs: {} },
        { resource: { type: 'cluster' }, configs: {} },
      ],
      { validateOnly: true },
    );
    assert.equal(plan.units.length, 0);
    assert.deepEqual(
      plan.respond(true).map((result) => result.errorCode),
      [
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_CONFIG,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NONE,
        ErrorCode.INVALID_REQUEST,
      ],
    );
  });
});
