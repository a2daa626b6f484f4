/**
 * The broker configuration catalog: Kafka's names, types and defaults (Kafka 3.9), with
 * Gregor's own descriptions. Configs marked `ignored` are accepted so that a Kafka
 * server.properties loads unchanged, but have no effect on a single-process broker.
 * Where Gregor's default differs from Kafka's, the description says so. A config is dynamic
 * (`updateMode`) only where Gregor applies a change live: the defaults of topic configs (pushed to
 * every log) and the settings the network layer re-reads; everything else is read-only here even
 * when Kafka can change it at run time.
 */
import type { ConfigValidator, ConfigValueByType } from './config-types.js';
import { defineBrokerConfig as define } from './define.js';
import { listenerListValidator, securityProtocolMapValidator } from './listeners.js';
import { perAddressOverridesValidator } from './per-address-overrides.js';
import {
  atLeast,
  between,
  listOf,
  mustBeFalse,
  nonEmptyList,
  nonEmptyString,
  oneOf,
  orSpecial,
} from './validators.js';
import { intMax, longMaxText } from './values.js';

const doubleMaxText = '1.7976931348623157E308';
export const compressionTypes = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];
export const cleanupPolicies = ['compact', 'delete'];
export const timestampTypes = ['CreateTime', 'LogAppendTime'];

function rebalanceProtocolsValidator(): ConfigValidator {
  const inner = listOf(['classic', 'consumer'], { allowEmpty: false });
  const allowed = `${inner.allowed}, including classic`;
  return {
    allowed,
    check(value) {
      const complaint = inner.check(value);
      if (complaint !== undefined) return complaint;
      return Array.isArray(value) && value.includes('classic') ? undefined : allowed;
    },
  };
}

export const brokerConfigDefinitions = [
  // Identity and network.
  define({
    name: 'node.id',
    type: 'int',
    default: '1',
    validator: atLeast(0),
    documentation:
      'Id of this node in the cluster. Gregor defaults to 1 (Kafka requires it to be set).',
  }),
  define({
    name: 'broker.id',
    type: 'int',
    default: '-1',
    validator: atLeast(-1),
    documentation: 'Older name of node.id; when set it must agree with node.id.',
  }),
  define({
    name: 'broker.rack',
    type: 'string',
    default: null,
    documentation: 'Rack (or zone) of this broker, reported in metadata.',
  }),
  define({
    name: 'broker.session.timeout.ms',
    type: 'int',
    default: '3000',
    validator: atLeast(1000),
    documentation:
      'Cluster mode: TTL of the etcd leases of the broker registration and controller campaign; a dead broker or controller is replaced after about this long (Kafka: 9000; etcd raises it to its own minimum).',
  }),
  define({
    name: 'process.roles',
    type: 'list',
    default: 'broker,controller',
    validator: listOf(['broker', 'controller']),
    ignored: true,
    documentation: 'KRaft roles. A Gregor node always acts as both broker and controller.',
  }),
  define({
    name: 'listeners',
    type: 'list',
    default: 'PLAINTEXT://:9092',
    validator: listenerListValidator(),
    documentation:
      'Addresses to listen on, as NAME://host:port. An empty host listens on every interface; port 0 picks a free port.',
  }),
  define({
    name: 'advertised.listeners',
    type: 'list',
    default: null,
    validator: listenerListValidator(),
    documentation:
      'Addresses given to clients in metadata when they differ from listeners. When unset, listeners are advertised, with an empty host advertised as localhost.',
  }),
  define({
    name: 'listener.security.protocol.map',
    type: 'list',
    default:
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    validator: securityProtocolMapValidator(),
    documentation:
      'Security protocol of each listener name. Gregor serves PLAINTEXT listeners only and refuses to start with others.',
  }),
  define({
    name: 'controller.listener.names',
    type: 'list',
    default: null,
    documentation: 'Listener names used by KRaft controllers; Gregor does not open them.',
  }),
  define({
    name: 'inter.broker.listener.name',
    type: 'string',
    default: null,
    ignored: true,
    documentation: 'Listener used between brokers.',
  }),
  define({
    name: 'security.inter.broker.protocol',
    type: 'string',
    default: 'PLAINTEXT',
    ignored: true,
    validator: oneOf(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']),
    documentation: 'Protocol used between brokers.',
  }),
  define({
    name: 'controller.quorum.voters',
    type: 'list',
    default: '',
    ignored: true,
    documentation: 'KRaft voter set; accepted for compatibility.',
  }),
  define({
    name: 'controller.quorum.bootstrap.servers',
    type: 'list',
    default: '',
    ignored: true,
    documentation: 'KRaft bootstrap servers; accepted for compatibility.',
  }),
  define({
    name: 'zookeeper.connect',
    type: 'string',
    default: null,
    ignored: true,
    documentation: 'ZooKeeper address of older Kafka versions; Gregor keeps metadata itself.',
  }),
  define({
    name: 'num.network.threads',
    type: 'int',
    default: '3',
    validator: atLeast(1),
    ignored: true,
    documentation: 'Network threads. Gregor serves every connection on the Node.js event loop.',
  }),
  define({
    name: 'num.io.threads',
    type: 'int',
    default: '8',
    validator: atLeast(1),
    ignored: true,
    documentation: 'Request handler threads. Gregor uses asynchronous I/O instead.',
  }),
  define({
    name: 'background.threads',
    type: 'int',
    default: '10',
    validator: atLeast(1),
    ignored: true,
    documentation: 'Background task threads.',
  }),
  define({
    name: 'num.replica.fetchers',
    type: 'int',
    default: '1',
    ignored: true,
    documentation: 'Replica fetcher threads.',
  }),
  define({
    name: 'socket.send.buffer.bytes',
    type: 'int',
    default: '102400',
    ignored: true,
    documentation: 'SO_SNDBUF of client sockets; -1 keeps the operating system default.',
  }),
  define({
    name: 'socket.receive.buffer.bytes',
    type: 'int',
    default: '102400',
    ignored: true,
    documentation: 'SO_RCVBUF of client sockets; -1 keeps the operating system default.',
  }),
  define({
    name: 'socket.request.max.bytes',
    type: 'int',
    default: '104857600',
    validator: atLeast(1),
    documentation:
      'Largest request frame accepted, in bytes; larger frames close the connection before being buffered.',
  }),
  define({
    name: 'socket.listen.backlog.size',
    type: 'int',
    // Kafka's 50 suits its dedicated acceptor thread; here accepts share the event loop with
    // requests, and a queue of 50 overflowed in a reconnect storm (each dropped handshake costs
    // the client a 1 s, 3 s, 7 s... SYN retransmission). The kernel caps it at net.core.somaxconn.
    default: '4096',
    validator: atLeast(1),
    documentation:
      'Pending-connection queue length of each listening socket (capped by net.core.somaxconn).',
  }),
  define({
    name: 'queued.max.requests',
    type: 'int',
    default: '500',
    validator: atLeast(1),
    ignored: true,
    documentation: 'Requests read ahead per connection before reading pauses.',
  }),
  define({
    name: 'connections.max.idle.ms',
    type: 'long',
    default: '600000',
    documentation: 'Connections idle for longer than this are closed, in milliseconds.',
  }),
  define({
    name: 'max.connections',
    type: 'int',
    default: String(intMax),
    validator: atLeast(0),
    documentation: 'Most client connections accepted at once.',
  }),
  define({
    name: 'max.connections.per.ip',
    type: 'int',
    default: String(intMax),
    validator: atLeast(0),
    documentation:
      'Most client connections accepted at once from one IP address; more are closed on accept.',
  }),
  define({
    name: 'max.connections.per.ip.overrides',
    type: 'string',
    default: '',
    validator: perAddressOverridesValidator(),
    documentation:
      'Per-address exceptions to max.connections.per.ip, as IP:COUNT pairs separated by commas.',
  }),
  define({
    name: 'message.max.bytes',
    type: 'int',
    default: '1048588',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Largest record batch a topic accepts, in bytes (default of max.message.bytes).',
  }),
  define({
    name: 'fetch.max.bytes',
    type: 'int',
    default: '57671680',
    validator: atLeast(1024),
    documentation: 'Largest fetch response, in bytes, whatever the client asks for.',
  }),
  define({
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: '30000',
    validator: atLeast(1),
    documentation:
      'A follower that has not caught up with the leader for this long leaves the ISR (checked every half of it).',
  }),
  define({
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: '1048576',
    validator: atLeast(0),
    documentation:
      'Bytes a follower asks per partition in one fetch (a larger first batch still comes whole).',
  }),
  define({
    name: 'replica.fetch.response.max.bytes',
    type: 'int',
    default: '10485760',
    validator: atLeast(0),
    documentation: 'Bytes a follower asks for in one fetch response over all partitions.',
  }),
  define({
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: '500',
    validator: atLeast(0),
    documentation:
      'How long the leader holds a follower fetch that has no data yet (keep below replica.lag.time.max.ms).',
  }),
  define({
    name: 'replica.fetch.min.bytes',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    documentation: 'Bytes a follower fetch waits for before the leader answers.',
  }),
  define({
    name: 'replica.fetch.backoff.ms',
    type: 'int',
    default: '1000',
    validator: atLeast(0),
    documentation: 'How long a follower waits after a failed fetch before it retries.',
  }),
  define({
    name: 'replica.socket.timeout.ms',
    type: 'int',
    default: '30000',
    validator: atLeast(1),
    documentation:
      "A follower's connect and request deadline towards its leader (beyond the fetch wait).",
  }),
  define({
    name: 'replica.high.watermark.checkpoint.interval.ms',
    type: 'long',
    default: '5000',
    validator: atLeast(1),
    documentation:
      "How often every log dir's replication-offset-checkpoint (the high watermarks) is written; also at clean stop.",
  }),

  // Topics.
  define({
    name: 'num.partitions',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    documentation: 'Partitions of a topic created without a partition count (or auto-created).',
  }),
  define({
    name: 'default.replication.factor',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    documentation: 'Replication factor of a topic created without one (or auto-created).',
  }),
  define({
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: 'true',
    documentation:
      'Create a topic when a client asks for metadata of, or produces to, a missing one.',
  }),
  define({
    name: 'delete.topic.enable',
    type: 'boolean',
    default: 'true',
    documentation: 'Allow DeleteTopics; when false, deletions fail with TOPIC_DELETION_DISABLED.',
  }),
  define({
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    updateMode: 'cluster-wide',
    documentation: 'Replicas that must have a record before acks=all succeeds.',
  }),
  define({
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: 'false',
    updateMode: 'cluster-wide',
    documentation: 'Let an out-of-sync replica become leader (may lose records).',
  }),
  define({
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: oneOf(compressionTypes),
    updateMode: 'cluster-wide',
    documentation:
      'Compression of stored batches; producer keeps what the producer sent (default of the topic config).',
  }),
  define({
    name: 'compression.gzip.level',
    type: 'int',
    default: '-1',
    validator: orSpecial(-1, between({ min: 1, max: 9 })),
    updateMode: 'cluster-wide',
    documentation: 'gzip level when the broker compresses (KIP-390).',
  }),
  define({
    name: 'compression.lz4.level',
    type: 'int',
    default: '9',
    validator: between({ min: 1, max: 17 }),
    updateMode: 'cluster-wide',
    documentation: 'lz4 level when the broker compresses (KIP-390).',
  }),
  define({
    name: 'compression.zstd.level',
    type: 'int',
    default: '3',
    validator: between({ min: -131072, max: 22 }),
    updateMode: 'cluster-wide',
    documentation: 'zstd level when the broker compresses (KIP-390).',
  }),

  // Log storage.
  define({
    name: 'log.dirs',
    type: 'list',
    default: null,
    validator: nonEmptyList(),
    documentation: 'Directories holding partition data; when unset, log.dir is used.',
  }),
  define({
    name: 'log.dir',
    type: 'string',
    default: './data',
    validator: nonEmptyString(),
    documentation:
      'Directory holding partition data when log.dirs is unset. Gregor defaults to ./data (Kafka: /tmp/kafka-logs).',
  }),
  define({
    name: 'num.recovery.threads.per.data.dir',
    type: 'int',
    default: '2',
    validator: atLeast(1),
    documentation:
      'Bounds the partition logs loaded at start-up and flushed at stop in parallel per directory (Kafka 4 default).',
  }),
  define({
    name: 'log.segment.file.handles.max',
    type: 'int',
    default: '1024',
    validator: atLeast(1),
    documentation:
      'Gregor only: segment file descriptors kept open while idle (least recently used ones are closed and reopened on demand), so the descriptors a broker needs do not grow with its segments. Kafka keeps every segment open.',
  }),
  define({
    name: 'log.segment.bytes',
    type: 'int',
    default: '1073741824',
    validator: atLeast(14),
    updateMode: 'cluster-wide',
    documentation: 'Segment size at which a new segment is rolled, in bytes.',
  }),
  define({
    name: 'log.roll.hours',
    type: 'int',
    default: '168',
    validator: atLeast(1),
    updateMode: 'cluster-wide',
    documentation: 'Age at which a segment is rolled, in hours (log.roll.ms wins when set).',
  }),
  define({
    name: 'log.roll.ms',
    type: 'long',
    default: null,
    validator: atLeast(1),
    updateMode: 'cluster-wide',
    documentation: 'Age at which a segment is rolled, in milliseconds.',
  }),
  define({
    name: 'log.roll.jitter.hours',
    type: 'int',
    default: '0',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Random amount subtracted from the roll age, in hours.',
  }),
  define({
    name: 'log.roll.jitter.ms',
    type: 'long',
    default: null,
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Random amount subtracted from the roll age, in milliseconds.',
  }),
  define({
    name: 'log.retention.hours',
    type: 'int',
    default: '168',
    validator: atLeast(-1),
    updateMode: 'cluster-wide',
    documentation:
      'How long records are kept, in hours; log.retention.minutes and log.retention.ms win when set. -1 keeps records forever.',
  }),
  define({
    name: 'log.retention.minutes',
    type: 'int',
    default: null,
    validator: atLeast(-1),
    updateMode: 'cluster-wide',
    documentation: 'How long records are kept, in minutes; log.retention.ms wins when set.',
  }),
  define({
    name: 'log.retention.ms',
    type: 'long',
    default: null,
    validator: atLeast(-1),
    updateMode: 'cluster-wide',
    documentation: 'How long records are kept, in milliseconds. -1 keeps records forever.',
  }),
  define({
    name: 'log.retention.bytes',
    type: 'long',
    default: '-1',
    validator: atLeast(-1),
    updateMode: 'cluster-wide',
    documentation: 'Size of a partition above which old segments are deleted; -1 = no limit.',
  }),
  define({
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: '300000',
    validator: atLeast(1),
    documentation: 'How often retention is enforced, in milliseconds.',
  }),
  define({
    name: 'log.local.retention.ms',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    updateMode: 'cluster-wide',
    documentation:
      'Tiered storage local retention; accepted for compatibility (-2 = retention.ms).',
  }),
  define({
    name: 'log.local.retention.bytes',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    updateMode: 'cluster-wide',
    documentation:
      'Tiered storage local retention; accepted for compatibility (-2 = retention.bytes).',
  }),
  define({
    name: 'remote.log.storage.system.enable',
    type: 'boolean',
    default: 'false',
    validator: mustBeFalse('tiered storage'),
    ignored: true,
    documentation: 'Tiered storage; not supported.',
  }),
  define({
    name: 'log.index.size.max.bytes',
    type: 'int',
    default: '10485760',
    validator: atLeast(4),
    updateMode: 'cluster-wide',
    documentation: 'Size of the offset and time index files of a segment, in bytes.',
  }),
  define({
    name: 'log.index.interval.bytes',
    type: 'int',
    default: '4096',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Log bytes between two offset index entries.',
  }),
  define({
    name: 'log.cleanup.policy',
    type: 'list',
    default: 'delete',
    validator: listOf(cleanupPolicies),
    updateMode: 'cluster-wide',
    documentation: 'What happens to old segments: delete, compact, or both.',
  }),
  define({
    name: 'log.segment.delete.delay.ms',
    type: 'long',
    default: '60000',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Delay before a deleted segment is removed from disk, in milliseconds.',
  }),
  define({
    name: 'log.preallocate',
    type: 'boolean',
    default: 'false',
    updateMode: 'cluster-wide',
    documentation: 'Preallocate segment files.',
  }),
  define({
    name: 'log.message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: oneOf(timestampTypes),
    updateMode: 'cluster-wide',
    documentation: 'Timestamp stored with records: the producer one or the append time.',
  }),
  define({
    name: 'log.message.timestamp.difference.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation:
      'Largest allowed distance between a CreateTime timestamp and the broker clock (deprecated in favour of the before/after pair).',
  }),
  define({
    name: 'log.message.timestamp.before.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'How far in the past a CreateTime timestamp may be (KIP-937).',
  }),
  define({
    name: 'log.message.timestamp.after.max.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'How far in the future a CreateTime timestamp may be (KIP-937).',
  }),
  define({
    name: 'log.message.downconversion.enable',
    type: 'boolean',
    default: 'true',
    updateMode: 'cluster-wide',
    documentation: 'Down-convert batches for old fetch versions.',
  }),
  define({
    name: 'log.flush.interval.messages',
    type: 'long',
    default: longMaxText,
    validator: atLeast(1),
    updateMode: 'cluster-wide',
    documentation:
      'Records appended to a partition between two fsyncs; 1 makes every acknowledged write durable on disk.',
  }),
  define({
    name: 'log.flush.interval.ms',
    type: 'long',
    default: null,
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation:
      'Most time a record waits in memory before an fsync; unset uses log.flush.scheduler.interval.ms.',
  }),
  define({
    name: 'log.flush.scheduler.interval.ms',
    type: 'long',
    default: longMaxText,
    documentation: 'How often partitions are checked for a due time-based flush.',
  }),
  define({
    name: 'log.flush.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(0),
    ignored: true,
    documentation: 'How often the recovery-point checkpoint is written.',
  }),
  define({
    name: 'log.flush.start.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(0),
    ignored: true,
    documentation: 'How often the log-start-offset checkpoint is written.',
  }),
  define({
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: 'true',
    documentation: 'Run the log cleaner (needed for compacted topics).',
  }),
  define({
    name: 'log.cleaner.threads',
    type: 'int',
    default: '1',
    validator: atLeast(0),
    ignored: true,
    documentation: 'Partitions compacted in parallel.',
  }),
  define({
    name: 'log.cleaner.dedupe.buffer.size',
    type: 'long',
    default: '134217728',
    ignored: true,
    documentation: 'Memory for the key-to-offset map of compaction, in bytes.',
  }),
  define({
    name: 'log.cleaner.io.buffer.size',
    type: 'int',
    default: '524288',
    validator: atLeast(0),
    ignored: true,
    documentation: 'I/O buffer of the cleaner, in bytes.',
  }),
  define({
    name: 'log.cleaner.io.buffer.load.factor',
    type: 'double',
    default: '0.9',
    ignored: true,
    documentation: 'Load factor of the dedupe map.',
  }),
  define({
    name: 'log.cleaner.io.max.bytes.per.second',
    type: 'double',
    default: doubleMaxText,
    documentation: 'Cleaner read plus write rate limit, in bytes per second.',
  }),
  define({
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: '15000',
    validator: atLeast(0),
    documentation: 'Sleep of the cleaner when nothing needs cleaning, in milliseconds.',
  }),
  define({
    name: 'log.cleaner.min.cleanable.ratio',
    type: 'double',
    default: '0.5',
    validator: between({ min: 0, max: 1 }),
    updateMode: 'cluster-wide',
    documentation: 'Dirty share of a log above which it is compacted.',
  }),
  define({
    name: 'log.cleaner.delete.retention.ms',
    type: 'long',
    default: '86400000',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'How long tombstones stay in compacted topics, in milliseconds.',
  }),
  define({
    name: 'log.cleaner.min.compaction.lag.ms',
    type: 'long',
    default: '0',
    validator: atLeast(0),
    updateMode: 'cluster-wide',
    documentation: 'Youngest record age eligible for compaction, in milliseconds.',
  }),
  define({
    name: 'log.cleaner.max.compaction.lag.ms',
    type: 'long',
    default: longMaxText,
    validator: atLeast(1),
    updateMode: 'cluster-wide',
    documentation:
      'Age after which a record is compacted whatever the dirty ratio, in milliseconds.',
  }),

  // Consumer groups and offsets.
  define({
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: '50',
    validator: atLeast(1),
    documentation: 'Partitions of __consumer_offsets (fixed once the topic exists).',
  }),
  define({
    name: 'offsets.topic.replication.factor',
    type: 'short',
    default: '3',
    validator: atLeast(1),
    documentation:
      'Replication factor of __consumer_offsets; capped at the number of registered brokers when it is created (1 for a single node).',
  }),
  define({
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    default: '104857600',
    validator: atLeast(1),
    documentation: 'Segment size of __consumer_offsets, in bytes.',
  }),
  define({
    name: 'offsets.topic.compression.codec',
    type: 'int',
    default: '0',
    validator: between({ min: 0, max: 4 }),
    ignored: true,
    documentation: 'Compression of offset commits (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).',
  }),
  define({
    name: 'offsets.load.buffer.size',
    type: 'int',
    default: '5242880',
    validator: atLeast(1),
    documentation: 'Read size when loading __consumer_offsets, in bytes.',
  }),
  define({
    name: 'offsets.commit.timeout.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    ignored: true,
    documentation: 'Most time an offset commit waits to be written, in milliseconds.',
  }),
  define({
    name: 'offsets.commit.required.acks',
    type: 'short',
    default: '-1',
    ignored: true,
    documentation: 'Acks for offset commits (deprecated in Kafka).',
  }),
  define({
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    validator: atLeast(0),
    documentation: 'The largest metadata string an offset commit may carry.',
  }),
  define({
    name: 'offsets.retention.minutes',
    type: 'int',
    default: '10080',
    validator: atLeast(1),
    documentation: 'How long committed offsets of an empty group are kept, in minutes.',
  }),
  define({
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: '600000',
    validator: atLeast(1),
    documentation: 'How often expired offsets are removed, in milliseconds.',
  }),
  define({
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: '3000',
    validator: atLeast(0),
    documentation: 'Wait for more members before the first rebalance of an empty group.',
  }),
  define({
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: '6000',
    validator: atLeast(0),
    documentation: 'Smallest session timeout a classic group member may ask for.',
  }),
  define({
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: '1800000',
    validator: atLeast(0),
    documentation: 'Largest session timeout a classic group member may ask for.',
  }),
  define({
    name: 'group.max.size',
    type: 'int',
    default: String(intMax),
    validator: atLeast(1),
    documentation: 'Most members of a classic group.',
  }),
  define({
    name: 'group.coordinator.rebalance.protocols',
    type: 'list',
    default: 'classic,consumer',
    validator: rebalanceProtocolsValidator(),
    documentation:
      'Group protocols served: classic and the KIP-848 consumer protocol. Gregor enables both by default.',
  }),
  define({
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    documentation: 'Heartbeat interval given to KIP-848 consumers, in milliseconds.',
  }),
  define({
    name: 'group.consumer.min.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    documentation: 'Smallest group-level heartbeat interval (KIP-848).',
  }),
  define({
    name: 'group.consumer.max.heartbeat.interval.ms',
    type: 'int',
    default: '15000',
    validator: atLeast(1),
    documentation: 'Largest group-level heartbeat interval (KIP-848).',
  }),
  define({
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: '45000',
    validator: atLeast(1),
    documentation: 'Session timeout of KIP-848 consumers, in milliseconds.',
  }),
  define({
    name: 'group.consumer.min.session.timeout.ms',
    type: 'int',
    default: '45000',
    validator: atLeast(1),
    documentation: 'Smallest group-level session timeout (KIP-848).',
  }),
  define({
    name: 'group.consumer.max.session.timeout.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(1),
    documentation: 'Largest group-level session timeout (KIP-848).',
  }),
  define({
    name: 'group.consumer.max.size',
    type: 'int',
    default: String(intMax),
    validator: atLeast(1),
    documentation: 'Most members of a KIP-848 consumer group.',
  }),
  define({
    name: 'group.consumer.assignors',
    type: 'list',
    default: 'uniform,range',
    validator: nonEmptyList(),
    documentation: 'Server-side assignors of KIP-848 groups; the first is the default.',
  }),
  define({
    name: 'group.consumer.migration.policy',
    type: 'string',
    default: 'bidirectional',
    validator: oneOf(['disabled', 'upgrade', 'downgrade', 'bidirectional'], {
      caseInsensitive: true,
    }),
    ignored: true,
    documentation: 'Whether groups may convert between the classic and consumer protocols.',
  }),

  // Transactions and producer ids.
  define({
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: '604800000',
    validator: atLeast(1),
    documentation: 'Transactional ids idle for this long are forgotten, in milliseconds.',
  }),
  define({
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: '900000',
    validator: atLeast(1),
    documentation: 'Largest transaction timeout a producer may ask for, in milliseconds.',
  }),
  define({
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: '50',
    validator: atLeast(1),
    documentation: 'Partitions of __transaction_state.',
  }),
  define({
    name: 'transaction.state.log.replication.factor',
    type: 'short',
    default: '3',
    validator: atLeast(1),
    documentation:
      'Replication factor of __transaction_state; capped at the number of live brokers.',
  }),
  define({
    name: 'transaction.state.log.min.isr',
    type: 'int',
    default: '2',
    validator: atLeast(1),
    documentation: 'min.insync.replicas of __transaction_state; capped at its replication factor.',
  }),
  define({
    name: 'transaction.state.log.segment.bytes',
    type: 'int',
    default: '104857600',
    validator: atLeast(1),
    documentation: 'Segment size of __transaction_state, in bytes.',
  }),
  define({
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: '10000',
    validator: atLeast(1),
    documentation: 'How often timed-out transactions are aborted.',
  }),
  define({
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: '3600000',
    validator: atLeast(1),
    documentation: 'How often expired transactional ids are removed.',
  }),
  define({
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: '86400000',
    validator: atLeast(1),
    documentation: 'Idempotent producer state idle for this long is dropped, in milliseconds.',
  }),
  define({
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: '600000',
    validator: atLeast(1),
    documentation: 'How often expired producer ids are removed.',
  }),
  define({
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: '1000',
    validator: atLeast(0),
    documentation: 'Most incremental fetch sessions (KIP-227) kept by the broker.',
  }),
  define({
    name: 'min.incremental.fetch.session.eviction.ms',
    type: 'int',
    default: '120000',
    validator: atLeast(0),
    documentation: 'Youngest incremental fetch session that may be evicted for a new one.',
  }),
  define({
    name: 'auto.leader.rebalance.enable',
    type: 'boolean',
    default: 'true',
    ignored: true,
    documentation: 'Move leadership back to preferred replicas.',
  }),
] as const;

export type BrokerConfigDefinitions = (typeof brokerConfigDefinitions)[number];
export type BrokerConfigName = BrokerConfigDefinitions['name'];
type DefinitionOf<K extends BrokerConfigName> = Extract<BrokerConfigDefinitions, { name: K }>;
/** The parsed value of broker config K; `| null` only for configs without a default. */
export type BrokerConfigValue<K extends BrokerConfigName> =
  | ConfigValueByType[DefinitionOf<K>['type']]
  | (DefinitionOf<K>['defaultText'] extends null ? null : never);

const brokerDefinitionsByName = new Map<string, BrokerConfigDefinitions>(
  brokerConfigDefinitions.map((definition) => [definition.name, definition]),
);

export function brokerConfigDefinition(name: string): BrokerConfigDefinitions | undefined {
  return brokerDefinitionsByName.get(name);
}
