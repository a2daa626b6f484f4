/**
 * Injected time source (STYLE.md §6): handlers, sessions and reapers read time only through this,
 * so tests and simulations can drive time themselves.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch (record timestamps, LogAppendTime). */
  wallMs(): number;
  /** Monotonic milliseconds for measuring durations and deadlines; never goes backwards. */
  monotonicMs(): number;
  /** Runs `callback` after `delayMs` (monotonic). The timer does not keep the process alive. */
  schedule(delayMs: number, callback: () => void): TimerHandle;
}

export const systemClock: Clock = {
  wallMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
