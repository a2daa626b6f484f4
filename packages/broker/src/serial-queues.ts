/**
 * Work chained per key so it runs in the order it was issued, one at a time per key: the appends
 * of one `__consumer_offsets` partition (a commit and a later tombstone of the same key must not
 * swap), the config alterations of one broker (read-modify-writes must not interleave). A failed
 * task does not stop the ones behind it; its caller gets the failure.
 */
export class SerialQueues<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  /** Runs `task` once every task issued earlier for `key` has settled. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.tails.set(key, next);
    void next.then(
      () => this.forget(key, next),
      () => this.forget(key, next),
    );
    return next;
  }

  /** Resolves once every task issued so far has settled (failed ones included). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }

  /** Keys with a task running or waiting (tests). */
  get size(): number {
    return this.tails.size;
  }

  private forget(key: K, tail: Promise<unknown>): void {
    if (this.tails.get(key) === tail) this.tails.delete(key);
  }
}
