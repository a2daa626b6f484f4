// kafkajs's client configuration and how it maps onto @gregor/client's cluster options.

import type { ClusterOptions } from '../network/cluster.js';
import type { OauthBearerToken, SaslOptions, TlsOptions } from '../network/security.js';
import { KafkaJSNonRetriableError, KafkaJSNotImplemented } from './errors.js';
import type { LogCreator, Logger, LogLevel } from './logger.js';

export interface RetryOptions {
  maxRetryTime?: number;
  initialRetryTime?: number;
  factor?: number;
  multiplier?: number;
  retries?: number;
  restartOnFailure?: (error: Error) => Promise<boolean>;
}

export interface KafkaConfig {
  brokers: string[] | (() => string[] | Promise<string[]>);
  clientId?: string;
  /** `true` for the system's CAs, or node:tls options (kafkajs passes them to tls.connect). */
  ssl?: boolean | TlsOptions;
  sasl?: KafkaJSSaslOptions;
  connectionTimeout?: number;
  authenticationTimeout?: number;
  reauthenticationThreshold?: number;
  requestTimeout?: number;
  enforceRequestTimeout?: boolean;
  retry?: RetryOptions;
  socketFactory?: unknown;
  logLevel?: LogLevel;
  logCreator?: LogCreator;
}

/** kafkajs's `sasl` option: mechanism names in lower case, OAUTHBEARER through a provider. */
export type KafkaJSSaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<OauthBearerToken> }
  | { mechanism: string; [option: string]: unknown };

/** kafkajs's `ssl` and `sasl` as @gregor/client's `tls` and `sasl`. */
export function securityOptions(config: KafkaConfig): { tls?: TlsOptions; sasl?: SaslOptions } {
  const security: { tls?: TlsOptions; sasl?: SaslOptions } = {};
  if (config.ssl === true) security.tls = {};
  else if (typeof config.ssl === 'object' && config.ssl !== null) security.tls = config.ssl;
  const sasl = config.sasl;
  if (sasl === undefined) return security;
  const mechanism = String(sasl.mechanism).toLowerCase();
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    const { username, password } = sasl as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string')
      throw new KafkaJSNonRetriableError(`sasl ${mechanism}: username and password are required`);
    security.sasl =
      mechanism === 'plain'
        ? { mechanism: 'PLAIN', username, password }
        : {
            mechanism: mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
            username,
            password,
          };
  } else if (mechanism === 'oauthbearer') {
    const provider = (sasl as { oauthBearerProvider?: unknown }).oauthBearerProvider;
    if (typeof provider !== 'function')
      throw new KafkaJSNonRetriableError('sasl oauthbearer: oauthBearerProvider is required');
    security.sasl = {
      mechanism: 'OAUTHBEARER',
      tokenProvider: provider as () => Promise<OauthBearerToken>,
    };
  } else {
    throw new KafkaJSNotImplemented(`sasl mechanism "${sasl.mechanism}" is not supported`);
  }
  return security;
}

/** What producers, consumers and admins of one `Kafka` share. */
export interface KafkaContext {
  readonly config: KafkaConfig;
  readonly logger: Logger;
}

/** kafkajs's defaults where they differ from @gregor/client's. */
export const kafkajsDefaults = {
  clientId: 'kafkajs',
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 30_000,
} as const;

/**
 * Cluster options for one client of this Kafka: brokers (a function is called on every connect,
 * as kafkajs does), client id, timeouts, retry backoff.
 */
export async function clusterOptions(
  context: KafkaContext,
  overrides: {
    metadataMaxAge?: number;
    allowAutoTopicCreation?: boolean;
    maxInFlightRequests?: number | null;
  },
): Promise<ClusterOptions> {
  const config = context.config;
  if (config.socketFactory !== undefined)
    throw new KafkaJSNotImplemented('socketFactory is not supported by @gregor/client');
  const brokers = typeof config.brokers === 'function' ? await config.brokers() : config.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0)
    throw new KafkaJSNonRetriableError('Failed to connect: expected brokers array and got nothing');
  const options: ClusterOptions = {
    bootstrapServers: brokers,
    clientId: config.clientId ?? kafkajsDefaults.clientId,
    requestTimeoutMs: config.requestTimeout ?? kafkajsDefaults.requestTimeoutMs,
    connectionTimeoutMs: config.connectionTimeout ?? kafkajsDefaults.connectionTimeoutMs,
    retryBackoffMs: config.retry?.initialRetryTime ?? kafkajsDefaults.initialRetryTimeMs,
    ...securityOptions(config),
  };
  if (overrides.metadataMaxAge !== undefined) options.metadataMaxAgeMs = overrides.metadataMaxAge;
  if (overrides.allowAutoTopicCreation !== undefined)
    options.allowAutoTopicCreation = overrides.allowAutoTopicCreation;
  if (typeof overrides.maxInFlightRequests === 'number' && overrides.maxInFlightRequests > 0)
    options.maxInFlightRequestsPerConnection = overrides.maxInFlightRequests;
  return options;
}

/**
 * The longest a kafkajs retrier keeps trying: `retries` attempts with exponential backoff, each
 * wait capped by `maxRetryTime` (kafkajs's formula without its random jitter).
 */
export function retryBudgetMs(retry: RetryOptions | undefined): number {
  const retries = retry?.retries ?? kafkajsDefaults.retries;
  const initial = retry?.initialRetryTime ?? kafkajsDefaults.initialRetryTimeMs;
  const multiplier = retry?.multiplier ?? 2;
  const cap = retry?.maxRetryTime ?? kafkajsDefaults.maxRetryTimeMs;
  let total = 0;
  let wait = initial;
  for (let attempt = 0; attempt < retries; attempt++) {
    total += Math.min(wait, cap);
    wait *= multiplier;
  }
  return Math.max(total, cap);
}
