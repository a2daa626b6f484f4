/**
 * The topic registry of a single node: names, ids, partition counts and per-topic config
 * overrides, persisted as one JSON document in the metadata dir (written to a temporary file,
 * fsynced, renamed, dir fsynced: a crash leaves the old or the new document, never half of one).
 *
 * Order of effects: the document is persisted BEFORE partition logs are created and BEFORE they
 * are deleted, so after a crash `reconcile` (run at start-up) recreates missing logs; logs of
 * deleted topics are removed by the delete that follows the persist (or left and reported as
 * orphans, never served).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '@gregor/protocol';
import type { Clock } from '../clock.js';
import { writeFileDurably } from '../durable-file.js';
import type { Logger } from '../logging/logger.js';
import { internalTopicCreation } from './internal-topics.js';
import { randomTopicId } from './topic-id.js';
import { isInternalTopic, topicCollisionKey, topicNameProblem } from './topic-names.js';
import { type CreateTopicOptions, TopicError, type TopicInfo, type TopicManager } from './types.js';

/** What the topic manager needs from the log layer (adapted from @gregor/storage's LogManager). */
export interface PartitionLogHost {
  hasLog(topic: string, partition: number): boolean;
  /** Creates the logs of these partitions of one topic (batched: see LogManager.createLogs). */
  ensureLogs(
    topic: string,
    partitions: readonly number[],
    configs: Readonly<Record<string, string>>,
  ): Promise<void>;
  deleteLog(topic: string, partition: number): Promise<void>;
  updateConfigs(
    topic: string,
    partitionCount: number,
    configs: Readonly<Record<string, string>>,
  ): Promise<void>;
}

/** Broker settings the topic manager reads each time (they may change at run time). */
export interface TopicDefaults {
  /** `num.partitions` for auto-created topics. */
  numPartitions: number;
  /** `auto.create.topics.enable`. */
  autoCreateTopicsEnable: boolean;
  /** `offsets.topic.num.partitions`. */
  offsetsTopicNumPartitions: number;
  /** `offsets.topic.segment.bytes`. */
  offsetsTopicSegmentBytes: number;
  /** `transaction.state.log.num.partitions`. */
  transactionStateLogNumPartitions: number;
  /** `transaction.state.log.segment.bytes`. */
  transactionStateLogSegmentBytes: number;
  /** `transaction.state.log.min.isr` (the topic's min.insync.replicas when replicated). */
  transactionStateLogMinIsr?: number;
}

export interface FileTopicManagerOptions {
  /** Directory holding `topics.json` (the first log dir, as Kafka's metadata.log.dir defaults). */
  metadataDir: string;
  logs: PartitionLogHost;
  clock: Clock;
  logger: Logger;
  defaults: () => TopicDefaults;
  random?: (size: number) => Buffer;
}

/** Partitions per topic, at most (a sanity bound on requests; Kafka has no fixed one). */
export const partitionCountMax = 100_000;
const metadataFileName = 'gregor-topics.json';
const metadataFormatVersion = 1;

interface TopicsDocument {
  version: number;
  topics: TopicInfo[];
}

export class FileTopicManager implements TopicManager {
  private readonly options: FileTopicManagerOptions;
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly creating = new Map<string, Promise<TopicInfo>>();
  /** Serialises document writes so they land in the order the changes were made. */
  private persistQueue: Promise<void> = Promise.resolve();

  private constructor(options: FileTopicManagerOptions) {
    this.options = options;
  }

  static async open(options: FileTopicManagerOptions): Promise<FileTopicManager> {
    const manager = new FileTopicManager(options);
    await mkdir(options.metadataDir, { recursive: true });
    const document = await readDocument(join(options.metadataDir, metadataFileName));
    for (const topic of document.topics) manager.index(topic);
    return manager;
  }

  /** Creates any partition log the document names but the log layer lacks (after a crash). */
  async reconcile(): Promise<void> {
    for (const topic of this.byName.values()) {
      const missing: number[] = [];
      for (let partition = 0; partition < topic.partitionCount; partition++) {
        if (this.options.logs.hasLog(topic.name, partition)) continue;
        this.options.logger.warn('recreating a missing partition log', {
          topic: topic.name,
          partition,
        });
        missing.push(partition);
      }
      if (missing.length > 0)
        await this.options.logs.ensureLogs(topic.name, missing, topic.configs);
    }
  }

  get(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicInfo[] {
    return [...this.byName.values()];
  }

  async create(options: CreateTopicOptions): Promise<TopicInfo> {
    const pending = this.creating.get(options.name);
    if (pending !== undefined) {
      await pending.catch(() => undefined);
    }
    const topic = this.prepare(options);
    if (options.validateOnly) return topic;
    const creation = this.commitCreate(topic);
    this.creating.set(topic.name, creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(topic.name);
    }
  }

  async getOrCreate(
    name: string,
    options: { autoCreate: boolean },
  ): Promise<TopicInfo | undefined> {
    // A topic is indexed before its logs exist (commitCreate): while its creation runs, callers
    // wait for it, so whoever gets the topic from here can use every partition's log.
    const pending = this.creating.get(name);
    if (pending !== undefined) return pending;
    const existing = this.byName.get(name);
    if (existing !== undefined) return existing;
    const defaults = this.options.defaults();
    const createOptions: CreateTopicOptions | undefined =
      internalTopicCreation(name, defaults) ??
      (options.autoCreate && defaults.autoCreateTopicsEnable
        ? { name, partitionCount: defaults.numPartitions }
        : undefined);
    if (createOptions === undefined) return undefined;
    try {
      return await this.create(createOptions);
    } catch (error) {
      // Lost a race with a concurrent create: the topic exists now.
      const raced = this.byName.get(name);
      if (raced !== undefined) return raced;
      throw error;
    }
  }

  async delete(name: string): Promise<void> {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);
    }
    this.unindex(topic);
    await this.persist();
    this.options.logger.info('topic deleted', { topic: name, topicId: topic.topicId });
    for (let partition = 0; partition < topic.partitionCount; partition++) {
      await this.options.logs.deleteLog(name, partition);
    }
  }

  async createPartitions(name: string, partitionCount: number): Promise<TopicInfo> {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);
    }
    if (partitionCount <= topic.partitionCount) {
      throw new TopicError(
        ErrorCode.INVALID_PARTITIONS,
        `topic "${name}" has ${topic.partitionCount} partitions; the new count ${partitionCount} must be larger`,
      );
    }
    checkPartitionCount(partitionCount);
    const grown: TopicInfo = { ...topic, partitionCount };
    this.replace(topic, grown);
    await this.persist();
    await this.options.logs.ensureLogs(
      name,
      partitionRange(topic.partitionCount, partitionCount),
      grown.configs,
    );
    this.options.logger.info('partitions added', {
      topic: name,
      partitionCountBefore: topic.partitionCount,
      partitionCount,
    });
    return grown;
  }

  async updateConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo> {
    const topic = this.byName.get(name);
    if (topic === undefined) {
      throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);
    }
    const updated: TopicInfo = { ...topic, configs: { ...configs } };
    this.replace(topic, updated);
    await this.persist();
    await this.options.logs.updateConfigs(name, updated.partitionCount, updated.configs);
    return updated;
  }

  private prepare(options: CreateTopicOptions): TopicInfo {
    const problem = topicNameProblem(options.name);
    if (problem !== undefined) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (this.byName.has(options.name)) {
      throw new TopicError(
        ErrorCode.TOPIC_ALREADY_EXISTS,
        `Topic '${options.name}' already exists.`,
      );
    }
    const collisionKey = topicCollisionKey(options.name);
    for (const existing of this.byName.values()) {
      if (topicCollisionKey(existing.name) === collisionKey) {
        throw new TopicError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `topic "${options.name}" collides with existing topic "${existing.name}" ('.' and '_' are equivalent in metric names)`,
        );
      }
    }
    checkPartitionCount(options.partitionCount);
    let topicId = randomTopicId(this.options.random);
    while (this.byId.has(topicId)) topicId = randomTopicId(this.options.random);
    return {
      name: options.name,
      topicId,
      partitionCount: options.partitionCount,
      internal: isInternalTopic(options.name),
      configs: { ...options.configs },
      createdAtMs: this.options.clock.wallMs(),
    };
  }

  private async commitCreate(topic: TopicInfo): Promise<TopicInfo> {
    this.index(topic);
    try {
      await this.persist();
    } catch (error) {
      this.unindex(topic);
      throw error;
    }
    await this.options.logs.ensureLogs(
      topic.name,
      partitionRange(0, topic.partitionCount),
      topic.configs,
    );
    this.options.logger.info('topic created', {
      topic: topic.name,
      topicId: topic.topicId,
      partitionCount: topic.partitionCount,
      configs: topic.configs,
    });
    return topic;
  }

  private index(topic: TopicInfo): void {
    this.byName.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private unindex(topic: TopicInfo): void {
    this.byName.delete(topic.name);
    this.byId.delete(topic.topicId);
  }

  private replace(previous: TopicInfo, next: TopicInfo): void {
    this.unindex(previous);
    this.index(next);
  }

  /**
   * Writes the document as it is when the write starts. Changes made while a write runs share
   * the next one: the topics of one CreateTopics request (created concurrently) cost one or two
   * document writes, not one per topic.
   */
  private persist(): Promise<void> {
    if (this.queuedPersist !== null) return this.queuedPersist;
    const write = this.persistQueue.then(() => {
      this.queuedPersist = null;
      const document: TopicsDocument = { version: metadataFormatVersion, topics: this.list() };
      return writeFileDurably(
        join(this.options.metadataDir, metadataFileName),
        `${JSON.stringify(document, null, 2)}\n`,
      );
    });
    this.queuedPersist = write;
    this.persistQueue = write.catch(() => undefined);
    return write;
  }

  /** A document write that has not started yet (later changes join it). */
  private queuedPersist: Promise<void> | null = null;
}

function partitionRange(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, index) => from + index);
}

function checkPartitionCount(partitionCount: number): void {
  if (
    !Number.isInteger(partitionCount) ||
    partitionCount < 1 ||
    partitionCount > partitionCountMax
  ) {
    throw new TopicError(
      ErrorCode.INVALID_PARTITIONS,
      `number of partitions must be between 1 and ${partitionCountMax}, got ${partitionCount}`,
    );
  }
}

async function readDocument(path: string): Promise<TopicsDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: metadataFormatVersion, topics: [] };
    }
    throw error;
  }
  const parsed = JSON.parse(text) as TopicsDocument;
  if (parsed.version !== metadataFormatVersion || !Array.isArray(parsed.topics)) {
    throw new Error(`${path}: unsupported topic metadata format version ${parsed.version}`);
  }
  return parsed;
}
