/** Request checks shared by the controller's topic handlers, with Kafka's errors and messages. */
import { ErrorCode } from '@gregor/protocol';
import type { ControllerContext } from './context.js';

/** A request the controller refuses, with the Kafka error it answers. */
export class ControllerRequestError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerRequestError';
  }
}

const positiveInteger = /^[1-9][0-9]{0,9}$/;

/**
 * Config overrides as stored (name → text). Null values are refused as Kafka does; the two
 * configs the controller itself reads are checked here; topic configs also by the broker's catalog
 * (`validateWith`), broker configs were checked by the broker that forwards them.
 */
export function checkTopicConfigs(
  context: ControllerContext,
  configs: readonly { name: string; value: string | null }[],
  options: { validateWith: boolean } = { validateWith: true },
): Record<string, string> {
  const nullNames = configs.filter((config) => config.value === null).map((config) => config.name);
  if (nullNames.length > 0) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_CONFIG,
      `Null value not supported for topic configs: ${nullNames.join(',')}`,
    );
  }
  const result: Record<string, string> = {};
  const byName = new Map<string, string>();
  for (const config of configs) {
    if (byName.has(config.name)) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REQUEST,
        `configuration "${config.name}" appears more than once`,
      );
    }
    byName.set(config.name, config.value!);
    result[config.name] = config.value!;
  }
  const minInsync = byName.get('min.insync.replicas');
  if (minInsync !== undefined && !positiveInteger.test(minInsync.trim())) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_CONFIG,
      `Invalid value ${minInsync} for configuration min.insync.replicas: Value must be at least 1`,
    );
  }
  const unclean = byName.get('unclean.leader.election.enable');
  if (unclean !== undefined && !/^(true|false)$/i.test(unclean.trim())) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_CONFIG,
      `Invalid value ${unclean} for configuration unclean.leader.election.enable: Expected value to be either true or false`,
    );
  }
  if (options.validateWith) {
    const problem = context.settings.topicConfigsProblem(byName);
    if (problem !== undefined) throw new ControllerRequestError(ErrorCode.INVALID_CONFIG, problem);
  }
  return result;
}

/**
 * A manual assignment's replicas: registered brokers, each once, as many as the earlier
 * partitions have; at least one active. Returns the initial ISR (the active replicas).
 */
export function validateManualAssignment(
  context: ControllerContext,
  brokerIds: readonly number[],
  partitionIndex: number,
  replicationFactor: number | undefined,
): number[] {
  if (brokerIds.length === 0) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      'The manual partition assignment includes an empty replica list.',
    );
  }
  const sorted = [...brokerIds].sort((left, right) => left - right);
  for (let index = 0; index < sorted.length; index++) {
    const brokerId = sorted[index]!;
    if (!context.image.isBrokerRegistered(brokerId)) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes broker ${brokerId}, but no such broker is registered.`,
      );
    }
    if (index > 0 && sorted[index - 1] === brokerId) {
      throw new ControllerRequestError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes the broker ${brokerId} more than once.`,
      );
    }
  }
  if (replicationFactor !== undefined && brokerIds.length !== replicationFactor) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      `The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
    );
  }
  const isr = brokerIds.filter((brokerId) => context.image.isBrokerActive(brokerId));
  if (isr.length === 0) {
    throw new ControllerRequestError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      `All brokers specified in the manual partition assignment for partition ${partitionIndex} are fenced or in controlled shutdown.`,
    );
  }
  return isr;
}
