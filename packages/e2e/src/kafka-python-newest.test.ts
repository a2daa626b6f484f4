import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runAdminTour } from './harness/admin-tour.js';
import { BrokerProcess } from './harness/broker-process.js';
import { runCodecScenario } from './harness/codec-scenario.js';
import { PythonClientAdapter } from './harness/python-client-adapter.js';
import {
  kafkaPython2Python,
  newestPython,
  newestVersions,
  type PythonRuntime,
} from './harness/python-runtimes.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';
import { runKilledProcessorScenario } from './harness/transaction-scenario.js';

/**
 * kafka-python from PyPI at its newest 3.x and newest 2.x (pure Python; 2.x from a PYTHONPATH
 * overlay on the same virtualenv), each with the same script: a classic group round trip, the
 * four codecs, its admin client, and transactional consume-transform-produce with the processor
 * SIGKILLed. kafka-python has no KIP-848 consumer.
 */

let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({
    label: 'broker(kafka-python-newest)',
    extraArguments: [
      '--override',
      'group.initial.rebalance.delay.ms=0',
      '--override',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms=250',
    ],
  });
});
after(async () => {
  await broker?.dispose();
});

const runtimes: { version: string; python: () => PythonRuntime }[] = [
  {
    version: newestVersions.kafkaPython,
    python: () => newestPython(`kafka-python ${newestVersions.kafkaPython}`),
  },
  { version: newestVersions.kafkaPython2, python: kafkaPython2Python },
];

for (const { version, python } of runtimes) {
  describe(`kafka-python ${version}`, () => {
    let client: PythonClientAdapter;
    before(() => {
      client = new PythonClientAdapter({
        script: 'kafka_python_client.py',
        python: python(),
        bootstrap: broker.bootstrap,
      });
    });
    after(async () => {
      await client?.killAll();
    });

    test(`kafka-python ${version}: produce, consume in a classic group, commit, resume from the commit`, {
      timeout: 180_000,
    }, async () => {
      const versions = await client.run('versions', {});
      assert.equal(versions.find((event) => event.event === 'versions')?.version, version);
      await runRoundTripScenario(client, {
        name: `kafka-python-${version}`,
        partitions: 3,
        firstCount: 150,
        secondCount: 60,
      });
    });

    test(`kafka-python ${version}: gzip, snappy, lz4 and zstd batches stored as sent and read back exactly`, {
      timeout: 180_000,
    }, async () => {
      await runCodecScenario(client, {
        name: `kafka-python-${version}`,
        dataDirectory: broker.dataDirectory,
        count: 200,
      });
    });

    test(`kafka-python ${version}: admin client (cluster, topics, partitions, configs, records, groups)`, {
      timeout: 120_000,
    }, async () => {
      const { events, topic, newTopic, group } = await runAdminTour(client, {
        name: `kafka-python-${version}`,
        broker: { host: broker.host, port: broker.port },
      });
      const of = (name: string) => events.filter((event) => event.event === name);
      assert.deepEqual(of('listed')[0]?.present, [topic, newTopic].sort());
      const groups = of('groups')[0]?.groups as { id: string }[];
      assert.deepEqual(
        groups.map((listed) => listed.id),
        [group],
      );
      assert.equal(of('group')[0]?.state, 'Empty');
      assert.equal(of('group-deleted')[0]?.listed, false);
    });

    test(`kafka-python ${version}: consume-transform-produce transactions, the processor SIGKILLed 4 times: output exactly once`, {
      timeout: 240_000,
    }, async () => {
      await runKilledProcessorScenario(client, {
        name: `kafka-python-${version}-ctp`,
        recordCount: 1500,
        kills: 4,
        seed: 20261208,
      });
    });
  });
}
