/**
 * Records of `__transaction_state` (a compacted internal topic, KIP-98): key = transactional id,
 * value = the latest TransactionMetadata, null value = the id expired (tombstone).
 *
 *   key   v0: version int16 (0) | transactionalId string (int16 length)            — Kafka's layout
 *   value v1 (flexible, modelled on Kafka's TransactionLogValue v1):
 *         version int16 (1) | producerId int64 | producerEpoch int16 | timeoutMs int32 |
 *         status int8 | partitions compact nullable array of { topic compact string,
 *         partitionIds compact array of int32, tagged fields } | lastUpdateTimestampMs int64 |
 *         startTimestampMs int64 | tagged fields: 0 previousProducerId int64,
 *         1 lastProducerEpoch int16, 2 clientTransactionVersion int16 (2 = KIP-890 part 2)
 *   Groups of AddOffsetsToTxn are kept as their `__consumer_offsets` partitions (as Kafka does).
 */
import { Reader, Writer } from '@gregor/protocol';
import {
  partitionKey,
  splitPartitionKey,
  statusFromId,
  type TransactionMetadata,
  transactionStatus,
} from './transaction-metadata.js';

const keyVersion = 0;
const valueVersion = 1;
const tagPreviousProducerId = 0;
const tagLastProducerEpoch = 1;
const tagClientTransactionVersion = 2;

export function encodeTransactionKey(transactionalId: string): Buffer {
  const writer = new Writer();
  writer.writeInt16(keyVersion);
  writer.writeString(transactionalId);
  return writer.toBuffer();
}

export function decodeTransactionKey(data: Buffer): string | null {
  const reader = new Reader(data);
  const version = reader.readInt16();
  if (version !== keyVersion) return null;
  return reader.readString();
}

export function encodeTransactionValue(metadata: TransactionMetadata): Buffer {
  const writer = new Writer();
  writer.writeInt16(valueVersion);
  writer.writeInt64(metadata.producerId);
  writer.writeInt16(metadata.producerEpoch);
  writer.writeInt32(metadata.timeoutMs);
  writer.writeInt8(transactionStatus[metadata.status]);
  const byTopic = new Map<string, number[]>();
  for (const key of metadata.partitions) {
    const { topic, partition } = splitPartitionKey(key);
    const partitions = byTopic.get(topic) ?? [];
    partitions.push(partition);
    byTopic.set(topic, partitions);
  }
  writer.writeUnsignedVarint(byTopic.size + 1);
  for (const [topic, partitions] of byTopic) {
    writer.writeCompactString(topic);
    writer.writeUnsignedVarint(partitions.length + 1);
    for (const partition of partitions) writer.writeInt32(partition);
    writer.writeUnsignedVarint(0);
  }
  writer.writeInt64(BigInt(Math.floor(metadata.lastUpdateTimestampMs)));
  writer.writeInt64(BigInt(Math.floor(metadata.startTimestampMs)));
  writer.writeTaggedFields(
    [
      {
        tag: tagPreviousProducerId,
        data: Writer.encodeToBuffer((field) => field.writeInt64(metadata.previousProducerId)),
      },
      {
        tag: tagLastProducerEpoch,
        data: Writer.encodeToBuffer((field) => field.writeInt16(metadata.lastProducerEpoch)),
      },
      {
        tag: tagClientTransactionVersion,
        data: Writer.encodeToBuffer((field) =>
          field.writeInt16(metadata.bumpsEpochPerTransaction ? 2 : 1),
        ),
      },
    ],
    undefined,
  );
  return writer.toBuffer();
}

/** Throws ProtocolDecodeError on malformed input; null for a version we do not read. */
export function decodeTransactionValue(
  transactionalId: string,
  data: Buffer,
): TransactionMetadata | null {
  const reader = new Reader(data);
  const version = reader.readInt16();
  if (version !== valueVersion) return null;
  const producerId = reader.readInt64();
  const producerEpoch = reader.readInt16();
  const timeoutMs = reader.readInt32();
  const status = statusFromId(reader.readInt8()) ?? reader.fail('invalid-value', 'unknown status');
  const partitions = new Set<string>();
  const topicCount = reader.readUnsignedVarint() - 1;
  for (let topicIndex = 0; topicIndex < topicCount; topicIndex++) {
    const topic = reader.readCompactString();
    const partitionCount = reader.readUnsignedVarint() - 1;
    if (partitionCount < 0 || partitionCount * 4 > reader.remaining) {
      reader.fail('invalid-value', 'bad partition count');
    }
    for (let index = 0; index < partitionCount; index++) {
      partitions.add(partitionKey(topic, reader.readInt32()));
    }
    reader.readTaggedFields({}, () => false);
  }
  const lastUpdateTimestampMs = Number(reader.readInt64());
  const startTimestampMs = Number(reader.readInt64());
  let previousProducerId = -1n;
  let lastProducerEpoch = -1;
  let clientTransactionVersion = 1;
  reader.readTaggedFields({}, (tag, field) => {
    if (tag === tagPreviousProducerId) previousProducerId = field.readInt64();
    else if (tag === tagLastProducerEpoch) lastProducerEpoch = field.readInt16();
    else if (tag === tagClientTransactionVersion) clientTransactionVersion = field.readInt16();
    else return false;
    return true;
  });
  reader.expectEnd();
  return {
    transactionalId,
    producerId,
    previousProducerId,
    producerEpoch,
    lastProducerEpoch,
    timeoutMs,
    status,
    partitions,
    startTimestampMs,
    lastUpdateTimestampMs,
    bumpsEpochPerTransaction: clientTransactionVersion >= 2,
    pendingTransition: false,
  };
}
