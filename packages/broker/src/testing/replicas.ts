/** A replica manager over a test's log manager (single replica, no HW checkpoint). */
import type { LogManager } from '@gregor/storage';
import { type Clock, systemClock } from '../clock.js';
import { createJsonLogger } from '../logging/logger.js';
import { ReplicaManager } from '../replication/replica-manager.js';

export function replicaManagerOver(logs: LogManager, clock: Clock = systemClock): ReplicaManager {
  return new ReplicaManager({
    logs,
    nodeId: 0,
    clock,
    logger: createJsonLogger({ level: 'off' }),
  });
}
