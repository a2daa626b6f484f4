/**
 * Images and plan commits without a store, for the controller's handler tests: build an image
 * from brokers and topics, and apply a plan's operations as a store would (checking each
 * compare-and-set expectation), so a test sees the image the next event would see.
 */
import assert from 'node:assert/strict';
import type { KeyValue, WatchEvent } from '@gregor/metadata';
import type { ControllerContext, ControllerSettings } from '../controller/context.js';
import { controllerDefaults } from '../controller/context.js';
import { type Plan, packUnits } from '../controller/plan.js';
import { MetadataDelta, MetadataImage } from '../image.js';
import type { ClusterLogFields, ClusterLogger } from '../logger.js';
import { newPartitionRegistration, type PartitionRegistration } from '../partition-registration.js';
import {
  brokerKey,
  brokerStateKey,
  clusterConfigKey,
  encodeBrokerRegistration,
  encodeBrokerState,
  encodeConfigRecord,
  encodePartitionRecord,
  encodeTopicRecord,
  partitionKey,
  topicKey,
} from '../records.js';

export interface TestBroker {
  id: number;
  rack?: string | null;
  /** Registration epoch (create revision); defaults to 100 + id. */
  epoch?: bigint;
  previousBrokerEpoch?: bigint;
  /** Write broker-states/<id> for this epoch (default true), optionally shutting down. */
  recorded?: boolean;
  inControlledShutdown?: boolean;
}

export interface TestTopic {
  name: string;
  topicId?: string;
  configs?: Record<string, string>;
  /** Replica lists (all in sync, first leads) or full registrations. */
  partitions: (readonly number[] | PartitionRegistration)[];
}

export interface TestCluster {
  brokers?: TestBroker[];
  topics?: TestTopic[];
  clusterConfigs?: Record<string, string>;
}

/** Topic ids for tests: "t" + name, padded to Kafka's 22 characters. */
export const testTopicId = (name: string) => `t${name}`.padEnd(22, 'A').slice(0, 22);

export function clusterImage(cluster: TestCluster): MetadataImage {
  const entries: KeyValue[] = [];
  let revision = 10n;
  const entry = (key: string, value: Buffer, createRevision?: bigint) => {
    revision += 1n;
    entries.push({ key, value, createRevision: createRevision ?? revision, modRevision: revision });
  };
  for (const broker of cluster.brokers ?? []) {
    const epoch = broker.epoch ?? 100n + BigInt(broker.id);
    entry(
      brokerKey(broker.id),
      encodeBrokerRegistration({
        brokerId: broker.id,
        incarnationId: `incarnation-${broker.id}`,
        rack: broker.rack ?? null,
        listeners: [
          {
            name: 'PLAINTEXT',
            host: '127.0.0.1',
            port: 9000 + broker.id,
            securityProtocol: 'PLAINTEXT',
          },
        ],
        previousBrokerEpoch: broker.previousBrokerEpoch ?? -1n,
      }),
      epoch,
    );
    if (broker.recorded ?? true) {
      entry(
        brokerStateKey(broker.id),
        encodeBrokerState({
          brokerEpoch: epoch,
          inControlledShutdown: broker.inControlledShutdown ?? false,
        }),
      );
    }
  }
  for (const topic of cluster.topics ?? []) {
    const topicId = topic.topicId ?? testTopicId(topic.name);
    topic.partitions.forEach((partition, index) => {
      const registration =
        'leader' in partition ? partition : newPartitionRegistration(partition as number[]);
      entry(partitionKey(topicId, index), encodePartitionRecord(registration));
    });
    entry(
      topicKey(topic.name),
      encodeTopicRecord({
        topicId,
        partitionCount: topic.partitions.length,
        configs: topic.configs ?? {},
      }),
    );
  }
  if (cluster.clusterConfigs !== undefined)
    entry(clusterConfigKey, encodeConfigRecord(cluster.clusterConfigs));
  const { image, problems } = MetadataImage.fromEntries(entries, revision);
  assert.deepEqual(problems, []);
  return image;
}

/** Log lines a test can assert on. */
export class RecordingLogger implements ClusterLogger {
  readonly lines: { level: string; message: string; fields?: ClusterLogFields }[] = [];
  debug(message: string, fields?: ClusterLogFields) {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: ClusterLogFields) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: ClusterLogFields) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: ClusterLogFields) {
    this.lines.push({ level: 'error', message, fields });
  }
  warnings(): string[] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.message);
  }
}

export function testContext(
  image: MetadataImage,
  settings: Partial<ControllerSettings> = {},
  logger: ClusterLogger = new RecordingLogger(),
): ControllerContext {
  let topicIds = 0;
  return {
    image,
    logger,
    settings: {
      defaults: { ...controllerDefaults },
      eligibleLeaderReplicasEnabled: true,
      topicNameProblem: () => undefined,
      topicConfigsProblem: () => undefined,
      randomInt: () => 0,
      randomTopicId: () => testTopicId(`new${++topicIds}`),
      ...settings,
    },
  };
}

/**
 * Commits a plan as the controller would (transactions of ≤ 127 operations, in order), checking
 * every expectation against the image, and returns the next image, the response and the
 * transactions' sizes.
 */
export function commitPlan<Response>(
  image: MetadataImage,
  plan: Plan<Response>,
): { image: MetadataImage; response: Response; transactionSizes: number[] } {
  let current = image;
  const transactionSizes: number[] = [];
  for (const batch of packUnits(plan.units)) {
    const revision = current.revision + 1n;
    const events: WatchEvent[] = [];
    for (const unit of batch.units) {
      for (const operation of unit.operations) {
        if (operation.expectedModRevision !== undefined) {
          assert.equal(
            modRevisionOf(current, operation.key),
            operation.expectedModRevision,
            `compare-and-set on ${operation.key}`,
          );
        }
        events.push(
          operation.type === 'put'
            ? {
                type: 'put',
                key: operation.key,
                value: operation.value,
                createRevision: revision,
                modRevision: revision,
              }
            : { type: 'delete', key: operation.key, modRevision: revision },
        );
      }
    }
    transactionSizes.push(events.length);
    const delta = new MetadataDelta(current);
    delta.replay(events);
    const applied = delta.apply(revision);
    assert.deepEqual(applied.changes.problems, []);
    current = applied.image;
    for (const unit of batch.units) unit.committed?.();
  }
  return { image: current, response: plan.respond(true), transactionSizes };
}

/** The key's modRevision in the image, 0n when absent (what the store compares with). */
function modRevisionOf(image: MetadataImage, key: string): bigint {
  if (key.startsWith('topics/')) return image.topic(key.slice('topics/'.length))?.modRevision ?? 0n;
  if (key.startsWith('broker-states/')) {
    return image.brokerState(Number(key.slice('broker-states/'.length)))?.modRevision ?? 0n;
  }
  if (key.startsWith('partitions/')) {
    const [topicId, partition] = key.slice('partitions/'.length).split('/');
    return image.partitionRecords(topicId!).get(Number(partition))?.modRevision ?? 0n;
  }
  throw new Error(`no compare-and-set expected on ${key}`);
}
