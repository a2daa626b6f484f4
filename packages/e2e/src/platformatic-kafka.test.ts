import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  platformaticCommittedOffsets,
  platformaticConsumeGroup,
  platformaticCreateTopic,
  platformaticProduce,
} from './harness/platformatic-client.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/** @platformatic/kafka 1.x: produce with acks=all, consume in a group with commits, resume. */

let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(platformatic)' });
});
after(async () => {
  await broker?.dispose();
});

test('@platformatic/kafka: produce, consume in a group, commit, resume from the commit', {
  timeout: 120_000,
}, async () => {
  const connection = { bootstrap: broker.bootstrap, clientId: 'gregor-e2e-platformatic' };
  await runRoundTripScenario(
    {
      createTopic: (options) => platformaticCreateTopic(connection, options),
      produce: (options) => platformaticProduce(connection, options),
      consumeGroup: (options) =>
        platformaticConsumeGroup(connection, { ...options, timeoutMs: 40_000 }),
      committedOffsets: (options) => platformaticCommittedOffsets(connection, options),
    },
    { name: 'platformatic', partitions: 3, firstCount: 300, secondCount: 90 },
  );
});
