import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  kafkajsCommittedOffsets,
  kafkajsConsumeGroup,
  kafkajsCreateTopic,
  kafkajsProduce,
  newKafkajs,
} from './harness/kafkajs-client.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/** kafkajs 2.2.4: produce with acks=all, consume in a group with manual commits, resume. */

let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(kafkajs)' });
});
after(async () => {
  await broker?.dispose();
});

test('kafkajs 2.2.4: produce, consume in a group, commit, resume from the commit', {
  timeout: 120_000,
}, async () => {
  const kafka = newKafkajs({ bootstrap: broker.bootstrap, clientId: 'gregor-e2e-kafkajs' });
  await runRoundTripScenario(
    {
      createTopic: (options) => kafkajsCreateTopic(kafka, options),
      produce: (options) => kafkajsProduce(kafka, options),
      consumeGroup: (options) => kafkajsConsumeGroup(kafka, { ...options, timeoutMs: 40_000 }),
      committedOffsets: (options) => kafkajsCommittedOffsets(kafka, options),
    },
    { name: 'kafkajs', partitions: 3, firstCount: 300, secondCount: 90 },
  );
});
