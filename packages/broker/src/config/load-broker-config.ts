/**
 * Builds the broker configuration from its static sources.
 *
 * Precedence, lowest first (a later source overrides an earlier one):
 *   1. catalog defaults (Kafka's, except where Gregor documents otherwise)
 *   2. the properties file (`--config FILE`, server.properties format)
 *   3. environment: `KAFKA_*`, then `GREGOR_*` (GREGOR_LOG_RETENTION_HOURS -> log.retention.hours)
 *   4. command-line flags: `--node-id`, `--data-dir`, `--listen`, then `--override key=value`
 *   5. `settings` given by a program embedding the broker (tests)
 * Dynamic updates made at run time through the admin API sit above all of these; `loadBrokerConfig`
 * re-applies the persisted ones (first log dir, gregor-broker-configs.json).
 *
 * Any invalid value (wrong type, out of range, unknown choice) or unknown key given on the command
 * line stops start-up with a ConfigError naming the key, the value, its origin and what is allowed.
 * Unknown keys in the file or environment are reported as warnings, as Kafka does, so that a Kafka
 * server.properties loads unchanged.
 */
import { readFile as readFileFromDisk } from 'node:fs/promises';
import { BrokerConfig, type ConfigSetting } from './broker-config.js';
import { brokerConfigDefinition, brokerConfigDefinitions } from './broker-definitions.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { loadDynamicBrokerSettings } from './dynamic-broker-store.js';
import { formatHostPort, parseHostPort } from './listeners.js';
import { parseProperties, propertiesFileBytesMax } from './properties-file.js';
import { parseConfigText } from './values.js';

export interface BrokerConfigFlags {
  /** `--listen host:port`: a single PLAINTEXT listener (sets `listeners`). */
  listen?: string;
  /** `--data-dir DIR`: sets `log.dirs`. */
  dataDir?: string;
  /** `--node-id N`: sets `node.id`. */
  nodeId?: string | number;
  /** `--override key=value`, repeatable, applied after the flags above. */
  overrides?: readonly string[];
}

export interface BrokerConfigSources {
  /** Path of a server.properties file. */
  file?: string;
  flags?: BrokerConfigFlags;
  /** Usually `process.env`. Only GREGOR_* and KAFKA_* variables are read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Highest-precedence static settings from an embedding program, by Kafka name. */
  settings?: Readonly<Record<string, string | number | boolean>>;
}

export interface LoadBrokerConfigOptions extends BrokerConfigSources {
  /** Injected file reader (defaults to node:fs). */
  readFile?: (path: string) => Promise<string>;
  /**
   * Apply the dynamic settings persisted by earlier AlterConfigs (in the first log dir); default
   * true. They sit above every static source, as in Kafka.
   */
  loadDynamicSettings?: boolean;
}

/** A key/value from one source, before validation. */
export interface RawSetting {
  readonly key: string;
  readonly value: string;
  readonly origin: string;
  /** Unknown keys from lenient sources are warnings, from strict ones errors. */
  readonly strict: boolean;
}

export async function loadBrokerConfig(
  options: LoadBrokerConfigOptions = {},
): Promise<BrokerConfig> {
  let fileText: string | undefined;
  if (options.file !== undefined) {
    const readFile = options.readFile ?? ((path: string) => readFileFromDisk(path, 'utf8'));
    try {
      fileText = await readFile(options.file);
    } catch (error) {
      throw new ConfigError([
        {
          name: '--config',
          value: options.file,
          reason: `cannot read the file: ${(error as Error).message}`,
        },
      ]);
    }
  }
  const config = brokerConfigFromSources({ ...options, fileText });
  if (options.loadDynamicSettings !== false) {
    await loadDynamicBrokerSettings(config, config.logDirs[0]);
  }
  return config;
}

/** Synchronous variant taking the file's text instead of its path. */
export function brokerConfigFromSources(
  sources: Omit<BrokerConfigSources, 'file'> & { fileText?: string; file?: string },
): BrokerConfig {
  const raw: RawSetting[] = [];
  const problems: ConfigProblem[] = [];
  if (sources.fileText !== undefined) {
    if (Buffer.byteLength(sources.fileText) > propertiesFileBytesMax) {
      problems.push({
        name: '--config',
        value: sources.file ?? null,
        reason: `the file is larger than ${propertiesFileBytesMax} bytes`,
      });
    } else {
      const fileName = sources.file ?? 'properties file';
      for (const entry of parseProperties(sources.fileText)) {
        raw.push({ ...entry, origin: `${fileName}:${entry.line}`, strict: false });
      }
    }
  }
  raw.push(...settingsFromEnvironment(sources.env ?? {}));
  const fromFlags = settingsFromFlags(sources.flags ?? {});
  raw.push(...fromFlags.settings);
  problems.push(...fromFlags.problems);
  for (const [key, value] of Object.entries(sources.settings ?? {})) {
    raw.push({ key, value: String(value), origin: 'settings', strict: true });
  }
  return brokerConfigFromRawSettings(raw, problems);
}

/** Validates raw settings in precedence order (later wins) into a BrokerConfig. */
export function brokerConfigFromRawSettings(
  raw: readonly RawSetting[],
  earlierProblems: readonly ConfigProblem[] = [],
): BrokerConfig {
  const problems = [...earlierProblems];
  const warnings: string[] = [];
  const staticSettings = new Map<string, ConfigSetting>();
  for (const setting of raw) {
    const definition = brokerConfigDefinition(setting.key);
    if (definition === undefined) {
      const suggestion = closestBrokerConfigName(setting.key);
      const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
      if (setting.strict) {
        problems.push({
          name: setting.key,
          value: null,
          reason: `unknown broker configuration${hint}`,
          origin: setting.origin,
        });
      } else {
        warnings.push(
          `ignoring unknown configuration ${setting.key} (from ${setting.origin})${hint}`,
        );
      }
      continue;
    }
    const parsed = parseConfigText(definition, setting.value);
    if (!parsed.ok) {
      problems.push({
        name: setting.key,
        value: definition.sensitive ? '[hidden]' : setting.value,
        reason: parsed.reason,
        origin: setting.origin,
      });
      continue;
    }
    staticSettings.set(setting.key, {
      value: parsed.value,
      text: parsed.text,
      origin: setting.origin,
    });
  }
  problems.push(...reconcileNodeIds(staticSettings));
  if (problems.length > 0) throw new ConfigError(problems);
  for (const [name, setting] of staticSettings) {
    const definition = brokerConfigDefinition(name);
    if (definition?.ignored && setting.text !== definition.defaultText) {
      warnings.push(`${name} (from ${setting.origin}) is accepted but has no effect in Gregor`);
    }
  }
  return new BrokerConfig({ staticSettings, warnings });
}

/** broker.id is the older name of node.id: either sets both, and they must agree. */
function reconcileNodeIds(settings: Map<string, ConfigSetting>): ConfigProblem[] {
  const nodeId = settings.get('node.id');
  const brokerId = settings.get('broker.id');
  if (brokerId === undefined || (brokerId.value as number) < 0) return [];
  if (nodeId === undefined) {
    settings.set('node.id', brokerId);
    return [];
  }
  if (nodeId.value === brokerId.value) return [];
  return [
    {
      name: 'broker.id',
      value: brokerId.text,
      reason: `must equal node.id (${nodeId.text}, from ${nodeId.origin}) when both are set`,
      origin: brokerId.origin,
    },
  ];
}

const environmentPrefixes = ['KAFKA_', 'GREGOR_'] as const;

/**
 * `PREFIX_LOG_RETENTION_HOURS` -> `log.retention.hours`; as in Kafka's container images a double
 * underscore stands for `_` and a triple underscore for `-`. Variables that are not configurations
 * (KAFKA_HOME, KAFKA_OPTS, GREGOR_LOG_LEVEL, GREGOR_BENCH_MS, ...) are skipped silently, except a
 * GREGOR_* name close to a real one, which warns with a suggestion.
 */
export function settingsFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): RawSetting[] {
  const settings: RawSetting[] = [];
  for (const prefix of environmentPrefixes) {
    for (const variable of Object.keys(env).sort()) {
      const value = env[variable];
      if (!variable.startsWith(prefix) || value === undefined) continue;
      const key = environmentVariableToConfigName(variable.slice(prefix.length));
      if (brokerConfigDefinition(key) === undefined && !looksLikeMisspeltConfig(prefix, key))
        continue;
      settings.push({ key, value, origin: `environment ${variable}`, strict: false });
    }
  }
  return settings;
}

/** GREGOR_* variables that belong to Gregor's tools, not to the broker configuration. */
const gregorToolVariables = new Set(['log.level']);

/**
 * Unknown GREGOR_* names are reported only when they look like a typo of a real config
 * (GREGOR_NUM_PARTITONS); other GREGOR_* variables (benchmarks, fuzzers, log level) are not ours.
 */
function looksLikeMisspeltConfig(prefix: string, key: string): boolean {
  if (prefix !== 'GREGOR_' || gregorToolVariables.has(key)) return false;
  return closestBrokerConfigName(key) !== undefined;
}

export function environmentVariableToConfigName(suffix: string): string {
  return suffix
    .toLowerCase()
    .split('___')
    .map((part) =>
      part
        .split('__')
        .map((piece) => piece.replaceAll('_', '.'))
        .join('_'),
    )
    .join('-');
}

function settingsFromFlags(flags: BrokerConfigFlags): {
  settings: RawSetting[];
  problems: ConfigProblem[];
} {
  const settings: RawSetting[] = [];
  const problems: ConfigProblem[] = [];
  if (flags.nodeId !== undefined) {
    settings.push({
      key: 'node.id',
      value: String(flags.nodeId),
      origin: '--node-id',
      strict: true,
    });
  }
  if (flags.dataDir !== undefined) {
    settings.push({ key: 'log.dirs', value: flags.dataDir, origin: '--data-dir', strict: true });
  }
  if (flags.listen !== undefined) {
    const address = parseHostPort(flags.listen);
    if (address === undefined) {
      problems.push({
        name: '--listen',
        value: flags.listen,
        reason: 'expected host:port (or :port / port; IPv6 hosts in brackets), port 0-65535',
      });
    } else {
      const value = `PLAINTEXT://${formatHostPort(address)}`;
      settings.push({ key: 'listeners', value, origin: '--listen', strict: true });
    }
  }
  for (const override of flags.overrides ?? []) {
    const separator = override.indexOf('=');
    if (separator <= 0) {
      problems.push({ name: '--override', value: override, reason: 'expected key=value' });
      continue;
    }
    settings.push({
      key: override.slice(0, separator).trim(),
      value: override.slice(separator + 1),
      origin: '--override',
      strict: true,
    });
  }
  return { settings, problems };
}

/** The known name nearest to a misspelt one, when it is close enough to be a likely typo. */
export function closestBrokerConfigName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const definition of brokerConfigDefinitions) {
    const distance = editDistance(name, definition.name, bestDistance);
    if (distance < bestDistance) {
      best = definition.name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(left: string, right: string, limit: number): number {
  if (Math.abs(left.length - right.length) >= limit) return limit;
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = previous[column - 1] + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min(previous[column] + 1, current[column - 1] + 1, substitution));
    }
    if (Math.min(...current) >= limit) return limit;
    previous = current;
  }
  return previous[right.length];
}
