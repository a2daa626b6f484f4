/**
 * ElectLeaders (API 43, KIP-460) at the controller: type 0 moves leadership to the preferred
 * replica (replicas[0]) when it is an active ISR member; type 1 elects any active replica for a
 * leaderless partition. ELECTION_NOT_NEEDED when the preferred replica already leads or the
 * partition has a leader; with no partitions named, every partition is tried and those answers
 * are left out, as Kafka does.
 */
import { type ElectLeadersRequest, type ElectLeadersResponse, ErrorCode } from '@gregor/protocol';
import type { Election } from '../partition-change.js';
import { noLeader } from '../partition-registration.js';
import type { ControllerContext } from './context.js';
import { changePartition, partitionChangeUnit } from './partition-updates.js';
import { answerOnly, onCommit, type Plan, type Unit } from './plan.js';

type TopicResult = ElectLeadersResponse['replicaElectionResults'][number];
type PartitionResult = TopicResult['partitionResult'][number];

export const ElectionType = { preferred: 0, unclean: 1 } as const;

export function planElectLeaders(
  context: ControllerContext,
  request: ElectLeadersRequest,
): Plan<ElectLeadersResponse> {
  const electionType = request.electionType ?? ElectionType.preferred;
  if (electionType !== ElectionType.preferred && electionType !== ElectionType.unclean) {
    return answerOnly({
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      replicaElectionResults: [],
    });
  }
  const election: Election = electionType === ElectionType.preferred ? 'preferred' : 'unclean';
  const units: Unit[] = [];
  const results: TopicResult[] = [];
  const every = request.topicPartitions === null;
  const seen = new Set<string>();
  const requested =
    request.topicPartitions ??
    context.image.topics().map((topic) => ({
      topic: topic.name,
      partitions: context.image.partitions(topic.name).map((partition) => partition.partition),
    }));
  for (const entry of requested) {
    const topicResult: TopicResult = { topic: entry.topic, partitionResult: [] };
    results.push(topicResult);
    for (const partitionId of entry.partitions) {
      const id = `${entry.topic}/${partitionId}`;
      if (seen.has(id)) {
        topicResult.partitionResult.push({
          partitionId,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Duplicate partition in the request.',
        });
        continue;
      }
      seen.add(id);
      const outcome = electOne(context, entry.topic, partitionId, election);
      if (every && outcome.result.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
      topicResult.partitionResult.push(outcome.result);
      if (outcome.unit !== undefined) units.push(outcome.unit);
    }
  }
  return {
    units,
    respond: () => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: results,
    }),
  };
}

function electOne(
  context: ControllerContext,
  topicName: string,
  partitionId: number,
  election: Election,
): { result: PartitionResult; unit?: Unit } {
  const fail = (errorCode: number, errorMessage: string | null = null) => ({
    result: { partitionId, errorCode, errorMessage },
  });
  if (context.image.topic(topicName) === undefined) {
    return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${topicName}`);
  }
  const partition = context.image.partition(topicName, partitionId);
  if (partition === undefined) {
    return fail(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      `No such partition as ${topicName}-${partitionId}`,
    );
  }
  if (election === 'preferred' && partition.leader === partition.replicas[0]) {
    return fail(ErrorCode.ELECTION_NOT_NEEDED);
  }
  if (election === 'unclean' && partition.leader !== noLeader) {
    return fail(ErrorCode.ELECTION_NOT_NEEDED);
  }
  const change = changePartition(context, topicName, partition, { election });
  if (change === undefined) {
    return fail(
      election === 'preferred'
        ? ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE
        : ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    );
  }
  const result: PartitionResult = {
    partitionId,
    errorCode: ErrorCode.NOT_CONTROLLER,
    errorMessage: null,
  };
  const unit = partitionChangeUnit(
    context.logger,
    topicName,
    partition,
    change,
    `${election} leader election requested`,
  );
  return { result, unit: onCommit(unit, () => (result.errorCode = ErrorCode.NONE)) };
}
