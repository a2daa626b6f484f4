/**
 * Internal limits of the network layer (user-facing limits such as `socket.request.max.bytes`
 * and `connections.max.idle.ms` come from the broker config). Units last (STYLE.md §5).
 */
export const serverLimits = {
  /**
   * Requests decoded but not yet answered, per connection; beyond it the socket stops being read.
   * High because pipelined acks=all produce requests share one fdatasync only if they are in
   * flight together: librdkafka (max.in.flight 1,000,000) sends one request per record or two at
   * 10,000 records/s, and with 32 the log synced about 16 requests at a time, so a disk stall left
   * a backlog that drained for a second (BENCHMARKS.md). Memory stays bounded by the byte limits
   * below: requests in flight hold at most inFlightRequestBytesPerConnectionMax + one frame
   * (socket.request.max.bytes), responses at most queuedResponseBytesPerConnectionMax + those
   * completing after the pause (one per request in flight; Fetch draws on its ResponseBudget).
   */
  inFlightRequestsPerConnectionMax: 1024,
  /** Request frame bytes in flight before reading pauses (the first request is always taken). */
  inFlightRequestBytesPerConnectionMax: 16 * 1024 * 1024,
  /**
   * Response bytes queued in the socket (not yet taken by the kernel) or completed and waiting
   * behind an earlier response, before reading pauses.
   */
  queuedResponseBytesPerConnectionMax: 4 * 1024 * 1024,
  /** How often idle connections are looked for, at most. */
  idleSweepIntervalMsMax: 10_000,
  /** How long stop() waits for in-flight requests before destroying the remaining connections. */
  shutdownDrainMsMax: 10_000,
  /**
   * Connection set-ups (admission, then ApiVersions + Metadata: about 0.1 ms) and tear-downs
   * after the client's FIN run at most this many per event-loop turn, so a reconnect storm is
   * spread over turns of a few milliseconds with the established connections' I/O in between.
   */
  stormTasksPerTurnMax: 32,
  /** Pending-connection queue of each listening socket when none is configured (tests). */
  listenBacklog: 4096,
  /** A refused connection is logged at most once per address in this interval. */
  refusalLogIntervalMs: 10_000,
  /** Addresses whose last logged refusal is remembered (the memory is cleared beyond it). */
  refusalLogAddressesMax: 1_000,
  /** Connections open at once; further accepts are closed immediately. */
  connectionsMax: 10_000,
} as const;
