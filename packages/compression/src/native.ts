// Native modules load on first use, not at import: a platform without a prebuilt binary for one
// library loses that codec (a CompressionError when used), not the whole package.

import { createRequire } from 'node:module';
import { CompressionError } from './errors.js';

const require = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

export function loadNative<T>(name: string): T {
  if (!loaded.has(name)) {
    try {
      loaded.set(name, require(name));
    } catch (error) {
      throw new CompressionError(
        `native module ${name} is unavailable: ${(error as Error).message}`,
      );
    }
  }
  return loaded.get(name) as T;
}
