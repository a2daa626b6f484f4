/**
 * Durable side of the transaction coordinator: `__transaction_state` (compacted, created on first
 * use with transaction.state.log.num.partitions partitions). A transactional id lives in partition
 * abs(javaHashCode(id)) % partitions, as in Kafka. Every state change is one record batch, fsynced
 * before the coordinator answers; on start the partitions are replayed (latest value per id wins,
 * a tombstone removes it). In cluster mode a coordinator replays one partition when it becomes its
 * leader (`loadPartition`) and every write names the leader epoch it was loaded at: a write after the
 * leadership moved on is refused before it reaches the log (no writes from a stale coordinator).
 */
import { decodeRecordBatch, ErrorCode, encodeRecordBatch } from '@gregor/protocol';
import type { Clock } from '../clock.js';
import { offsetsPartitionFor } from '../group/hash.js';
import { readLogBatches } from '../log-batches.js';
import type { Logger } from '../logging/logger.js';
import type { Partition } from '../replication/partition.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { SerialQueues } from '../serial-queues.js';
import type { TopicManager } from '../topics/types.js';
import {
  decodeTransactionKey,
  decodeTransactionValue,
  encodeTransactionKey,
  encodeTransactionValue,
} from './transaction-log-records.js';
import type { TransactionMetadata } from './transaction-metadata.js';

export const transactionStateTopicName = '__transaction_state';
const loadReadBytesMax = 1024 * 1024;

export interface TransactionStateStorage {
  /** Partition count of the existing topic, or null when it does not exist yet. */
  existingPartitionCount(): number | null;
  /** The partition, creating the topic first when needed. */
  partitionLog(partition: number): Promise<Partition>;
}

/** A write refused because this broker no longer coordinates the partition at that epoch. */
export class CoordinatorMovedError extends Error {
  readonly errorCode = ErrorCode.NOT_COORDINATOR;
}

/** `__transaction_state` on the broker's topics and partitions. */
export function transactionStateStorage(options: {
  replicas: ReplicaManager;
  topics: Pick<TopicManager, 'get' | 'getOrCreate'>;
}): TransactionStateStorage {
  const { replicas, topics } = options;
  return {
    existingPartitionCount() {
      return topics.get(transactionStateTopicName)?.partitionCount ?? null;
    },
    async partitionLog(partition) {
      await topics.getOrCreate(transactionStateTopicName, { autoCreate: false });
      const found = replicas.get(transactionStateTopicName, partition);
      if (found === undefined)
        throw new Error(`${transactionStateTopicName}-${partition} has no log`);
      return found;
    },
  };
}

export class TransactionStateLog {
  readonly partitionCount: number;
  private readonly appends = new SerialQueues<number>();

  constructor(
    private readonly options: {
      storage: TransactionStateStorage;
      clock: Clock;
      logger: Logger;
      defaultPartitionCount: number;
    },
  ) {
    this.partitionCount = options.storage.existingPartitionCount() ?? options.defaultPartitionCount;
  }

  partitionFor(transactionalId: string): number {
    return offsetsPartitionFor(transactionalId, this.partitionCount);
  }

  /**
   * Writes the metadata (null: tombstone) and resolves once it is durable (acks=all). With
   * `coordinatorEpoch` (cluster mode), the partition must still be led here at that leader epoch
   * when the write reaches it, else CoordinatorMovedError.
   */
  write(
    transactionalId: string,
    metadata: TransactionMetadata | null,
    coordinatorEpoch?: number,
  ): Promise<void> {
    const partition = this.partitionFor(transactionalId);
    const timestamp = BigInt(Math.floor(this.options.clock.wallMs()));
    const batch = encodeRecordBatch({
      records: [
        {
          key: encodeTransactionKey(transactionalId),
          value: metadata === null ? null : encodeTransactionValue(metadata),
          timestamp,
        },
      ],
      baseTimestamp: timestamp,
    });
    // One write at a time per partition, in issue order; a failed write (e.g. ENOSPC) fails only
    // its caller and never becomes an unhandled rejection.
    return this.appends.run(partition, async () => {
      const target = await this.options.storage.partitionLog(partition);
      if (
        coordinatorEpoch !== undefined &&
        (!target.isLeader || target.leaderEpoch !== coordinatorEpoch)
      ) {
        throw new CoordinatorMovedError(
          `${transactionStateTopicName}-${partition} is no longer led here at epoch ${coordinatorEpoch}`,
        );
      }
      await target.appendAsLeader(batch, { requiredAcks: -1 });
    });
  }

  async flush(): Promise<void> {
    await this.appends.settled();
  }

  /** Replays every partition of an existing topic. */
  async load(): Promise<Map<string, TransactionMetadata>> {
    const result = new Map<string, TransactionMetadata>();
    if (this.options.storage.existingPartitionCount() === null) return result;
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const found = await this.options.storage.partitionLog(partition);
      await this.replay(found, result);
    }
    return result;
  }

  /**
   * Replays one partition this broker now leads, to its log end: a leader never truncates, so
   * every record in its log is (or will be, once the followers fetch it) committed.
   */
  async loadPartition(partition: number): Promise<Map<string, TransactionMetadata>> {
    const result = new Map<string, TransactionMetadata>();
    await this.replay(await this.options.storage.partitionLog(partition), result);
    return result;
  }

  private async replay(
    partition: Partition,
    result: Map<string, TransactionMetadata>,
  ): Promise<void> {
    const log = partition.log;
    const batches = readLogBatches(log, {
      from: log.logStartOffset,
      to: log.logEndOffset,
      readBytesMax: loadReadBytesMax,
    });
    for await (const { batch, header } of batches) {
      try {
        for (const record of decodeRecordBatch(batch).records) {
          if (record.key === null) continue;
          const transactionalId = decodeTransactionKey(record.key);
          if (transactionalId === null) continue;
          if (record.value === null) {
            result.delete(transactionalId);
            continue;
          }
          const metadata = decodeTransactionValue(transactionalId, record.value);
          if (metadata !== null) result.set(transactionalId, metadata);
        }
      } catch (error) {
        this.options.logger.warn('skipping unreadable __transaction_state batch', {
          partition: log.partition,
          offset: String(header.baseOffset),
          error: String(error),
        });
      }
    }
  }
}
