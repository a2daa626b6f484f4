/**
 * Follows the store into a MetadataImage, KRaft-style: list every key at revision R, then watch
 * from R and apply each ordered batch as a delta. Brokers use it to serve Metadata and to learn
 * which partitions to lead or follow (the callback gets each delta's changes); the controller uses
 * it to see the cluster and its own committed writes.
 *
 * When the watch history was compacted away (etcd "watcher canceled"), the listener lists again
 * and calls back with `changes` undefined: the receiver must treat the image as new.
 */
import type { KeyValue, MetadataStore, Revision, WatchEvent, WatchHandle } from '@gregor/metadata';
import { systemClock } from '@gregor/protocol';
import { type MetadataChanges, MetadataDelta, MetadataImage } from './image.js';
import { type ClusterLogger, silentClusterLogger } from './logger.js';

export interface MetadataListenerOptions {
  logger?: ClusterLogger;
  /**
   * After each applied batch (with its changes) or a full reload (changes undefined), with the
   * image before it (MetadataImage.empty first).
   */
  onImage?: (
    image: MetadataImage,
    changes: MetadataChanges | undefined,
    previous: MetadataImage,
  ) => void;
  /** Keys per `list` page. */
  pageSize?: number;
  /** Runs `callback` after `delayMs` (the broker's clock); retries of a failed reload use it. */
  schedule?: (delayMs: number, callback: () => void) => { cancel(): void };
}

/**
 * Records decoded between yields to the event loop while building a whole image: 100,000
 * partitions must not block the lease keepalives (a stall is a pause, CLUSTER.md).
 */
const imageBuildChunkEntries = 5000;

/** Wait between attempts to list the store again after a compaction reset failed. */
const reloadRetryDelayMs = 500;

interface Waiter {
  revision: Revision;
  resolve: (image: MetadataImage) => void;
  reject: (error: Error) => void;
}

export class MetadataListenerClosedError extends Error {
  constructor() {
    super('the metadata listener is closed');
    this.name = 'MetadataListenerClosedError';
  }
}

export class MetadataListener {
  private current: MetadataImage;
  private watchHandle: WatchHandle | undefined;
  private waiters: Waiter[] = [];
  private closed = false;
  /** Increments on every (re)load; events of an older watch are dropped. */
  private generation = 0;
  private readonly logger: ClusterLogger;

  private constructor(
    private readonly store: MetadataStore,
    private readonly options: MetadataListenerOptions,
  ) {
    this.current = MetadataImage.empty;
    this.logger = options.logger ?? silentClusterLogger;
  }

  /** Lists the store, builds the first image (reported through onImage) and starts watching. */
  static async start(
    store: MetadataStore,
    options: MetadataListenerOptions = {},
  ): Promise<MetadataListener> {
    const listener = new MetadataListener(store, options);
    await listener.load();
    return listener;
  }

  get image(): MetadataImage {
    return this.current;
  }

  /** Resolves with the image once it reflects `revision` (a commit's revision, say). */
  waitForRevision(revision: Revision, signal?: AbortSignal): Promise<MetadataImage> {
    if (this.current.revision >= revision) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new MetadataListenerClosedError());
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
        reject(abortReason(signal!));
      };
      // The listener goes when the waiter settles: a long-lived signal must not collect them.
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        revision,
        resolve: (image) => {
          settle();
          resolve(image);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchHandle?.close();
    this.watchHandle = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new MetadataListenerClosedError());
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    const listed = await this.store.list('', { pageSize: this.options.pageSize });
    if (this.closed || generation !== this.generation) return;
    const { image, problems } = await buildImage(listed.entries, listed.revision);
    if (this.closed || generation !== this.generation) return;
    this.reportProblems(problems);
    const previous = this.current;
    this.current = image;
    this.watchHandle?.close();
    this.watchHandle = this.store.watch(
      '',
      listed.revision,
      (events, revision) => this.onEvents(generation, events, revision),
      (compactRevision) => this.onReset(generation, compactRevision),
    );
    this.publish(undefined, previous);
  }

  private onEvents(generation: number, events: WatchEvent[], revision: Revision): void {
    if (this.closed || generation !== this.generation) return;
    const delta = new MetadataDelta(this.current);
    delta.replay(events);
    const { image, changes } = delta.apply(revision);
    this.reportProblems(changes.problems);
    const previous = this.current;
    this.current = image;
    this.publish(changes, previous);
  }

  private onReset(generation: number, compactRevision: Revision): void {
    if (this.closed || generation !== this.generation) return;
    this.logger.warn('metadata watch history was compacted; listing the store again', {
      compactRevision,
      revision: this.current.revision,
    });
    this.reload();
  }

  private reload(): void {
    this.load().catch((error: unknown) => {
      if (this.closed) return;
      this.logger.error('listing the metadata store failed; retrying', { error });
      const schedule = this.options.schedule ?? systemClock.schedule;
      schedule(reloadRetryDelayMs, () => {
        if (!this.closed) this.reload();
      });
    });
  }

  private publish(changes: MetadataChanges | undefined, previous: MetadataImage): void {
    try {
      this.options.onImage?.(this.current, changes, previous);
    } catch (error) {
      this.logger.error('a metadata image callback threw', { error });
    }
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => waiter.revision <= this.current.revision);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.revision > this.current.revision);
    for (const waiter of ready) waiter.resolve(this.current);
  }

  private reportProblems(problems: readonly Error[]): void {
    for (const problem of problems) {
      this.logger.error('undecodable metadata record left out of the image', {
        problem: problem.message,
      });
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** MetadataImage.fromEntries in chunks, yielding to the event loop between them. */
async function buildImage(
  entries: readonly KeyValue[],
  revision: Revision,
): Promise<{ image: MetadataImage; problems: Error[] }> {
  if (entries.length <= imageBuildChunkEntries) return MetadataImage.fromEntries(entries, revision);
  const delta = new MetadataDelta(MetadataImage.empty);
  for (let start = 0; start < entries.length; start += imageBuildChunkEntries) {
    const chunk = entries.slice(start, start + imageBuildChunkEntries);
    delta.replay(chunk.map((entry) => ({ type: 'put' as const, ...entry })));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const { image, changes } = delta.apply(revision);
  return { image, problems: changes.problems };
}
