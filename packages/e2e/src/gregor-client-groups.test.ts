import { after, before, describe, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import {
  groupScenarios,
  groupsThroughBrokerRestart,
} from './harness/gregor-client-group-scenarios.js';
import { JavaClients } from './harness/java-clients.js';
import { ReferenceKafka } from './harness/reference-kafka.js';

/**
 * @gregor/client's consumer groups (classic with cooperative-sticky, KIP-848, static membership,
 * max.poll.interval.ms, a group shared with Java's consumer), the same scenarios against Gregor
 * and Apache Kafka 4.4. Both brokers run with short group timers so rebalances take a second.
 */

const heartbeatIntervalMs = 500;
const groupSettings: Record<string, string> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.consumer.heartbeat.interval.ms': String(heartbeatIntervalMs),
  'group.consumer.min.heartbeat.interval.ms': String(heartbeatIntervalMs),
  'group.consumer.session.timeout.ms': '10000',
  'group.consumer.min.session.timeout.ms': '6000',
  'group.min.session.timeout.ms': '6000',
};

function javaStarter(bootstrap: () => string): {
  java: () => Promise<JavaClients>;
  stop: () => Promise<void>;
} {
  let started: Promise<JavaClients> | undefined;
  return {
    java: () => {
      started ??= JavaClients.start({ bootstrap: bootstrap(), heapMb: 192 });
      return started;
    },
    stop: async () => {
      const java = await started?.catch(() => undefined);
      await java?.stop();
    },
  };
}

describe('@gregor/client groups against Gregor', () => {
  let broker: BrokerProcess;
  const java = javaStarter(() => broker.bootstrap);
  before(async () => {
    broker = await BrokerProcess.start({
      label: 'broker(gregor-client-groups)',
      extraArguments: Object.entries(groupSettings).flatMap(([name, value]) => [
        '--override',
        `${name}=${value}`,
      ]),
    });
  });
  after(async () => {
    await java.stop();
    await broker?.dispose();
  });
  for (const [name, scenario] of Object.entries(groupScenarios)) {
    test(`gregor: ${name}`, { timeout: 90_000 }, () =>
      scenario({ bootstrap: broker.bootstrap, label: 'gregor' }, java.java),
    );
  }
});

describe('@gregor/client groups against Apache Kafka 4.4', () => {
  let kafka: ReferenceKafka;
  const java = javaStarter(() => kafka.bootstrap);
  before(async () => {
    kafka = await ReferenceKafka.start({
      heapMb: 512,
      // Kafka re-resolves KIP-848 regex subscriptions at most this often (its minimum).
      settings: { ...groupSettings, 'group.consumer.regex.refresh.interval.ms': '10000' },
    });
  });
  after(async () => {
    await java.stop();
    await kafka?.stop();
  });
  for (const [name, scenario] of Object.entries(groupScenarios)) {
    test(`kafka: ${name}`, { timeout: 90_000 }, () =>
      scenario({ bootstrap: kafka.bootstrap, label: 'kafka' }, java.java),
    );
  }
});

test('gregor: classic and KIP-848 groups ride out a broker SIGKILL and restart: every record consumed and committed', {
  timeout: 120_000,
}, async () => {
  const broker = await BrokerProcess.start({
    label: 'broker(gregor-client-groups-restart)',
    extraArguments: Object.entries(groupSettings).flatMap(([name, value]) => [
      '--override',
      `${name}=${value}`,
    ]),
  });
  try {
    await groupsThroughBrokerRestart({ bootstrap: broker.bootstrap, label: 'gregor' }, async () => {
      await broker.kill('SIGKILL');
      await broker.restart();
    });
  } finally {
    await broker.dispose();
  }
});
