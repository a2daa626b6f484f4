// buffer.memory: a FIFO-fair byte budget. `send` takes bytes before its record enters the
// accumulator and gets them back when the record's batch completes, so queued data never exceeds
// the budget; waiters are served strictly in arrival order (a large record is not starved).

import { ClientError, ClosedError, TimeoutError } from '../errors.js';

interface Waiter {
  sizeBytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class ByteBudget {
  private availableBytes: number;
  private readonly waiters: Waiter[] = [];
  private closedError: Error | null = null;

  constructor(readonly capacityBytes: number) {
    this.availableBytes = capacityBytes;
  }

  get usedBytes(): number {
    return this.capacityBytes - this.availableBytes;
  }

  /** True while someone waits for bytes (the accumulator then drains without lingering). */
  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  /** Takes `sizeBytes` now if possible and nobody waits before; false otherwise. */
  tryAcquire(sizeBytes: number): boolean {
    if (this.waiters.length > 0 || sizeBytes > this.availableBytes) return false;
    this.availableBytes -= sizeBytes;
    return true;
  }

  /** Waits (FIFO) for `sizeBytes`, at most `timeoutMs` (Java's max.block.ms). */
  acquire(sizeBytes: number, timeoutMs: number): Promise<void> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    if (sizeBytes > this.capacityBytes) {
      return Promise.reject(
        new ClientError(
          `a record of ${sizeBytes} bytes exceeds buffer.memory (${this.capacityBytes} bytes)`,
          { retriable: false },
        ),
      );
    }
    if (this.tryAcquire(sizeBytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { sizeBytes, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new TimeoutError(`buffer.memory stayed full for ${timeoutMs} ms (max.block.ms)`));
        this.serve();
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(sizeBytes: number): void {
    this.availableBytes += sizeBytes;
    this.serve();
  }

  close(): void {
    this.closedError = new ClosedError('the producer');
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.closedError);
    }
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.waiters[0].sizeBytes <= this.availableBytes) {
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      this.availableBytes -= waiter.sizeBytes;
      waiter.resolve();
    }
  }
}
