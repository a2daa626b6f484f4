/** A replica manager and producer state over a test's log manager (single replica, no checkpoints). */
import { type LogManager, nodeFileSystem } from '@gregor/storage';
import { type Clock, systemClock } from '../clock.js';
import { createJsonLogger } from '../logging/logger.js';
import { ProducerStateManager } from '../producer/producer-state-manager.js';
import { ReplicaManager } from '../replication/replica-manager.js';

export function replicaManagerOver(logs: LogManager, clock: Clock = systemClock): ReplicaManager {
  return new ReplicaManager({
    logs,
    nodeId: 0,
    clock,
    logger: createJsonLogger({ level: 'off' }),
  });
}

/**
 * Producer state for in-memory logs: no snapshot files, producers kept for a day, and a log
 * counts as current while the log manager still holds it.
 */
export function producerStateOver(
  logs: LogManager,
  clock: Clock = systemClock,
): ProducerStateManager {
  return new ProducerStateManager({
    clock,
    logger: createJsonLogger({ level: 'off' }),
    fileSystem: nodeFileSystem,
    directoryOf: () => undefined,
    isCurrent: (log) => logs.getLog(log.topic, log.partition) === log,
    expirationMs: () => 86_400_000,
    expirationCheckIntervalMs: () => 600_000,
    snapshotIntervalMs: 0,
  });
}
