import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runAdminTour } from './harness/admin-tour.js';
import { BrokerProcess } from './harness/broker-process.js';
import { runCodecScenario } from './harness/codec-scenario.js';
import { PythonClientAdapter } from './harness/python-client-adapter.js';
import { newestPython, newestVersions } from './harness/python-runtimes.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';
import { runKilledProcessorScenario } from './harness/transaction-scenario.js';

/**
 * aiokafka (asyncio, with its Cython extensions and cramjam codecs) at its newest on PyPI: a
 * classic group round trip, the four codecs, its admin client, and its transactional producer in
 * consume-transform-produce with the processor SIGKILLed. aiokafka has no KIP-848 consumer.
 */

const version = newestVersions.aiokafka;
let broker: BrokerProcess;
let client: PythonClientAdapter;

before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(aiokafka)',
    extraArguments: [
      '--override',
      'group.initial.rebalance.delay.ms=0',
      '--override',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=250',
    ],
  });
  client = new PythonClientAdapter({
    script: 'aiokafka_client.py',
    python: newestPython(`aiokafka ${version}`),
    bootstrap: broker.bootstrap,
  });
});
after(async () => {
  await client?.killAll();
  await broker?.dispose();
});

test(`aiokafka ${version}: produce, consume in a classic group, commit, resume from the commit`, {
  timeout: 180_000,
}, async () => {
  const versions = await client.run('versions', {});
  assert.equal(versions.find((event) => event.event === 'versions')?.version, version);
  await runRoundTripScenario(client, {
    name: 'aiokafka',
    partitions: 3,
    firstCount: 150,
    secondCount: 60,
  });
});

test(`aiokafka ${version}: gzip, snappy, lz4 and zstd batches stored as sent and read back exactly`, {
  timeout: 180_000,
}, async () => {
  await runCodecScenario(client, {
    name: 'aiokafka',
    dataDirectory: broker.dataDirectory,
    count: 200,
  });
});

test(`aiokafka ${version}: admin client (cluster, topics, partitions, configs, records, groups)`, {
  timeout: 120_000,
}, async () => {
  const { events, topic, newTopic, group } = await runAdminTour(client, {
    name: 'aiokafka',
    broker: { host: broker.host, port: broker.port },
  });
  const of = (name: string) => events.filter((event) => event.event === name);
  assert.deepEqual(of('listed')[0]?.present, [topic, newTopic].sort());
  assert.deepEqual(of('groups')[0]?.groups, [{ id: group, protocolType: 'consumer' }]);
  assert.equal(of('group')[0]?.state, 'Empty');
});

test(`aiokafka ${version}: transactional producer in consume-transform-produce, the processor SIGKILLed 4 times: output exactly once`, {
  timeout: 240_000,
}, async () => {
  await runKilledProcessorScenario(client, {
    name: 'aiokafka-ctp',
    recordCount: 1500,
    kills: 4,
    seed: 20261209,
  });
});
