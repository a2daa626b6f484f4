/**
 * What every controller event reads: the image at the event's start, the settings (defaults as
 * the broker's static config gives them, validators the broker lends), and the logger.
 */
import type { MetadataImage, PartitionImage } from '../image.js';
import type { ClusterLogger } from '../logger.js';
import type { Election } from '../partition-change.js';

export interface ControllerDefaults {
  /** num.partitions */
  numPartitions: number;
  /** default.replication.factor */
  defaultReplicationFactor: number;
  /** min.insync.replicas */
  minInsyncReplicas: number;
  /** unclean.leader.election.enable */
  uncleanLeaderElectionEnable: boolean;
}

export const controllerDefaults: ControllerDefaults = {
  numPartitions: 1,
  defaultReplicationFactor: 1,
  minInsyncReplicas: 1,
  uncleanLeaderElectionEnable: false,
};

export interface ControllerSettings {
  defaults: ControllerDefaults;
  /** KIP-966 eligible leader replicas (on by default for new clusters since Kafka 4.1). */
  eligibleLeaderReplicasEnabled: boolean;
  /** Why a topic name is invalid, or undefined (the broker lends its topic-name rules). */
  topicNameProblem: (name: string) => string | undefined;
  /** Why topic config overrides are invalid, or undefined (the broker lends its config catalog). */
  topicConfigsProblem: (configs: ReadonlyMap<string, string>) => string | undefined;
  randomInt: (bound: number) => number;
  /** A new topic id (the broker's generator: Kafka's base64url uuid form). */
  randomTopicId: () => string;
}

export interface ControllerContext {
  readonly image: MetadataImage;
  readonly settings: ControllerSettings;
  readonly logger: ClusterLogger;
}

/** The all-zero topic id: "none" on the wire. */
export const zeroTopicId = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The topic's min.insync.replicas: its override, the cluster value, else the default. */
export function minInsyncReplicasFor(context: ControllerContext, topicName: string): number {
  const text = context.image.topicConfigValue(topicName, 'min.insync.replicas');
  const value = text === undefined ? Number.NaN : Number(text);
  return Number.isInteger(value) && value >= 1
    ? value
    : context.settings.defaults.minInsyncReplicas;
}

export function uncleanElectionEnabledFor(context: ControllerContext, topicName: string): boolean {
  const text = context.image.topicConfigValue(topicName, 'unclean.leader.election.enable');
  if (text === undefined) return context.settings.defaults.uncleanLeaderElectionEnable;
  return text.trim().toLowerCase() === 'true';
}

/** The election keeping a partition online: unclean where the topic allows it. */
export function onlineElectionFor(context: ControllerContext, topicName: string): Election {
  return uncleanElectionEnabledFor(context, topicName) ? 'unclean' : 'online';
}

/** Registered and not in controlled shutdown (KRaft's isActive). */
export function activeLeaderPredicate(image: MetadataImage): (brokerId: number) => boolean {
  return (brokerId) => image.isBrokerActive(brokerId);
}

export function partitionName(topicName: string, partition: PartitionImage | number): string {
  return `${topicName}-${typeof partition === 'number' ? partition : partition.partition}`;
}
