/**
 * Finds dead peers before their lease runs out. A process that dies (SIGKILL, crash, OOM) has its
 * sockets closed by the kernel: its followers' fetch connections to it and its own fetch
 * connections to its leaders close at once, and a new connection to its endpoint is refused,
 * since nothing listens there any more. When an inter-broker connection breaks (a follower's fetch
 * to its leader, or a follower's inbound fetch connection on the leader), this probes the peer's
 * registered endpoint; refused
 * `probes` times `probeIntervalMs` apart, the peer is reported to the metadata store, which
 * revokes that registration's lease (MetadataStore.expireBroker: only the registration of the
 * epoch seen here, so a peer that restarted meanwhile is untouched), and the controller fails its
 * partitions over without waiting for `broker.session.timeout.ms`.
 *
 * Only a refusal counts. A timeout, a reset while connecting or an unreachable host prove nothing
 * (a paused process keeps its listening socket and the kernel still accepts for it; a cut network
 * drops packets): those peers are left to their lease. A refusal from a live broker would only
 * cost it a re-registration with a new epoch (the store fences, lease timing never decides safety).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { Transport } from '../server/transport.js';

export interface PeerDeathDetectorOptions {
  transport: Transport;
  clock: Clock;
  logger: Logger;
  /** This broker's id: never probed. */
  nodeId: number;
  /** The peer's registration as the current metadata has it; undefined: not registered. */
  peer: (brokerId: number) => { brokerEpoch: bigint; host: string; port: number } | undefined;
  /** Ends that registration (MetadataStore.expireBroker); false when it was gone or newer. */
  report: (brokerId: number, brokerEpoch: bigint) => Promise<boolean>;
  /** Refusals needed, `probeIntervalMs` apart, before a peer is reported (a restart in between shows). */
  probes?: number;
  probeIntervalMs?: number;
  /** A probe that neither connects nor is refused within this proves nothing. */
  probeTimeoutMs?: number;
}

type ProbeOutcome = 'refused' | 'accepted' | 'inconclusive';

/** Probes of one suspicion at most (`probeIntervalMs` apart). */
const probeAttemptsMax = 6;

export class PeerDeathDetector {
  /** Peers being probed (by broker id): one probe sequence each at a time. */
  private readonly probing = new Set<number>();
  /** Inbound connections a follower fetches on (connection id → its broker id). */
  private readonly followerConnections = new Map<number, number>();
  private closed = false;

  constructor(private readonly options: PeerDeathDetectorOptions) {}

  /** A follower (`brokerId`) fetches on inbound connection `connectionId`. */
  followerFetches(connectionId: number, brokerId: number): void {
    if (this.followerConnections.get(connectionId) !== brokerId) {
      this.followerConnections.set(connectionId, brokerId);
    }
  }

  /** An inbound connection closed: if a follower fetched on it, that follower may be dead. */
  connectionClosed(connectionId: number): void {
    const brokerId = this.followerConnections.get(connectionId);
    if (brokerId === undefined) return;
    this.followerConnections.delete(connectionId);
    this.suspect(brokerId);
  }

  /** A connection to `brokerId` broke or could not be opened: probe it (once at a time). */
  suspect(brokerId: number): void {
    if (this.closed || brokerId === this.options.nodeId || this.probing.has(brokerId)) return;
    const peer = this.options.peer(brokerId);
    if (peer === undefined) return;
    this.probing.add(brokerId);
    void this.probe(brokerId, peer)
      .catch((error: unknown) => {
        this.options.logger.warn('reporting a dead broker failed; its lease will expire', {
          brokerId,
          error,
        });
      })
      .finally(() => this.probing.delete(brokerId));
  }

  close(): void {
    this.closed = true;
  }

  private async probe(
    brokerId: number,
    peer: { brokerEpoch: bigint; host: string; port: number },
  ): Promise<void> {
    const { clock, logger } = this.options;
    const probes = this.options.probes ?? 2;
    const intervalMs = this.options.probeIntervalMs ?? 100;
    const started = clock.monotonicMs();
    // A process being killed closes its connections and its listener one after the other: a
    // probe in between is still accepted (or reset). So an answer other than a refusal restarts
    // the count rather than ending the probe, up to `probeAttemptsMax`; a live peer ends it
    // after two accepted connections.
    let refusals = 0;
    let accepted = 0;
    for (let attempt = 1; refusals < probes; attempt++) {
      if (attempt > probeAttemptsMax || accepted >= 2) return;
      if (attempt > 1) await new Promise<void>((resolve) => clock.schedule(intervalMs, resolve));
      if (this.closed) return;
      const current = this.options.peer(brokerId);
      // Re-registered (a restart) or gone already: the store or the peer itself has acted.
      if (current?.brokerEpoch !== peer.brokerEpoch) return;
      const outcome = await this.connect(peer);
      refusals = outcome === 'refused' ? refusals + 1 : 0;
      accepted = outcome === 'accepted' ? accepted + 1 : 0;
    }
    const expired = await this.options.report(brokerId, peer.brokerEpoch);
    logger.warn(
      expired
        ? `Broker ${brokerId} refuses connections: its registration was ended without waiting for its lease`
        : `Broker ${brokerId} refuses connections, but its registration had ended or been renewed already`,
      {
        brokerId,
        brokerEpoch: peer.brokerEpoch,
        endpoint: `${peer.host}:${peer.port}`,
        probes,
        durationMs: Math.round(clock.monotonicMs() - started),
      },
    );
  }

  private connect(peer: { host: string; port: number }): Promise<ProbeOutcome> {
    const { transport, clock } = this.options;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: ProbeOutcome): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(outcome);
      };
      const timer = clock.schedule(this.options.probeTimeoutMs ?? 1_000, () =>
        settle('inconclusive'),
      );
      transport.connect({ host: peer.host, port: peer.port }).then(
        (connection) => {
          connection.destroy();
          settle('accepted');
        },
        (error: NodeJS.ErrnoException) =>
          settle(error.code === 'ECONNREFUSED' ? 'refused' : 'inconclusive'),
      );
    });
  }
}
