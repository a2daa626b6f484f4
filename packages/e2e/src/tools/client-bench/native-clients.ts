import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../harness/paths.js';

/**
 * The librdkafka-based clients are built by scripts/setup-native-clients.sh into a cache folder
 * named after the hash of their pins (the same computation as the script), and loaded from there.
 */

const manifestPath = join(repositoryRoot, 'packages/e2e/clients/native/package.json');

export function nativeClientsFolder(): string {
  const key = createHash('sha256').update(readFileSync(manifestPath)).digest('hex').slice(0, 16);
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'gregor-native-clients', key);
}

/** Loads a package of the native clients' folder (untyped: it is not a dependency of e2e). */
export function requireNative(name: string): unknown {
  const require = createRequire(join(nativeClientsFolder(), 'package.json'));
  return require(name);
}
