/**
 * Injected time (STYLE.md §6), shared by storage, broker and client: code reads time and sets
 * timers only through a Clock, so tests and simulations drive time themselves. `systemClock` is
 * the one place that touches the process's real clocks and timers.
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

/** Resolves after `delayMs` on `clock`. */
export function sleepOn(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.schedule(delayMs, resolve));
}
