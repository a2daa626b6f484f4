/**
 * The topic configuration catalog (Kafka 3.9 names, types, defaults) with each config's broker
 * synonyms in precedence order: a topic without an override takes the first synonym set on the
 * broker, converted into the topic's unit (retention.ms <- log.retention.hours * 3600000).
 */
import { cleanupPolicies, compressionTypes, timestampTypes } from './broker-definitions.js';
import type { ConfigValue } from './config-types.js';
import { defineTopicConfig as define } from './define.js';
import { atLeast, between, listOf, mustBeFalse, oneOf, orSpecial } from './validators.js';
import { longMaxText } from './values.js';

const millisecondsPerMinute = 60_000;
const millisecondsPerHour = 3_600_000;

/** Kafka turns every negative retention into -1 ("forever"); hours and minutes are scaled first. */
function retentionFrom(unitMs: number): (value: ConfigValue) => ConfigValue {
  return (value) => {
    const scaled = (value as number) * unitMs;
    return scaled < 0 ? -1 : scaled;
  };
}

function scaledBy(unitMs: number): (value: ConfigValue) => ConfigValue {
  return (value) => (value as number) * unitMs;
}

export const topicConfigDefinitions = [
  define({
    name: 'cleanup.policy',
    type: 'list',
    default: 'delete',
    validator: listOf(cleanupPolicies),
    brokerSynonyms: ['log.cleanup.policy'],
    documentation: 'delete removes old segments; compact keeps the latest record per key; or both.',
  }),
  define({
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: oneOf(compressionTypes),
    brokerSynonyms: ['compression.type'],
    documentation: 'Compression of stored batches; producer keeps what the producer sent.',
  }),
  define({
    name: 'compression.gzip.level',
    type: 'int',
    default: '-1',
    validator: orSpecial(-1, between({ min: 1, max: 9 })),
    brokerSynonyms: ['compression.gzip.level'],
    documentation: 'gzip level when the broker recompresses (KIP-390).',
  }),
  define({
    name: 'compression.lz4.level',
    type: 'int',
    default: '9',
    validator: between({ min: 1, max: 17 }),
    brokerSynonyms: ['compression.lz4.level'],
    documentation: 'lz4 level when the broker recompresses (KIP-390).',
  }),
  define({
    name: 'compression.zstd.level',
    type: 'int',
    default: '3',
    validator: between({ min: -131072, max: 22 }),
    brokerSynonyms: ['compression.zstd.level'],
    documentation: 'zstd level when the broker recompresses (KIP-390).',
  }),
  define({
    name: 'delete.retention.ms',
    type: 'long',
    default: '86400000',
    validator: atLeast(0),
    brokerSynonyms: ['log.cleaner.delete.retention.ms'],
    documentation: 'How long tombstones stay in a compacted topic, in milliseconds.',
  }),
  define({
    name: 'file.delete.delay.ms',
    type: 'long',
    default: '60000',
    validator: atLeast(0),
    brokerSynonyms: ['log.segment.delete.delay.ms'],
    documentation: 'Delay before a deleted segment file is removed, in milliseconds.',
  }),
  define({
    name: 'flush.messages',
    type: 'long',
    default: longMaxText,
    validator: atLeast(1),
    brokerSynonyms: ['log.flush.interval.messages'],
    documentation: 'Records between fsyncs; 1 makes each acknowledged write durable on disk.',
  }),
  define({
    name: 'flush.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    brokerSynonyms: ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
    documentation: 'Most time a record waits in memory before an fsync, in milliseconds.',
  }),
  define({
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    default: '',
    ignored: true,
    brokerSynonyms: [],
    documentation: 'Replicas throttled on the follower side; accepted for compatibility.',
  }),
  define({
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    default: '',
    ignored: true,
    brokerSynonyms: [],
    documentation: 'Replicas throttled on the leader side; accepted for compatibility.',
  }),
  define({
    name: 'index.interval.bytes',
    type: 'int',
    default: '4096',
    validator: atLeast(0),
    brokerSynonyms: ['log.index.interval.bytes'],
    documentation: 'Log bytes between two offset index entries.',
  }),
  define({
    name: 'local.retention.bytes',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    ignored: true,
    brokerSynonyms: ['log.local.retention.bytes'],
    documentation: 'Tiered storage local retention; accepted for compatibility.',
  }),
  define({
    name: 'local.retention.ms',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    ignored: true,
    brokerSynonyms: ['log.local.retention.ms'],
    documentation: 'Tiered storage local retention; accepted for compatibility.',
  }),
  define({
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(1),
    brokerSynonyms: ['log.cleaner.max.compaction.lag.ms'],
    documentation: 'Age after which a record is compacted whatever the dirty ratio.',
  }),
  define({
    name: 'max.message.bytes',
    type: 'int',
    default: '1048588',
    validator: atLeast(0),
    brokerSynonyms: ['message.max.bytes'],
    documentation: 'Largest record batch accepted, in bytes (after compression).',
  }),
  define({
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: 'true',
    brokerSynonyms: ['log.message.downconversion.enable'],
    documentation: 'Down-convert batches for old fetch versions.',
  }),
  define({
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    brokerSynonyms: ['log.message.timestamp.after.max.ms'],
    documentation: 'How far in the future a CreateTime timestamp may be (KIP-937).',
  }),
  define({
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    brokerSynonyms: ['log.message.timestamp.before.max.ms'],
    documentation: 'How far in the past a CreateTime timestamp may be (KIP-937).',
  }),
  define({
    name: 'message.timestamp.difference.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    brokerSynonyms: ['log.message.timestamp.difference.max.ms'],
    documentation: 'Largest distance between a CreateTime timestamp and the broker clock.',
  }),
  define({
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: oneOf(timestampTypes),
    brokerSynonyms: ['log.message.timestamp.type'],
    documentation: 'CreateTime keeps the producer timestamp; LogAppendTime stamps the append time.',
  }),
  define({
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: '0.5',
    validator: between({ min: 0, max: 1 }),
    brokerSynonyms: ['log.cleaner.min.cleanable.ratio'],
    documentation: 'Dirty share of the log above which it is compacted.',
  }),
  define({
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: '0',
    validator: atLeast(0),
    brokerSynonyms: ['log.cleaner.min.compaction.lag.ms'],
    documentation: 'Youngest record age eligible for compaction, in milliseconds.',
  }),
  define({
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    brokerSynonyms: ['min.insync.replicas'],
    documentation: 'Replicas that must have a record before acks=all succeeds.',
  }),
  define({
    name: 'preallocate',
    type: 'boolean',
    default: 'false',
    brokerSynonyms: ['log.preallocate'],
    documentation: 'Preallocate segment files.',
  }),
  define({
    name: 'remote.storage.enable',
    type: 'boolean',
    default: 'false',
    validator: mustBeFalse('tiered storage'),
    brokerSynonyms: [],
    documentation: 'Tiered storage; not supported.',
  }),
  define({
    name: 'retention.bytes',
    type: 'long',
    default: '-1',
    validator: atLeast(-1),
    brokerSynonyms: ['log.retention.bytes'],
    documentation: 'Partition size above which old segments are deleted, in bytes; -1 = no limit.',
  }),
  define({
    name: 'retention.ms',
    type: 'long',
    default: '604800000',
    validator: atLeast(-1),
    brokerSynonyms: [
      { name: 'log.retention.ms', convert: retentionFrom(1) },
      { name: 'log.retention.minutes', convert: retentionFrom(millisecondsPerMinute) },
      { name: 'log.retention.hours', convert: retentionFrom(millisecondsPerHour) },
    ],
    documentation: 'How long records are kept, in milliseconds; -1 keeps them forever.',
  }),
  define({
    name: 'segment.bytes',
    type: 'int',
    default: '1073741824',
    validator: atLeast(14),
    brokerSynonyms: ['log.segment.bytes'],
    documentation: 'Segment size at which a new segment is rolled, in bytes.',
  }),
  define({
    name: 'segment.index.bytes',
    type: 'int',
    default: '10485760',
    validator: atLeast(4),
    brokerSynonyms: ['log.index.size.max.bytes'],
    documentation: 'Size of the offset and time index of a segment, in bytes.',
  }),
  define({
    name: 'segment.jitter.ms',
    type: 'long',
    default: '0',
    validator: atLeast(0),
    brokerSynonyms: [
      'log.roll.jitter.ms',
      { name: 'log.roll.jitter.hours', convert: scaledBy(millisecondsPerHour) },
    ],
    documentation: 'Random amount subtracted from segment.ms, in milliseconds.',
  }),
  define({
    name: 'segment.ms',
    type: 'long',
    default: '604800000',
    validator: atLeast(1),
    brokerSynonyms: [
      'log.roll.ms',
      { name: 'log.roll.hours', convert: scaledBy(millisecondsPerHour) },
    ],
    documentation: 'Age at which a segment is rolled even if not full, in milliseconds.',
  }),
  define({
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: 'false',
    brokerSynonyms: ['unclean.leader.election.enable'],
    documentation: 'Let an out-of-sync replica become leader (may lose records).',
  }),
] as const;

export type TopicConfigDefinitions = (typeof topicConfigDefinitions)[number];
export type TopicConfigName = TopicConfigDefinitions['name'];

const topicDefinitionsByName = new Map<string, TopicConfigDefinitions>(
  topicConfigDefinitions.map((definition) => [definition.name, definition]),
);

export function topicConfigDefinition(name: string): TopicConfigDefinitions | undefined {
  return topicDefinitionsByName.get(name);
}
