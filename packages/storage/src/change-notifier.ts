// Wakes long-poll fetches: listeners run after every LEO / HW change of one log.

import type { Clock, TimerHandle } from '@gregor/protocol';

export class ChangeNotifier {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves true as soon as `ready()` holds, false after `timeoutMs` or on abort. */
  waitUntil(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const finish = (result: boolean): void => {
        unsubscribe();
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => finish(false);
      const unsubscribe = this.subscribe(() => {
        if (ready()) finish(true);
      });
      timer = this.clock.schedule(timeoutMs, () => finish(false));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
