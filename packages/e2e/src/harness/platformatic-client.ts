import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { numberedRecords, type PlacedRecord, placeFromBaseOffsets } from './records.js';
import { withDeadline } from './wait.js';

/** @platformatic/kafka 1.x driven in-process: create topic, acks=all produce, group consume, commit. */

interface Connection {
  bootstrap: string;
  clientId: string;
}

const baseOptions = (connection: Connection) => ({
  clientId: connection.clientId,
  bootstrapBrokers: [connection.bootstrap],
  timeout: 15_000,
  retries: 5,
  retryDelay: 200,
});

export async function platformaticCreateTopic(
  connection: Connection,
  options: { topic: string; partitions: number },
): Promise<void> {
  const admin = new Admin(baseOptions(connection));
  try {
    await admin.createTopics({
      topics: [options.topic],
      partitions: options.partitions,
      replicas: 1,
    });
  } finally {
    await admin.close();
  }
}

/** Produces `count` records (record i to partition i % partitions) with acks=all, one send. */
export async function platformaticProduce(
  connection: Connection,
  options: { topic: string; partitions: number; count: number; prefix: string },
): Promise<PlacedRecord[]> {
  const producer = new Producer({ ...baseOptions(connection), serializers: stringSerializers });
  try {
    const messages = numberedRecords(options);
    const result = await producer.send({
      messages: messages.map((message) => ({ ...message, topic: options.topic })),
      acks: ProduceAcks.ALL,
    });
    return placeFromBaseOffsets(
      messages,
      new Map((result.offsets ?? []).map((entry) => [entry.partition, Number(entry.offset)])),
    );
  } finally {
    await producer.close();
  }
}

/** Consumes in group `group` until `expected` records arrived, committing each record. */
export async function platformaticConsumeGroup(
  connection: Connection,
  options: { topic: string; group: string; expected: number; timeoutMs: number },
): Promise<PlacedRecord[]> {
  const consumer = new Consumer({
    ...baseOptions(connection),
    groupId: options.group,
    deserializers: stringDeserializers,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTime: 500,
  });
  const received: PlacedRecord[] = [];
  try {
    const stream = await consumer.consume({
      topics: [options.topic],
      autocommit: false,
      mode: 'committed',
      fallbackMode: 'earliest',
    });
    const done = (async () => {
      for await (const message of stream) {
        received.push({
          partition: message.partition,
          offset: Number(message.offset),
          key: message.key ?? null,
          value: message.value ?? null,
        });
        await message.commit();
        if (received.length >= options.expected) break;
      }
    })();
    await withDeadline(done, {
      timeoutMs: options.timeoutMs,
      what: `@platformatic/kafka group ${options.group} to receive ${options.expected} records (got ${received.length})`,
    });
    await stream.close();
    return received;
  } finally {
    await consumer.close(true);
  }
}

export async function platformaticCommittedOffsets(
  connection: Connection,
  options: { topic: string; group: string; partitions: number },
): Promise<Map<number, number>> {
  const consumer = new Consumer({ ...baseOptions(connection), groupId: options.group });
  try {
    const offsets = await consumer.listCommittedOffsets({
      topics: [
        {
          topic: options.topic,
          partitions: Array.from({ length: options.partitions }, (_, i) => i),
        },
      ],
    });
    const list = offsets.get(options.topic) ?? [];
    return new Map(list.map((offset, partition) => [partition, Number(offset)]));
  } finally {
    await consumer.close(true);
  }
}
