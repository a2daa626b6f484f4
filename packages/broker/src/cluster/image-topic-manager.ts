/**
 * The broker's TopicManager in cluster mode: topics are read from the metadata image; creations,
 * deletions, partition growth and config changes are controller requests (forwarded when the
 * controller is another broker), answered once this broker's image shows their effect. Internal
 * topics are created on first use with replication factor min(their configured one, 3 by default,
 * registered brokers).
 */
import type { MetadataImage, TopicImage } from '@gregor/cluster';
import {
  type AlterConfigsResponse,
  ApiKey,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type DeleteTopicsResponse,
  ErrorCode,
} from '@gregor/protocol';
import { internalTopicCreation } from '../topics/internal-topics.js';
import type { TopicDefaults } from '../topics/topic-manager.js';
import { isInternalTopic } from '../topics/topic-names.js';
import {
  type CreateTopicOptions,
  TopicError,
  type TopicInfo,
  type TopicManager,
} from '../topics/types.js';
import type { ClusterNode } from './cluster-node.js';

/** How long a write waits for this broker's image to show it. */
const imageWaitMs = 10_000;
const topicResourceType = 2;

export class ImageTopicManager implements TopicManager {
  private readonly creating = new Map<string, Promise<TopicInfo | undefined>>();

  constructor(
    private readonly node: ClusterNode,
    private readonly defaults: () => TopicDefaults,
    /** offsets.topic.replication.factor / transaction.state.log.replication.factor. */
    private readonly internalReplicationFactor: (name: string) => number,
  ) {}

  get(name: string): TopicInfo | undefined {
    const topic = this.node.image.topic(name);
    return topic === undefined ? undefined : topicInfo(topic);
  }

  getById(topicId: string): TopicInfo | undefined {
    const topic = this.node.image.topicById(topicId);
    return topic === undefined ? undefined : topicInfo(topic);
  }

  list(): TopicInfo[] {
    return this.node.image.topics().map(topicInfo);
  }

  async create(options: CreateTopicOptions): Promise<TopicInfo> {
    return this.createWith(options, -1);
  }

  async delete(name: string): Promise<void> {
    const response = await this.node.channel.send<DeleteTopicsResponse>({
      apiKey: ApiKey.DeleteTopics,
      apiVersion: 5,
      request: { topicNames: [name], timeoutMs: imageWaitMs },
      local: (controller) =>
        controller.deleteTopics({ topicNames: [name], timeoutMs: imageWaitMs }),
      forwarded: false,
    });
    const result = response.responses[0];
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) {
      throw new TopicError(result.errorCode, result.errorMessage ?? `deleting ${name} failed`);
    }
    await this.node.waitForImage((image) => image.topic(name) === undefined, imageWaitMs);
  }

  async createPartitions(name: string, partitionCount: number): Promise<TopicInfo> {
    const request = {
      topics: [{ name, count: partitionCount, assignments: null }],
      timeoutMs: imageWaitMs,
      validateOnly: false,
    };
    const response = await this.node.channel.send<CreatePartitionsResponse>({
      apiKey: ApiKey.CreatePartitions,
      apiVersion: 3,
      request,
      local: (controller) => controller.createPartitions(request),
      forwarded: false,
    });
    const result = response.results[0];
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) {
      throw new TopicError(result.errorCode, result.errorMessage ?? `growing ${name} failed`);
    }
    await this.node.waitForImage(
      (image) => (image.topic(name)?.partitionCount ?? 0) >= partitionCount,
      imageWaitMs,
    );
    return this.require(name);
  }

  async updateConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo> {
    const request = {
      resources: [
        {
          resourceType: topicResourceType,
          resourceName: name,
          configs: Object.entries(configs).map(([configName, value]) => ({
            name: configName,
            value,
          })),
        },
      ],
      validateOnly: false,
    };
    const response = await this.node.channel.send<AlterConfigsResponse>({
      apiKey: ApiKey.AlterConfigs,
      apiVersion: 1,
      request,
      local: async (controller) => {
        const [result] = await controller.alterConfigs([
          { resource: { type: 'topic', name }, configs },
        ]);
        return {
          throttleTimeMs: 0,
          responses: [
            {
              errorCode: result!.errorCode,
              errorMessage: result!.errorMessage,
              resourceType: topicResourceType,
              resourceName: name,
            },
          ],
        };
      },
      forwarded: false,
    });
    const result = response.responses[0];
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) {
      throw new TopicError(result.errorCode, result.errorMessage ?? `altering ${name} failed`);
    }
    await this.node.waitForImage(
      (image) => sameConfigs(image.topic(name)?.configs ?? {}, configs),
      imageWaitMs,
    );
    return this.require(name);
  }

  async getOrCreate(
    name: string,
    options: { autoCreate: boolean },
  ): Promise<TopicInfo | undefined> {
    const existing = this.get(name);
    if (existing !== undefined) return existing;
    const pending = this.creating.get(name);
    if (pending !== undefined) return pending;
    const defaults = this.defaults();
    const brokers = this.node.image.brokers().length;
    const internalReplicationFactor = Math.max(
      1,
      Math.min(this.internalReplicationFactor(name), brokers),
    );
    const internal = internalTopicCreation(name, defaults, internalReplicationFactor);
    const createOptions =
      internal ??
      (options.autoCreate && defaults.autoCreateTopicsEnable
        ? { name, partitionCount: defaults.numPartitions }
        : undefined);
    if (createOptions === undefined) return undefined;
    const replicationFactor = internal === undefined ? -1 : internalReplicationFactor;
    const creation = this.createWith(createOptions, replicationFactor)
      .catch((error: unknown) => {
        // Lost a race with another creation: the topic exists now.
        if (error instanceof TopicError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) {
          return this.waitForTopic(name);
        }
        throw error;
      })
      .finally(() => this.creating.delete(name));
    this.creating.set(name, creation);
    return creation;
  }

  private async createWith(
    options: CreateTopicOptions,
    replicationFactor: number,
  ): Promise<TopicInfo> {
    const request: CreateTopicsRequest = {
      topics: [
        {
          name: options.name,
          numPartitions: options.partitionCount,
          replicationFactor,
          assignments: [],
          configs: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
      timeoutMs: imageWaitMs,
      validateOnly: options.validateOnly === true,
    };
    const response = await this.node.channel.send<CreateTopicsResponse>({
      apiKey: ApiKey.CreateTopics,
      apiVersion: 7,
      request,
      local: (controller) => controller.createTopics(request),
      forwarded: false,
    });
    const result = response.topics[0];
    if (result === undefined || result.errorCode !== ErrorCode.NONE) {
      throw new TopicError(
        result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
        result?.errorMessage ?? `creating ${options.name} failed`,
      );
    }
    if (options.validateOnly === true) {
      return {
        name: options.name,
        topicId: result.topicId ?? '',
        partitionCount: options.partitionCount,
        internal: isInternalTopic(options.name),
        configs: options.configs ?? {},
        createdAtMs: 0,
      };
    }
    const topic = await this.waitForTopic(options.name);
    if (topic === undefined) {
      throw new TopicError(
        ErrorCode.REQUEST_TIMED_OUT,
        `${options.name} did not show up in the metadata`,
      );
    }
    return topic;
  }

  private async waitForTopic(name: string): Promise<TopicInfo | undefined> {
    await this.node.waitForImage(
      (image: MetadataImage) => image.topic(name) !== undefined,
      imageWaitMs,
    );
    return this.get(name);
  }

  private require(name: string): TopicInfo {
    const topic = this.get(name);
    if (topic === undefined) {
      throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);
    }
    return topic;
  }
}

/** The TopicManager view of a topic of the image. */
export function topicInfo(topic: TopicImage): TopicInfo {
  return {
    name: topic.name,
    topicId: topic.topicId,
    partitionCount: topic.partitionCount,
    internal: isInternalTopic(topic.name),
    configs: topic.configs,
    createdAtMs: 0,
  };
}

function sameConfigs(
  left: Readonly<Record<string, string>>,
  right: Readonly<Record<string, string>>,
): boolean {
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  return leftKeys.every((key) => left[key] === right[key]);
}
