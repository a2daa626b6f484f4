/**
 * What the transaction coordinator knows about one transactional id (KIP-98), as it is stored in
 * `__transaction_state` and held in memory.
 */
import type { ProducerEpoch, ProducerId } from '../producer/producer-state.js';

/** Kafka's TransactionState ids, as written in the TransactionLogValue status byte. */
export const transactionStatus = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;

export type TransactionStatus = keyof typeof transactionStatus;

export const transactionStatusNames = Object.keys(transactionStatus) as TransactionStatus[];

export function statusFromId(id: number): TransactionStatus | undefined {
  return transactionStatusNames.find((name) => transactionStatus[name] === id);
}

/** `topic\0partition`, the member key of a transaction's partition set. */
export type TransactionPartitionKey = string;

export function partitionKey(topic: string, partition: number): TransactionPartitionKey {
  return `${topic}\u0000${partition}`;
}

export function splitPartitionKey(key: TransactionPartitionKey): {
  topic: string;
  partition: number;
} {
  const separator = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)) };
}

export interface TransactionMetadata {
  transactionalId: string;
  producerId: ProducerId;
  /** The producer id before the last one (KIP-360: epoch exhaustion starts a new id). */
  previousProducerId: ProducerId;
  producerEpoch: ProducerEpoch;
  /** Epoch the client held before the last bump (KIP-890 part 2 retries), -1 unknown. */
  lastProducerEpoch: ProducerEpoch;
  timeoutMs: number;
  status: TransactionStatus;
  partitions: Set<TransactionPartitionKey>;
  startTimestampMs: number;
  lastUpdateTimestampMs: number;
  /** KIP-890 part 2: the client bumps the epoch at every transaction end (EndTxn v5+). */
  bumpsEpochPerTransaction: boolean;
  /** A state change is being written; requests meanwhile get CONCURRENT_TRANSACTIONS. */
  pendingTransition: boolean;
}

export function copyMetadata(metadata: TransactionMetadata): TransactionMetadata {
  return { ...metadata, partitions: new Set(metadata.partitions) };
}
