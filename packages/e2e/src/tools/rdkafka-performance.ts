import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runToCompletion } from '../harness/managed-process.js';
import { repositoryRoot } from '../harness/paths.js';
import { pathExists } from '../harness/temporary-directory.js';

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
  if (await pathExists(debSourceListPath)) return;
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
  if (await pathExists(binaryPath)) return binaryPath;
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
  if (!(await pathExists(join(source, 'config.h')))) {
    await shell(
      './configure --prefix=/usr --disable-ssl --disable-gssapi --disable-zstd --disable-curl',
      {
        cwd: source,
      },
    );
  }
  await compile(source, 'rdkafka_performance.c', binaryPath);
  return binaryPath;
}

function compile(source: string, file: string, output: string): Promise<string> {
  return shell(
    `gcc -O2 -I../src -o ${output} ${file} $(pkg-config --cflags --libs rdkafka) -lpthread -lm`,
    { cwd: join(source, 'examples') },
  );
}

/**
 * rdkafka_performance's rate pacing (`-r`) polls with a zero timeout until the next send is due:
 * at 10,000 records/s it spins one of this machine's two cores (5.2 s of CPU for a 5.4 s run),
 * leaving the broker, the consumer and librdkafka's own threads to share the other. The paced
 * build replaces that loop, and only that loop, with one poll and a sleep to the next send's
 * absolute due time (about 1 s of CPU for the same run). Everything else is librdkafka's code.
 */
const spinningPacing = `                                do {
                                        rd_kafka_poll(
                                            rk,
                                            (int)RD_MAX(0, (next - rd_clock()) /
                                                               1000));
                                } while (next > rd_clock());`;

const sleepingPacing = `                                static rd_ts_t due = 0;
                                (void)next;
                                rd_kafka_poll(rk, 0);
                                if (due == 0)
                                        due = rd_clock();
                                due += (rd_ts_t)rate_sleep;
                                rd_ts_t now_us = rd_clock();
                                if (due > now_us)
                                        usleep((useconds_t)(due - now_us));
                                else if (now_us - due > 100000)
                                        due = now_us; /* far behind: do not burst */`;

/** Path of rdkafka_performance with sleeping rate pacing (see above), built when needed. */
export async function ensurePacedRdkafkaPerformance(): Promise<string> {
  // Versioned: a changed patch must not reuse an old build.
  const paced = join(benchDirectory, 'rdkafka_performance_paced_v1');
  if (await pathExists(paced)) return paced;
  await ensureRdkafkaPerformance();
  const unpacked = (await readdir(sourceDirectory)).find((name) => /^librdkafka-\d/.test(name));
  if (!unpacked) throw new Error('librdkafka source is missing');
  const source = join(sourceDirectory, unpacked);
  const original = await readFile(join(source, 'examples', 'rdkafka_performance.c'), 'utf8');
  if (!original.includes(spinningPacing))
    throw new Error('rdkafka_performance.c: the rate pacing loop to replace was not found');
  await writeFile(
    join(source, 'examples', 'rdkafka_performance_paced.c'),
    original.replace(spinningPacing, sleepingPacing),
  );
  await compile(source, 'rdkafka_performance_paced.c', paced);
  return paced;
}
