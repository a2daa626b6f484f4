/** Topic metadata the broker keeps (topics/ owns it; persisted in the data dir). */
export interface TopicInfo {
  name: string;
  /** Kafka's base64url uuid form (22 characters). */
  topicId: string;
  partitionCount: number;
  internal: boolean;
  /** Per-topic config overrides by Kafka name (`retention.ms` -> '86400000'). */
  configs: Readonly<Record<string, string>>;
  /** Wall ms of creation (informational). */
  createdAtMs: number;
}

export interface CreateTopicOptions {
  name: string;
  partitionCount: number;
  configs?: Readonly<Record<string, string>>;
  /** Validate only (CreateTopics validateOnly): checks everything, changes nothing. */
  validateOnly?: boolean;
}

/** Typed failure carrying the Kafka error code to answer with. */
export class TopicError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'TopicError';
    this.errorCode = errorCode;
  }
}

export interface TopicManager {
  get(name: string): TopicInfo | undefined;
  getById(topicId: string): TopicInfo | undefined;
  list(): TopicInfo[];
  /** Creates the topic and its partition logs. Throws TopicError (TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, ...). */
  create(options: CreateTopicOptions): Promise<TopicInfo>;
  /** Deletes the topic and its logs. Throws TopicError (UNKNOWN_TOPIC_OR_PARTITION). */
  delete(name: string): Promise<void>;
  /** Grows the partition count (never shrinks). Throws TopicError (INVALID_PARTITIONS). */
  createPartitions(name: string, partitionCount: number): Promise<TopicInfo>;
  /** Replaces the per-topic config overrides and applies them to the logs. */
  updateConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo>;
  /**
   * Returns the topic, creating it on demand when it is a known internal topic
   * (`__consumer_offsets`, `__transaction_state`) or when `autoCreate` is set and allowed by config.
   */
  getOrCreate(name: string, options: { autoCreate: boolean }): Promise<TopicInfo | undefined>;
}
