import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, runToCompletion } from './managed-process.js';
import { e2ePackageDirectory } from './paths.js';
import { makeTemporaryDirectory, removeDirectory } from './temporary-directory.js';
import { withDeadline } from './wait.js';

/**
 * A Go library's own test suite, built from a pinned module folder (`packages/e2e/go-modules/<name>`,
 * whose go.mod requires the library; scripts/setup-<name>.sh puts it in the module cache) and run
 * with test2json's events collected per test.
 */

/**
 * The Go toolchain the modules need (franz-go requires Go >= 1.26): the one in /usr/local/go,
 * never Debian's older golang-go that may also be on PATH; GREGOR_FRANZ_GO_TOOLCHAIN overrides it,
 * as in scripts/setup-franz-go.sh.
 */
export const goToolchainPath = process.env.GREGOR_FRANZ_GO_TOOLCHAIN ?? '/usr/local/go/bin/go';

export const goModulesDirectory = join(e2ePackageDirectory, 'go-modules');

/** The version a module folder's go.mod pins for `modulePath` (e.g. `v1.22.3`). */
export function pinnedModuleVersion(moduleFolder: string, modulePath: string): string {
  const goMod = readFileSync(join(goModulesDirectory, moduleFolder, 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (match === null) throw new Error(`${moduleFolder}/go.mod does not require ${modulePath}`);
  return match[1];
}

export type GoTestOutcome = 'pass' | 'fail' | 'skip';

export interface GoTestResult {
  /** `TestName` or `TestName/subtest`. */
  name: string;
  outcome: GoTestOutcome;
  elapsedS: number;
  /** The test's own output lines (logs, skip reason, failure messages), last 200 kept. */
  output: string[];
}

export interface GoTestSuiteRun {
  /** Every test and subtest that finished, in the order they finished. */
  results: GoTestResult[];
  /** The package's own outcome (`ok` or `FAIL` line), undefined when `go test` never got there. */
  packageOutcome: GoTestOutcome | undefined;
  exitCode: number | null;
  buildMs: number;
  runMs: number;
  /** Output that belongs to no test (build errors, panics, the package summary), last lines. */
  packageOutput: string[];
}

interface TestEvent {
  Action: string;
  Test?: string;
  Package?: string;
  Output?: string;
  Elapsed?: number;
}

const outputLinesPerTestMax = 200;

function appendBounded(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > outputLinesPerTestMax) lines.shift();
}

/**
 * Compiles the test binary of `packagePath` from `packages/e2e/go-modules/<moduleFolder>` into a
 * temporary directory, runs it in the package's source directory (as `go test` does) and reads
 * its `-test.v=test2json` output through `go tool test2json`. Both processes are our own children
 * (a `go test` would start the binary as its child, which outlives a killed `go test`), so both
 * die at the deadline or with the test process. `skip` is a -test.skip regex.
 */
export async function runGoTestSuite(options: {
  moduleFolder: string;
  packagePath: string;
  environment: Record<string, string>;
  skip?: string;
  buildTimeoutMs: number;
  runTimeoutMs: number;
  label: string;
}): Promise<GoTestSuiteRun> {
  const goEnvironment = {
    // The toolchain chosen above, never a downloaded one; go.sum must already be complete.
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=readonly',
  };
  const moduleDirectory = join(goModulesDirectory, options.moduleFolder);
  const go = async (goArguments: string[], timeoutMs: number) => {
    const result = await runToCompletion({
      command: goToolchainPath,
      arguments: ['-C', moduleDirectory, ...goArguments],
      environment: goEnvironment,
      timeoutMs,
    });
    if (result.code !== 0) {
      throw new Error(
        `${goToolchainPath} ${goArguments.join(' ')} failed (${result.code ?? result.signal}); scripts/setup-${options.moduleFolder.replace(/-suite$/, '')}.sh fetches the module\n${result.stderr.slice(-6000)}`,
      );
    }
    return result.stdout.trim();
  };
  const directory = await makeTemporaryDirectory(`go-test-${options.moduleFolder}`);
  try {
    const binaryPath = join(directory, 'suite.test');
    const buildStartedMs = Date.now();
    await go(
      ['test', '-c', '-vet=off', '-o', binaryPath, options.packagePath],
      options.buildTimeoutMs,
    );
    const buildMs = Date.now() - buildStartedMs;
    const packageDirectory = await go(
      ['list', '-f', '{{.Dir}}', options.packagePath],
      options.buildTimeoutMs,
    );
    const runStartedMs = Date.now();
    // The binary's own timeout fires first, so a hung test prints its goroutines before the kill.
    const testTimeoutS = Math.max(30, Math.floor((options.runTimeoutMs - 15_000) / 1000));
    const testArguments = ['-test.v=test2json', '-test.count=1', `-test.timeout=${testTimeoutS}s`];
    if (options.skip !== undefined && options.skip !== '') {
      testArguments.push(`-test.skip=${options.skip}`);
    }
    const binary = new ManagedProcess({
      label: options.label,
      command: binaryPath,
      arguments: testArguments,
      workingDirectory: packageDirectory,
      environment: options.environment,
    });
    const converter = new ManagedProcess({
      label: `${options.label} test2json`,
      command: goToolchainPath,
      arguments: ['tool', 'test2json', '-t', '-p', options.packagePath],
      environment: goEnvironment,
    });
    // Only stdout carries the framed test events; the library's logs go to stderr.
    if (binary.child.stdout !== null && converter.child.stdin !== null) {
      binary.child.stdout.pipe(converter.child.stdin);
    }
    const collector = new EventCollector();
    converter.onLine((line, stream) => {
      if (stream === 'stdout') collector.line(line);
    });
    binary.onLine((line, stream) => {
      if (stream === 'stderr') collector.unattributed(line);
    });
    const [status] = await withDeadline(Promise.all([binary.exited, converter.exited]), {
      timeoutMs: options.runTimeoutMs,
      what: `${options.label} (${options.packagePath} tests) to finish`,
    }).catch(async (error: unknown) => {
      await binary.stop({ signal: 'SIGKILL' });
      await converter.stop({ signal: 'SIGKILL' });
      throw new Error(`${String(error)}\n${collector.packageOutput.slice(-40).join('\n')}`);
    });
    return {
      results: collector.results,
      packageOutcome: collector.packageOutcome,
      exitCode: status.code,
      buildMs,
      runMs: Date.now() - runStartedMs,
      packageOutput: collector.packageOutput,
    };
  } finally {
    await removeDirectory(directory);
  }
}

/** Turns test2json's event lines into per-test results. */
class EventCollector {
  readonly results: GoTestResult[] = [];
  readonly packageOutput: string[] = [];
  packageOutcome: GoTestOutcome | undefined;
  private readonly outputs = new Map<string, string[]>();

  unattributed(line: string): void {
    appendBounded(this.packageOutput, line);
  }

  line(line: string): void {
    let event: TestEvent;
    try {
      event = JSON.parse(line) as TestEvent;
    } catch {
      this.unattributed(line);
      return;
    }
    const outcome = ['pass', 'fail', 'skip'].includes(event.Action)
      ? (event.Action as GoTestOutcome)
      : undefined;
    if (event.Test === undefined) {
      if (event.Action === 'output' && event.Output !== undefined) {
        this.unattributed(event.Output.trimEnd());
      }
      if (outcome !== undefined) this.packageOutcome = outcome;
      return;
    }
    let lines = this.outputs.get(event.Test);
    if (lines === undefined) {
      lines = [];
      this.outputs.set(event.Test, lines);
    }
    if (event.Action === 'output' && event.Output !== undefined) {
      appendBounded(lines, event.Output.trimEnd());
    }
    if (outcome !== undefined) {
      this.results.push({ name: event.Test, outcome, elapsedS: event.Elapsed ?? 0, output: lines });
      this.outputs.delete(event.Test);
    }
  }
}

/** Top-level tests only (no `/` in the name). */
export function topLevelResults(run: GoTestSuiteRun): GoTestResult[] {
  return run.results.filter((result) => !result.name.includes('/'));
}

/** How many results have each outcome. */
export function outcomeCounts(results: readonly GoTestResult[]): Record<GoTestOutcome, number> {
  const counts: Record<GoTestOutcome, number> = { pass: 0, fail: 0, skip: 0 };
  for (const result of results) counts[result.outcome]++;
  return counts;
}
