import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { debianPythonPath, pythonClientsDirectory } from './paths.js';

/**
 * The Python interpreters (and import paths) the e2e client scripts run under: Debian's
 * /usr/bin/python3 with python3-confluent-kafka and python3-kafka, or the virtualenv of the newest
 * PyPI clients that scripts/setup-python-clients.sh builds outside the repository.
 */
export interface PythonRuntime {
  /** For labels and messages, e.g. "kafka-python 2.3.3". */
  label: string;
  executable: string;
  environment?: Record<string, string>;
}

export const debianPython: PythonRuntime = {
  label: 'Debian python3',
  executable: debianPythonPath,
};

/** Same folder as scripts/setup-python-clients.sh: named after the hash of the requirement files. */
function newestClientsFolder(): string {
  const hash = createHash('sha256');
  for (const file of ['requirements-newest.txt', 'requirements-kafka-python-2.txt']) {
    hash.update(readFileSync(join(pythonClientsDirectory, file)));
  }
  const cacheDirectory = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheDirectory, 'gregor-python-clients', hash.digest('hex').slice(0, 16));
}

function pinnedVersion(file: string, name: string): string {
  const line = readFileSync(join(pythonClientsDirectory, file), 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}==`));
  if (!line) throw new Error(`${file} pins no ${name}`);
  return line.slice(name.length + 2).trim();
}

export const newestVersions = {
  confluentKafka: pinnedVersion('requirements-newest.txt', 'confluent-kafka'),
  kafkaPython: pinnedVersion('requirements-newest.txt', 'kafka-python'),
  kafkaPython2: pinnedVersion('requirements-kafka-python-2.txt', 'kafka-python'),
  aiokafka: pinnedVersion('requirements-newest.txt', 'aiokafka'),
};

/** Fails (never skips) with the command that installs the clients when they are missing. */
function requireVirtualenv(): string {
  const folder = newestClientsFolder();
  const executable = join(folder, 'venv', 'bin', 'python');
  if (!existsSync(join(folder, '.complete')) || !existsSync(executable)) {
    throw new Error(
      `the newest Python clients are not installed in ${folder}: run bash scripts/setup-python-clients.sh`,
    );
  }
  return executable;
}

/** confluent-kafka, kafka-python 3.x and aiokafka at their pinned newest versions. */
export function newestPython(label: string): PythonRuntime {
  return { label, executable: requireVirtualenv() };
}

/** The same virtualenv with kafka-python 2.x first on the import path. */
export function kafkaPython2Python(): PythonRuntime {
  return {
    label: `kafka-python ${newestVersions.kafkaPython2}`,
    executable: requireVirtualenv(),
    environment: { PYTHONPATH: join(newestClientsFolder(), 'kafka-python-2') },
  };
}
