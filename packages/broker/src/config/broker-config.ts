/**
 * The effective broker configuration: catalog defaults overlaid by static settings (file,
 * environment, flags, already merged by the loader) and by dynamic settings changed at run time
 * through AlterConfigs / IncrementalAlterConfigs (cluster-wide defaults, then this broker's own).
 *
 * Precedence, lowest first: DEFAULT_CONFIG < STATIC_BROKER_CONFIG < DYNAMIC_DEFAULT_BROKER_CONFIG
 * < DYNAMIC_BROKER_CONFIG, as in Kafka.
 */
import {
  type BrokerConfigDefinitions,
  type BrokerConfigName,
  type BrokerConfigValue,
  brokerConfigDefinition,
  brokerConfigDefinitions,
} from './broker-definitions.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { ConfigSource, type ConfigSourceCode, type ConfigValue } from './config-types.js';
import {
  formatListener,
  type ListenerAddress,
  parseListener,
  parseSecurityProtocolMap,
} from './listeners.js';
import { parseConfigText, parseDefault } from './values.js';

/** One explicitly set value and where it came from. */
export interface ConfigSetting {
  readonly value: ConfigValue;
  /** Canonical text, as DescribeConfigs reports it. */
  readonly text: string;
  /** Human-readable origin: "server.properties:12", "--override", "AlterConfigs", ... */
  readonly origin: string;
}

/** Dynamic broker configs: cluster-wide defaults (resource name "") or this broker's own. */
export type DynamicBrokerScope = 'cluster-default' | 'this-broker';

/** A value of one broker config at one precedence level, highest first in `settingsOf`. */
export interface BrokerConfigLayerValue {
  readonly source: ConfigSourceCode;
  readonly text: string | null;
}

/** Host advertised when a listener binds every interface and advertised.listeners is unset. */
export const advertisedHostFallback = 'localhost';

const defaultValues = new Map<string, ConfigValue | null>(
  brokerConfigDefinitions.map((definition) => [definition.name, parseDefault(definition)]),
);

export type BrokerConfigChangeListener = (changedNames: readonly string[]) => void;

export class BrokerConfig {
  private readonly staticSettings: ReadonlyMap<string, ConfigSetting>;
  private dynamicClusterDefaults = new Map<string, ConfigSetting>();
  private dynamicThisBroker = new Map<string, ConfigSetting>();
  private readonly changeListeners = new Set<BrokerConfigChangeListener>();
  /** Non-fatal remarks from loading (unknown keys, ignored configs), for the start-up log. */
  readonly warnings: readonly string[];

  /**
   * Builds a configuration from already parsed static settings; throws ConfigError when the
   * settings are inconsistent. Most callers want `loadBrokerConfig`.
   */
  constructor(
    options: {
      staticSettings?: ReadonlyMap<string, ConfigSetting>;
      warnings?: readonly string[];
    } = {},
  ) {
    this.staticSettings = options.staticSettings ?? new Map();
    this.warnings = options.warnings ?? [];
    const problems = checkConsistency((name) => this.lookup(name, this.layers()));
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** The effective value of a broker config. */
  get<K extends BrokerConfigName>(name: K): BrokerConfigValue<K> {
    return this.lookup(name, this.layers()) as BrokerConfigValue<K>;
  }

  /** The effective value as text (null when unset without default); sensitive values included. */
  text(name: BrokerConfigName | string): string | null {
    return this.settingsOf(name)[0]?.text ?? null;
  }

  /** Every level at which `name` has a value, highest precedence first (the first one wins). */
  settingsOf(name: string): BrokerConfigLayerValue[] {
    const levels: BrokerConfigLayerValue[] = [];
    for (const [source, settings] of this.layers()) {
      const setting = settings.get(name);
      if (setting !== undefined) levels.push({ source, text: setting.text });
    }
    const definition = brokerConfigDefinition(name);
    if (definition !== undefined && definition.defaultText !== null) {
      levels.push({ source: ConfigSource.DEFAULT_CONFIG, text: defaultText(name) });
    }
    return levels;
  }

  /** Source of the effective value, DEFAULT_CONFIG when nothing sets it. */
  sourceOf(name: string): ConfigSourceCode {
    return this.settingsOf(name)[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
  }

  /** True when some file, flag, environment variable or dynamic update sets `name`. */
  isExplicitlySet(name: string): boolean {
    return this.layers().some(([, settings]) => settings.has(name));
  }

  get nodeId(): number {
    return this.get('node.id');
  }

  /** Directories holding partition data: log.dirs, else log.dir. */
  get logDirs(): readonly string[] {
    return this.get('log.dirs') ?? [this.get('log.dir')];
  }

  /** Listeners the broker serves clients on (controller listeners excluded). */
  get listeners(): readonly ListenerAddress[] {
    return brokerListeners(this.get('listeners'), this.get('controller.listener.names'));
  }

  /**
   * Addresses clients are told to connect to: advertised.listeners, else listeners, with a
   * wildcard or empty host replaced by `advertisedHostFallback`. Port 0 means "the bound port",
   * which only the server knows once it listens.
   */
  get advertisedListeners(): readonly ListenerAddress[] {
    const advertised = this.get('advertised.listeners');
    const source =
      advertised === null
        ? this.listeners
        : brokerListeners(advertised, this.get('controller.listener.names'));
    return source.map((listener) =>
      isWildcardHost(listener.host) ? { ...listener, host: advertisedHostFallback } : listener,
    );
  }

  /** Dynamic settings of one scope as name -> text, e.g. for persisting them. */
  dynamicSettings(scope: DynamicBrokerScope): ReadonlyMap<string, string> {
    const settings =
      scope === 'cluster-default' ? this.dynamicClusterDefaults : this.dynamicThisBroker;
    return new Map([...settings].map(([name, setting]) => [name, setting.text]));
  }

  /**
   * Checks a complete replacement of the dynamic settings of one scope without applying it.
   * Returns the problems (unknown names, read-only configs, invalid values, inconsistencies).
   */
  checkDynamicSettings(
    scope: DynamicBrokerScope,
    settings: ReadonlyMap<string, string>,
  ): ConfigProblem[] {
    const parsed = parseDynamicSettings(scope, settings);
    if (parsed.problems.length > 0) return parsed.problems;
    const layers = this.layers(scope, parsed.settings);
    return checkConsistency((name) => this.lookup(name, layers));
  }

  /** Replaces the dynamic settings of one scope; throws ConfigError (and changes nothing) if invalid. */
  replaceDynamicSettings(scope: DynamicBrokerScope, settings: ReadonlyMap<string, string>): void {
    const problems = this.checkDynamicSettings(scope, settings);
    if (problems.length > 0) throw new ConfigError(problems);
    const parsed = parseDynamicSettings(scope, settings).settings;
    const previous =
      scope === 'cluster-default' ? this.dynamicClusterDefaults : this.dynamicThisBroker;
    const changed = new Set<string>();
    for (const name of new Set([...previous.keys(), ...parsed.keys()])) {
      if (previous.get(name)?.text !== parsed.get(name)?.text) changed.add(name);
    }
    if (scope === 'cluster-default') this.dynamicClusterDefaults = parsed;
    else this.dynamicThisBroker = parsed;
    if (changed.size === 0) return;
    for (const listener of this.changeListeners) listener([...changed]);
  }

  /** Called after dynamic settings change, with the names whose setting changed. */
  onChange(listener: BrokerConfigChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Layers above the defaults, highest precedence first; `replace` swaps one dynamic scope. */
  private layers(
    replaceScope?: DynamicBrokerScope,
    replacement?: Map<string, ConfigSetting>,
  ): [ConfigSourceCode, ReadonlyMap<string, ConfigSetting>][] {
    const thisBroker =
      replaceScope === 'this-broker' && replacement ? replacement : this.dynamicThisBroker;
    const clusterDefaults =
      replaceScope === 'cluster-default' && replacement ? replacement : this.dynamicClusterDefaults;
    return [
      [ConfigSource.DYNAMIC_BROKER_CONFIG, thisBroker],
      [ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, clusterDefaults],
      [ConfigSource.STATIC_BROKER_CONFIG, this.staticSettings],
    ];
  }

  private lookup(
    name: string,
    layers: [ConfigSourceCode, ReadonlyMap<string, ConfigSetting>][],
  ): ConfigValue | null {
    for (const [, settings] of layers) {
      const setting = settings.get(name);
      if (setting !== undefined) return setting.value;
    }
    if (!defaultValues.has(name)) throw new Error(`unknown broker config ${name}`);
    return defaultValues.get(name) ?? null;
  }
}

function defaultText(name: string): string | null {
  const definition = brokerConfigDefinition(name);
  if (definition === undefined || definition.defaultText === null) return null;
  const parsed = parseConfigText(definition, definition.defaultText);
  return parsed.ok ? parsed.text : definition.defaultText;
}

function parseDynamicSettings(
  scope: DynamicBrokerScope,
  settings: ReadonlyMap<string, string>,
): { settings: Map<string, ConfigSetting>; problems: ConfigProblem[] } {
  const parsed = new Map<string, ConfigSetting>();
  const problems: ConfigProblem[] = [];
  const origin = scope === 'cluster-default' ? 'dynamic cluster default' : 'dynamic broker config';
  for (const [name, text] of settings) {
    const definition: BrokerConfigDefinitions | undefined = brokerConfigDefinition(name);
    if (definition === undefined) {
      problems.push({ name, value: text, reason: 'unknown broker configuration', origin });
      continue;
    }
    if (definition.updateMode === 'read-only') {
      problems.push({
        name,
        value: text,
        reason: 'read-only: it cannot be changed at run time',
        origin,
      });
      continue;
    }
    if (definition.updateMode === 'per-broker' && scope === 'cluster-default') {
      problems.push({
        name,
        value: text,
        reason: 'can only be set per broker, not cluster-wide',
        origin,
      });
      continue;
    }
    const result = parseConfigText(definition, text);
    if (!result.ok) problems.push({ name, value: text, reason: result.reason, origin });
    else parsed.set(name, { value: result.value, text: result.text, origin });
  }
  return { settings: parsed, problems };
}

function isWildcardHost(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::';
}

function brokerListeners(
  texts: readonly string[],
  controllerNames: readonly string[] | null,
): ListenerAddress[] {
  const controllers = new Set((controllerNames ?? []).map((name) => name.toUpperCase()));
  return texts
    .map((text) => parseListener(text))
    .filter((listener): listener is ListenerAddress => listener !== undefined)
    .filter((listener) => !controllers.has(listener.name));
}

type Lookup = (name: string) => ConfigValue | null;

/** Rules that involve more than one config; each returns problems naming the offending key. */
function checkConsistency(lookup: Lookup): ConfigProblem[] {
  return [
    ...checkListeners(lookup),
    ...checkOrdered(lookup, 'group.min.session.timeout.ms', 'group.max.session.timeout.ms'),
    ...checkBetween(
      lookup,
      'group.consumer.session.timeout.ms',
      'group.consumer.min.session.timeout.ms',
      'group.consumer.max.session.timeout.ms',
    ),
    ...checkBetween(
      lookup,
      'group.consumer.heartbeat.interval.ms',
      'group.consumer.min.heartbeat.interval.ms',
      'group.consumer.max.heartbeat.interval.ms',
    ),
    ...checkHeartbeatBelowSession(lookup),
  ];
}

function checkListeners(lookup: Lookup): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const listenerTexts = lookup('listeners') as string[];
  const controllerNames = (lookup('controller.listener.names') as string[] | null) ?? [];
  const protocolByName = parseSecurityProtocolMap(
    lookup('listener.security.protocol.map') as string[],
  );
  const served = brokerListeners(listenerTexts, controllerNames);
  const listenerValue = listenerTexts.join(',');
  if (served.length === 0) {
    problems.push({
      name: 'listeners',
      value: listenerValue,
      reason: 'expected at least one listener that is not a controller listener',
    });
  }
  for (const listener of served) {
    const protocol = protocolByName.get(listener.name);
    if (protocol === undefined) {
      problems.push({
        name: 'listeners',
        value: listenerValue,
        reason: `listener ${listener.name} has no entry in listener.security.protocol.map`,
      });
    } else if (protocol !== 'PLAINTEXT') {
      problems.push({
        name: 'listeners',
        value: listenerValue,
        reason: `listener ${listener.name} uses ${protocol}; Gregor serves PLAINTEXT listeners only`,
      });
    }
  }
  const advertised = lookup('advertised.listeners') as string[] | null;
  if (advertised !== null) {
    const servedNames = new Set(served.map((listener) => listener.name));
    for (const listener of brokerListeners(advertised, controllerNames)) {
      if (!servedNames.has(listener.name)) {
        problems.push({
          name: 'advertised.listeners',
          value: advertised.join(','),
          reason: `${formatListener(listener)} names a listener that is not in listeners`,
        });
      }
    }
  }
  return problems;
}

function checkOrdered(lookup: Lookup, lowName: string, highName: string): ConfigProblem[] {
  const low = lookup(lowName) as number;
  const high = lookup(highName) as number;
  if (low <= high) return [];
  return [
    { name: lowName, value: String(low), reason: `expected a value <= ${highName} (${high})` },
  ];
}

function checkBetween(lookup: Lookup, name: string, minName: string, maxName: string) {
  return [...checkOrdered(lookup, minName, name), ...checkOrdered(lookup, name, maxName)];
}

function checkHeartbeatBelowSession(lookup: Lookup): ConfigProblem[] {
  const heartbeat = lookup('group.consumer.heartbeat.interval.ms') as number;
  const session = lookup('group.consumer.session.timeout.ms') as number;
  if (heartbeat < session) return [];
  return [
    {
      name: 'group.consumer.heartbeat.interval.ms',
      value: String(heartbeat),
      reason: `expected a value < group.consumer.session.timeout.ms (${session})`,
    },
  ];
}
