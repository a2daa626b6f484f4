import assert from 'node:assert/strict';
import { it } from 'node:test';
import { clusterImage } from '@gregor/cluster/testing/images';
import { defaultLogConfig, MemoryLogManager } from '@gregor/storage';
import { systemClock } from '../clock.js';
import { silentLogger } from '../logging/logger.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { ReplicaRoles, type RoleChange } from './replica-roles.js';

const partitionCount = 2000;

it('applies thousands of roles in chunks that let timers (lease keepalives) run between them', async () => {
  const image = clusterImage({
    brokers: [{ id: 1 }, { id: 2 }],
    topics: [{ name: 'big', partitions: Array.from({ length: partitionCount }, () => [2, 1]) }],
  });
  const logs = await MemoryLogManager.open({ clock: systemClock });
  const replicas = new ReplicaManager({
    logs,
    nodeId: 1,
    clock: systemClock,
    logger: silentLogger,
  });
  const changes: RoleChange[] = [];
  const roles = new ReplicaRoles({
    nodeId: 1,
    replicas,
    logger: silentLogger,
    logConfig: () => defaultLogConfig,
    onRoleChange: (change) => changes.push(change),
  });
  // In-memory logs and follower roles need no I/O: without yields the whole application runs
  // as microtasks and no event-loop turn (no timer, no keepalive reply) happens before its end.
  let turns = 0;
  let spinning = true;
  const spin = (): void => {
    if (!spinning) return;
    turns++;
    setImmediate(spin);
  };
  spin();
  await roles.syncAll(image);
  spinning = false;
  assert.equal(changes.length, partitionCount);
  assert.ok(
    changes.every((change) => change.role === 'follower' && change.leaderId === 2),
    'every partition follows broker 2',
  );
  assert.equal(replicas.all().length, partitionCount);
  assert.ok(turns >= 5, `event-loop turns during the application: ${turns}`);
});
