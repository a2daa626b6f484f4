/**
 * Fetch (key 1), v4-v17 for consumers.
 *
 * - Long poll: answer at once when `minBytes` are available, `maxWaitMs` is 0 or a partition has an
 *   error; otherwise wait until an append moves a high watermark of a fetched partition (storage's
 *   waitForData) or the deadline passes, then read again.
 * - Byte limits (KIP-74): the response stays within min(request maxBytes, fetch.max.bytes) and each
 *   partition within its partitionMaxBytes, except that the first partition with data returns at
 *   least one whole batch, so a batch larger than the limits still makes progress.
 * - Sessions (KIP-227): see fetch-sessions.ts; an incremental response lists only partitions with
 *   new records, an error, or a changed HW / LSO / log start offset.
 * - Reads go through the partition (replication/partition.ts): consumers up to the HW, read_committed
 *   up to the last stable offset with the aborted transactions of the range, replicas (a fetch
 *   with a replica id the partition knows as a follower) up to the LEO, which also tells the
 *   leader the follower's log end.
 * - Records stay the Buffers storage read (no copy, no per-record work).
 */
import { setMaxListeners } from 'node:events';
import { ApiKey, ErrorCode, type FetchRequest, type FetchResponse } from '@gregor/protocol';
import type { Partition } from '../replication/partition.js';
import { type ReadIsolation, replicaId as toReplicaId } from '../replication/types.js';
import type { BrokerServices } from '../services.js';
import { zeroTopicId } from '../topics/topic-id.js';
import {
  type FetchSession,
  fetchSessionEpoch,
  type SessionPartition,
  sessionPartitionKey,
} from './fetch-sessions.js';
import { absentPartitionError, classifyPartitionError } from './partition-errors.js';
import type { ApiHandler, RequestContext } from './types.js';

type TopicResponse = FetchResponse['responses'][number];
type PartitionResponse = TopicResponse['partitions'][number];

const readCommitted = 1;
const emptyRecords = Buffer.alloc(0);
const unknownOffset = -1n;

/** One partition to read in this request. */
interface FetchTarget {
  topic: string;
  topicId: string;
  /** v13+: the topic is named by id (a deleted and re-created topic is another topic). */
  byTopicId: boolean;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  session: SessionPartition | undefined;
}

interface PartitionResult {
  target: FetchTarget;
  partition: Partition | undefined;
  isolation: ReadIsolation;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  records: Buffer[];
  sizeBytes: number;
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  /** Follower fetches whose last fetched epoch ends before their fetch offset here (KIP-595). */
  divergingEpoch: { epoch: number; endOffset: bigint } | null;
}

export const fetchHandler: ApiHandler<FetchRequest, FetchResponse> = {
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, context) {
    const plan = planFetch(request, context);
    if ('errorCode' in plan) {
      return emptyResponse(plan.errorCode, 0);
    }
    const { session, targets } = plan;
    const follower = Math.max(request.replicaState?.replicaId ?? -1, request.replicaId ?? -1);
    if (follower >= 0)
      context.services.peerDeaths?.followerFetches(context.connection.id, follower);
    try {
      const services = context.services;
      const requestedBytes = Math.max(
        0,
        Math.min(
          request.maxBytes ?? services.settings.fetchMaxBytes,
          services.settings.fetchMaxBytes,
        ),
      );
      // Bounded memory per connection: concurrent fetches share the connection's budget.
      const responseBytesMax =
        context.connection.responseBudget?.reserve(requestedBytes) ?? requestedBytes;
      const results = await readWithLongPoll(request, targets, responseBytesMax, services);
      return buildResponse(results, session, context.apiVersion);
    } finally {
      if (session !== undefined) session.busy = false;
    }
  },
  errorResponse: errorForEveryPartition,
};

/**
 * Kafka's Fetch error response (unsupported version, handler failure): the error at the top and,
 * below v13, on every requested partition. Before v7 there is no top-level error code, so a
 * response without the partitions would lose it (kafka-go 0.2.1, sending Fetch v2, then retried
 * about 5 times a second, reporting a missing topic).
 */
function errorForEveryPartition(
  request: FetchRequest,
  errorCode: number,
  apiVersion: number,
): FetchResponse {
  const response = emptyResponse(errorCode, 0);
  if (apiVersion >= 13) return response;
  response.responses = request.topics.map(
    (topic) =>
      ({
        topic: topic.topic,
        topicId: topic.topicId,
        partitions: topic.partitions.map((partition) =>
          partitionResponse(
            emptyResult(
              {
                topic: topic.topic ?? '',
                topicId: topic.topicId ?? zeroTopicId,
                byTopicId: false,
                partition: partition.partition,
                fetchOffset: partition.fetchOffset,
                partitionMaxBytes: partition.partitionMaxBytes,
                currentLeaderEpoch: partition.currentLeaderEpoch ?? -1,
                lastFetchedEpoch: partition.lastFetchedEpoch ?? -1,
                session: undefined,
              },
              errorCode,
            ),
          ),
        ),
      }) as unknown as TopicResponse,
  );
  return response;
}

function emptyResponse(errorCode: number, sessionId: number): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId, responses: [] } as unknown as FetchResponse;
}

type FetchPlan =
  | { session: FetchSession | undefined; targets: FetchTarget[] }
  | { errorCode: number };

/** Resolves the request (and its session, KIP-227) into the list of partitions to read. */
function planFetch(request: FetchRequest, context: RequestContext): FetchPlan {
  const { services, apiVersion } = context;
  const usesTopicIds = apiVersion >= 13;
  const sessions = services.fetchSessions;
  const sessionId = request.sessionId ?? 0;
  const sessionEpoch = request.sessionEpoch ?? fetchSessionEpoch.final;
  const requested = requestedTargets(request, usesTopicIds, services);

  if (sessionEpoch === fetchSessionEpoch.initial || sessionEpoch === fetchSessionEpoch.final) {
    if (sessionId !== 0) sessions.remove(sessionId);
    // epoch -1: sessionless full fetch; epoch 0 (with id 0): full fetch that opens a session.
    if (sessionEpoch === fetchSessionEpoch.final || sessionId !== 0) {
      return { session: undefined, targets: requested };
    }
    const session = sessions.create(usesTopicIds);
    if (session === undefined) return { session: undefined, targets: requested };
    session.busy = true;
    for (const target of requested) {
      const sessionPartition = newSessionPartition(target);
      session.partitions.set(
        sessionPartitionKey(keyOf(target, usesTopicIds), target.partition),
        sessionPartition,
      );
      target.session = sessionPartition;
    }
    return { session, targets: requested };
  }

  if (sessionId === 0) return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
  const session = sessions.get(sessionId);
  if (session === undefined) return { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
  if (session.busy || sessionEpoch !== session.nextEpoch) {
    return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
  }
  if (session.usesTopicIds !== usesTopicIds)
    return { errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
  session.nextEpoch = sessionEpoch === 0x7fffffff ? 1 : sessionEpoch + 1;
  sessions.touch(session);
  session.busy = true;
  for (const target of requested) {
    const key = sessionPartitionKey(keyOf(target, usesTopicIds), target.partition);
    const existing = session.partitions.get(key);
    if (existing === undefined) {
      session.partitions.set(key, newSessionPartition(target));
    } else {
      existing.fetchOffset = target.fetchOffset;
      existing.partitionMaxBytes = target.partitionMaxBytes;
      existing.currentLeaderEpoch = target.currentLeaderEpoch;
      existing.lastFetchedEpoch = target.lastFetchedEpoch;
    }
  }
  for (const forgotten of request.forgottenTopicsData ?? []) {
    const topicKey = usesTopicIds ? forgotten.topicId : forgotten.topic;
    for (const partition of forgotten.partitions) {
      session.partitions.delete(sessionPartitionKey(topicKey ?? '', partition));
    }
  }
  const targets: FetchTarget[] = [];
  for (const sessionPartition of session.partitions.values()) {
    targets.push({
      topic: sessionPartition.topic,
      topicId: sessionPartition.topicId,
      byTopicId: session.usesTopicIds,
      partition: sessionPartition.partition,
      fetchOffset: sessionPartition.fetchOffset,
      partitionMaxBytes: sessionPartition.partitionMaxBytes,
      currentLeaderEpoch: sessionPartition.currentLeaderEpoch,
      lastFetchedEpoch: sessionPartition.lastFetchedEpoch,
      session: sessionPartition,
    });
  }
  return { session, targets };
}

function keyOf(target: FetchTarget, usesTopicIds: boolean): string {
  return usesTopicIds ? target.topicId : target.topic;
}

function newSessionPartition(target: FetchTarget): SessionPartition {
  return {
    topic: target.topic,
    topicId: target.topicId,
    partition: target.partition,
    fetchOffset: target.fetchOffset,
    partitionMaxBytes: target.partitionMaxBytes,
    currentLeaderEpoch: target.currentLeaderEpoch,
    lastFetchedEpoch: target.lastFetchedEpoch,
    sentHighWatermark: unknownOffset,
    sentLastStableOffset: unknownOffset,
    sentLogStartOffset: unknownOffset,
  };
}

function requestedTargets(
  request: FetchRequest,
  usesTopicIds: boolean,
  services: BrokerServices,
): FetchTarget[] {
  const targets: FetchTarget[] = [];
  for (const topicRequest of request.topics) {
    let name = topicRequest.topic ?? '';
    let topicId = topicRequest.topicId ?? zeroTopicId;
    if (usesTopicIds) {
      name = services.topics.getById(topicId)?.name ?? '';
    } else {
      topicId = services.topics.get(name)?.topicId ?? zeroTopicId;
    }
    for (const partitionRequest of topicRequest.partitions) {
      targets.push({
        topic: name,
        topicId,
        byTopicId: usesTopicIds,
        partition: partitionRequest.partition,
        fetchOffset: partitionRequest.fetchOffset,
        partitionMaxBytes: partitionRequest.partitionMaxBytes,
        currentLeaderEpoch: partitionRequest.currentLeaderEpoch ?? -1,
        lastFetchedEpoch: partitionRequest.lastFetchedEpoch ?? -1,
        session: undefined,
      });
    }
  }
  return targets;
}

async function readWithLongPoll(
  request: FetchRequest,
  targets: FetchTarget[],
  responseBytesMax: number,
  services: BrokerServices,
): Promise<PartitionResult[]> {
  const clock = services.clock;
  const deadlineMs = clock.monotonicMs() + Math.max(0, request.maxWaitMs);
  const isolationCommitted = request.isolationLevel === readCommitted;
  // ReplicaId up to v14, ReplicaState from v15 (KIP-903); the field a version lacks decodes as -1.
  const fetcher = Math.max(request.replicaState?.replicaId ?? -1, request.replicaId ?? -1);
  const reader: Reader = {
    isolationCommitted,
    replicaId: fetcher,
    brokerEpoch: request.replicaState?.replicaEpoch ?? -1n,
  };
  for (;;) {
    const results = await readAll(targets, responseBytesMax, reader, services);
    let totalBytes = 0;
    let anyError = false;
    for (const result of results) {
      totalBytes += result.sizeBytes;
      if (result.errorCode !== ErrorCode.NONE) anyError = true;
    }
    const remainingMs = deadlineMs - clock.monotonicMs();
    if (
      totalBytes >= request.minBytes ||
      anyError ||
      remainingMs <= 0 ||
      targets.length === 0 ||
      services.shutdownSignal.aborted
    ) {
      return results;
    }
    await waitForAnyAppend(results, remainingMs, services);
    if (clock.monotonicMs() >= deadlineMs) {
      return readAll(targets, responseBytesMax, reader, services);
    }
  }
}

/** Resolves when one of the partitions' read bound moves past what was read, or on timeout. */
async function waitForAnyAppend(
  results: PartitionResult[],
  timeoutMs: number,
  { shutdownSignal, clock }: Pick<BrokerServices, 'shutdownSignal' | 'clock'>,
): Promise<void> {
  const waiting = results.filter((result) => result.partition !== undefined);
  if (waiting.length === 0) {
    await new Promise<void>((resolve) => clock.schedule(timeoutMs, resolve));
    return;
  }
  if (waiting.length === 1) {
    // One partition (the common consumer): its wait ends itself (append, timeout or shutdown),
    // so no controller is needed to cancel the others: an AbortSignal.any and an abort (which
    // builds a DOMException with a stack) per long poll were ~5% of the broker's CPU at 10,000
    // small produce requests/s with one consumer.
    await waitForPartition(waiting[0]!, timeoutMs, shutdownSignal);
    return;
  }
  // Several partitions: the first to end the wait cancels the others. Not AbortSignal.any: on
  // Node 20 each composite signal made from the broker's long-lived shutdown signal stays
  // reachable from it (about 50 MB per million multi-partition long polls, measured).
  if (shutdownSignal.aborted) return;
  const controller = new AbortController();
  // One listener per partition waiting (Connect's offset topic has 25): not a leak.
  setMaxListeners(waiting.length, controller.signal);
  const onShutdown = () => controller.abort(longPollOver);
  shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  try {
    await Promise.race(
      waiting.map((result) => waitForPartition(result, timeoutMs, controller.signal)),
    );
  } finally {
    shutdownSignal.removeEventListener('abort', onShutdown);
    controller.abort(longPollOver);
  }
}

/** The reason the other partitions' waits are cancelled with (no DOMException per long poll). */
const longPollOver = new Error('long poll over');

function waitForPartition(
  result: PartitionResult,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  // Consumers wait on the HW in both modes: the LSO moves only when something (a marker) is
  // appended, and waiting past an LSO below the HW would return at once and spin.
  const partition = result.partition!;
  const bound = result.isolation === 'replica' ? partition.logEndOffset : result.highWatermark;
  // biome-ignore lint/complexity/useMathMinMax: bigint operands (Math.max takes numbers)
  const offset = result.target.fetchOffset > bound ? result.target.fetchOffset : bound;
  return partition.waitForData(offset, { isolation: result.isolation, timeoutMs, signal });
}

/** Who reads: a consumer (read_committed or not) or a follower replica. */
interface Reader {
  isolationCommitted: boolean;
  /** -1 for consumers. */
  replicaId: number;
  /** The fetching broker's epoch (ReplicaState, v15+); -1 unknown. */
  brokerEpoch: bigint;
}

async function readAll(
  targets: FetchTarget[],
  responseBytesMax: number,
  reader: Reader,
  services: BrokerServices,
): Promise<PartitionResult[]> {
  const results: PartitionResult[] = [];
  let responseBytes = 0;
  for (const target of targets) {
    const result = await readPartition(target, {
      bytesMax: responseBytesMax - responseBytes,
      // KIP-74: the first partition with data returns a whole batch even above the limits,
      // unless this request got no budget at all (the client is not reading its responses).
      minOneBatch: responseBytes === 0 && responseBytesMax > 0,
      reader,
      services,
    });
    responseBytes += result.sizeBytes;
    results.push(result);
  }
  return results;
}

/** A partition's result before (or instead of) reading it: no records, offsets unknown. */
function emptyResult(target: FetchTarget, errorCode: number): PartitionResult {
  return {
    target,
    partition: undefined,
    isolation: 'uncommitted',
    errorCode,
    highWatermark: unknownOffset,
    lastStableOffset: unknownOffset,
    logStartOffset: unknownOffset,
    records: [],
    sizeBytes: 0,
    abortedTransactions: null,
    divergingEpoch: null,
  };
}

interface ReadPartitionOptions {
  bytesMax: number;
  minOneBatch: boolean;
  reader: Reader;
  services: BrokerServices;
}

async function readPartition(
  target: FetchTarget,
  options: ReadPartitionOptions,
): Promise<PartitionResult> {
  const result = emptyResult(target, ErrorCode.NONE);
  const { services, reader } = options;
  const topic = target.byTopicId
    ? services.topics.getById(target.topicId)
    : services.topics.get(target.topic);
  if (topic === undefined) {
    result.errorCode = target.byTopicId
      ? ErrorCode.UNKNOWN_TOPIC_ID
      : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return result;
  }
  const partition =
    target.partition >= 0 && target.partition < topic.partitionCount
      ? services.replicas.get(topic.name, target.partition)
      : undefined;
  if (partition === undefined) {
    result.errorCode = absentPartitionError(services, topic, target.partition);
    return result;
  }
  const epochError = partition.leaderEpochError(target.currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) {
    result.errorCode = epochError;
    return result;
  }
  const follower =
    reader.replicaId >= 0 && partition.follower(toReplicaId(reader.replicaId)) !== undefined;
  result.partition = partition;
  result.isolation = follower ? 'replica' : reader.isolationCommitted ? 'committed' : 'uncommitted';
  if (result.isolation === 'committed') result.abortedTransactions = [];
  if (follower) {
    try {
      result.divergingEpoch = partition.divergingEpoch(target.fetchOffset, target.lastFetchedEpoch);
    } catch (error) {
      result.errorCode = classifyPartitionError(error).errorCode;
      return withOffsets(result, partition);
    }
    // The follower truncates first; records after a divergence would be appended to the wrong
    // log. Its fetch offset is not a log end the leader shares either (Kafka records follower
    // state only for a fetch without divergence): counted, a divergent tail would look caught
    // up, join the ISR and move the HW past records the follower does not hold.
    if (result.divergingEpoch !== null) return withOffsets(result, partition);
    // The follower's broker epoch (KIP-903) goes with its log end into AlterPartition: the
    // controller refuses to add a replica whose epoch is no longer registered (a restart since).
    partition.updateFollowerFetchState(
      toReplicaId(reader.replicaId),
      target.fetchOffset,
      reader.brokerEpoch,
    );
  }
  withOffsets(result, partition);
  const bytesMax = Math.min(target.partitionMaxBytes, options.bytesMax);
  try {
    const read = await partition.read(target.fetchOffset, {
      isolation: result.isolation,
      maxBytes: bytesMax,
      minOneBatch: options.minOneBatch,
    });
    result.records = read.buffers;
    result.sizeBytes = read.sizeBytes;
    if (read.abortedTransactions !== null) {
      result.abortedTransactions = read.abortedTransactions.map((entry) => ({
        producerId: entry.producerId,
        firstOffset: entry.firstOffset,
      }));
    }
  } catch (error) {
    const classified = classifyPartitionError(error);
    result.errorCode = classified.errorCode;
    if (classified.unexpected) {
      services.logger.error('fetch read failed', {
        topic: topic.name,
        partition: target.partition,
        fetchOffset: target.fetchOffset,
        error,
      });
    }
  }
  return result;
}

/** The partition's HW, LSO and log start in `result` (after this fetch moved them). */
function withOffsets(result: PartitionResult, partition: Partition): PartitionResult {
  const offsets = partition.offsets();
  result.highWatermark = offsets.highWatermark;
  result.lastStableOffset = offsets.lastStableOffset;
  result.logStartOffset = offsets.logStartOffset;
  return result;
}

function buildResponse(
  results: PartitionResult[],
  session: FetchSession | undefined,
  apiVersion: number,
): FetchResponse {
  // A session created by this request answers in full; later requests only with changes.
  const incremental = session !== undefined && !isNewSession(session);
  const responses: TopicResponse[] = [];
  let current: TopicResponse | undefined;
  let currentKey = '';
  for (const result of results) {
    const sent = result.target.session;
    if (sent !== undefined) {
      const changed =
        result.errorCode !== ErrorCode.NONE ||
        result.sizeBytes > 0 ||
        result.divergingEpoch !== null ||
        sent.sentHighWatermark !== result.highWatermark ||
        sent.sentLastStableOffset !== result.lastStableOffset ||
        sent.sentLogStartOffset !== result.logStartOffset;
      sent.sentHighWatermark = result.highWatermark;
      sent.sentLastStableOffset = result.lastStableOffset;
      sent.sentLogStartOffset = result.logStartOffset;
      if (incremental && !changed) continue;
    }
    const key = keyOf(result.target, apiVersion >= 13);
    if (current === undefined || key !== currentKey) {
      current = {
        topic: result.target.topic,
        topicId: result.target.topicId,
        partitions: [],
      } as unknown as TopicResponse;
      currentKey = key;
      responses.push(current);
    }
    current.partitions.push(partitionResponse(result));
  }
  if (session !== undefined) rotatePartitionsWithData(session, results);
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: session?.id ?? 0,
    responses,
  } as unknown as FetchResponse;
}

/**
 * Fairness (as Kafka's incremental fetch context does): a partition that returned records moves to
 * the back of the session's order, so a busy partition cannot starve the others of the response's
 * byte budget.
 */
function rotatePartitionsWithData(session: FetchSession, results: PartitionResult[]): void {
  for (const result of results) {
    const sessionPartition = result.target.session;
    if (result.sizeBytes === 0 || sessionPartition === undefined) continue;
    const key = sessionPartitionKey(
      keyOf(result.target, session.usesTopicIds),
      result.target.partition,
    );
    if (session.partitions.delete(key)) session.partitions.set(key, sessionPartition);
  }
}

function isNewSession(session: FetchSession): boolean {
  return session.nextEpoch === 1;
}

function partitionResponse(result: PartitionResult): PartitionResponse {
  return {
    partitionIndex: result.target.partition,
    errorCode: result.errorCode,
    highWatermark: result.highWatermark,
    lastStableOffset: result.lastStableOffset,
    logStartOffset: result.logStartOffset,
    abortedTransactions: result.abortedTransactions,
    ...(result.divergingEpoch !== null && { divergingEpoch: result.divergingEpoch }),
    preferredReadReplica: -1,
    records: result.sizeBytes > 0 ? result.records : emptyRecords,
  } as unknown as PartitionResponse;
}
