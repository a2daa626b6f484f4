/**
 * Work run at most `tasksPerTurnMax` at a time, one batch per event-loop turn (setImmediate runs
 * after the turn's I/O): a storm of connection set-ups or tear-downs is spread over many turns,
 * and the I/O of established connections is served between the batches.
 */
export class TurnQueue {
  private readonly tasksPerTurnMax: number;
  private tasks: (() => void)[] = [];
  private next = 0;
  private scheduled = false;

  constructor(tasksPerTurnMax: number) {
    this.tasksPerTurnMax = tasksPerTurnMax;
  }

  get length(): number {
    return this.tasks.length - this.next;
  }

  push(task: () => void): void {
    this.tasks.push(task);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.runBatch());
  }

  private runBatch(): void {
    this.scheduled = false;
    const end = Math.min(this.tasks.length, this.next + this.tasksPerTurnMax);
    while (this.next < end) {
      const task = this.tasks[this.next]!;
      this.next += 1;
      task();
    }
    if (this.next === this.tasks.length) {
      this.tasks = [];
      this.next = 0;
    } else {
      this.schedule();
    }
  }
}
