/** One thing wrong with a configuration value, named precisely enough to fix it. */
export interface ConfigProblem {
  /** The config key as given (may be an unknown key). */
  readonly name: string;
  /** The value as given, or null when the problem is the key itself. */
  readonly value: string | null;
  /** What is wrong, phrased as what is allowed, e.g. "expected an integer >= 1". */
  readonly reason: string;
  /** Where the value came from, e.g. "server.properties:12", "environment GREGOR_NUM_PARTITIONS". */
  readonly origin?: string;
}

export function describeConfigProblem(problem: ConfigProblem): string {
  const origin = problem.origin === undefined ? '' : ` (from ${problem.origin})`;
  if (problem.value === null) return `configuration "${problem.name}"${origin}: ${problem.reason}`;
  return `invalid value "${problem.value}" for configuration "${problem.name}"${origin}: ${problem.reason}`;
}

/** Thrown when the broker configuration cannot be used; start-up stops with its message. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map(describeConfigProblem);
    super(
      lines.length === 1
        ? lines[0]
        : `${lines.length} configuration problems:\n  ${lines.join('\n  ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
