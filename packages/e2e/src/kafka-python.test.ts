import { after, before, test } from 'node:test';
import { BrokerProcess } from './harness/broker-process.js';
import { runPythonClient } from './harness/json-lines-process.js';
import { placedRecordFromEvent } from './harness/records.js';
import { runRoundTripScenario } from './harness/roundtrip-scenario.js';

/** kafka-python 2.0.2 (Debian's python3-kafka): produce acks=all, consume in a group, commit. */

const script = 'kafka_python_client.py';
let broker: BrokerProcess;
before(async () => {
  broker = await BrokerProcess.start({ label: 'broker(kafka-python)' });
});
after(async () => {
  await broker?.dispose();
});

test('kafka-python 2.0.2: produce, consume in a group, commit, resume from the commit', {
  timeout: 180_000,
}, async () => {
  const bootstrap = broker.bootstrap;
  await runRoundTripScenario(
    {
      async createTopic(options) {
        await runPythonClient({
          script,
          command: 'create-topic',
          parameters: { bootstrap, ...options },
          timeoutMs: 30_000,
        });
      },
      async produce(options) {
        const events = await runPythonClient({
          script,
          command: 'produce',
          parameters: {
            bootstrap,
            topic: options.topic,
            count: options.count,
            prefix: options.prefix,
          },
          timeoutMs: 40_000,
        });
        return events.filter((event) => event.event === 'ack').map(placedRecordFromEvent);
      },
      async consumeGroup(options) {
        const events = await runPythonClient({
          script,
          command: 'consume-group',
          parameters: { bootstrap, ...options, timeoutS: 40 },
          timeoutMs: 60_000,
        });
        return events.filter((event) => event.event === 'record').map(placedRecordFromEvent);
      },
      async committedOffsets(options) {
        const events = await runPythonClient({
          script,
          command: 'committed',
          parameters: {
            bootstrap,
            topic: options.topic,
            group: options.group,
            partitions: Array.from({ length: options.partitions }, (_, partition) => partition),
          },
          timeoutMs: 40_000,
        });
        const offsets = (events.find((event) => event.event === 'committed-offsets')?.offsets ??
          []) as {
          partition: number;
          offset: number;
        }[];
        return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
      },
    },
    { name: 'kafka-python', partitions: 3, firstCount: 150, secondCount: 60 },
  );
});
