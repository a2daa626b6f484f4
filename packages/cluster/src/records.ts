/**
 * The cluster's persisted layout over the metadata store: one key per broker, broker state,
 * topic, partition, config resource and the controller, each value a versioned JSON document.
 *
 * | key | written by | value |
 * |---|---|---|
 * | `brokers/<id>` | the broker, on its lease | BrokerRegistration (epoch = the key's create revision) |
 * | `broker-states/<id>` | controller | epoch last seen, controlled shutdown flag |
 * | `topics/<name>` | controller | topic id, partition count, config overrides |
 * | `partitions/<topicId>/<p>` | controller | PartitionRegistration (KRaft PartitionRecord) |
 * | `configs/cluster`, `configs/brokers/<id>` | controller | dynamic broker configs |
 * | `controller` | controller | the active controller's id and fence revision |
 *
 * Partitions are keyed by topic id, so a topic deleted and created again under the same name
 * never meets its old partitions. A topic shows only partitions below its partition count: a
 * creation writes its partitions first and the topic key last, and a deletion removes the topic
 * key first, so every batch of a multi-batch change leaves a consistent image.
 */
import { brokerKey, brokerKeyPrefix } from '@gregor/metadata/store';
import type { LeaderRecoveryState, PartitionRegistration } from './partition-registration.js';

export { brokerKey, brokerKeyPrefix };

/** Version written in every value; a reader refuses versions it does not know. */
export const recordFormatVersion = 1;

export const brokerStateKeyPrefix = 'broker-states/';
export const topicKeyPrefix = 'topics/';
export const partitionKeyPrefix = 'partitions/';
export const configKeyPrefix = 'configs/';
export const clusterConfigKey = 'configs/cluster';
export const brokerConfigKeyPrefix = 'configs/brokers/';
export const controllerKey = 'controller';

export const brokerStateKey = (brokerId: number) => `${brokerStateKeyPrefix}${brokerId}`;
export const topicKey = (name: string) => `${topicKeyPrefix}${name}`;
export const partitionKey = (topicId: string, partition: number) =>
  `${partitionKeyPrefix}${topicId}/${partition}`;
export const brokerConfigKey = (brokerId: number) => `${brokerConfigKeyPrefix}${brokerId}`;

export interface BrokerEndpoint {
  /** Listener name, e.g. PLAINTEXT. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

/** What a broker writes about itself when it registers (KRaft's RegisterBrokerRecord). */
export interface BrokerRegistration {
  readonly brokerId: number;
  /** Random per process start: tells a restarted broker from a stale session of the old one. */
  readonly incarnationId: string;
  readonly rack: string | null;
  readonly listeners: readonly BrokerEndpoint[];
  /** The broker epoch at its last clean shutdown, -1n if none (KIP-966 unclean detection). */
  readonly previousBrokerEpoch: bigint;
}

/** The controller's view of a broker beyond its registration. */
export interface BrokerState {
  /** The registration epoch this state belongs to; a newer registration starts afresh. */
  readonly brokerEpoch: bigint;
  readonly inControlledShutdown: boolean;
}

export interface TopicRecord {
  readonly topicId: string;
  readonly partitionCount: number;
  /** Topic config overrides (name → canonical text). */
  readonly configs: Readonly<Record<string, string>>;
}

export interface ControllerRecord {
  readonly controllerId: number;
  readonly fenceRevision: bigint;
}

export type ConfigRecord = Readonly<Record<string, string>>;

export class RecordFormatError extends Error {
  constructor(key: string, problem: string) {
    super(`metadata record ${key}: ${problem}`);
    this.name = 'RecordFormatError';
  }
}

// ---- What a key names -------------------------------------------------------------------------

export type ParsedKey =
  | { kind: 'broker'; brokerId: number }
  | { kind: 'broker-state'; brokerId: number }
  | { kind: 'topic'; name: string }
  | { kind: 'partition'; topicId: string; partition: number }
  | { kind: 'cluster-config' }
  | { kind: 'broker-config'; brokerId: number }
  | { kind: 'controller' }
  | { kind: 'other' };

const nonNegativeInteger = /^(0|[1-9][0-9]{0,9})$/;

function parseId(text: string): number | undefined {
  if (!nonNegativeInteger.test(text)) return undefined;
  const value = Number(text);
  return value <= 0x7fffffff ? value : undefined;
}

export function parseKey(key: string): ParsedKey {
  if (key.startsWith(brokerKeyPrefix)) {
    const brokerId = parseId(key.slice(brokerKeyPrefix.length));
    return brokerId === undefined ? { kind: 'other' } : { kind: 'broker', brokerId };
  }
  if (key.startsWith(brokerStateKeyPrefix)) {
    const brokerId = parseId(key.slice(brokerStateKeyPrefix.length));
    return brokerId === undefined ? { kind: 'other' } : { kind: 'broker-state', brokerId };
  }
  if (key.startsWith(topicKeyPrefix)) {
    const name = key.slice(topicKeyPrefix.length);
    return name.length === 0 ? { kind: 'other' } : { kind: 'topic', name };
  }
  if (key.startsWith(partitionKeyPrefix)) {
    const rest = key.slice(partitionKeyPrefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return { kind: 'other' };
    const partition = parseId(rest.slice(slash + 1));
    if (partition === undefined) return { kind: 'other' };
    return { kind: 'partition', topicId: rest.slice(0, slash), partition };
  }
  if (key === clusterConfigKey) return { kind: 'cluster-config' };
  if (key.startsWith(brokerConfigKeyPrefix)) {
    const brokerId = parseId(key.slice(brokerConfigKeyPrefix.length));
    return brokerId === undefined ? { kind: 'other' } : { kind: 'broker-config', brokerId };
  }
  if (key === controllerKey) return { kind: 'controller' };
  return { kind: 'other' };
}

// ---- Codecs -----------------------------------------------------------------------------------

function encode(document: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ v: recordFormatVersion, ...document }));
}

type Json = Record<string, unknown>;

function decodeDocument(key: string, value: Buffer): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    throw new RecordFormatError(key, 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RecordFormatError(key, 'not a JSON object');
  }
  const document = parsed as Json;
  if (document.v !== recordFormatVersion) {
    throw new RecordFormatError(key, `unknown format version ${String(document.v)}`);
  }
  return document;
}

class FieldReader {
  constructor(
    private readonly key: string,
    private readonly document: Json,
  ) {}

  integer(name: string): number {
    const value = this.document[name];
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(name, 'an integer');
    return value as number;
  }

  bigint(name: string): bigint {
    const value = this.document[name];
    if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value)) this.fail(name, 'a decimal string');
    return BigInt(value as string);
  }

  string(name: string): string {
    const value = this.document[name];
    if (typeof value !== 'string') this.fail(name, 'a string');
    return value as string;
  }

  nullableString(name: string): string | null {
    const value = this.document[name];
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') this.fail(name, 'a string or null');
    return value as string;
  }

  boolean(name: string): boolean {
    const value = this.document[name];
    if (typeof value !== 'boolean') this.fail(name, 'a boolean');
    return value as boolean;
  }

  integers(name: string): number[] {
    const value = this.document[name];
    if (!Array.isArray(value) || !value.every((item) => Number.isInteger(item))) {
      this.fail(name, 'an array of integers');
    }
    return value as number[];
  }

  stringMap(name: string): Record<string, string> {
    const value = this.document[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(name, 'an object');
    }
    const result: Record<string, string> = {};
    for (const [entryKey, entryValue] of Object.entries(value as Json)) {
      if (typeof entryValue !== 'string') this.fail(`${name}.${entryKey}`, 'a string');
      result[entryKey] = entryValue as string;
    }
    return result;
  }

  array(name: string): Json[] {
    const value = this.document[name];
    if (!Array.isArray(value)) this.fail(name, 'an array');
    return value as Json[];
  }

  private fail(name: string, expected: string): never {
    throw new RecordFormatError(this.key, `field ${name} must be ${expected}`);
  }
}

export function encodeBrokerRegistration(registration: BrokerRegistration): Buffer {
  return encode({
    brokerId: registration.brokerId,
    incarnationId: registration.incarnationId,
    rack: registration.rack,
    listeners: registration.listeners.map((listener) => ({ ...listener })),
    previousBrokerEpoch: registration.previousBrokerEpoch.toString(),
  });
}

export function decodeBrokerRegistration(key: string, value: Buffer): BrokerRegistration {
  const reader = new FieldReader(key, decodeDocument(key, value));
  return {
    brokerId: reader.integer('brokerId'),
    incarnationId: reader.string('incarnationId'),
    rack: reader.nullableString('rack'),
    listeners: reader.array('listeners').map((listener) => {
      const fields = new FieldReader(key, listener);
      return {
        name: fields.string('name'),
        host: fields.string('host'),
        port: fields.integer('port'),
        securityProtocol: fields.string('securityProtocol'),
      };
    }),
    previousBrokerEpoch: reader.bigint('previousBrokerEpoch'),
  };
}

export function encodeBrokerState(state: BrokerState): Buffer {
  return encode({
    brokerEpoch: state.brokerEpoch.toString(),
    inControlledShutdown: state.inControlledShutdown,
  });
}

export function decodeBrokerState(key: string, value: Buffer): BrokerState {
  const reader = new FieldReader(key, decodeDocument(key, value));
  return {
    brokerEpoch: reader.bigint('brokerEpoch'),
    inControlledShutdown: reader.boolean('inControlledShutdown'),
  };
}

export function encodeTopicRecord(topic: TopicRecord): Buffer {
  return encode({
    topicId: topic.topicId,
    partitionCount: topic.partitionCount,
    configs: { ...topic.configs },
  });
}

export function decodeTopicRecord(key: string, value: Buffer): TopicRecord {
  const reader = new FieldReader(key, decodeDocument(key, value));
  return {
    topicId: reader.string('topicId'),
    partitionCount: reader.integer('partitionCount'),
    configs: reader.stringMap('configs'),
  };
}

export function encodePartitionRecord(partition: PartitionRegistration): Buffer {
  return encode({
    replicas: partition.replicas,
    isr: partition.isr,
    elr: partition.elr,
    lastKnownElr: partition.lastKnownElr,
    removingReplicas: partition.removingReplicas,
    addingReplicas: partition.addingReplicas,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    leaderRecoveryState: partition.leaderRecoveryState,
  });
}

export function decodePartitionRecord(key: string, value: Buffer): PartitionRegistration {
  const reader = new FieldReader(key, decodeDocument(key, value));
  const leaderRecoveryState = reader.integer('leaderRecoveryState');
  if (leaderRecoveryState !== 0 && leaderRecoveryState !== 1) {
    throw new RecordFormatError(key, `unknown leader recovery state ${leaderRecoveryState}`);
  }
  return {
    replicas: reader.integers('replicas'),
    isr: reader.integers('isr'),
    elr: reader.integers('elr'),
    lastKnownElr: reader.integers('lastKnownElr'),
    removingReplicas: reader.integers('removingReplicas'),
    addingReplicas: reader.integers('addingReplicas'),
    leader: reader.integer('leader'),
    leaderEpoch: reader.integer('leaderEpoch'),
    partitionEpoch: reader.integer('partitionEpoch'),
    leaderRecoveryState: leaderRecoveryState as LeaderRecoveryState,
  };
}

export function encodeConfigRecord(configs: ConfigRecord): Buffer {
  return encode({ configs: { ...configs } });
}

export function decodeConfigRecord(key: string, value: Buffer): ConfigRecord {
  return new FieldReader(key, decodeDocument(key, value)).stringMap('configs');
}

export function encodeControllerRecord(record: ControllerRecord): Buffer {
  return encode({
    controllerId: record.controllerId,
    fenceRevision: record.fenceRevision.toString(),
  });
}

export function decodeControllerRecord(key: string, value: Buffer): ControllerRecord {
  const reader = new FieldReader(key, decodeDocument(key, value));
  return {
    controllerId: reader.integer('controllerId'),
    fenceRevision: reader.bigint('fenceRevision'),
  };
}
