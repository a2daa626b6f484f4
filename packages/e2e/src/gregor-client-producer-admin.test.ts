import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { adminScenarios } from './harness/gregor-client-admin-scenarios.js';
import { transactionScenarios } from './harness/gregor-client-transaction-scenarios.js';
import { typedScenarios } from './harness/gregor-client-typed-scenarios.js';
import { ReferenceKafka } from './harness/reference-kafka.js';

/**
 * @gregor/client transactions (KIP-98, KIP-447, KIP-360, KIP-890), typed API and admin calls: the
 * same scenarios against Gregor and against Apache Kafka 4.4 (one broker of each for the file).
 */

const scenarios = { ...transactionScenarios, ...typedScenarios, ...adminScenarios };

describe('@gregor/client producer and admin against Gregor', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await BrokerProcess.start({
      label: 'broker(gregor-client-txn)',
      extraArguments: [
        '--override',
        'transaction.state.log.num.partitions=4',
        '--override',
        'offsets.topic.num.partitions=4',
      ],
    });
  });
  after(async () => {
    await broker?.dispose();
  });
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(`gregor: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: broker.bootstrap, label: 'gregor' }),
    );
  }
});

describe('@gregor/client producer and admin against Apache Kafka 4.4', () => {
  let kafka: ReferenceKafka;
  before(async () => {
    kafka = await ReferenceKafka.start({
      heapMb: 512,
      settings: {
        'transaction.state.log.num.partitions': '4',
        'offsets.topic.num.partitions': '4',
        // ACLs need an authorizer (SECURITY_DISABLED otherwise); the anonymous user may do all.
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:ANONYMOUS',
      },
    });
  });
  after(async () => {
    await kafka?.stop();
  });
  for (const [name, scenario] of Object.entries(scenarios)) {
    test(`kafka: ${name}`, { timeout: 60_000 }, () =>
      scenario({ bootstrap: kafka.bootstrap, label: 'kafka' }),
    );
  }
});
