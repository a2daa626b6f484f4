/**
 * Persists dynamic broker settings (AlterConfigs / IncrementalAlterConfigs on BROKER resources) in
 * the metadata directory so they survive restarts, as Kafka keeps them in its metadata log.
 * Replaced with `writeFileDurably`: a crash leaves the old or the new document, never half of one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import type { BrokerConfig, DynamicBrokerScope } from './broker-config.js';
import { ConfigError } from './config-error.js';

export const dynamicBrokerConfigFileName = 'gregor-broker-configs.json';
const documentVersion = 1;

interface DynamicBrokerDocument {
  version: number;
  clusterDefault: Record<string, string>;
  thisBroker: Record<string, string>;
}

/** Where the dynamic settings of a broker with these log dirs live. */
export function dynamicBrokerConfigPath(metadataDir: string): string {
  return join(metadataDir, dynamicBrokerConfigFileName);
}

/**
 * Applies the persisted dynamic settings to `config` (at start-up). A setting that no longer
 * validates stops start-up with a ConfigError naming the file, like an invalid static setting.
 */
export async function loadDynamicBrokerSettings(
  config: BrokerConfig,
  metadataDir: string,
): Promise<void> {
  const path = dynamicBrokerConfigPath(metadataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let document: DynamicBrokerDocument;
  try {
    document = JSON.parse(text) as DynamicBrokerDocument;
  } catch (error) {
    throw new ConfigError([
      {
        name: dynamicBrokerConfigFileName,
        value: null,
        reason: `not JSON: ${(error as Error).message}`,
        origin: path,
      },
    ]);
  }
  if (document.version !== documentVersion) {
    throw new ConfigError([
      {
        name: dynamicBrokerConfigFileName,
        value: String(document.version),
        reason: `unsupported document version (expected ${documentVersion})`,
        origin: path,
      },
    ]);
  }
  const scopes: [DynamicBrokerScope, Record<string, string>][] = [
    ['cluster-default', document.clusterDefault ?? {}],
    ['this-broker', document.thisBroker ?? {}],
  ];
  for (const [scope, settings] of scopes) {
    const problems = config.checkDynamicSettings(scope, new Map(Object.entries(settings)));
    if (problems.length > 0) {
      throw new ConfigError(problems.map((problem) => ({ ...problem, origin: path })));
    }
    config.replaceDynamicSettings(scope, new Map(Object.entries(settings)));
  }
}

/** Writes the current dynamic settings of `config` durably. */
export async function saveDynamicBrokerSettings(
  config: BrokerConfig,
  metadataDir: string,
): Promise<void> {
  const document: DynamicBrokerDocument = {
    version: documentVersion,
    clusterDefault: Object.fromEntries(config.dynamicSettings('cluster-default')),
    thisBroker: Object.fromEntries(config.dynamicSettings('this-broker')),
  };
  await mkdir(metadataDir, { recursive: true });
  await writeFileDurably(
    dynamicBrokerConfigPath(metadataDir),
    `${JSON.stringify(document, null, 2)}\n`,
  );
}
