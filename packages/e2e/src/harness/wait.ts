/** Small time helpers: every wait in the harness has a deadline. */

export function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

export class DeadlineError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'DeadlineError';
  }
}

/** Rejects with a DeadlineError when `promise` does not settle within `timeoutMs`. */
export async function withDeadline<T>(
  promise: Promise<T>,
  options: { timeoutMs: number; what: string },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(options.what, options.timeoutMs)),
      options.timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` until it returns a truthy value or the deadline passes. */
export async function waitUntil<T>(
  condition: () => T | Promise<T>,
  /** `what` may be a function, for a message that shows the state at the deadline. */
  options: { timeoutMs: number; what: string | (() => string); intervalMs?: number },
): Promise<NonNullable<T>> {
  const intervalMs = options.intervalMs ?? 100;
  const deadlineMs = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  const what = typeof options.what === 'function' ? options.what() : options.what;
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${suffix}`);
}
