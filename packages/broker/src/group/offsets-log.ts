/**
 * Durable side of the coordinator: appends group and offset records to `__consumer_offsets`
 * (one record batch per write, fsync before the caller acknowledges) and replays the partitions
 * on start. Appends to one partition are chained so records land in the order they were issued
 * (a commit and a later tombstone of the same key must not swap).
 */
import {
  batchAttributes,
  type DecodedRecordBatch,
  decodeControlRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
} from '@gregor/protocol';
import type { Clock } from '../clock.js';
import { readLogBatches } from '../log-batches.js';
import type { Logger } from '../logging/logger.js';
import { SerialQueues } from '../serial-queues.js';
import { offsetsPartitionFor } from './hash.js';
import {
  type ConsumerGroupKey,
  type ConsumerMemberKey,
  decodeConsumerGroupMetadataValue,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from './records.js';
import type {
  GroupId,
  OffsetsPartitionLog,
  OffsetsTopicStorage,
  PartitionIndex,
  TopicName,
} from './types.js';

export interface OffsetsRecord {
  key: Buffer;
  /** null: tombstone. */
  value: Buffer | null;
}

/** The producer of a transactional offsets batch (TxnOffsetCommit; transactional-offsets.ts). */
export interface TransactionalAppend {
  producerId: bigint;
  producerEpoch: number;
  /** Asked just before the batch is appended; false fails the append. */
  stillOpen?: () => boolean;
}

/** Offsets of a transaction still open at the end of the log (transactional-offsets.ts). */
export interface LoadedTransactionalOffset {
  producerId: bigint;
  groupId: GroupId;
  topic: TopicName;
  partition: PartitionIndex;
  value: OffsetCommitValue;
}

/** What replaying `__consumer_offsets` found: the latest value per key, tombstones applied. */
export interface LoadedGroupState {
  groupId: GroupId;
  metadata: GroupMetadataValue | null;
  /** Epoch of a KIP-848 consumer group, or null. */
  consumerGroupEpoch: number | null;
  /** The other KIP-848 records (members, assignments) by key bytes (hex), latest value each. */
  consumerRecords: Map<string, { key: ConsumerGroupKey | ConsumerMemberKey; value: Buffer }>;
  offsets: Map<TopicName, Map<PartitionIndex, OffsetCommitValue>>;
}

export class OffsetsLog {
  private readonly storage: OffsetsTopicStorage;
  private readonly clock: Clock;
  private readonly logger: Logger;
  readonly partitionCount: number;
  /** Issues the appends of each partition in call order (each task ends once its append started). */
  private readonly appends = new SerialQueues<PartitionIndex>();
  /** Appends issued and not yet durable (flush waits for them). */
  private readonly unsynced = new Set<Promise<unknown>>();
  /** Filled by `load`: transactional offset commits whose transaction has no marker yet. */
  readonly openTransactionalOffsets: LoadedTransactionalOffset[] = [];

  constructor(options: {
    storage: OffsetsTopicStorage;
    clock: Clock;
    logger: Logger;
    defaultPartitionCount: number;
  }) {
    this.storage = options.storage;
    this.clock = options.clock;
    this.logger = options.logger;
    this.partitionCount = options.storage.existingPartitionCount() ?? options.defaultPartitionCount;
  }

  partitionFor(groupId: GroupId): PartitionIndex {
    return offsetsPartitionFor(groupId, this.partitionCount);
  }

  /**
   * Appends the records as one batch to the group's partition; resolves once fsynced. With
   * `transaction` the batch is transactional (TxnOffsetCommit, KIP-98): its records count only
   * once a commit marker of that producer follows.
   */
  append(
    groupId: GroupId,
    records: readonly OffsetsRecord[],
    transaction?: TransactionalAppend,
  ): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const partition = this.partitionFor(groupId);
    const timestamp = BigInt(Math.floor(this.clock.wallMs()));
    const inputs: RecordInput[] = records.map((record) => ({
      key: record.key,
      value: record.value,
      timestamp,
    }));
    const batch = encodeRecordBatch({
      records: inputs,
      baseTimestamp: timestamp,
      ...(transaction && {
        producerId: transaction.producerId,
        producerEpoch: transaction.producerEpoch,
        baseSequence: -1,
        transactional: true,
      }),
    });
    // The queue holds the next append only until this one has started (the log keeps the order
    // of started appends), not until it is durable: commits to one partition then share an
    // fsync instead of paying one each in turn (10,000 groups over 50 partitions committed at
    // ~500/s when every commit waited for the previous one's fsync).
    let durable: Promise<unknown> = Promise.resolve();
    const started = this.appends.run(partition, async () => {
      const log = await this.storage.partitionLog(partition, this.partitionCount);
      // Checked right before the append: a transaction ended meanwhile must not get offsets
      // written after its marker (they would look open forever on replay).
      if (transaction?.stillOpen?.() === false) {
        throw new Error('the transaction ended before its offsets were written');
      }
      durable = log.appendAsLeader(batch, { requiredAcks: -1 });
      const tracked: Promise<void> = durable.then(
        () => {
          this.unsynced.delete(tracked);
        },
        () => {
          this.unsynced.delete(tracked);
        },
      );
      this.unsynced.add(tracked);
    });
    return started.then(() => durable).then(() => undefined);
  }

  /** Waits for every append issued so far to be durable (or failed). */
  async flush(): Promise<void> {
    await this.appends.settled();
    await Promise.allSettled([...this.unsynced]);
  }

  /**
   * Replays one partition (cluster mode: this broker became its leader). Open transactional
   * offsets of the partition replace the ones an earlier load of it found.
   */
  async loadPartition(
    partition: PartitionIndex,
    options: { readBytesMax: number },
  ): Promise<Map<GroupId, LoadedGroupState>> {
    const groups = new Map<GroupId, LoadedGroupState>();
    const log = await this.storage.partitionLog(partition, this.partitionCount);
    const others = this.openTransactionalOffsets.filter(
      (open) => this.partitionFor(open.groupId) !== partition,
    );
    this.openTransactionalOffsets.splice(0, this.openTransactionalOffsets.length, ...others);
    await this.replayPartition(log, partition, groups, options.readBytesMax);
    return groups;
  }

  /** Replays every partition of an existing topic; an absent topic loads nothing. */
  async load(options: { readBytesMax: number }): Promise<Map<GroupId, LoadedGroupState>> {
    const groups = new Map<GroupId, LoadedGroupState>();
    if (this.storage.existingPartitionCount() === null) return groups;
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const log = await this.storage.partitionLog(partition, this.partitionCount);
      await this.replayPartition(log, partition, groups, options.readBytesMax);
    }
    return groups;
  }

  private async replayPartition(
    log: OffsetsPartitionLog,
    partition: PartitionIndex,
    groups: Map<GroupId, LoadedGroupState>,
    readBytesMax: number,
  ): Promise<void> {
    let records = 0;
    // Transactional offset commits by producer id, applied on a commit marker (helper G).
    const openTransactions = new Map<bigint, { key: Buffer; value: Buffer | null }[]>();
    const batches = readLogBatches(log.log, {
      from: log.logStartOffset,
      to: log.logEndOffset,
      readBytesMax,
    });
    for await (const slice of batches) {
      const batch = this.decodeBatch(slice.batch, partition);
      if (batch === null) continue;
      const producerId = batch.header.producerId;
      if ((batch.header.attributes & batchAttributes.control) !== 0) {
        const pending = openTransactions.get(producerId);
        openTransactions.delete(producerId);
        const marker = batch.records[0];
        if (pending === undefined || marker?.key == null) continue;
        if (decodeControlRecord(marker.key, marker.value).type !== 'commit') continue;
        for (const record of pending) this.applyRecord(groups, record.key, record.value, partition);
        records += pending.length;
        continue;
      }
      if ((batch.header.attributes & batchAttributes.transactional) !== 0) {
        const pending = openTransactions.get(producerId) ?? [];
        for (const record of batch.records) {
          if (record.key !== null) pending.push({ key: record.key, value: record.value });
        }
        openTransactions.set(producerId, pending);
        continue;
      }
      for (const record of batch.records) {
        if (record.key === null) continue;
        this.applyRecord(groups, record.key, record.value, partition);
        records++;
      }
    }
    this.keepOpenTransactionalOffsets(openTransactions, partition);
    if (records > 0) {
      this.logger.info('loaded __consumer_offsets partition', { partition, records });
    }
  }

  private keepOpenTransactionalOffsets(
    openTransactions: Map<bigint, { key: Buffer; value: Buffer | null }[]>,
    partition: PartitionIndex,
  ): void {
    for (const [producerId, pending] of openTransactions) {
      for (const record of pending) {
        try {
          const key = decodeOffsetsTopicKey(record.key);
          if (key.type !== 'offset' || record.value === null) continue;
          this.openTransactionalOffsets.push({
            producerId,
            groupId: key.group,
            topic: key.topic,
            partition: key.partition,
            value: decodeOffsetCommitValue(record.value),
          });
        } catch (error) {
          this.logger.warn('skipping malformed transactional offset record', {
            partition,
            error: String(error),
          });
        }
      }
    }
  }

  private decodeBatch(bytes: Buffer, partition: PartitionIndex): DecodedRecordBatch | null {
    try {
      return decodeRecordBatch(bytes);
    } catch (error) {
      this.logger.warn('skipping unreadable __consumer_offsets batch', {
        partition,
        error: String(error),
      });
      return null;
    }
  }

  private applyRecord(
    groups: Map<GroupId, LoadedGroupState>,
    keyBytes: Buffer,
    valueBytes: Buffer | null,
    partition: PartitionIndex,
  ): void {
    try {
      const key = decodeOffsetsTopicKey(keyBytes);
      if (key.type === 'unknown') return;
      let state = groups.get(key.group);
      if (state === undefined) {
        state = {
          groupId: key.group,
          metadata: null,
          consumerGroupEpoch: null,
          consumerRecords: new Map(),
          offsets: new Map(),
        };
        groups.set(key.group, state);
      }
      if (key.type === 'consumer-group') {
        state.consumerGroupEpoch =
          valueBytes === null ? null : decodeConsumerGroupMetadataValue(valueBytes).epoch;
        return;
      }
      if (key.type === 'group') {
        state.metadata = valueBytes === null ? null : decodeGroupMetadataValue(valueBytes);
        return;
      }
      if (key.type !== 'offset') {
        const keyHex = keyBytes.toString('hex');
        if (valueBytes === null) state.consumerRecords.delete(keyHex);
        else state.consumerRecords.set(keyHex, { key, value: Buffer.from(valueBytes) });
        return;
      }
      let partitions = state.offsets.get(key.topic);
      if (valueBytes === null) {
        partitions?.delete(key.partition);
        if (partitions?.size === 0) state.offsets.delete(key.topic);
        return;
      }
      if (partitions === undefined) {
        partitions = new Map();
        state.offsets.set(key.topic, partitions);
      }
      partitions.set(key.partition, decodeOffsetCommitValue(valueBytes));
    } catch (error) {
      this.logger.warn('skipping malformed __consumer_offsets record', {
        partition,
        error: String(error),
      });
    }
  }
}
