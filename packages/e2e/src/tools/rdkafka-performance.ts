import { access, mkdir, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runToCompletion } from '../harness/managed-process.js';
import { repositoryRoot } from '../harness/paths.js';

/**
 * librdkafka's own benchmark client, `rdkafka_performance`, built at bench time from Debian's
 * librdkafka source package against the system library: the source in ~/.cache/gregor-bench/, the
 * binary in the git-ignored .bench/ folder. Nothing of it is committed.
 */

export const benchDirectory = join(repositoryRoot, '.bench');
const binaryPath = join(benchDirectory, 'rdkafka_performance');
/** librdkafka's source stays outside the repository, so linters and git never see it. */
const sourceDirectory = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'gregor-bench',
  'librdkafka-src',
);
const debSourceListPath = '/etc/apt/sources.list.d/gregor-deb-src.sources';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a shell script in `cwd`, bounded in time; fails with its stderr. */
async function shell(
  script: string,
  options: { cwd: string; timeoutMs?: number },
): Promise<string> {
  const result = await runToCompletion({
    command: 'bash',
    arguments: ['-euo', 'pipefail', '-c', `cd "${options.cwd}"\n${script}`],
    timeoutMs: options.timeoutMs ?? 300_000,
    environment: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.code !== 0) throw new Error(`${script} failed:\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

/** Adds deb-src entries mirroring the existing apt sources (deb822 or one-line), once. */
async function ensureDebSources(): Promise<void> {
  if (await exists(debSourceListPath)) return;
  await shell(
    [
      'if [ -f /etc/apt/sources.list.d/debian.sources ]; then',
      `  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > ${debSourceListPath}`,
      'else',
      "  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep '^deb ' | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/gregor-deb-src.list",
      `  touch ${debSourceListPath}`,
      'fi',
      'apt-get update -qq',
    ].join('\n'),
    { cwd: '/' },
  );
}

/** Installs Debian packages when missing (needs root). */
export async function ensureDebianPackages(packages: string[]): Promise<void> {
  const missing: string[] = [];
  for (const name of packages) {
    const status = await runToCompletion({
      command: 'dpkg',
      arguments: ['-s', name],
      timeoutMs: 10_000,
    });
    if (status.code !== 0) missing.push(name);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing Debian packages (${missing.join(' ')}); install them as root`);
  await shell(`apt-get install -y -qq ${missing.join(' ')} >/dev/null`, { cwd: '/' });
}

/** Path of a built rdkafka_performance, building it first when needed. */
export async function ensureRdkafkaPerformance(): Promise<string> {
  if (await exists(binaryPath)) return binaryPath;
  await mkdir(sourceDirectory, { recursive: true });
  await ensureDebianPackages(['librdkafka-dev', 'gcc', 'pkg-config', 'dpkg-dev']);
  let unpacked = (await readdir(sourceDirectory)).find((name) => /^librdkafka-\d/.test(name));
  if (!unpacked) {
    await ensureDebSources();
    await shell('apt-get source -qq --download-only librdkafka', { cwd: sourceDirectory });
    const archive = (await readdir(sourceDirectory)).find((name) => name.endsWith('.orig.tar.gz'));
    if (!archive) throw new Error('apt-get source librdkafka brought no .orig.tar.gz');
    await shell(`tar xzf ${archive}`, { cwd: sourceDirectory });
    unpacked = (await readdir(sourceDirectory)).find((name) => /^librdkafka-\d/.test(name));
  }
  if (!unpacked) throw new Error('librdkafka source did not unpack');
  const source = join(sourceDirectory, unpacked);
  // The example includes librdkafka's internal headers, which need the generated config.h.
  if (!(await exists(join(source, 'config.h')))) {
    await shell(
      './configure --prefix=/usr --disable-ssl --disable-gssapi --disable-zstd --disable-curl',
      {
        cwd: source,
      },
    );
  }
  await shell(
    `gcc -O2 -I../src -o ${binaryPath} rdkafka_performance.c $(pkg-config --cflags --libs rdkafka) -lpthread -lm`,
    { cwd: join(source, 'examples') },
  );
  return binaryPath;
}
