/**
 * Internal limits of the network layer (user-facing limits such as `socket.request.max.bytes`
 * and `connections.max.idle.ms` come from the broker config). Units last (STYLE.md §5).
 */
export const serverLimits = {
  /**
   * Requests decoded but not yet answered, per connection; beyond it the socket stops being read.
   * With the queue limit below this bounds a connection's memory: at most
   * queuedResponseBytesPerConnectionMax + inFlightRequestsPerConnectionMax x (largest response)
   * + socket.request.max.bytes, whatever the client does.
   */
  inFlightRequestsPerConnectionMax: 32,
  /** Response bytes queued in the socket (not yet taken by the kernel) before reading pauses. */
  queuedResponseBytesPerConnectionMax: 4 * 1024 * 1024,
  /** How often idle connections are looked for, at most. */
  idleSweepIntervalMsMax: 10_000,
  /** How long stop() waits for in-flight requests before destroying the remaining connections. */
  shutdownDrainMsMax: 10_000,
  /** Connections open at once; further accepts are closed immediately. */
  connectionsMax: 10_000,
} as const;
