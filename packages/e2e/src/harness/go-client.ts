import { access, cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClientEvent, JsonLinesProcess } from './json-lines-process.js';
import { ManagedProcess, runToCompletion } from './managed-process.js';
import { e2ePackageDirectory } from './paths.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';
import { withDeadline } from './wait.js';

/**
 * The Go clients (Debian's packages, used offline in GOPATH mode): each is driven by a small
 * program in `packages/e2e/go/<client>/main.go` that reports what it did as JSON lines (the
 * conventions of `go/driver`). The program is built at test time into a temporary directory,
 * with a fresh build cache there; nothing is downloaded.
 */

export type GoClientName = 'sarama' | 'kafka-go';

/** Debian's source tree of Go libraries (`golang-*-dev` packages install there). */
const debianGoPath = '/usr/share/gocode';
/** The import path the drivers' folder gets in the temporary GOPATH (`gregor-e2e/driver`). */
const driversImportRoot = 'gregor-e2e';
const goDriversDirectory = join(e2ePackageDirectory, 'go');
const buildTimeoutMs = 120_000;
const installHint =
  'install them with `apt-get install -y golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev` (scripts/setup.sh --test-tools does)';

const libraries: Record<GoClientName, { importPath: string; debianPackage: string }> = {
  sarama: {
    importPath: 'github.com/Shopify/sarama',
    debianPackage: 'golang-github-shopify-sarama-dev',
  },
  'kafka-go': {
    importPath: 'github.com/segmentio/kafka-go',
    debianPackage: 'golang-github-segmentio-kafka-go-dev',
  },
};

/** Fails with what to install when Debian's Go or the client library is missing. */
async function assertGoToolchain(client: GoClientName): Promise<void> {
  const version = await runToCompletion({
    command: 'go',
    arguments: ['version'],
    timeoutMs: 20_000,
  });
  if (version.code !== 0) {
    throw new Error(
      `the ${client} tests need Debian's Go (golang-go), but \`go version\` failed (${version.code ?? version.signal}): ${installHint}\n${version.stderr}`,
    );
  }
  const library = libraries[client];
  try {
    await access(join(debianGoPath, 'src', library.importPath));
  } catch {
    throw new Error(
      `the ${client} tests need ${library.importPath} from Debian's ${library.debianPackage}, absent from ${debianGoPath}: ${installHint}`,
    );
  }
}

/** A built driver program; `run` executes one of its commands to completion. */
export class GoClient {
  readonly client: GoClientName;
  private readonly directory: string;
  private readonly binaryPath: string;

  private constructor(client: GoClientName, directory: string) {
    this.client = client;
    this.directory = directory;
    this.binaryPath = join(directory, 'bin', client);
  }

  /** Builds `go/<client>` with GOPATH = (a copy of `go/` as `gregor-e2e`) + Debian's tree. */
  static async build(client: GoClientName): Promise<GoClient> {
    await assertGoToolchain(client);
    const directory = await makeTemporaryDirectory(`go-${client}`);
    const goClient = new GoClient(client, directory);
    try {
      const workspace = join(directory, 'gopath');
      await mkdir(join(workspace, 'src'), { recursive: true });
      await cp(goDriversDirectory, join(workspace, 'src', driversImportRoot), { recursive: true });
      const result = await runToCompletion({
        command: 'go',
        arguments: ['build', '-o', goClient.binaryPath, `${driversImportRoot}/${client}`],
        timeoutMs: buildTimeoutMs,
        environment: {
          GOPATH: `${workspace}:${debianGoPath}`,
          GO111MODULE: 'off',
          GOCACHE: join(directory, 'cache'),
          GOFLAGS: '-p=1',
          // Without cgo sarama leaves out zstd (a C build); no test here compresses with zstd.
          CGO_ENABLED: '0',
        },
      });
      if (result.code !== 0) {
        throw new Error(
          `go build of the ${client} driver failed (${result.code ?? result.signal}); if a package is missing, ${installHint}\n${result.stderr.slice(-6000)}`,
        );
      }
    } catch (error) {
      await removeDirectory(directory);
      throw error;
    }
    return goClient;
  }

  /**
   * Runs `command` with JSON `parameters` until it exits by itself (stdin stays open: closing it
   * means "stop"); fails on a non-zero exit or at the deadline; returns its events.
   */
  async run(
    command: string,
    parameters: object,
    options: { timeoutMs: number },
  ): Promise<ClientEvent[]> {
    const driver = new JsonLinesProcess(
      new ManagedProcess({
        label: `${this.client} ${command}`,
        command: this.binaryPath,
        arguments: [command, JSON.stringify(parameters)],
      }),
    );
    const status = await withDeadline(driver.process.exited, {
      timeoutMs: options.timeoutMs,
      what: `${this.client} ${command} to finish`,
    }).catch(async (error: Error) => {
      await driver.kill();
      throw new Error(`${error.message}\n${driver.process.output().slice(-8000)}`);
    });
    if (status.code !== 0) {
      throw new Error(
        `${this.client} ${command} exited with ${status.code ?? status.signal}\n${driver.process.output().slice(-8000)}`,
      );
    }
    return driver.events;
  }

  async dispose(): Promise<void> {
    await removeDirectory(this.directory);
  }
}
