/**
 * A clock whose time moves only when told: timers fire in (due time, scheduling order), so a run
 * is a pure function of its inputs. Unlike protocol's ManualClock, `advance` is async and lets
 * the promise jobs each timer starts run before the next timer fires (lease keepalives, election
 * waits and watch deliveries are promise chains).
 */
import type { Clock } from '@gregor/protocol';

interface Timer {
  dueMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

export class SimulatedClock implements Clock {
  private nowMs = 0;

  constructor(private readonly wallOriginMs = 1_700_000_000_000) {}

  wallMs(): number {
    return this.wallOriginMs + this.nowMs;
  }

  private sequence = 0;
  private timers: Timer[] = [];

  monotonicMs(): number {
    return this.nowMs;
  }

  schedule(delayMs: number, callback: () => void): { cancel(): void } {
    const timer: Timer = {
      dueMs: this.nowMs + Math.max(0, delayMs),
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

  /** Fires the earliest timer due at or before `untilMs`; false when none is. */
  private fireNext(untilMs: number): boolean {
    this.timers = this.timers.filter((timer) => !timer.cancelled);
    let next: Timer | undefined;
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
    next.cancelled = true;
    this.nowMs = Math.max(this.nowMs, next.dueMs);
    next.callback();
    return true;
  }

  /** Moves time forward by `durationMs`, firing due timers and letting promise jobs run between. */
  async advance(durationMs: number): Promise<void> {
    const untilMs = this.nowMs + durationMs;
    await settle();
    while (this.fireNext(untilMs)) await settle();
    this.nowMs = untilMs;
    await settle();
  }
}

/** Lets every queued promise job (and the jobs they queue) run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
