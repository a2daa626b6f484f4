/**
 * The shapes shared by the broker and topic configuration catalogs.
 *
 * Names, types and wire codes follow Kafka's ConfigDef and the DescribeConfigs schema, so that
 * admin tools that print `ConfigType` / `ConfigSource` show what they would show against Kafka.
 */

/** Kafka's ConfigDef types. `short` and `class` exist for completeness of the wire mapping. */
export type ConfigType =
  | 'boolean'
  | 'string'
  | 'int'
  | 'short'
  | 'long'
  | 'double'
  | 'list'
  | 'class'
  | 'password';

/** DescribeConfigs v3+ `ConfigType` codes. */
export const configTypeCode: Readonly<Record<ConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/** DescribeConfigs v1+ `ConfigSource` codes (Kafka's DescribeConfigsResponse.ConfigSource). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;
export type ConfigSourceCode = (typeof ConfigSource)[keyof typeof ConfigSource];

/** The value a config of each type holds once parsed. Longs are numbers (see DESIGN.md). */
export interface ConfigValueByType {
  boolean: boolean;
  string: string;
  int: number;
  short: number;
  long: number;
  double: number;
  list: readonly string[];
  class: string;
  password: string;
}
export type ConfigValue = ConfigValueByType[ConfigType];

/**
 * Checks a parsed, non-null value. Returns undefined when valid, otherwise a sentence describing
 * what is allowed (used verbatim in start-up errors and INVALID_CONFIG messages).
 */
export interface ConfigValidator {
  /** Human-readable description of the allowed values, e.g. "an integer >= 1". */
  readonly allowed: string;
  check(value: ConfigValue): string | undefined;
}

/**
 * How a broker config may change while the broker runs (Kafka's DynamicBrokerConfig modes).
 * `read-only` configs are reported with ReadOnly=true by DescribeConfigs.
 */
export type BrokerUpdateMode = 'read-only' | 'per-broker' | 'cluster-wide';

export interface ConfigDefinition<
  N extends string = string,
  T extends ConfigType = ConfigType,
  D extends string | null = string | null,
> {
  readonly name: N;
  readonly type: T;
  /** Default in its textual form (what DescribeConfigs shows); null when the config has none. */
  readonly defaultText: D;
  readonly documentation: string;
  readonly validator: ConfigValidator | undefined;
  /** Passwords and secrets: value hidden by DescribeConfigs. */
  readonly sensitive: boolean;
  /** Accepted so Kafka configuration files load unchanged, but Gregor does not act on it. */
  readonly ignored: boolean;
}

export interface BrokerConfigDefinition<
  N extends string = string,
  T extends ConfigType = ConfigType,
  D extends string | null = string | null,
> extends ConfigDefinition<N, T, D> {
  readonly updateMode: BrokerUpdateMode;
}

export interface TopicConfigDefinition<N extends string = string, T extends ConfigType = ConfigType>
  extends ConfigDefinition<N, T> {
  /**
   * Broker configs that supply this topic config's default, highest precedence first
   * (e.g. retention.ms <- log.retention.ms, log.retention.minutes, log.retention.hours).
   */
  readonly brokerSynonyms: readonly BrokerSynonym[];
}

/** A broker config that supplies a topic default, with the conversion into the topic's unit. */
export interface BrokerSynonym {
  readonly name: string;
  /** Converts the broker value into the topic config's value (e.g. hours to ms). */
  readonly convert?: (value: ConfigValue) => ConfigValue;
}
