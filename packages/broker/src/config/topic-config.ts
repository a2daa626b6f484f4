/**
 * Effective topic configuration: a topic's own overrides (DYNAMIC_TOPIC_CONFIG) over its broker
 * synonyms (each at its dynamic, static or default level), over the topic default. Also checks
 * overrides for CreateTopics / AlterConfigs and turns the result into storage's LogConfig.
 */
import type { LogConfig } from '@gregor/storage';
import type { BrokerConfig } from './broker-config.js';
import { brokerConfigDefinition } from './broker-definitions.js';
import type { ConfigProblem } from './config-error.js';
import {
  ConfigSource,
  type ConfigSourceCode,
  type ConfigValue,
  type ConfigValueByType,
} from './config-types.js';
import {
  type TopicConfigDefinitions,
  type TopicConfigName,
  topicConfigDefinition,
  topicConfigDefinitions,
} from './topic-definitions.js';
import { parseConfigText } from './values.js';

/** One level that supplies a value, as DescribeConfigs reports synonyms. */
export interface ConfigSynonymValue {
  readonly name: string;
  readonly text: string | null;
  readonly source: ConfigSourceCode;
}

export interface TopicConfigEntry {
  readonly definition: TopicConfigDefinitions;
  readonly value: ConfigValue;
  /** Effective value as text in the topic config's unit (retention.ms even when set in hours). */
  readonly text: string;
  readonly source: ConfigSourceCode;
  /** Every level that supplies a value, highest precedence first (DescribeConfigs synonyms). */
  readonly synonyms: readonly ConfigSynonymValue[];
}

export type TopicConfigValue<K extends TopicConfigName> = ConfigValueByType[Extract<
  TopicConfigDefinitions,
  { name: K }
>['type']];

export class ResolvedTopicConfig {
  readonly entries: ReadonlyMap<string, TopicConfigEntry>;
  /** Overrides that no longer parse (e.g. written by an older version); they are not applied. */
  readonly invalidOverrides: readonly ConfigProblem[];

  constructor(entries: ReadonlyMap<string, TopicConfigEntry>, invalidOverrides: ConfigProblem[]) {
    this.entries = entries;
    this.invalidOverrides = invalidOverrides;
  }

  get<K extends TopicConfigName>(name: K): TopicConfigValue<K> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`unknown topic config ${name}`);
    return entry.value as TopicConfigValue<K>;
  }
}

export type TopicConfigOverrides = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

function overrideEntries(overrides: TopicConfigOverrides): [string, string][] {
  return overrides instanceof Map ? [...overrides] : Object.entries(overrides);
}

/** The effective configuration of a topic with these overrides on this broker. */
export function resolveTopicConfig(
  brokerConfig: BrokerConfig,
  overrides: TopicConfigOverrides = {},
): ResolvedTopicConfig {
  const invalid: ConfigProblem[] = [];
  const parsedOverrides = new Map<string, { value: ConfigValue; text: string }>();
  for (const [name, text] of overrideEntries(overrides)) {
    const definition = topicConfigDefinition(name);
    if (definition === undefined) {
      invalid.push({ name, value: text, reason: 'unknown topic configuration' });
      continue;
    }
    const parsed = parseConfigText(definition, text);
    if (parsed.ok) parsedOverrides.set(name, parsed);
    else invalid.push({ name, value: text, reason: parsed.reason });
  }
  const entries = new Map<string, TopicConfigEntry>();
  for (const definition of topicConfigDefinitions) {
    entries.set(
      definition.name,
      resolveEntry(brokerConfig, definition, parsedOverrides.get(definition.name)),
    );
  }
  return new ResolvedTopicConfig(entries, invalid);
}

function resolveEntry(
  brokerConfig: BrokerConfig,
  definition: TopicConfigDefinitions,
  override: { value: ConfigValue; text: string } | undefined,
): TopicConfigEntry {
  const synonyms: ConfigSynonymValue[] = [];
  let winner: { value: ConfigValue; text: string; source: ConfigSourceCode } | undefined;
  if (override !== undefined) {
    synonyms.push({
      name: definition.name,
      text: override.text,
      source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    });
    winner = { ...override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG };
  }
  for (const synonym of definition.brokerSynonyms) {
    const brokerDefinition = brokerConfigDefinition(synonym.name);
    if (brokerDefinition === undefined) throw new Error(`unknown broker synonym ${synonym.name}`);
    for (const level of brokerConfig.settingsOf(synonym.name)) {
      synonyms.push({ name: synonym.name, text: level.text, source: level.source });
      if (winner !== undefined || level.text === null) continue;
      const parsed = parseConfigText(brokerDefinition, level.text);
      if (!parsed.ok) continue;
      const value = synonym.convert ? synonym.convert(parsed.value) : parsed.value;
      winner = {
        value,
        text: valueText(value, parsed.text, synonym.convert !== undefined),
        source: level.source,
      };
    }
  }
  if (winner === undefined) {
    const parsed = parseConfigText(definition, definition.defaultText ?? '');
    if (!parsed.ok) throw new Error(`topic config ${definition.name} has no usable default`);
    winner = { value: parsed.value, text: parsed.text, source: ConfigSource.DEFAULT_CONFIG };
  }
  return { definition, value: winner.value, text: winner.text, source: winner.source, synonyms };
}

function valueText(value: ConfigValue, text: string, converted: boolean): string {
  if (!converted) return text;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Checks topic config overrides as CreateTopics / AlterConfigs receive them: every name must be a
 * topic config, every value must parse and pass its validator. A null value is reported as invalid
 * (Kafka: "Null value not supported for topic configs").
 */
export function checkTopicConfigOverrides(
  overrides: Iterable<readonly [string, string | null]>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, text] of overrides) {
    const definition = topicConfigDefinition(name);
    if (definition === undefined) {
      problems.push({ name, value: text, reason: 'unknown topic configuration' });
    } else if (text === null) {
      problems.push({
        name,
        value: null,
        reason: 'a null value is not supported for topic configurations',
      });
    } else {
      const parsed = parseConfigText(definition, text);
      if (!parsed.ok) problems.push({ name, value: text, reason: parsed.reason });
    }
  }
  return problems;
}

/** Canonical text of a valid override (what gets persisted): '  true ' -> 'true'. */
export function canonicalTopicConfigText(name: string, text: string): string {
  const definition = topicConfigDefinition(name);
  if (definition === undefined) return text;
  const parsed = parseConfigText(definition, text);
  return parsed.ok ? parsed.text : text;
}

/** Storage's view of a topic's configuration. */
export function toLogConfig(resolved: ResolvedTopicConfig): LogConfig {
  const policies = resolved.get('cleanup.policy');
  const compact = policies.includes('compact');
  const remove = policies.includes('delete') || policies.length === 0;
  return {
    segmentBytes: resolved.get('segment.bytes'),
    segmentMs: clampToSafeInteger(resolved.get('segment.ms')),
    segmentIndexBytes: resolved.get('segment.index.bytes'),
    indexIntervalBytes: resolved.get('index.interval.bytes'),
    retentionMs: clampToSafeInteger(resolved.get('retention.ms')),
    retentionBytes: clampToSafeInteger(resolved.get('retention.bytes')),
    cleanupPolicy: compact && remove ? 'compact,delete' : compact ? 'compact' : 'delete',
    deleteRetentionMs: clampToSafeInteger(resolved.get('delete.retention.ms')),
    minCompactionLagMs: clampToSafeInteger(resolved.get('min.compaction.lag.ms')),
    maxCompactionLagMs: clampToSafeInteger(resolved.get('max.compaction.lag.ms')),
    minCleanableDirtyRatio: resolved.get('min.cleanable.dirty.ratio'),
    fileDeleteDelayMs: clampToSafeInteger(resolved.get('file.delete.delay.ms')),
    messageTimestampType:
      resolved.get('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    maxMessageBytes: resolved.get('max.message.bytes'),
    flushMessages: clampToSafeInteger(resolved.get('flush.messages')),
    flushMs: clampToSafeInteger(resolved.get('flush.ms')),
  };
}

/** Long.MAX_VALUE ("no limit") as a JS number: 2^63 - 1 rounds to 2^63. */
const longMaxValue = 2 ** 63;

/**
 * How far in the past / future a CreateTime timestamp may be on this topic:
 * message.timestamp.before/after.max.ms, each falling back to the deprecated
 * message.timestamp.difference.max.ms while it is left at "no limit" (KIP-937, Kafka 3.6+ LogConfig).
 * Both come from the topic's effective config, so a broker synonym of `before` beats a topic
 * override of `difference`, as in Kafka.
 */
export function timestampBoundsMs(resolved: ResolvedTopicConfig): {
  beforeMsMax: number;
  afterMsMax: number;
} {
  const difference = resolved.get('message.timestamp.difference.max.ms');
  const before = resolved.get('message.timestamp.before.max.ms');
  const after = resolved.get('message.timestamp.after.max.ms');
  return {
    beforeMsMax: before >= longMaxValue ? difference : before,
    afterMsMax: after >= longMaxValue ? difference : after,
  };
}

/** Long.MAX_VALUE ("never") becomes Number.MAX_SAFE_INTEGER, which storage treats the same. */
function clampToSafeInteger(value: number): number {
  return Math.min(value, Number.MAX_SAFE_INTEGER);
}

/** Shorthand: the LogConfig of a topic with these overrides on this broker. */
export function logConfigFor(
  brokerConfig: BrokerConfig,
  overrides: TopicConfigOverrides = {},
): LogConfig {
  return toLogConfig(resolveTopicConfig(brokerConfig, overrides));
}
