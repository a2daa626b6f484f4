// ApiVersions negotiation: per API the highest version both sides speak (KIP-35, KIP-511).
// Brokers dropped old versions in 4.0 (KIP-896), so nothing here is hard-coded to a version.

import { type ApiDescriptor, type ApiVersionsResponse, apiDescriptors } from '@gregor/protocol';
import { ClientError } from '../errors.js';
import { clientMaxVersion } from './version-aliases.js';

/**
 * Highest versions this client uses, where below the codecs' maximum (aliases included, see
 * version-aliases.ts). Produce v12 is used by every producer but a transactional one under
 * transaction version 1, which stays at v11 (KIP-890); v13 would need topic ids (KIP-516).
 */
const clientVersionCaps: ReadonlyMap<number, number> = new Map([
  [0, 12], // Produce
]);

export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

export class UnsupportedVersionError extends ClientError {
  constructor(apiName: string, broker: VersionRange | undefined, client: VersionRange) {
    super(
      broker === undefined
        ? `the broker does not support ${apiName}`
        : `no common version of ${apiName}: broker v${broker.minVersion}-${broker.maxVersion}, client v${client.minVersion}-${client.maxVersion}`,
      { retriable: false },
    );
    this.name = 'UnsupportedVersionError';
  }
}

/** What one broker answered to ApiVersions, and the versions chosen from it. */
export class ApiVersionTable {
  private readonly brokerRanges = new Map<number, VersionRange>();
  private readonly chosen = new Map<number, number>();
  /** KIP-584 finalized features (e.g. `transaction.version`), for later decisions. */
  readonly finalizedFeatures: ReadonlyMap<string, number>;

  constructor(response: ApiVersionsResponse) {
    for (const range of response.apiKeys) {
      this.brokerRanges.set(range.apiKey, {
        minVersion: range.minVersion,
        maxVersion: range.maxVersion,
      });
    }
    const features = new Map<string, number>();
    for (const feature of response.finalizedFeatures ?? []) {
      features.set(feature.name, feature.maxVersionLevel);
    }
    this.finalizedFeatures = features;
  }

  /** The highest common version of `api`, or undefined when there is none. */
  tryVersion(api: ApiDescriptor): number | undefined {
    const cached = this.chosen.get(api.apiKey);
    if (cached !== undefined) return cached;
    const broker = this.brokerRanges.get(api.apiKey);
    if (broker === undefined) return undefined;
    const clientMax = Math.min(
      clientMaxVersion(api),
      clientVersionCaps.get(api.apiKey) ?? Infinity,
    );
    const version = Math.min(clientMax, broker.maxVersion);
    if (version < Math.max(api.minVersion, broker.minVersion)) return undefined;
    this.chosen.set(api.apiKey, version);
    return version;
  }

  /** The highest common version of `api`; throws UnsupportedVersionError when there is none. */
  version(api: ApiDescriptor, clientMinVersion = api.minVersion): number {
    const version = this.tryVersion(api);
    if (version === undefined || version < clientMinVersion) {
      const clientMax = Math.min(
        clientMaxVersion(api),
        clientVersionCaps.get(api.apiKey) ?? Infinity,
      );
      throw new UnsupportedVersionError(api.name, this.brokerRanges.get(api.apiKey), {
        minVersion: clientMinVersion,
        maxVersion: clientMax,
      });
    }
    return version;
  }

  /** The broker's range for an api key (undefined: not supported). */
  brokerRange(apiKey: number): VersionRange | undefined {
    return this.brokerRanges.get(apiKey);
  }

  /** Names of APIs and chosen versions, for logs and tests. */
  describe(): string {
    const parts: string[] = [];
    for (const apiKey of this.brokerRanges.keys()) {
      const api = apiDescriptors[apiKey];
      if (api === undefined) continue;
      const version = this.tryVersion(api);
      if (version !== undefined) parts.push(`${api.name}:${version}`);
    }
    return parts.join(' ');
  }
}
