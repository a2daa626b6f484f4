import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { numberedRecords, type PlacedRecord, placeFromBaseOffsets } from './records.js';
import { withDeadline } from './wait.js';

/** kafkajs 2.2.4 driven in-process: topic creation, acks=all produce, group consume with commits. */

/** kafkajs itself, or @gregor/client's kafkajs facade in its place. */
export type KafkajsImplementation = 'kafkajs' | 'facade';

/**
 * The kafkajs module of an implementation, typed as kafkajs: the same scenario code drives both,
 * as an application does when it changes only its import.
 */
export async function kafkajsModule(
  implementation: KafkajsImplementation,
): Promise<typeof import('kafkajs')> {
  const specifier = implementation === 'facade' ? '@gregor/client/kafkajs' : 'kafkajs';
  const loaded = await import(specifier);
  return loaded.default;
}

export async function newKafkajsOf(
  implementation: KafkajsImplementation,
  options: { bootstrap: string; clientId: string },
): Promise<Kafka> {
  const module = await kafkajsModule(implementation);
  return new module.Kafka({
    clientId: options.clientId,
    brokers: [options.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

export function newKafkajs(options: { bootstrap: string; clientId: string }): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [options.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

export async function kafkajsCreateTopic(
  kafka: Kafka,
  options: { topic: string; partitions: number },
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic: options.topic, numPartitions: options.partitions, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 15_000,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces `count` records with acks=all in one send, record i to partition i % partitions, and
 * returns each with its acknowledged offset (base offset of its partition + its place there).
 */
export async function kafkajsProduce(
  kafka: Kafka,
  options: { topic: string; partitions: number; count: number; prefix: string },
): Promise<PlacedRecord[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = numberedRecords(options);
    const metadata = await producer.send({ topic: options.topic, acks: -1, messages });
    return placeFromBaseOffsets(
      messages,
      new Map(metadata.map((entry) => [entry.partition, Number(entry.baseOffset)])),
    );
  } finally {
    await producer.disconnect();
  }
}

/** Consumes in group `group` until `expected` records arrived, committing each batch by hand. */
export async function kafkajsConsumeGroup(
  kafka: Kafka,
  options: { topic: string; group: string; expected: number; timeoutMs: number },
): Promise<PlacedRecord[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 500,
  });
  const received: PlacedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              received.push({
                partition: batch.partition,
                offset: Number(message.offset),
                key: message.key?.toString('utf8') ?? null,
                value: message.value?.toString('utf8') ?? null,
              });
            }
            const last = batch.messages.at(-1);
            if (last) {
              await consumer.commitOffsets([
                {
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: String(Number(last.offset) + 1),
                },
              ]);
            }
            if (received.length >= options.expected) resolve();
          },
        })
        .catch(reject);
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
    });
    await withDeadline(done, {
      timeoutMs: options.timeoutMs,
      what: `kafkajs group ${options.group} to receive ${options.expected} records (got ${received.length})`,
    });
    return received;
  } finally {
    await consumer.disconnect();
  }
}

/** Committed offsets of `group` on `topic`, by partition. */
export async function kafkajsCommittedOffsets(
  kafka: Kafka,
  options: { topic: string; group: string },
): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [topicOffsets] = await admin.fetchOffsets({
      groupId: options.group,
      topics: [options.topic],
    });
    return new Map(topicOffsets.partitions.map((entry) => [entry.partition, Number(entry.offset)]));
  } finally {
    await admin.disconnect();
  }
}
