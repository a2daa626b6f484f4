/**
 * SimulatedMetadataStore: the metadata store of a whole simulated cluster, in memory and
 * deterministic. Time is the simulator's clock (leases expire in simulated time, watch events
 * travel through its scheduler); each simulated node connects with its own name and the simulator
 * injects faults per node: paused keepalives (a paused process whose leases expire), delayed watch
 * events, commits that fail before or after applying, crashes, and compaction.
 *
 * The store itself is also a client (node `default`), so a one-node test needs nothing more.
 */
import { MemoryMetadataClient, NodeFaults } from './memory-client.js';
import { MemoryState } from './memory-state.js';
import type { MetadataClock, MetadataStore, Revision } from './store.js';

export class SimulatedMetadataStore extends MemoryMetadataClient {
  private readonly nodeFaults: Map<string, NodeFaults>;

  constructor(clock: MetadataClock) {
    const faults = new NodeFaults();
    super(new MemoryState(clock), { clock, faults });
    this.nodeFaults = new Map([['default', faults]]);
  }

  /** A client for one simulated node, sharing this store's state. */
  connect(node: string): MetadataStore {
    return new MemoryMetadataClient(this.state, { clock: this.clock, faults: this.faultsOf(node) });
  }

  /** Stops (or resumes) sending the node's keepalives: its leases expire after their TTL. */
  pauseKeepalives(node: string, paused: boolean): void {
    this.faultsOf(node).keepalivesPaused = paused;
  }

  /** Watch events reach the node `delayMs` later (order is kept). */
  delayWatchEvents(node: string, delayMs: number): void {
    this.faultsOf(node).watchDelayMs = delayMs;
  }

  /** The node's next commit fails; `applied`: it takes effect but the node sees an error. */
  failNextCommit(node: string, options: { applied: boolean }): void {
    this.faultsOf(node).commitFailures.push({ applied: options.applied });
  }

  /**
   * The node's process dies: its clients stop keeping leases alive (they expire after their TTL,
   * nothing is revoked), receive nothing more and fail every call. A later `connect(node)` is the
   * restarted process, with no faults.
   */
  crash(node: string): void {
    this.faultsOf(node).crashed = true;
    this.nodeFaults.set(node, new NodeFaults());
  }

  /** Forgets history before `revision`: watchers behind it get onReset. */
  compact(revision: Revision): void {
    this.state.compact(revision);
  }

  get revision(): Revision {
    return this.state.revision;
  }

  /** Revokes the lease holding `key` (a broker registration or election key) at once. */
  expireLeaseOf(key: string): void {
    const leaseId = this.state.leaseOf(key);
    if (leaseId === 0) throw new Error(`no lease holds ${key}`);
    this.state.revokeLease(leaseId);
  }

  private faultsOf(node: string): NodeFaults {
    let faults = this.nodeFaults.get(node);
    if (faults === undefined) {
      faults = new NodeFaults();
      this.nodeFaults.set(node, faults);
    }
    return faults;
  }
}
