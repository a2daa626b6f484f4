/**
 * DescribeConfigs views of broker and topic configuration: value, source, synonyms, read-only and
 * sensitive flags, type and documentation, independent of the wire version (the handler drops what
 * an older version cannot carry).
 */
import type { BrokerConfig } from './broker-config.js';
import { brokerConfigDefinitions } from './broker-definitions.js';
import {
  type ConfigDefinition,
  ConfigSource,
  type ConfigSourceCode,
  configTypeCode,
} from './config-types.js';
import type { ConfigSynonymValue, ResolvedTopicConfig } from './topic-config.js';
import { topicConfigDefinitions } from './topic-definitions.js';

export interface DescribedConfig {
  readonly name: string;
  /** Null for sensitive configs and for configs without a value. */
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly isDefault: boolean;
  readonly source: ConfigSourceCode;
  readonly sensitive: boolean;
  readonly synonyms: readonly ConfigSynonymValue[];
  /** DescribeConfigs v3 ConfigType code. */
  readonly configType: number;
  readonly documentation: string;
}

/**
 * Broker configs that are synonyms of each other, e.g. log.retention.ms -> [minutes, hours]:
 * the lower-precedence names of the same topic config's synonym list.
 */
const brokerSynonymGroups = new Map<string, readonly string[]>();
for (const topicDefinition of topicConfigDefinitions) {
  const names = topicDefinition.brokerSynonyms.map((synonym) => synonym.name);
  names.forEach((name, index) => {
    if (names.length > 1 && !brokerSynonymGroups.has(name))
      brokerSynonymGroups.set(name, names.slice(index));
  });
}

export function describeBrokerConfigs(brokerConfig: BrokerConfig): DescribedConfig[] {
  return brokerConfigDefinitions.map((definition) => {
    const group = brokerSynonymGroups.get(definition.name) ?? [definition.name];
    const synonyms = group.flatMap((name) =>
      brokerConfig
        .settingsOf(name)
        .map((level) => ({ name, text: level.text, source: level.source })),
    );
    const own = brokerConfig.settingsOf(definition.name)[0];
    const source = own?.source ?? ConfigSource.DEFAULT_CONFIG;
    return described(definition, {
      text: own?.text ?? null,
      source,
      readOnly: definition.updateMode === 'read-only',
      synonyms,
    });
  });
}

export function describeTopicConfigs(resolved: ResolvedTopicConfig): DescribedConfig[] {
  return [...resolved.entries.values()].map((entry) =>
    described(entry.definition, {
      text: entry.text,
      source: entry.source,
      readOnly: false,
      synonyms: entry.synonyms,
    }),
  );
}

function described(
  definition: ConfigDefinition,
  state: {
    text: string | null;
    source: ConfigSourceCode;
    readOnly: boolean;
    synonyms: readonly ConfigSynonymValue[];
  },
): DescribedConfig {
  const hide = definition.sensitive;
  return {
    name: definition.name,
    value: hide ? null : state.text,
    readOnly: state.readOnly,
    isDefault: state.source === ConfigSource.DEFAULT_CONFIG,
    source: state.source,
    sensitive: definition.sensitive,
    synonyms: hide ? state.synonyms.map((synonym) => ({ ...synonym, text: null })) : state.synonyms,
    configType: configTypeCode[definition.type],
    documentation: definition.documentation,
  };
}
