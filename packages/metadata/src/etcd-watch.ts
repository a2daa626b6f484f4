/**
 * One etcd watch on the raw gRPC stream (not etcd3's Watcher: it drops `compact_revision` from a
 * cancellation, which the contract hands to `onReset`). Delivers each event once, in order: after
 * a broken stream it resumes from the last delivered revision + 1 and drops anything at or below
 * it. A compacted start ends the watch with `onReset(compactRevision)`.
 */
import type { Etcd3, IWatchResponse } from 'etcd3';
import type { Revision, WatchEvent, WatchHandle } from './store.js';

const reconnectDelayMs = { initial: 50, max: 2000 };

export interface EtcdWatchOptions {
  client: Etcd3;
  /** Full key prefix (namespace included) and the namespace to strip from delivered keys. */
  key: Buffer;
  rangeEnd: Buffer;
  namespaceLength: number;
  fromRevision: Revision;
  onEvents: (events: WatchEvent[], revision: Revision) => void;
  onReset: (compactRevision: Revision) => void;
}

type WatchStream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

export class EtcdWatch implements WatchHandle {
  private delivered: Revision;
  private closed = false;
  private stream: WatchStream | undefined;
  private retryDelayMs = reconnectDelayMs.initial;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EtcdWatchOptions) {
    this.delivered = options.fromRevision;
    void this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let stream: WatchStream;
    try {
      stream = await this.options.client.watchClient.watch();
    } catch {
      this.retryLater();
      return;
    }
    if (this.closed) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (response: IWatchResponse) => this.handle(stream, response));
    stream.on('error', () => this.dropStream(stream));
    stream.on('end', () => this.dropStream(stream));
    stream.write({
      create_request: {
        key: this.options.key,
        range_end: this.options.rangeEnd,
        start_revision: (this.delivered + 1n).toString(),
        progress_notify: true,
      },
    });
  }

  private handle(stream: WatchStream, response: IWatchResponse): void {
    if (this.closed || stream !== this.stream) return;
    if (response.canceled) {
      const compactRevision = BigInt(response.compact_revision || '0');
      if (compactRevision > 0n) {
        this.close();
        this.options.onReset(compactRevision);
      } else {
        this.dropStream(stream);
      }
      return;
    }
    this.retryDelayMs = reconnectDelayMs.initial;
    if (response.events.length === 0 && !response.created) {
      // A progress notification: every event up to its revision was sent. Resuming from there
      // after a broken stream keeps a quiet prefix's watch clear of compaction.
      const progress = BigInt(response.header.revision);
      if (progress > this.delivered) this.delivered = progress;
      return;
    }
    const events: WatchEvent[] = [];
    let last = this.delivered;
    for (const event of response.events) {
      const modRevision = BigInt(event.kv.mod_revision);
      if (modRevision <= this.delivered) continue;
      const key = event.kv.key.subarray(this.options.namespaceLength).toString();
      last = modRevision;
      events.push(
        event.type === 'Put'
          ? {
              type: 'put',
              key,
              value: event.kv.value,
              createRevision: BigInt(event.kv.create_revision),
              modRevision,
            }
          : { type: 'delete', key, modRevision },
      );
    }
    if (events.length === 0) return;
    this.delivered = last;
    this.options.onEvents(events, BigInt(response.header.revision));
  }

  private dropStream(stream: WatchStream): void {
    if (stream !== this.stream) return;
    this.stream = undefined;
    stream.cancel();
    this.retryLater();
  }

  private retryLater(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryDelayMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, reconnectDelayMs.max);
  }
}
