/**
 * A Clock that moves only when told (`advance`), firing due timers in order: tests and simulations
 * of storage, broker and client drive time with it. Wall and monotonic time are the same number.
 */
import type { Clock, TimerHandle } from '../clock.js';

interface PendingTimer {
  dueMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private timeMs: number;
  private sequence = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.timeMs = startMs;
  }

  wallMs(): number {
    return this.timeMs;
  }

  monotonicMs(): number {
    return this.timeMs;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = {
      dueMs: this.timeMs + Math.max(0, delayMs),
      sequence: this.sequence++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, firing due timers in order (timers scheduled meanwhile included). */
  advance(durationMs: number): void {
    const endMs = this.timeMs + durationMs;
    while (this.fireNextDue(endMs)) {}
    this.timeMs = endMs;
  }

  /**
   * Fires the earliest timer due at or before `untilMs` (ties in scheduling order), moving time to
   * its due time; false when none is due. Callers that must let promise jobs run between timers
   * step with this instead of `advance`.
   */
  fireNextDue(untilMs: number): boolean {
    this.timers = this.timers.filter((timer) => !timer.cancelled);
    let next: PendingTimer | undefined;
    for (const timer of this.timers) {
      if (timer.dueMs > untilMs) continue;
      if (
        next === undefined ||
        timer.dueMs < next.dueMs ||
        (timer.dueMs === next.dueMs && timer.sequence < next.sequence)
      ) {
        next = timer;
      }
    }
    if (next === undefined) return false;
    this.timeMs = Math.max(this.timeMs, next.dueMs);
    next.cancelled = true;
    next.callback();
    return true;
  }

  pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }
}
