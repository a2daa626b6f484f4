/** Builders for catalog entries; `const` generics keep each name and type literal for typed access. */
import type {
  BrokerConfigDefinition,
  BrokerSynonym,
  BrokerUpdateMode,
  ConfigType,
  ConfigValidator,
  TopicConfigDefinition,
} from './config-types.js';

interface CommonSpec<N extends string, T extends ConfigType, D extends string | null> {
  name: N;
  type: T;
  /** Default as text, exactly as Kafka documents it; null for "no default". */
  default: D;
  documentation: string;
  validator?: ConfigValidator;
  sensitive?: boolean;
  ignored?: boolean;
}

/** The fields every catalog entry shares, with their defaults. */
function commonFields<N extends string, T extends ConfigType, D extends string | null>(
  spec: CommonSpec<N, T, D>,
) {
  return {
    name: spec.name,
    type: spec.type,
    defaultText: spec.default,
    documentation: spec.documentation,
    validator: spec.validator,
    sensitive: spec.sensitive ?? false,
    ignored: spec.ignored ?? false,
  };
}

export function defineBrokerConfig<
  const N extends string,
  const T extends ConfigType,
  const D extends string | null,
>(spec: CommonSpec<N, T, D> & { updateMode?: BrokerUpdateMode }): BrokerConfigDefinition<N, T, D> {
  return { ...commonFields(spec), updateMode: spec.updateMode ?? 'read-only' };
}

export function defineTopicConfig<const N extends string, const T extends ConfigType>(
  spec: CommonSpec<N, T, string | null> & { brokerSynonyms: readonly (string | BrokerSynonym)[] },
): TopicConfigDefinition<N, T> {
  return {
    ...commonFields(spec),
    brokerSynonyms: spec.brokerSynonyms.map((synonym) =>
      typeof synonym === 'string' ? { name: synonym } : synonym,
    ),
  };
}
