/**
 * Dynamic configs, cluster-wide: the broker's AlterConfigs / IncrementalAlterConfigs handlers work
 * out a resource's whole new override set (their config catalog knows SET, DELETE, APPEND,
 * SUBTRACT and validity) and the controller writes it: a topic's overrides in its topic key,
 * cluster-wide broker defaults in `configs/cluster`, one broker's in `configs/brokers/<id>`. Every
 * broker sees the change through its image. The configs the controller reads itself
 * (min.insync.replicas, unclean.leader.election.enable) are checked here too.
 */
import { ErrorCode } from '@gregor/protocol';
import {
  brokerConfigKey,
  clusterConfigKey,
  encodeConfigRecord,
  encodeTopicRecord,
  topicKey,
} from '../records.js';
import type { ControllerContext } from './context.js';
import type { Plan, Unit } from './plan.js';
import { ControllerRequestError, checkTopicConfigs } from './validation.js';

export type ConfigResource =
  | { readonly type: 'topic'; readonly name: string }
  | { readonly type: 'cluster' }
  | { readonly type: 'broker'; readonly brokerId: number };

export interface ConfigWrite {
  readonly resource: ConfigResource;
  /** The resource's complete new set of overrides (name → text); {} removes them all. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface ConfigWriteResult {
  errorCode: number;
  errorMessage: string | null;
}

export function planAlterConfigs(
  context: ControllerContext,
  writes: readonly ConfigWrite[],
  options: { validateOnly: boolean },
): Plan<ConfigWriteResult[]> {
  const results: ConfigWriteResult[] = [];
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const write of writes) {
    const id = resourceId(write.resource);
    try {
      if (seen.has(id)) {
        throw new ControllerRequestError(ErrorCode.INVALID_REQUEST, `Duplicate resource ${id}.`);
      }
      seen.add(id);
      const checked = checkTopicConfigs(
        context,
        Object.entries(write.configs).map(([name, value]) => ({ name, value })),
        { validateWith: write.resource.type === 'topic' },
      );
      const unit = configUnit(context, write.resource, checked);
      const result: ConfigWriteResult = {
        errorCode: options.validateOnly ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER,
        errorMessage: null,
      };
      results.push(result);
      if (options.validateOnly) continue;
      units.push({
        operations: unit.operations,
        committed: () => {
          result.errorCode = ErrorCode.NONE;
          context.logger.info(`Configs of ${id} set`, { resource: id, configs: checked });
        },
      });
    } catch (error) {
      if (!(error instanceof ControllerRequestError)) throw error;
      results.push({ errorCode: error.errorCode, errorMessage: error.message });
    }
  }
  return { units, respond: () => results };
}

function resourceId(resource: ConfigResource): string {
  switch (resource.type) {
    case 'topic':
      return `topic ${resource.name}`;
    case 'cluster':
      return 'the cluster';
    case 'broker':
      return `broker ${resource.brokerId}`;
  }
}

function configUnit(
  context: ControllerContext,
  resource: ConfigResource,
  configs: Record<string, string>,
): Unit {
  const { image } = context;
  switch (resource.type) {
    case 'topic': {
      const topic = image.topic(resource.name);
      if (topic === undefined) {
        throw new ControllerRequestError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `Topic ${resource.name} does not exist.`,
        );
      }
      return {
        operations: [
          {
            type: 'put',
            key: topicKey(topic.name),
            value: encodeTopicRecord({
              topicId: topic.topicId,
              partitionCount: topic.partitionCount,
              configs,
            }),
            expectedModRevision: topic.modRevision,
          },
        ],
      };
    }
    case 'cluster':
      return {
        operations: [{ type: 'put', key: clusterConfigKey, value: encodeConfigRecord(configs) }],
      };
    case 'broker':
      return {
        operations: [
          {
            type: 'put',
            key: brokerConfigKey(resource.brokerId),
            value: encodeConfigRecord(configs),
          },
        ],
      };
  }
}
