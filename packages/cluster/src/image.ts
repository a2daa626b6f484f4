/**
 * The metadata image: an immutable view of the cluster at one store revision (KRaft's
 * MetadataImage, with the store revision as the metadata offset), and the delta that replays the
 * store's ordered watch events onto it. A broker lists every key at revision R, builds the image,
 * then watches from R + 1 and applies each batch; a controller does the same.
 *
 * Copy on write: a delta copies the top-level maps it changes and the partition map of each topic
 * id it touches, so applying a batch costs the number of topics plus the touched partitions, never
 * a copy of every partition.
 */
import type { KeyValue, Revision, WatchEvent } from '@gregor/metadata';
import type { PartitionRegistration } from './partition-registration.js';
import {
  type BrokerEndpoint,
  type BrokerRegistration,
  type BrokerState,
  type ConfigRecord,
  type ControllerRecord,
  decodeBrokerRegistration,
  decodeBrokerState,
  decodeConfigRecord,
  decodeControllerRecord,
  decodePartitionRecord,
  decodeTopicRecord,
  parseKey,
  RecordFormatError,
  type TopicRecord,
} from './records.js';

export interface BrokerImage {
  readonly brokerId: number;
  /** Create revision of the registration key (KIP-380/903 broker epoch). */
  readonly brokerEpoch: bigint;
  readonly registration: BrokerRegistration;
  /** Set by the controller for this epoch; a newer registration is not shutting down. */
  readonly inControlledShutdown: boolean;
  readonly modRevision: Revision;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  readonly partitionCount: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly modRevision: Revision;
}

export interface PartitionImage extends PartitionRegistration {
  readonly topicId: string;
  readonly partition: number;
  /** For compare-and-set writes of this partition. */
  readonly modRevision: Revision;
}

interface Versioned<T> {
  readonly value: T;
  readonly modRevision: Revision;
}

interface ImageParts {
  revision: Revision;
  brokers: ReadonlyMap<number, Versioned<{ registration: BrokerRegistration; epoch: bigint }>>;
  brokerStates: ReadonlyMap<number, Versioned<BrokerState>>;
  topicsByName: ReadonlyMap<string, TopicImage>;
  topicNamesById: ReadonlyMap<string, string>;
  partitionsByTopicId: ReadonlyMap<string, ReadonlyMap<number, PartitionImage>>;
  clusterConfig: Versioned<ConfigRecord> | undefined;
  brokerConfigs: ReadonlyMap<number, Versioned<ConfigRecord>>;
  controller: Versioned<ControllerRecord> | undefined;
}

const noPartitions: ReadonlyMap<number, PartitionImage> = new Map();

export class MetadataImage {
  static readonly empty = new MetadataImage({
    revision: 0n,
    brokers: new Map(),
    brokerStates: new Map(),
    topicsByName: new Map(),
    topicNamesById: new Map(),
    partitionsByTopicId: new Map(),
    clusterConfig: undefined,
    brokerConfigs: new Map(),
    controller: undefined,
  });

  /** The image of a `list` result: every entry read at `revision`. */
  static fromEntries(
    entries: readonly KeyValue[],
    revision: Revision,
  ): { image: MetadataImage; problems: RecordFormatError[] } {
    const delta = new MetadataDelta(MetadataImage.empty);
    delta.replay(entries.map((entry) => ({ type: 'put' as const, ...entry })));
    const { image, changes } = delta.apply(revision);
    return { image, problems: changes.problems };
  }

  /** @internal built by MetadataDelta */
  constructor(readonly parts: ImageParts) {}

  /** The store revision this image reflects (the metadata offset). */
  get revision(): Revision {
    return this.parts.revision;
  }

  /** The last controller that announced itself, or undefined. */
  get controller(): ControllerRecord | undefined {
    return this.parts.controller?.value;
  }

  // ---- Brokers --------------------------------------------------------------------------------

  /** Registered brokers (their lease is alive), by id. */
  brokers(): BrokerImage[] {
    return [...this.parts.brokers.keys()]
      .sort((left, right) => left - right)
      .map((id) => this.broker(id)!);
  }

  broker(brokerId: number): BrokerImage | undefined {
    const entry = this.parts.brokers.get(brokerId);
    if (entry === undefined) return undefined;
    const state = this.parts.brokerStates.get(brokerId)?.value;
    return {
      brokerId,
      brokerEpoch: entry.value.epoch,
      registration: entry.value.registration,
      inControlledShutdown:
        state !== undefined &&
        state.brokerEpoch === entry.value.epoch &&
        state.inControlledShutdown,
      modRevision: entry.modRevision,
    };
  }

  /** The controller's record of a broker (possibly of an older registration), with its revision. */
  brokerState(brokerId: number): Versioned<BrokerState> | undefined {
    return this.parts.brokerStates.get(brokerId);
  }

  brokerStateIds(): number[] {
    return [...this.parts.brokerStates.keys()].sort((left, right) => left - right);
  }

  /** Registered: its lease is alive, so it may be in an ISR. */
  isBrokerRegistered(brokerId: number): boolean {
    return this.parts.brokers.has(brokerId);
  }

  /** Registered and not in controlled shutdown: it may lead and join ISRs (KRaft's isActive). */
  isBrokerActive(brokerId: number): boolean {
    const entry = this.parts.brokers.get(brokerId);
    if (entry === undefined) return false;
    const state = this.parts.brokerStates.get(brokerId)?.value;
    return !(
      state !== undefined &&
      state.brokerEpoch === entry.value.epoch &&
      state.inControlledShutdown
    );
  }

  /** A broker's endpoint on one listener, undefined when not registered or without it. */
  brokerEndpoint(brokerId: number, listenerName: string): BrokerEndpoint | undefined {
    return this.parts.brokers
      .get(brokerId)
      ?.value.registration.listeners.find((listener) => listener.name === listenerName);
  }

  // ---- Topics and partitions -------------------------------------------------------------------

  /** Topics, sorted by name. */
  topics(): TopicImage[] {
    return [...this.parts.topicsByName.values()].sort((left, right) =>
      left.name < right.name ? -1 : left.name > right.name ? 1 : 0,
    );
  }

  topicCount(): number {
    return this.parts.topicsByName.size;
  }

  topic(name: string): TopicImage | undefined {
    return this.parts.topicsByName.get(name);
  }

  topicById(topicId: string): TopicImage | undefined {
    const name = this.parts.topicNamesById.get(topicId);
    return name === undefined ? undefined : this.parts.topicsByName.get(name);
  }

  /** A partition of a topic, by name; undefined beyond the topic's partition count. */
  partition(topicName: string, partition: number): PartitionImage | undefined {
    const topic = this.parts.topicsByName.get(topicName);
    if (topic === undefined || partition < 0 || partition >= topic.partitionCount) return undefined;
    return this.parts.partitionsByTopicId.get(topic.topicId)?.get(partition);
  }

  /** A topic's partitions in order (those below its count whose record exists). */
  partitions(topicName: string): PartitionImage[] {
    const topic = this.parts.topicsByName.get(topicName);
    if (topic === undefined) return [];
    const byIndex = this.parts.partitionsByTopicId.get(topic.topicId) ?? noPartitions;
    const result: PartitionImage[] = [];
    for (let index = 0; index < topic.partitionCount; index++) {
      const partition = byIndex.get(index);
      if (partition !== undefined) result.push(partition);
    }
    return result;
  }

  /** Partition records by topic id, including those no topic shows (see orphanPartitions). */
  partitionRecords(topicId: string): ReadonlyMap<number, PartitionImage> {
    return this.parts.partitionsByTopicId.get(topicId) ?? noPartitions;
  }

  /**
   * Partition records no topic shows: their topic id has no topic, or they lie at or beyond the
   * topic's partition count (a creation or deletion cut short by a controller change).
   */
  orphanPartitions(): PartitionImage[] {
    const result: PartitionImage[] = [];
    for (const [topicId, byIndex] of this.parts.partitionsByTopicId) {
      const topic = this.topicById(topicId);
      for (const partition of byIndex.values()) {
        if (topic === undefined || partition.partition >= topic.partitionCount) {
          result.push(partition);
        }
      }
    }
    return result;
  }

  /** Replicas whose broker is not registered (Metadata's offline replicas). */
  offlineReplicas(partition: PartitionRegistration): number[] {
    return partition.replicas.filter((replica) => !this.parts.brokers.has(replica));
  }

  // ---- Configs --------------------------------------------------------------------------------

  clusterConfigs(): ConfigRecord {
    return this.parts.clusterConfig?.value ?? {};
  }

  clusterConfigRevision(): Revision | undefined {
    return this.parts.clusterConfig?.modRevision;
  }

  brokerConfigs(brokerId: number): ConfigRecord {
    return this.parts.brokerConfigs.get(brokerId)?.value ?? {};
  }

  /**
   * A topic config's value: the topic's override, else the cluster-wide dynamic value, else
   * undefined (the caller's static default applies).
   */
  topicConfigValue(topicName: string, configName: string): string | undefined {
    return this.topic(topicName)?.configs[configName] ?? this.clusterConfigs()[configName];
  }
}

/** One partition whose record changed in a delta. */
export interface PartitionChangeEvent {
  readonly topicId: string;
  readonly partition: number;
  /** Undefined when the record is new. */
  readonly previous: PartitionImage | undefined;
  /** Undefined when the record was deleted. */
  readonly current: PartitionImage | undefined;
}

export interface MetadataChanges {
  /** Broker ids whose registration or controller state changed. */
  readonly brokers: ReadonlySet<number>;
  /** Topic names created, updated or deleted. */
  readonly topics: ReadonlySet<string>;
  readonly partitions: readonly PartitionChangeEvent[];
  readonly configs: boolean;
  readonly controller: boolean;
  /** Records that could not be decoded; they were left out of the image. */
  readonly problems: RecordFormatError[];
}

/**
 * Replays ordered store events onto an image. Events of one batch are applied in order; `apply`
 * produces the next image and what changed (for a broker: which partitions to lead or follow).
 */
export class MetadataDelta {
  private readonly base: ImageParts;
  private brokers:
    | Map<number, Versioned<{ registration: BrokerRegistration; epoch: bigint }>>
    | undefined;
  private brokerStates: Map<number, Versioned<BrokerState>> | undefined;
  private topicsByName: Map<string, TopicImage> | undefined;
  private topicNamesById: Map<string, string> | undefined;
  private partitionsByTopicId: Map<string, ReadonlyMap<number, PartitionImage>> | undefined;
  private readonly copiedPartitionMaps = new Set<string>();
  private clusterConfig: Versioned<ConfigRecord> | undefined;
  private clusterConfigChanged = false;
  private brokerConfigs: Map<number, Versioned<ConfigRecord>> | undefined;
  private controller: Versioned<ControllerRecord> | undefined;
  private controllerChanged = false;
  private readonly changedBrokers = new Set<number>();
  private readonly changedTopics = new Set<string>();
  /** First previous value of each changed partition, by "topicId/partition". */
  private readonly partitionPrevious = new Map<string, PartitionImage | undefined>();
  private readonly problems: RecordFormatError[] = [];

  constructor(image: MetadataImage) {
    this.base = image.parts;
    this.clusterConfig = image.parts.clusterConfig;
    this.controller = image.parts.controller;
  }

  replay(events: readonly WatchEvent[]): void {
    for (const event of events) {
      try {
        if (event.type === 'put')
          this.put(event.key, event.value, event.createRevision, event.modRevision);
        else this.remove(event.key);
      } catch (error) {
        if (!(error instanceof RecordFormatError)) throw error;
        this.problems.push(error);
        // An undecodable value must not leave the previous one looking current.
        this.remove(event.key);
      }
    }
  }

  apply(revision: Revision): { image: MetadataImage; changes: MetadataChanges } {
    const partitionsByTopicId = this.partitionsByTopicId ?? this.base.partitionsByTopicId;
    const partitions: PartitionChangeEvent[] = [];
    for (const [id, previous] of this.partitionPrevious) {
      const slash = id.lastIndexOf('/');
      const topicId = id.slice(0, slash);
      const partition = Number(id.slice(slash + 1));
      const current = partitionsByTopicId.get(topicId)?.get(partition);
      if (previous !== current) partitions.push({ topicId, partition, previous, current });
    }
    const image = new MetadataImage({
      revision,
      brokers: this.brokers ?? this.base.brokers,
      brokerStates: this.brokerStates ?? this.base.brokerStates,
      topicsByName: this.topicsByName ?? this.base.topicsByName,
      topicNamesById: this.topicNamesById ?? this.base.topicNamesById,
      partitionsByTopicId,
      clusterConfig: this.clusterConfig,
      brokerConfigs: this.brokerConfigs ?? this.base.brokerConfigs,
      controller: this.controller,
    });
    return {
      image,
      changes: {
        brokers: this.changedBrokers,
        topics: this.changedTopics,
        partitions,
        configs: this.clusterConfigChanged || this.brokerConfigs !== undefined,
        controller: this.controllerChanged,
        problems: this.problems,
      },
    };
  }

  private put(key: string, value: Buffer, createRevision: Revision, modRevision: Revision): void {
    const parsed = parseKey(key);
    switch (parsed.kind) {
      case 'broker': {
        const registration = decodeBrokerRegistration(key, value);
        if (registration.brokerId !== parsed.brokerId) {
          throw new RecordFormatError(key, `names broker ${registration.brokerId}`);
        }
        this.mutableBrokers().set(parsed.brokerId, {
          value: { registration, epoch: createRevision },
          modRevision,
        });
        this.changedBrokers.add(parsed.brokerId);
        return;
      }
      case 'broker-state':
        this.mutableBrokerStates().set(parsed.brokerId, {
          value: decodeBrokerState(key, value),
          modRevision,
        });
        this.changedBrokers.add(parsed.brokerId);
        return;
      case 'topic':
        this.putTopic(parsed.name, decodeTopicRecord(key, value), modRevision);
        return;
      case 'partition': {
        const registration = decodePartitionRecord(key, value);
        this.setPartition(parsed.topicId, parsed.partition, {
          ...registration,
          topicId: parsed.topicId,
          partition: parsed.partition,
          modRevision,
        });
        return;
      }
      case 'cluster-config':
        this.clusterConfig = { value: decodeConfigRecord(key, value), modRevision };
        this.clusterConfigChanged = true;
        return;
      case 'broker-config':
        this.mutableBrokerConfigs().set(parsed.brokerId, {
          value: decodeConfigRecord(key, value),
          modRevision,
        });
        return;
      case 'controller':
        this.controller = { value: decodeControllerRecord(key, value), modRevision };
        this.controllerChanged = true;
        return;
      case 'other':
        return;
    }
  }

  private remove(key: string): void {
    const parsed = parseKey(key);
    switch (parsed.kind) {
      case 'broker':
        if (this.mutableBrokers().delete(parsed.brokerId)) this.changedBrokers.add(parsed.brokerId);
        return;
      case 'broker-state':
        if (this.mutableBrokerStates().delete(parsed.brokerId)) {
          this.changedBrokers.add(parsed.brokerId);
        }
        return;
      case 'topic': {
        const topics = this.mutableTopics();
        const existing = topics.get(parsed.name);
        if (existing === undefined) return;
        topics.delete(parsed.name);
        this.mutableTopicNamesById().delete(existing.topicId);
        this.changedTopics.add(parsed.name);
        return;
      }
      case 'partition':
        this.setPartition(parsed.topicId, parsed.partition, undefined);
        return;
      case 'cluster-config':
        this.clusterConfig = undefined;
        this.clusterConfigChanged = true;
        return;
      case 'broker-config':
        this.mutableBrokerConfigs().delete(parsed.brokerId);
        return;
      case 'controller':
        this.controller = undefined;
        this.controllerChanged = true;
        return;
      case 'other':
        return;
    }
  }

  private putTopic(name: string, record: TopicRecord, modRevision: Revision): void {
    const topics = this.mutableTopics();
    const namesById = this.mutableTopicNamesById();
    const existing = topics.get(name);
    if (existing !== undefined && existing.topicId !== record.topicId) {
      namesById.delete(existing.topicId);
    }
    topics.set(name, {
      name,
      topicId: record.topicId,
      partitionCount: record.partitionCount,
      configs: record.configs,
      modRevision,
    });
    namesById.set(record.topicId, name);
    this.changedTopics.add(name);
  }

  private setPartition(
    topicId: string,
    partition: number,
    value: PartitionImage | undefined,
  ): void {
    const all = this.mutablePartitions();
    let byIndex = all.get(topicId);
    if (!this.copiedPartitionMaps.has(topicId)) {
      byIndex = new Map(byIndex ?? noPartitions);
      all.set(topicId, byIndex);
      this.copiedPartitionMaps.add(topicId);
    }
    const map = byIndex as Map<number, PartitionImage>;
    const id = `${topicId}/${partition}`;
    if (!this.partitionPrevious.has(id)) this.partitionPrevious.set(id, map.get(partition));
    if (value === undefined) {
      map.delete(partition);
      if (map.size === 0) {
        all.delete(topicId);
        this.copiedPartitionMaps.delete(topicId);
      }
    } else {
      map.set(partition, value);
    }
  }

  private mutableBrokers() {
    this.brokers ??= new Map(this.base.brokers);
    return this.brokers;
  }

  private mutableBrokerStates() {
    this.brokerStates ??= new Map(this.base.brokerStates);
    return this.brokerStates;
  }

  private mutableTopics() {
    this.topicsByName ??= new Map(this.base.topicsByName);
    return this.topicsByName;
  }

  private mutableTopicNamesById() {
    this.topicNamesById ??= new Map(this.base.topicNamesById);
    return this.topicNamesById;
  }

  private mutablePartitions() {
    this.partitionsByTopicId ??= new Map(this.base.partitionsByTopicId);
    return this.partitionsByTopicId;
  }

  private mutableBrokerConfigs() {
    this.brokerConfigs ??= new Map(this.base.brokerConfigs);
    return this.brokerConfigs;
  }
}
