import { runToCompletion } from './managed-process.js';
import { kcatPath } from './paths.js';

/** Runs Debian's kcat to completion against `bootstrap`; fails on a non-zero exit. */
export async function runKcat(options: {
  bootstrap: string;
  arguments: readonly string[];
  input?: string | Buffer;
  timeoutMs: number;
}): Promise<{ stdout: string; stderr: string }> {
  const result = await runToCompletion({
    command: kcatPath,
    arguments: ['-b', options.bootstrap, ...options.arguments],
    input: options.input,
    timeoutMs: options.timeoutMs,
  });
  if (result.code !== 0) {
    throw new Error(
      `kcat ${options.arguments.join(' ')} exited with ${result.code ?? result.signal}\nstdout: ${result.stdout.slice(-4000)}\nstderr: ${result.stderr.slice(-4000)}`,
    );
  }
  return { stdout: result.stdout, stderr: result.stderr };
}
