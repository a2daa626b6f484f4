/**
 * Distinct number types for the replication layer (STYLE.md §7): a leader epoch, a replica (broker)
 * id and an offset cannot be swapped for one another by mistake in new code. Values enter through
 * the constructors below, at the edge (requests, storage).
 */

export type LeaderEpoch = number & { readonly __brand: 'LeaderEpoch' };
export type ReplicaId = number & { readonly __brand: 'ReplicaId' };

export const leaderEpoch = (value: number): LeaderEpoch => value as LeaderEpoch;
export const replicaId = (value: number): ReplicaId => value as ReplicaId;

/** A consumer's fetch (`ReplicaId` -1 in Fetch / ListOffsets). */
export const consumerReplicaId = replicaId(-1);
/** "Not given" in requests carrying a current leader epoch (KIP-320). */
export const noLeaderEpoch = leaderEpoch(-1);

/** What the reader may see: consumers up to the HW or LSO, followers up to the LEO. */
export type ReadIsolation = 'uncommitted' | 'committed' | 'replica';

/** Produce's `acks`: 0, 1 or -1 (all in-sync replicas). */
export type RequiredAcks = 0 | 1 | -1;
