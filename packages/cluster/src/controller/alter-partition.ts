/**
 * AlterPartition (KIP-497) at the controller: a leader asks to change its partition's ISR. Checks
 * in Kafka's order (ReplicationControlManager.validateAlterPartitionData):
 * - the request's broker epoch is not the registered one → STALE_BROKER_EPOCH for the request;
 * - leader or partition epoch newer than the controller's → NOT_CONTROLLER (this controller is
 *   behind: the leader should find the current one);
 * - older leader epoch → FENCED_LEADER_EPOCH; requester not the leader → INVALID_REQUEST;
 * - older partition epoch → INVALID_UPDATE_VERSION;
 * - an ISR outside the replicas, with duplicates, or without the leader → INVALID_REQUEST;
 *   RECOVERING with more than one ISR member, or RECOVERED back to RECOVERING → INVALID_REQUEST;
 * - a new member not registered, fenced, shutting down or at another broker epoch →
 *   INELIGIBLE_REPLICA (OPERATION_NOT_ATTEMPTED before v2).
 * A request whose ISR already is the committed one succeeds without a write (idempotent) and
 * answers the committed state; a change that moves leadership (a completed reassignment) answers
 * NEW_LEADER_ELECTED.
 */
import {
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  ErrorCode,
} from '@gregor/protocol';
import type { PartitionImage, TopicImage } from '../image.js';
import { LeaderRecoveryState, type PartitionRegistration } from '../partition-registration.js';
import { type ControllerContext, zeroTopicId } from './context.js';
import { changePartition, partitionChangeUnit } from './partition-updates.js';
import { answerOnly, onCommit, type Plan, type Unit } from './plan.js';

type PartitionData = AlterPartitionRequest['topics'][number]['partitions'][number];
type PartitionResult = AlterPartitionResponse['topics'][number]['partitions'][number];
type TopicResult = AlterPartitionResponse['topics'][number];

interface BrokerState {
  brokerId: number;
  brokerEpoch: bigint;
}

/** Broker epoch -1 in newIsrWithEpochs: do not check it (and every member of a v0-2 newIsr). */
const anyBrokerEpoch = -1n;

export function planAlterPartition(
  context: ControllerContext,
  request: AlterPartitionRequest,
  apiVersion = 3,
): Plan<AlterPartitionResponse> {
  const { image } = context;
  const requester = image.broker(request.brokerId);
  if (requester === undefined || requester.brokerEpoch !== request.brokerEpoch) {
    return answerOnly({ throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] });
  }
  const units: Unit[] = [];
  const topics: TopicResult[] = [];
  const seen = new Set<string>();
  for (const topicData of request.topics) {
    const byId = topicData.topicId !== undefined && topicData.topicId !== zeroTopicId;
    const topic = byId
      ? image.topicById(topicData.topicId!)
      : image.topic(topicData.topicName ?? '');
    const topicResult: TopicResult = byId
      ? { topicId: topicData.topicId!, partitions: [] }
      : { topicName: topicData.topicName ?? '', partitions: [] };
    topics.push(topicResult);
    for (const partitionData of topicData.partitions) {
      if (topic === undefined) {
        topicResult.partitions.push(
          errorResult(
            partitionData.partitionIndex,
            byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          ),
        );
        continue;
      }
      const id = `${topic.topicId}/${partitionData.partitionIndex}`;
      if (seen.has(id)) {
        // One change per partition per request: a second would race the first's CAS.
        topicResult.partitions.push(
          errorResult(partitionData.partitionIndex, ErrorCode.INVALID_REQUEST),
        );
        continue;
      }
      seen.add(id);
      const outcome = alterOne(context, request.brokerId, topic, partitionData, apiVersion);
      topicResult.partitions.push(outcome.result);
      if (outcome.unit !== undefined) units.push(outcome.unit);
    }
  }
  return { units, respond: () => ({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics }) };
}

function alterOne(
  context: ControllerContext,
  brokerId: number,
  topic: TopicImage,
  data: PartitionData,
  apiVersion: number,
): { result: PartitionResult; unit?: Unit } {
  const partition = context.image.partition(topic.name, data.partitionIndex);
  const newIsr: BrokerState[] =
    data.newIsrWithEpochs ??
    (data.newIsr ?? []).map((id) => ({ brokerId: id, brokerEpoch: anyBrokerEpoch }));
  const errorCode = validate(context, brokerId, partition, data, newIsr, apiVersion);
  if (errorCode !== ErrorCode.NONE) return { result: errorResult(data.partitionIndex, errorCode) };
  const current = partition!;
  const change = changePartition(context, topic.name, current, {
    targetIsr: newIsr.map((state) => state.brokerId),
    targetLeaderRecoveryState: (data.leaderRecoveryState ??
      LeaderRecoveryState.recovered) as LeaderRecoveryState,
  });
  if (change === undefined) {
    return { result: stateResult(data.partitionIndex, current) };
  }
  // Only a completed reassignment moves leadership here; the leader must refetch metadata.
  const leaderMoved = change.record.leader !== undefined && change.record.leader !== brokerId;
  const result = errorResult(data.partitionIndex, ErrorCode.NOT_CONTROLLER);
  const unit = partitionChangeUnit(
    context.logger,
    topic.name,
    current,
    change,
    `AlterPartition from broker ${brokerId}`,
  );
  return {
    result,
    unit: onCommit(unit, () => {
      if (leaderMoved) result.errorCode = ErrorCode.NEW_LEADER_ELECTED;
      else Object.assign(result, stateResult(data.partitionIndex, change.partition));
    }),
  };
}

function validate(
  context: ControllerContext,
  brokerId: number,
  partition: PartitionImage | undefined,
  data: PartitionData,
  newIsr: readonly BrokerState[],
  apiVersion: number,
): number {
  if (partition === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (data.leaderEpoch > partition.leaderEpoch) return ErrorCode.NOT_CONTROLLER;
  if (data.partitionEpoch > partition.partitionEpoch) return ErrorCode.NOT_CONTROLLER;
  if (data.leaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (brokerId !== partition.leader) return ErrorCode.INVALID_REQUEST;
  if (data.partitionEpoch < partition.partitionEpoch) return ErrorCode.INVALID_UPDATE_VERSION;
  const isr = newIsr.map((state) => state.brokerId);
  if (!isValidIsr(partition.replicas, isr)) return ErrorCode.INVALID_REQUEST;
  if (!isr.includes(partition.leader)) return ErrorCode.INVALID_REQUEST;
  const recoveryState = data.leaderRecoveryState ?? LeaderRecoveryState.recovered;
  if (recoveryState === LeaderRecoveryState.recovering && isr.length > 1) {
    return ErrorCode.INVALID_REQUEST;
  }
  if (
    partition.leaderRecoveryState === LeaderRecoveryState.recovered &&
    recoveryState === LeaderRecoveryState.recovering
  ) {
    return ErrorCode.INVALID_REQUEST;
  }
  const ineligible = newIsr.filter((state) => !isEligible(context, state));
  if (ineligible.length > 0) {
    context.logger.info(
      `Rejecting AlterPartition from broker ${brokerId}: ineligible replicas [${ineligible.map((state) => state.brokerId).join(',')}] in the new ISR`,
      { brokerId, ineligible: ineligible.map((state) => state.brokerId) },
    );
    return apiVersion >= 2 ? ErrorCode.INELIGIBLE_REPLICA : ErrorCode.OPERATION_NOT_ATTEMPTED;
  }
  return ErrorCode.NONE;
}

/** Registered, not shutting down, at the broker epoch the leader saw (unless it sent -1). */
function isEligible(context: ControllerContext, state: BrokerState): boolean {
  const broker = context.image.broker(state.brokerId);
  if (broker === undefined || broker.inControlledShutdown) return false;
  return state.brokerEpoch === anyBrokerEpoch || state.brokerEpoch === broker.brokerEpoch;
}

/** Every ISR member a replica, none twice, none negative (Kafka's Replicas.validateIsr). */
export function isValidIsr(replicas: readonly number[], isr: readonly number[]): boolean {
  const seen = new Set<number>();
  for (const member of isr) {
    if (member < 0 || seen.has(member) || !replicas.includes(member)) return false;
    seen.add(member);
  }
  return true;
}

function stateResult(partitionIndex: number, partition: PartitionRegistration): PartitionResult {
  return {
    partitionIndex,
    errorCode: ErrorCode.NONE,
    leaderId: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    isr: [...partition.isr],
    leaderRecoveryState: partition.leaderRecoveryState,
    partitionEpoch: partition.partitionEpoch,
  };
}

function errorResult(partitionIndex: number, errorCode: number): PartitionResult {
  return {
    partitionIndex,
    errorCode,
    leaderId: -1,
    leaderEpoch: -1,
    isr: [],
    leaderRecoveryState: 0,
    partitionEpoch: -1,
  };
}
