import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerProcess } from './harness/broker-process.js';
import {
  type KafkajsImplementation,
  kafkajsCommittedOffsets,
  kafkajsConsumeGroup,
  kafkajsCreateTopic,
  kafkajsProduce,
  newKafkajsOf,
} from './harness/kafkajs-client.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

const { ConfigResourceTypes } = kafkajs;

/**
 * kafkajs 2.2.4: produce with acks=all, consume in a group with manual commits, resume; and the
 * same scenarios with @gregor/client's kafkajs facade in its place (only the module differs).
 */

const implementations: [KafkajsImplementation, string][] = [
  ['kafkajs', 'kafkajs 2.2.4'],
  ['facade', '@gregor/client/kafkajs'],
];

let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(kafkajs)' });
});
after(async () => {
  await broker?.dispose();
});

for (const [implementation, label] of implementations) {
  test(`${label}: produce, consume in a group, commit, resume from the commit`, {
    timeout: 120_000,
  }, async () => {
    const kafka = await newKafkajsOf(implementation, {
      bootstrap: broker.bootstrap,
      clientId: 'gregor-e2e-kafkajs',
    });
    await runRoundTripScenario(
      {
        createTopic: (options) => kafkajsCreateTopic(kafka, options),
        produce: (options) => kafkajsProduce(kafka, options),
        consumeGroup: (options) => kafkajsConsumeGroup(kafka, { ...options, timeoutMs: 40_000 }),
        committedOffsets: (options) => kafkajsCommittedOffsets(kafka, options),
      },
      { name: `kafkajs-${implementation}`, partitions: 3, firstCount: 300, secondCount: 90 },
    );
  });

  test(`${label}: describes the broker loggers (BROKER_LOGGER) and their levels`, {
    timeout: 60_000,
  }, async () => {
    const kafka = await newKafkajsOf(implementation, {
      bootstrap: broker.bootstrap,
      clientId: 'gregor-e2e-loggers',
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.BROKER_LOGGER, name: '1' }],
        includeSynonyms: false,
      });
      const resource = described.resources[0]!;
      assert.equal(resource.errorCode, 0);
      const levels = new Map(
        resource.configEntries.map((entry) => [entry.configName, entry.configValue]),
      );
      assert.equal(levels.get('root'), 'INFO');
      assert.equal(levels.get('server'), 'INFO');
      // kafkajs alters through the legacy AlterConfigs, which Kafka (and Gregor) refuse for loggers.
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.BROKER_LOGGER,
              name: '1',
              configEntries: [{ name: 'server', value: 'DEBUG' }],
            },
          ],
        }),
        { type: 'INVALID_REQUEST' },
      );
    } finally {
      await admin.disconnect();
    }
  });
}
