/**
 * Builds and starts the exactly-once machinery of a broker (helper G): the producer state of every
 * partition (loaded from snapshots and the log tails before the broker serves), the producer id
 * allocator and the transaction coordinator over `__transaction_state`, wired to the group
 * coordinator for transactional offset commits. broker.ts calls `startTransactionServices` once and
 * `stop` before the logs close.
 */
import { FilePartitionLog, type FileSystem, nodeFileSystem } from '@gregor/storage';
import type { Clock } from '../clock.js';
import type { BrokerConfig } from '../config/index.js';
import type { GroupCoordinator } from '../group/index.js';
import type { Logger } from '../logging/logger.js';
import { ProducerStateManager } from '../producer/producer-state-manager.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { TopicManager } from '../topics/types.js';
import {
  type ClusterMarkerWriterOptions,
  createClusterMarkerWriter,
} from './cluster-marker-writer.js';
import { consumerOffsetsTopicName, createMarkerWriter } from './marker-writer.js';
import { type ProducerIdBlockSource, ProducerIdManager } from './producer-id-manager.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import { TransactionStateLog, transactionStateStorage } from './transaction-state-log.js';

export interface TransactionServices {
  producers: ProducerStateManager;
  transactions: TransactionCoordinator;
  /** Stops the coordinator (finishing in-flight completions), then snapshots producer state. */
  stop(): Promise<void>;
}

export async function startTransactionServices(options: {
  config: BrokerConfig;
  replicas: ReplicaManager;
  topics: TopicManager;
  groups: GroupCoordinator | undefined;
  clock: Clock;
  logger: Logger;
  /** Where the producer id block is kept (the first log dir). */
  metadataDirectory: string;
  fileSystem?: FileSystem;
  /** Cluster mode: producer-id blocks from the metadata store, unique across brokers. */
  producerIdBlocks?: ProducerIdBlockSource;
  /**
   * Cluster mode: the coordinator serves the `__transaction_state` partitions this broker leads
   * (the broker calls its loadPartition/unloadPartition as leadership moves) and sends markers to
   * the leaders of other brokers' partitions.
   */
  cluster?: {
    nodeId: number;
    leaderOf: ClusterMarkerWriterOptions['leaderOf'];
    send: ClusterMarkerWriterOptions['send'];
  };
}): Promise<TransactionServices> {
  const { config, replicas, topics, groups, clock } = options;
  const logs = replicas.logs;
  const fileSystem = options.fileSystem ?? nodeFileSystem;
  const logger = options.logger.child({ component: 'transactions' });
  const producers = new ProducerStateManager({
    clock,
    logger,
    fileSystem,
    directoryOf: (log) => (log instanceof FilePartitionLog ? log.directory : undefined),
    isCurrent: (log) => logs.getLog(log.topic, log.partition) === log,
    expirationMs: () => config.get('producer.id.expiration.ms') as number,
    expirationCheckIntervalMs: () =>
      config.get('producer.id.expiration.check.interval.ms') as number,
    emptyStateDirectory: options.metadataDirectory,
    allLogs: () => logs.allLogs(),
  });
  await producers.load(logs.allLogs());
  replicas.setProducers(producers);
  const producerIds = new ProducerIdManager(
    fileSystem,
    options.metadataDirectory,
    options.producerIdBlocks,
  );
  const completeOffsets = () =>
    groups &&
    ((marker: { producerId: bigint; partition: number; commit: boolean }) =>
      groups.completeTransactionalOffsets(marker));
  const transactions = new TransactionCoordinator({
    clock,
    logger,
    stateLog: new TransactionStateLog({
      storage: transactionStateStorage({ replicas, topics }),
      clock,
      logger,
      defaultPartitionCount: config.get('transaction.state.log.num.partitions') as number,
    }),
    allocateProducerId: () => producerIds.allocate(),
    writeMarkers:
      options.cluster === undefined
        ? createMarkerWriter({ replicas, logger, completeOffsets })
        : createClusterMarkerWriter({
            ...options.cluster,
            replicas,
            clock,
            logger,
            completeOffsets,
          }),
    followsLeadership: options.cluster !== undefined,
    partitionExists: (topic, partition) => {
      const info = topics.get(topic);
      return info !== undefined && partition >= 0 && partition < info.partitionCount;
    },
    offsetsPartitionFor: (groupId) => ({
      topic: consumerOffsetsTopicName,
      partition: groups?.partitionFor(groupId) ?? 0,
    }),
    config: {
      maxTimeoutMs: () => config.get('transaction.max.timeout.ms') as number,
      abortCheckIntervalMs: () =>
        config.get('transaction.abort.timed.out.transaction.cleanup.interval.ms') as number,
      idExpirationMs: () => config.get('transactional.id.expiration.ms') as number,
    },
  });
  producers.setTransactionVerifier((batch) => transactions.verifyTransactionalBatch(batch));
  await transactions.start();
  producers.start();
  return {
    producers,
    transactions,
    async stop() {
      await transactions.stop();
      await producers.stop();
    },
  };
}
