import { access, cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { goModulesDirectory, goToolchainPath } from './go-test-suite.js';
import { type ClientEvent, eventsNamed, JsonLinesProcess } from './json-lines-process.js';
import { ManagedProcess, runToCompletion } from './managed-process.js';
import { e2ePackageDirectory } from './paths.js';
import { type PlacedRecord, placedRecordFromEvent } from './records.js';
import type { RoundTripClient } from './roundtrip-scenario.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';
import { withDeadline } from './wait.js';

/**
 * The Go clients, each driven by a small program that reports what it did as JSON lines (the
 * conventions of `go/driver`), built at test time into a temporary directory:
 * - Debian's old packages (sarama 1.22.1, kafka-go 0.2.1) in GOPATH mode, offline, from
 *   `packages/e2e/go/<client>/main.go` with a fresh build cache;
 * - the newest releases as Go modules (`packages/e2e/go-modules/<driver>/`, versions pinned by its
 *   go.mod and go.sum) from the module cache that scripts/setup-go-modules.sh fills, with the
 *   proxy off, so nothing is downloaded at test time either.
 * Both use Go 1.26 from /usr/local/go (`goToolchainPath`, as franz-go's suite; the GOPATH drivers
 * also build with Debian's 1.19, but the modules need 1.26).
 */

export type GoClientName = 'sarama' | 'kafka-go';

/** The Go-module drivers: `go-modules/<name>` pins the newest release of its client library. */
export type GoModuleDriverName = 'sarama-newest' | 'kafka-go-newest';

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

const moduleSetupHint =
  'run `bash scripts/setup-go-modules.sh` (scripts/setup.sh --test-tools does), which downloads the pinned modules with Go >= 1.26';

/**
 * The environment of the module builds. scripts/setup-go-modules.sh builds with the same GOFLAGS
 * and CGO_ENABLED, so its build leaves the compiled packages in the shared Go build cache and the
 * test-time build only links; GOPROXY=off makes a module missing from the cache an error here
 * instead of a download.
 */
const goModuleBuildEnvironment: Record<string, string> = {
  GOFLAGS: '-mod=readonly -buildvcs=false',
  GOPROXY: 'off',
  GOTOOLCHAIN: 'local',
  CGO_ENABLED: '0',
};

/** Fails with what to install when Go or the Debian client library is missing. */
async function assertGoToolchain(client: GoClientName): Promise<void> {
  const version = await runToCompletion({
    command: goToolchainPath,
    arguments: ['version'],
    timeoutMs: 20_000,
  });
  if (version.code !== 0) {
    throw new Error(
      `the ${client} tests need Go at ${goToolchainPath} (GREGOR_FRANZ_GO_TOOLCHAIN overrides it), but \`go version\` failed (${version.code ?? version.signal})\n${version.stderr}`,
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

/**
 * One entry of a Go-module driver's `describe-config` result, for a config a client may change
 * (not read-only, not sensitive); `source` as the library reports it (sarama: `Topic`, kafka-go: 1).
 */
export function writableConfigEntry(name: string, value: string, source: string | number) {
  return { name, value, source, readOnly: false, sensitive: false };
}

/** A Go-module driver's description of partitions 0..count-1 on the single broker (id 1). */
export function singleBrokerPartitions(count: number) {
  return Array.from({ length: count }, (_, partition) => ({
    partition,
    leader: 1,
    replicas: [1],
    isr: [1],
    code: 0,
  }));
}

/**
 * The admin steps both Go-module admin tests take on a topic's `names` configs: describe them,
 * set retention.ms to 7200000 and delete cleanup.policy (IncrementalAlterConfigs), describe,
 * set only segment.bytes to 1048576 (AlterConfigs, which replaces the topic's whole set, so
 * retention.ms goes back to its default), describe.
 */
export function topicConfigChangeSteps(
  topic: string,
  names: readonly string[],
): Record<string, unknown>[] {
  const describe = { op: 'describe-config', resource: 'topic', name: topic, names };
  return [
    describe,
    {
      op: 'incremental-alter-config',
      resource: 'topic',
      name: topic,
      operations: {
        'retention.ms': { operation: 'set', value: '7200000' },
        'cleanup.policy': { operation: 'delete' },
      },
    },
    describe,
    { op: 'alter-config', resource: 'topic', name: topic, configs: { 'segment.bytes': '1048576' } },
    describe,
  ];
}

/** A built driver program; `run` executes one of its commands to completion. */
export class GoClient {
  /** What the driver drives, as its events and errors name it (`sarama`, `kafka-go-newest`). */
  readonly label: string;
  private readonly directory: string;
  private readonly binaryPath: string;

  private constructor(label: string, directory: string) {
    this.label = label;
    this.directory = directory;
    this.binaryPath = join(directory, 'bin', label);
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
        command: goToolchainPath,
        arguments: ['build', '-o', goClient.binaryPath, `${driversImportRoot}/${client}`],
        timeoutMs: buildTimeoutMs,
        environment: {
          GOPATH: `${workspace}:${debianGoPath}`,
          GO111MODULE: 'off',
          // Go's shared build cache: since Go 1.20 the standard library is not shipped compiled,
          // and a fresh cache would compile it for every build (about a minute of CPU here).
          GOFLAGS: '-p=1',
          // Without cgo sarama 1.22.1 leaves out zstd (a C build); no test here compresses with it.
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

  /** Builds `go-modules/<name>` (a Go module) from the module cache, without network. */
  static async buildModule(name: GoModuleDriverName): Promise<GoClient> {
    const directory = await makeTemporaryDirectory(`go-${name}`);
    const goClient = new GoClient(name, directory);
    try {
      const result = await runToCompletion({
        command: goToolchainPath,
        arguments: ['-C', join(goModulesDirectory, name), 'build', '-o', goClient.binaryPath, '.'],
        timeoutMs: buildTimeoutMs,
        environment: goModuleBuildEnvironment,
      });
      if (result.code !== 0) {
        throw new Error(
          `go build of the ${name} driver failed (${result.code ?? result.signal}); if a module is missing or Go is too old, ${moduleSetupHint}\n${result.stderr.slice(-6000)}`,
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
        label: `${this.label} ${command}`,
        command: this.binaryPath,
        arguments: [command, JSON.stringify(parameters)],
      }),
    );
    const status = await withDeadline(driver.process.exited, {
      timeoutMs: options.timeoutMs,
      what: `${this.label} ${command} to finish`,
    }).catch(async (error: Error) => {
      await driver.kill();
      throw new Error(`${error.message}\n${driver.process.output().slice(-8000)}`);
    });
    if (status.code !== 0) {
      throw new Error(
        `${this.label} ${command} exited with ${status.code ?? status.signal}\n${driver.process.output().slice(-8000)}`,
      );
    }
    return driver.events;
  }

  /** The client library's version a Go-module driver was built with (`1.62.0`), from its `version` command. */
  async libraryVersion(): Promise<string> {
    const events = await this.run('version', {}, { timeoutMs: 15_000 });
    const version = events.find((event) => event.event === 'version')?.version;
    if (typeof version !== 'string') throw new Error(`${this.label} reported no version`);
    return version.replace(/^v/, '');
  }

  /**
   * Runs the `admin` command of a Go-module driver (one client, the steps in order) and returns
   * each step's result in order, as the tests compare them: without `event`, `step` and the error
   * text (a refused step keeps its Kafka error `code`).
   */
  async admin(
    bootstrap: string,
    steps: readonly Record<string, unknown>[],
    options: { timeoutMs: number },
  ): Promise<Record<string, unknown>[]> {
    const events = await this.run('admin', { bootstrap, steps }, options);
    const results = events.filter((event) => event.event === 'result');
    if (results.length !== steps.length) {
      throw new Error(`${this.label} admin: ${results.length} results for ${steps.length} steps`);
    }
    return results.map(({ event: _event, step: _step, error: _error, ...result }) => result);
  }

  /**
   * A Go-module driver's `produce` command (`partitions` 0: the library's own partitioner picks;
   * more parameters such as `compression` as the driver takes them): the acknowledged records.
   */
  async produce(
    bootstrap: string,
    parameters: { topic: string; partitions: number; count: number; prefix: string },
  ): Promise<PlacedRecord[]> {
    const events = await this.run('produce', { bootstrap, ...parameters }, { timeoutMs: 30_000 });
    return eventsNamed(events, 'ack').map(placedRecordFromEvent);
  }

  /**
   * A Go-module driver's `consume` command (partitions 0..`partitions`-1 read from the start until
   * `expected` records, 30 s in the driver; more parameters as the driver takes them): the records.
   */
  async consume(
    bootstrap: string,
    parameters: { topic: string; partitions: number; expected: number },
  ): Promise<PlacedRecord[]> {
    const events = await this.run(
      'consume',
      { bootstrap, ...parameters, timeoutS: 30 },
      { timeoutMs: 45_000 },
    );
    return eventsNamed(events, 'record').map(placedRecordFromEvent);
  }

  /** A Go-module driver's `consume-group` command (30 s in the driver): the records it read. */
  async consumeGroup(
    bootstrap: string,
    parameters: { topic: string; group: string; expected: number },
  ): Promise<PlacedRecord[]> {
    const events = await this.run(
      'consume-group',
      { bootstrap, ...parameters, timeoutS: 30 },
      { timeoutMs: 45_000 },
    );
    return eventsNamed(events, 'record').map(placedRecordFromEvent);
  }

  /**
   * The round-trip scenario's client for a Go-module driver: its `produce` command (partition
   * left to the library's own partitioner), `consume-group`, and the `group-offsets` admin step.
   * `createTopic` is the test's own, as the drivers report a created topic differently.
   */
  moduleRoundTripClient(
    bootstrap: string,
    createTopic: (topic: string, partitions: number) => Promise<void>,
  ): RoundTripClient {
    return {
      createTopic: (options) => createTopic(options.topic, options.partitions),
      produce: (options) =>
        this.produce(bootstrap, {
          topic: options.topic,
          partitions: 0,
          count: options.count,
          prefix: options.prefix,
        }),
      consumeGroup: (options) => this.consumeGroup(bootstrap, options),
      committedOffsets: async (options) => {
        const [result] = await this.admin(bootstrap, [{ op: 'group-offsets', ...options }], {
          timeoutMs: 30_000,
        });
        const offsets = (result?.offsets ?? []) as { partition: number; offset: number }[];
        return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
      },
    };
  }

  async dispose(): Promise<void> {
    await removeDirectory(this.directory);
  }
}
