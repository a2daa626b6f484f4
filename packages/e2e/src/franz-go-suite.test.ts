import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type GoTestResult,
  outcomeCounts,
  pinnedModuleVersion,
  runGoTestSuite,
  topLevelResults,
} from './harness/go-test-suite.js';

/**
 * franz-go's own integration tests (`github.com/twmb/franz-go/pkg/kgo`, the version pinned in
 * go-modules/franz-go-suite/go.mod) against Gregor: the suite reaches any broker through
 * KGO_SEEDS and picks its group protocols from ApiVersions (JoinGroup v5+ → static members,
 * ConsumerGroupHeartbeat v1 → KIP-848). Every test it runs must pass; the ones it skips by itself
 * must be exactly the ones listed below with their reason.
 */

const franzGoVersion = pinnedModuleVersion('franz-go-suite', 'github.com/twmb/franz-go');

/**
 * Records per ETL chain (TestGroupETL, TestTxnEtl produce this many, then consume them through
 * groups); franz-go's default is 500,000, which takes far longer than this test's budget on a
 * 2-core machine.
 */
const recordsPerChain = 50_000;

/** Tests excluded with -skip because Gregor differs from Kafka on purpose: none. */
const excludedTests: Record<string, string> = {};

/** Tests the suite skips by itself against this broker, with the reason it prints. */
const expectedSelfSkips: Record<string, string> = {
  TestSCRAMAuth: 'KGO_TEST_SCRAM unset (Gregor serves PLAINTEXT only, no SASL)',
  TestSCRAMAuthBadCredentials: 'KGO_TEST_SCRAM unset (Gregor serves PLAINTEXT only, no SASL)',
  TestOAuthAuth: 'KGO_TEST_OAUTH_SEEDS unset (Gregor serves PLAINTEXT only, no SASL)',
  TestShareGroup: 'share groups (KIP-932): Gregor does not serve ShareFetch/ShareAcknowledge v2',
  TestShareGroupETL: 'share groups (KIP-932): Gregor does not serve ShareFetch/ShareAcknowledge v2',
  TestShareGroupAckOnClose:
    'share groups (KIP-932): Gregor does not serve ShareFetch/ShareAcknowledge v2',
  TestShareGroupOffsetsAdmin:
    'share groups (KIP-932): Gregor does not serve ShareFetch/ShareAcknowledge v2',
  TestConsumeRegexShareSkipsInternal:
    'share groups (KIP-932): Gregor does not serve ShareFetch/ShareAcknowledge v2',
};

/**
 * The tests that talk to the broker about each feature (the README's compatibility cells); each
 * must be among the passed ones, so a test that stopped running cannot hide.
 */
const featureTests: Record<string, readonly string[]> = {
  // franz-go produces snappy batches by default, so every produce here is snappy-compressed.
  produce: [
    'TestClient_Produce',
    'TestClient_ProduceLargeMessages',
    'TestIssue769',
    'TestIssue831',
  ],
  consume: [
    'TestConsumeTopicRetrieval',
    'TestConsumeRegex',
    'TestIssue325',
    'TestDirectPartitionPurge',
    'TestAddRemovePartitions',
    'TestPauseIssue489',
    'TestIssue865',
  ],
  'groups classic': [
    'TestGroupSimple/classic',
    'TestGroupETL/range',
    'TestGroupETL/cooperative-sticky',
    'TestGroupETL/cooperative-sticky/static',
    'TestIssue434',
    'TestIssue523',
  ],
  'groups KIP-848': [
    'TestGroupSimple/848',
    'TestGroupETL/range/848',
    'TestGroupETL/sticky/848',
    'TestGroupETL/sticky/848/static',
    'Test848RegexBrokerResolves',
  ],
  transactions: [
    'TestTxnEtl/range',
    'TestTxnEtl/cooperative-sticky',
    'TestTxnEtl/cooperative-sticky/static',
    'TestTxnEtl/range/848',
    'TestTxnEtl/sticky/848',
    'TestTxnEtl/sticky/848/static',
  ],
  // Every test creates and deletes its topics and groups (CreateTopics, DeleteTopics,
  // DeleteGroups); these add batched FindCoordinator and OffsetFetch of an unknown group.
  admin: ['TestIssue1034', 'TestUnknownGroupOffsetFetchPinned', 'TestPing'],
  // snappy (the default) in every ETL chain, gzip in TestConsumeMaxDecompressBatchBytes.
  compression: ['TestGroupETL', 'TestTxnEtl', 'TestConsumeMaxDecompressBatchBytes'],
};

const buildTimeoutMs = 180_000;
const runTimeoutMs = 360_000;

let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(franz-go)',
    // A new classic group rebalances at once, as in franz-go's CI brokers.
    extraArguments: ['--override', 'group.initial.rebalance.delay.ms=0'],
    environment: { GREGOR_LOG_LEVEL: 'warn' },
  });
});
after(async () => {
  await broker?.dispose();
});

function summary(result: GoTestResult): string {
  return `${result.name} (${result.elapsedS.toFixed(2)} s)`;
}

test(`franz-go ${franzGoVersion}: its own kgo integration tests pass against Gregor`, {
  timeout: buildTimeoutMs + runTimeoutMs + 30_000,
}, async (context) => {
  const excluded = Object.keys(excludedTests);
  const run = await runGoTestSuite({
    moduleFolder: 'franz-go-suite',
    packagePath: 'github.com/twmb/franz-go/pkg/kgo',
    environment: {
      KGO_SEEDS: broker.bootstrap,
      KGO_TEST_RF: '1',
      KGO_TEST_RECORDS: String(recordsPerChain),
      // TestTxnEtl also begins the next transaction before the previous EndTxn is answered
      // (EndBeginTxnUnsafe), which Kafka allows and Redpanda does not: Gregor must allow it too.
      KGO_TEST_UNSAFE: '1',
      // Client logs go to stderr, which is kept only as a tail; failures print through t.Error.
      KGO_LOG_LEVEL: 'info',
    },
    skip: excluded.length === 0 ? undefined : `^(${excluded.join('|')})$`,
    buildTimeoutMs,
    runTimeoutMs,
    label: `franz-go ${franzGoVersion} kgo tests`,
  });
  const topLevel = topLevelResults(run);
  const counts = outcomeCounts(topLevel);
  const subtestCounts = outcomeCounts(run.results.filter((result) => result.name.includes('/')));
  context.diagnostic(
    `franz-go ${franzGoVersion}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped (subtests: ${subtestCounts.pass} passed, ${subtestCounts.fail} failed, ${subtestCounts.skip} skipped); build ${(run.buildMs / 1000).toFixed(0)} s, run ${(run.runMs / 1000).toFixed(0)} s`,
  );
  const slowest = [...topLevel].sort((left, right) => right.elapsedS - left.elapsedS).slice(0, 5);
  context.diagnostic(`slowest: ${slowest.map(summary).join(', ')}`);
  for (const [name, reason] of Object.entries(excludedTests)) {
    context.diagnostic(`excluded ${name}: ${reason}`);
  }

  const failed = run.results.filter((result) => result.outcome === 'fail');
  assert.deepEqual(
    failed.map((result) => result.name),
    [],
    `failed tests:\n${failed.map((result) => `--- ${summary(result)}\n${result.output.slice(-40).join('\n')}`).join('\n')}\n--- unattributed output (tail) ---\n${run.packageOutput.slice(-40).join('\n')}`,
  );
  assert.equal(run.packageOutcome, 'pass', run.packageOutput.slice(-40).join('\n'));
  assert.equal(run.exitCode, 0);

  const skipped = topLevel.filter((result) => result.outcome === 'skip');
  assert.deepEqual(
    skipped.map((result) => result.name).sort(),
    Object.keys(expectedSelfSkips).sort(),
    `skips:\n${skipped.map((result) => `${result.name}: ${result.output.slice(-2).join(' ')}`).join('\n')}`,
  );
  for (const name of Object.keys(expectedSelfSkips)) {
    context.diagnostic(`skipped by the suite ${name}: ${expectedSelfSkips[name]}`);
  }

  const passed = new Set(
    run.results.filter((result) => result.outcome === 'pass').map((result) => result.name),
  );
  for (const [feature, names] of Object.entries(featureTests)) {
    for (const name of names) assert.ok(passed.has(name), `${feature}: ${name} did not pass`);
  }
  // Every test of the package ran: the counts are this version's (a different pin changes them).
  assert.ok(counts.pass >= 140, `only ${counts.pass} tests passed`);

  // A clean stop snapshots every partition's producer state: the broker, which logs at warn,
  // has nothing to report, not even about the hundreds of topics the suite created and deleted.
  assert.equal((await broker.kill('SIGTERM')).code, 0);
  const warnings = broker
    .output()
    .split('\n')
    .filter((line) => /"level":"(WARN|ERROR)"/.test(line));
  assert.deepEqual(warnings.slice(0, 5), []);
});
