/**
 * A clock whose time moves only when told: timers fire in (due time, scheduling order), so a run
 * is a pure function of its inputs. Unlike protocol's ManualClock, `advance` is async and lets
 * the promise jobs each timer starts run before the next timer fires (lease keepalives, election
 * waits and watch deliveries are promise chains).
 */
import type { Clock, TimerHandle } from '@gregor/protocol';
import { ManualClock } from '@gregor/protocol/testing/manual-clock';

export class SimulatedClock implements Clock {
  /** Timers and monotonic time, starting at 0. */
  private readonly time = new ManualClock(0);

  constructor(private readonly wallOriginMs = 1_700_000_000_000) {}

  wallMs(): number {
    return this.wallOriginMs + this.time.monotonicMs();
  }

  monotonicMs(): number {
    return this.time.monotonicMs();
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    return this.time.schedule(delayMs, callback);
  }

  /** Moves time forward by `durationMs`, firing due timers and letting promise jobs run between. */
  async advance(durationMs: number): Promise<void> {
    const untilMs = this.time.monotonicMs() + durationMs;
    await settle();
    while (this.time.fireNextDue(untilMs)) await settle();
    // No timer is due by untilMs any more: this only moves time.
    this.time.advance(untilMs - this.time.monotonicMs());
    await settle();
  }
}

/** Lets every queued promise job (and the jobs they queue) run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
