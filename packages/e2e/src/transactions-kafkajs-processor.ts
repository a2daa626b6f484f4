/**
 * A kafkajs 2.2.4 (or @gregor/client/kafkajs) consume-transform-produce processor run as its own process (so a test can
 * SIGKILL it): a group consumer (read_committed) and a transactional producer; each fetched batch
 * becomes one transaction holding the transformed records and the consumed offsets
 * (sendOffsets = AddOffsetsToTxn + TxnOffsetCommit). Prints JSON lines like the python clients.
 *
 *   node transactions-kafkajs-processor.js '{"bootstrap":..,"input":..,"output":..,"group":..,"transactionalId":..}'
 */
import { type KafkajsImplementation, kafkajsModule } from './harness/kafkajs-client.js';

interface Parameters {
  bootstrap: string;
  input: string;
  output: string;
  group: string;
  transactionalId: string;
  transactionTimeoutMs?: number;
  /** kafkajs itself (default) or @gregor/client's kafkajs facade. */
  implementation?: KafkajsImplementation;
}

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ...fields, event })}\n`);
}

async function main(): Promise<void> {
  const parameters = JSON.parse(process.argv[2] ?? '{}') as Parameters;
  const { Kafka, logLevel } = await kafkajsModule(parameters.implementation ?? 'kafkajs');
  const kafka = new Kafka({
    clientId: 'gregor-e2e-kafkajs-processor',
    brokers: [parameters.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  const producer = kafka.producer({
    transactionalId: parameters.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: parameters.transactionTimeoutMs ?? 10_000,
  });
  await producer.connect();
  emit('initialised');
  const consumer = kafka.consumer({
    groupId: parameters.group,
    readUncommitted: false,
    sessionTimeout: 6_000,
    rebalanceTimeout: 6_000,
    heartbeatInterval: 500,
    // Small fetches: many small transactions, so a kill lands in the middle of the stream.
    maxBytesPerPartition: 4096,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: parameters.input, fromBeginning: true });
  let total = 0;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return;
      const transaction = await producer.transaction();
      try {
        await transaction.send({
          topic: parameters.output,
          messages: batch.messages.map((message) => ({
            key: message.key,
            value: (message.value?.toString() ?? '').replace('in-', 'out-'),
          })),
        });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await transaction.sendOffsets({
          consumerGroupId: parameters.group,
          topics: [
            { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
          ],
        });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      for (const message of batch.messages) resolveOffset(message.offset);
      total += batch.messages.length;
      emit('committed', { count: batch.messages.length, total });
      await heartbeat();
    },
  });
  process.stdin.on('data', (data) => {
    if (data.toString().includes('stop')) {
      void consumer
        .disconnect()
        .then(() => producer.disconnect())
        .then(() => process.exit(0));
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

main().catch((error: unknown) => {
  emit('fatal', { message: String(error) });
  process.exit(1);
});
