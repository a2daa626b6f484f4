/**
 * Produce (key 0), v3-v11 (v0-v2 carry magic v0/v1 message sets, which Gregor does not store).
 *
 * Hot path, per partition: look up the log, validate the batches without decoding records
 * (framing, CRC, counts, size against max.message.bytes, batch timestamps), hand the same Buffer
 * to storage. All appends of a request are started synchronously in request order, so pipelined
 * requests on one connection append in the order they were sent.
 *
 * acks: 0 -> no response at all (a failure closes the connection, as Kafka does, so the producer
 * notices); 1 -> durability 'write'; -1 (all) -> 'fsync'. Appends go through the partition
 * (replication/partition.ts), which stamps the leader epoch, checks min.insync.replicas, moves the
 * high watermark and parks acks=all until the HW covers the batch.
 *
 * Kafka's ProduceRequest.validateRecords: exactly one batch per partition (INVALID_RECORD); zstd
 * only from v7 (KIP-110, UNSUPPORTED_COMPRESSION_TYPE before), for the batch or the topic.
 * A topic whose compression.type is not `producer` stores every batch in that codec: a batch in
 * another codec is decoded and re-encoded with the same records, offsets and producer fields, as
 * Kafka's LogValidator does. That work is asynchronous, so such appends go through a per-log queue
 * that keeps the request order; topics left at `producer` (the default) never pay for it.
 * Compacted topics (cleanup.policy contains compact) decode the records to refuse any without a key
 * (INVALID_RECORD, as Kafka's LogValidator); only they pay for decoding (and decompressing).
 *
 * Timestamps (CreateTime): Kafka checks every record against message.timestamp.before/after.max.ms;
 * we check each batch's base and max timestamps, which bound the records of any batch whose
 * timestamp deltas are non-negative (every client we know writes them that way).
 */
import { defaultCompressionCodecs } from '@gregor/compression';
import {
  ApiKey,
  batchAttributes,
  batchIdentity,
  CompressionType,
  decodeRecordBatchAsync,
  ErrorCode,
  encodeRecordBatchAsync,
  type ProduceRequest,
  type ProduceResponse,
  recordBatchFailure,
  recordsAsBuffer,
  type ValidatedBatch,
  validateRecordBatches,
  validateRecords,
} from '@gregor/protocol';
import { currentLeaderHint } from '../cluster/image-answers.js';
import { type BrokerConfig, resolveTopicConfig, timestampBoundsMs } from '../config/index.js';
import type { Partition } from '../replication/partition.js';
import { ConnectionFault } from '../server/connection.js';
import type { BrokerServices } from '../services.js';
import type { TopicInfo } from '../topics/types.js';
import { absentPartitionError, classifyPartitionError } from './partition-errors.js';
import type { ApiHandler, RequestContext } from './types.js';

type TopicResponse = ProduceResponse['responses'][number];
type PartitionResponse = TopicResponse['partitionResponses'][number];

/**
 * Per-topic settings the produce path needs, from the topic's effective config (its overrides over
 * the broker synonyms). Resolved once per TopicInfo (replaced when the topic's overrides change)
 * and per dynamic broker config change (the broker synonyms feed every topic).
 */
interface ProducePolicy {
  /** max.message.bytes: the largest batch accepted. */
  maxMessageBytes: number;
  /** cleanup.policy contains compact: every record needs a key. */
  compacted: boolean;
  logAppendTime: boolean;
  beforeMsMax: number;
  afterMsMax: number;
  /** min.insync.replicas: acks=all needs this many in-sync replicas; a single node has one. */
  minInsyncReplicas: number;
  /** compression.type: the codec batches are stored in, or null ('producer') to keep them as sent. */
  compression: CompressionType | null;
}

/** compression.type → codec; `producer` keeps each batch as the producer compressed it. */
const storedCompression: Record<string, CompressionType | null> = {
  producer: null,
  uncompressed: CompressionType.none,
  gzip: CompressionType.gzip,
  snappy: CompressionType.snappy,
  lz4: CompressionType.lz4,
  zstd: CompressionType.zstd,
};

/** Policies by topic, one map per broker config, replaced whenever its dynamic settings change. */
const producePolicies = new WeakMap<BrokerConfig, WeakMap<TopicInfo, ProducePolicy>>();

/** KIP-110: a producer may send zstd batches from Produce v7. */
const firstVersionWithZstd = 7;

/** What every partition of one produce request shares. */
interface AppendRequest {
  requiredAcks: 0 | 1 | -1;
  /** How long acks=all may wait for the in-sync replicas. */
  timeoutMs: number;
  apiVersion: number;
  services: BrokerServices;
}

export const produceHandler: ApiHandler<ProduceRequest, ProduceResponse> = {
  apiKey: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 11,
  async handle(request, context) {
    const { services, apiVersion } = context;
    const acks = request.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return produceErrorResponse(request, ErrorCode.INVALID_REQUIRED_ACKS);
    }
    const appendRequest: AppendRequest = {
      requiredAcks: acks,
      timeoutMs: request.timeoutMs,
      apiVersion,
      services,
    };
    const appends: Promise<void>[] = [];
    const responses: TopicResponse[] = request.topicData.map((topicData) => {
      const topic = services.topics.get(topicData.name);
      // Once per topic, not per partition: its policy is the same for every partition.
      const policy = topic === undefined ? undefined : producePolicy(topic, services.config);
      return {
        name: topicData.name,
        partitionResponses: topicData.partitionData.map((partitionData) => {
          const response = partitionResponse(partitionData.index, ErrorCode.NONE);
          const partition =
            topic === undefined ||
            partitionData.index < 0 ||
            partitionData.index >= topic.partitionCount
              ? undefined
              : services.replicas.get(topic.name, partitionData.index);
          if (topic === undefined || policy === undefined || partition === undefined) {
            response.errorCode = absentPartitionError(services, topic, partitionData.index);
          } else if (topic.internal) {
            response.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            response.errorMessage = `cannot produce to internal topic ${topic.name}`;
          } else {
            const started = startAppend(
              partition,
              { topic, policy },
              recordsAsBuffer(partitionData.records),
              response,
              appendRequest,
            );
            if (started !== null) appends.push(started);
          }
          return response;
        }),
      };
    });
    if (appends.length > 0) await Promise.all(appends);
    if (acks === 0) {
      const failed = findFailure(responses);
      if (failed !== null) throw new ConnectionFault(`acks=0 produce failed (${failed})`);
      return undefined;
    }
    const response = { responses, throttleTimeMs: 0 } as ProduceResponse;
    if (services.cluster !== undefined && apiVersion >= 10) addLeaderHints(response, context);
    return response;
  },
  errorResponse: produceErrorResponse,
};

function startAppend(
  partition: Partition,
  { topic, policy }: { topic: TopicInfo; policy: ProducePolicy },
  records: Buffer | null,
  response: PartitionResponse,
  request: AppendRequest,
): Promise<void> | null {
  const { services } = request;
  if (records === null || records.length === 0) {
    response.errorCode = ErrorCode.INVALID_RECORD;
    response.errorMessage = 'a produce request must carry one record batch per partition, got none';
    return null;
  }
  const validation = validateRecordBatches(records, {
    maxBatchSizeBytes: policy.maxMessageBytes,
    origin: 'client',
  });
  if (!validation.ok) {
    response.errorCode = validation.errorCode;
    response.errorMessage = validation.message;
    return null;
  }
  if (validation.batches.length !== 1) {
    response.errorCode = ErrorCode.INVALID_RECORD;
    response.errorMessage = `a produce request must carry exactly one record batch per partition, got ${validation.batches.length}`;
    return null;
  }
  const batchHeader = validation.batches[0]!.header;
  const compression = batchHeader.attributes & batchAttributes.compressionMask;
  if (
    (compression === CompressionType.zstd || policy.compression === CompressionType.zstd) &&
    request.apiVersion < firstVersionWithZstd
  ) {
    // Kafka refuses old versions when the batch or the topic (which would store it) uses zstd.
    response.errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
    response.errorMessage = `zstd batches need Produce v${firstVersionWithZstd}+ (got v${request.apiVersion})`;
    return null;
  }
  if (policy.compacted) {
    const checked = validateRecords(records, validation, {
      codecs: defaultCompressionCodecs,
      requireKeys: true,
    });
    if (!checked.ok) {
      response.errorCode = checked.errorCode;
      response.errorMessage = checked.message;
      return null;
    }
  }
  if (!policy.logAppendTime && (policy.beforeMsMax < 9e18 || policy.afterMsMax < 9e18)) {
    const nowMs = services.clock.wallMs();
    for (let index = 0; index < validation.batches.length; index++) {
      const header = validation.batches[index]!.header;
      if ((header.attributes & batchAttributes.timestampTypeLogAppendTime) !== 0) continue;
      const problem =
        timestampProblem(header.baseTimestamp, nowMs, policy) ??
        timestampProblem(header.maxTimestamp, nowMs, policy);
      if (problem !== undefined) {
        response.errorCode = ErrorCode.INVALID_TIMESTAMP;
        response.errorMessage = problem;
        response.recordErrors = [{ batchIndex: index, batchIndexErrorMessage: problem }];
        return null;
      }
    }
  }
  const needsRecompression = policy.compression !== null && policy.compression !== compression;
  const queued = recompressionQueues.get(partition);
  if (!needsRecompression && queued === undefined) {
    return append(
      partition,
      { topic, policy, records, batches: validation.batches },
      response,
      request,
    );
  }
  // Recompression is asynchronous, but appends to a log must start in request order (pipelined
  // idempotent produces): this append starts after the one queued before it has started.
  const prepared = needsRecompression ? recompress(records, policy) : Promise.resolve(records);
  const started = (queued ?? Promise.resolve()).then(() =>
    prepared.then(
      (stored) => {
        const checked =
          stored === records
            ? validation
            : validateRecordBatches(stored, {
                maxBatchSizeBytes: policy.maxMessageBytes,
                origin: 'client',
              });
        if (!checked.ok) {
          response.errorCode = checked.errorCode;
          response.errorMessage = checked.message;
          return { appended: Promise.resolve() };
        }
        // Wrapped so that the queue waits for the start of the append, not its end.
        return {
          appended: append(
            partition,
            { topic, policy, records: stored, batches: checked.batches },
            response,
            request,
          ),
        };
      },
      (error: unknown) => {
        const failure = recordBatchFailure(error);
        response.errorCode = failure.errorCode;
        response.errorMessage = failure.message;
        return { appended: Promise.resolve() };
      },
    ),
  );
  const tail = started.then(() => undefined);
  recompressionQueues.set(partition, tail);
  void tail.then(() => {
    if (recompressionQueues.get(partition) === tail) recompressionQueues.delete(partition);
  });
  return started.then(({ appended }) => appended);
}

/** Per partition, the start of the last append waiting for a recompression (see startAppend). */
const recompressionQueues = new WeakMap<Partition, Promise<void>>();

/**
 * The batch in the topic's compression.type, as Kafka's LogValidator recompresses it: the same
 * records, offsets, producer fields and flags; only the codec (and so the CRC) changes.
 */
async function recompress(batch: Buffer, policy: ProducePolicy): Promise<Buffer> {
  // The CRC was checked by validateRecordBatches; decompression is bounded by the default limit.
  const decoded = await decodeRecordBatchAsync(batch, defaultCompressionCodecs, {
    verifyCrc: false,
  });
  const { header } = decoded;
  return encodeRecordBatchAsync({
    records: decoded.records.map((record) => ({
      ...record,
      offsetDelta: Number(record.offset - header.baseOffset),
    })),
    ...batchIdentity(header),
    baseTimestamp: header.baseTimestamp,
    maxTimestamp: header.maxTimestamp,
    compression: policy.compression ?? CompressionType.none,
    codecs: defaultCompressionCodecs,
  });
}

/** Idempotence and transactions (producer/): dedup, sequence and epoch checks, then the append. */
function append(
  partition: Partition,
  {
    topic,
    policy,
    records,
    batches,
  }: {
    topic: TopicInfo;
    policy: ProducePolicy;
    records: Buffer;
    batches: readonly ValidatedBatch[];
  },
  response: PartitionResponse,
  request: AppendRequest,
): Promise<void> {
  const { requiredAcks, services } = request;
  const appended = partition.appendAsLeader(records, {
    requiredAcks,
    batches,
    minInsyncReplicas: policy.minInsyncReplicas,
    timeoutMs: request.timeoutMs,
  });
  return appended.then(
    (result) => {
      response.baseOffset = result.baseOffset;
      response.logAppendTimeMs = result.logAppendTimeMs;
      response.logStartOffset = result.logStartOffset;
    },
    (error: unknown) => {
      const classified = classifyPartitionError(error);
      response.errorCode = classified.errorCode;
      response.errorMessage = classified.message;
      if (classified.unexpected) {
        services.logger.error('append failed', {
          topic: topic.name,
          partition: partition.index,
          errorCode: classified.errorCode,
          error,
        });
      }
    },
  );
}

function timestampProblem(
  timestamp: bigint,
  nowMs: number,
  policy: ProducePolicy,
): string | undefined {
  const value = Number(timestamp);
  if (value < 0) return undefined;
  if (nowMs - value > policy.beforeMsMax) {
    return `timestamp ${value} is more than message.timestamp.before.max.ms (${policy.beforeMsMax}) in the past`;
  }
  if (value - nowMs > policy.afterMsMax) {
    return `timestamp ${value} is more than message.timestamp.after.max.ms (${policy.afterMsMax}) in the future`;
  }
  return undefined;
}

function producePolicy(topic: TopicInfo, config: BrokerConfig): ProducePolicy {
  let policies = producePolicies.get(config);
  if (policies === undefined) {
    policies = new WeakMap();
    producePolicies.set(config, policies);
    config.onChange(() => producePolicies.set(config, new WeakMap()));
  }
  let policy = policies.get(topic);
  if (policy === undefined) {
    const resolved = resolveTopicConfig(config, topic.configs);
    policy = {
      maxMessageBytes: resolved.get('max.message.bytes'),
      compacted: resolved.get('cleanup.policy').includes('compact'),
      logAppendTime: resolved.get('message.timestamp.type') === 'LogAppendTime',
      ...timestampBoundsMs(resolved),
      minInsyncReplicas: resolved.get('min.insync.replicas'),
      compression: storedCompression[resolved.get('compression.type')] ?? null,
    };
    policies.set(topic, policy);
  }
  return policy;
}

/** KIP-951 (v10+): the current leader of each NOT_LEADER_OR_FOLLOWER partition, and its endpoint. */
function addLeaderHints(response: ProduceResponse, context: RequestContext): void {
  const cluster = context.services.cluster!;
  const endpoints = new Map<number, NonNullable<ProduceResponse['nodeEndpoints']>[number]>();
  for (const topic of response.responses) {
    for (const partition of topic.partitionResponses) {
      if (partition.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) continue;
      const hint = currentLeaderHint(cluster, topic.name, partition.index, context);
      if (hint === undefined) continue;
      partition.currentLeader = { leaderId: hint.leaderId, leaderEpoch: hint.leaderEpoch };
      if (hint.endpoint !== undefined) endpoints.set(hint.leaderId, { ...hint.endpoint });
    }
  }
  if (endpoints.size > 0) response.nodeEndpoints = [...endpoints.values()];
}

function partitionResponse(index: number, errorCode: number): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
  } as PartitionResponse;
}

function findFailure(responses: TopicResponse[]): string | null {
  for (const topic of responses) {
    for (const partition of topic.partitionResponses) {
      if (partition.errorCode !== ErrorCode.NONE) {
        return `${topic.name}-${partition.index}: error ${partition.errorCode}`;
      }
    }
  }
  return null;
}

function produceErrorResponse(request: ProduceRequest, errorCode: number): ProduceResponse {
  return {
    responses: request.topicData.map((topicData) => ({
      name: topicData.name,
      partitionResponses: topicData.partitionData.map((partitionData) =>
        partitionResponse(partitionData.index, errorCode),
      ),
    })),
    throttleTimeMs: 0,
  } as ProduceResponse;
}
